package io.kvserve.cli.benchserving;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Sends benchmark requests to an OpenAI-compatible server, streaming, and records each one's timings.
 * HTTP/1.1, so each request in flight holds its own connection (the JDK client opens as many as are
 * needed and keeps them alive for the next request), as vLLM's aiohttp client does. A request never
 * throws: whatever goes wrong ends up in its record's {@link RequestError}.
 */
final class OpenAiStreamClient implements AutoCloseable {

    /** The two APIs, by the path they are served on. */
    enum Api {
        chat("/v1/chat/completions"), completions("/v1/completions");

        final String path;

        Api(String path) {
            this.path = path;
        }
    }

    /**
     * @param baseUrl     the server, without {@code /v1} ({@code http://localhost:8000})
     * @param apiKey      sent as {@code Authorization: Bearer}; null sends none
     * @param temperature sampling temperature (0: greedy)
     * @param ignoreEos   send vLLM's {@code ignore_eos: true}, so every request generates {@code max_tokens}
     * @param timeout     the most one request may take, from send to the end of its body
     * @param apiKeysByTenant a key per tenant (multi-tenant runs through the gateway); a request of a tenant
     *                    not in it, or of no tenant, is sent with {@code apiKey}
     */
    record Settings(URI baseUrl, Api api, String model, String apiKey, double temperature, boolean ignoreEos, Duration timeout,
                    Map<String, String> apiKeysByTenant) {

        Settings {
            apiKeysByTenant = apiKeysByTenant == null ? Map.of() : Map.copyOf(apiKeysByTenant);
        }

        Settings(URI baseUrl, Api api, String model, String apiKey, double temperature, boolean ignoreEos, Duration timeout) {
            this(baseUrl, api, model, apiKey, temperature, ignoreEos, timeout, Map.of());
        }
    }

    private String keyOf(BenchRequest request) {
        String key = request.tenant() == null ? null : settings.apiKeysByTenant().get(request.tenant());
        return key != null ? key : settings.apiKey();
    }

    private final Settings settings;
    private final HttpClient http;
    private final ScheduledExecutorService timer;

    OpenAiStreamClient(Settings settings) {
        this.settings = settings;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(minimum(settings.timeout(), Duration.ofSeconds(30)))
                .build();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("bench-timeout").unstarted(r));
    }

    /** The first model id of {@code GET /v1/models}. */
    static String firstModel(URI baseUrl, String apiKey, Duration timeout) throws IOException, InterruptedException {
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).build()) {
            HttpRequest.Builder request = HttpRequest.newBuilder(baseUrl.resolve("/v1/models")).timeout(timeout).GET();
            if (apiKey != null) {
                request.header("Authorization", "Bearer " + apiKey);
            }
            HttpResponse<String> response;
            try {
                response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new IOException("cannot ask " + baseUrl.resolve("/v1/models") + " for the model (" + e
                        + "); is the server up? Or name the model with --model", e);
            }
            if (response.statusCode() >= 400) {
                throw new IOException("GET " + baseUrl.resolve("/v1/models") + " answered " + response.statusCode()
                        + "; name the model with --model");
            }
            JsonNode data = StreamDecoder.mapper().readTree(response.body()).path("data");
            if (!data.isArray() || data.isEmpty() || !data.get(0).path("id").isString()) {
                throw new IOException("GET " + baseUrl.resolve("/v1/models") + " lists no model; name one with --model");
            }
            return data.get(0).get("id").asString();
        }
    }

    /** The JSON body of one request. */
    String body(BenchRequest request) {
        ObjectNode body = StreamDecoder.mapper().createObjectNode();
        body.put("model", settings.model());
        if (settings.api() == Api.chat) {
            ArrayNode messages = body.putArray("messages");
            if (request.messages() == null) {
                messages.addObject().put("role", "user").put("content", request.prompt());
            } else {
                request.messages().forEach(m -> messages.addObject().put("role", m.role()).put("content", m.content()));
            }
        } else if (request.promptIds() != null) {
            ArrayNode ids = body.putArray("prompt");
            request.promptIds().forEach(ids::add);
        } else {
            body.put("prompt", request.prompt());
        }
        body.put("max_tokens", request.maxTokens());
        body.put("temperature", settings.temperature());
        if (settings.ignoreEos()) {
            body.put("ignore_eos", true);
        }
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        return body.toString();
    }

    /**
     * Sends one request; the future completes with its record, never exceptionally.
     *
     * @param phaseStartNanos the {@link System#nanoTime()} its phase started at, for {@link RequestRecord#sendMs()}
     */
    CompletableFuture<RequestRecord> send(BenchRequest request, boolean warmup, long phaseStartNanos) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(settings.baseUrl().resolve(settings.api().path))
                .timeout(settings.timeout())
                .header("Content-Type", "application/json")
                .header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body(request), StandardCharsets.UTF_8));
        String key = keyOf(request);
        if (key != null) {
            builder.header("Authorization", "Bearer " + key);
        }
        StreamRecorder recorder = new StreamRecorder();
        AtomicReference<SseBodySubscriber> stream = new AtomicReference<>();
        // an error status gets its body as a string (the OpenAI error object); a success its events
        HttpResponse.BodyHandler<Object> handler = info -> {
            if (info.statusCode() >= 400) {
                return HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8), s -> s);
            }
            SseBodySubscriber subscriber = new SseBodySubscriber(recorder);
            stream.set(subscriber);
            return HttpResponse.BodySubscribers.mapping(subscriber, end -> end);
        };
        CompletableFuture<RequestRecord> result = new CompletableFuture<>();
        long sendNanos = System.nanoTime();
        double sendMs = (sendNanos - phaseStartNanos) / 1e6;
        CompletableFuture<HttpResponse<Object>> response = http.sendAsync(builder.build(), handler);
        ScheduledFuture<?> timeout = timer.schedule(() -> {
            long now = System.nanoTime();
            if (result.complete(RequestRecord.failed(request, warmup, sendMs, (now - sendNanos) / 1e6,
                    new RequestError("timeout", 0, "timeout", "no complete response within " + settings.timeout())))) {
                SseBodySubscriber subscriber = stream.get();
                if (subscriber != null) {
                    subscriber.cancel();
                }
                response.cancel(true);
            }
        }, settings.timeout().toNanos(), TimeUnit.NANOSECONDS);
        response.whenComplete((r, failure) -> {
            long now = System.nanoTime();
            timeout.cancel(false);
            RequestRecord record;
            if (failure != null) {
                record = RequestRecord.failed(request, warmup, sendMs, (now - sendNanos) / 1e6, errorOf(failure));
            } else if (r.statusCode() >= 400) {
                String body = String.valueOf(r.body());
                StreamEvent.Error error = StreamDecoder.errorOfBody(body);
                record = RequestRecord.failed(request, warmup, sendMs, (now - sendNanos) / 1e6, new RequestError("http",
                        r.statusCode(), error == null ? null : error.type(), error == null ? abbreviate(body) : error.message()));
            } else {
                long endNanos = r.body() instanceof Long end ? end : now;
                record = recorder.finish(request, warmup, phaseStartNanos, sendNanos, endNanos);
            }
            result.complete(record);
        });
        return result;
    }

    private static RequestError errorOf(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof HttpTimeoutException && !(cause instanceof HttpConnectTimeoutException)) {
            return new RequestError("timeout", 0, "timeout", cause.getMessage());
        }
        if (cause instanceof CancellationException) {
            return new RequestError("timeout", 0, "timeout", "cancelled");
        }
        return new RequestError("connection", 0, cause.getClass().getSimpleName(), String.valueOf(cause.getMessage()));
    }

    private static String abbreviate(String s) {
        return s.length() <= 500 ? s : s.substring(0, 500) + "...";
    }

    private static Duration minimum(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        http.shutdownNow();
    }
}
