package io.kvserve.inference.api;

import io.kvserve.common.openai.ChatCompletionRequest;
import io.kvserve.common.openai.CompletionRequest;
import io.kvserve.common.openai.GenerateRequest.Api;
import io.kvserve.common.openai.GenerateRequest;
import io.kvserve.common.openai.GenerationParams;
import io.kvserve.common.openai.ModelList;
import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.common.openai.OpenAiRequests;
import io.kvserve.common.openai.PromptIds;
import io.kvserve.engine.EngineRequest;
import io.kvserve.engine.sample.SamplingParams;
import io.kvserve.inference.config.ApiProperties;
import io.kvserve.inference.config.InstanceProperties;
import io.kvserve.inference.metrics.RequestObserver;
import io.kvserve.inference.model.ModelHost;
import io.kvserve.inference.model.ServedModel;
import io.kvserve.web.RequestBodies;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The OpenAI endpoints and the gateway's internal generate endpoint.
 *
 * <pre>
 *   body (size-limited) -&gt; parse + check (common.openai, 400 naming the parameter)
 *     -&gt; model loaded? (503) -&gt; model name (404)
 *     -&gt; render chat template + tokenize (bounded-elastic: CPU work off the event loop)
 *     -&gt; context check (400) -&gt; submit n engine requests (400 / 429 on refusal, nothing queued)
 *     -&gt; stream frames or one response; a cancelled stream aborts its engine requests
 * </pre>
 */
public final class OpenAiHandler {

    /** OpenAI's default: sampling at temperature 1 unless the request says otherwise. */
    static final double DEFAULT_TEMPERATURE = 1.0;

    private final ModelHost host;
    private final ApiProperties api;
    private final InstanceProperties instance;
    private final RequestObserver observer;
    private final OpenAiRequests.Limits limits;
    private final Duration retryAfter;

    public OpenAiHandler(ModelHost host, ApiProperties api, InstanceProperties instance, RequestObserver observer) {
        this.host = host;
        this.api = api;
        this.instance = instance;
        this.observer = observer;
        this.limits = new OpenAiRequests.Limits(api.maxN(), SamplingParams.MAX_STOP_STRINGS,
                OpenAiRequests.Limits.DEFAULT.maxStopLength(), OpenAiRequests.Limits.DEFAULT.maxPromptTokenIds());
        this.retryAfter = Duration.ofSeconds(api.retryAfterSeconds());
    }

    public Mono<ServerResponse> models(ServerRequest request) {
        return Mono.fromSupplier(host::require)
                .flatMap(model -> ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
                        .bodyValue(OpenAiJson.MAPPER.writeValueAsBytes(new ModelList(List.of(new ModelList.Model(
                                model.info().name(), host.startedAtEpochSeconds(), "kvserve",
                                model.info().maxModelLen()))))))
                .onErrorResume(e -> ErrorResponses.response(e, retryAfter));
    }

    public Mono<ServerResponse> chatCompletions(ServerRequest request) {
        return body(request)
                .map(bytes -> OpenAiRequests.parseChat(bytes, limits))
                .flatMap(chat -> {
                    ServedModel model = requireModel(chat.model());
                    return Mono.fromCallable(() -> chatCall(model, chat)).subscribeOn(Schedulers.boundedElastic())
                            .flatMap(call -> respond(model, call));
                })
                .onErrorResume(e -> ErrorResponses.response(e, retryAfter));
    }

    public Mono<ServerResponse> completions(ServerRequest request) {
        return body(request)
                .map(bytes -> OpenAiRequests.parseCompletion(bytes, limits))
                .flatMap(completion -> {
                    ServedModel model = requireModel(completion.model());
                    return Mono.fromCallable(() -> completionCall(model, completion))
                            .subscribeOn(Schedulers.boundedElastic())
                            .flatMap(call -> respond(model, call));
                })
                .onErrorResume(e -> ErrorResponses.response(e, retryAfter));
    }

    /** The gateway's call: the prompt already rendered and tokenized by the scheduler, the tenant's salt along. */
    public Mono<ServerResponse> generate(ServerRequest request) {
        return Mono.fromRunnable(() -> checkInternalToken(request))
                .then(body(request))
                .map(bytes -> OpenAiRequests.parseGenerate(bytes, limits))
                .flatMap(generate -> {
                    ServedModel model = requireModel(generate.api() == Api.CHAT ? generate.chat().model()
                            : generate.completion().model());
                    return respond(model, generateCall(model, generate));
                })
                .onErrorResume(e -> ErrorResponses.response(e, retryAfter));
    }

    // ---- steps

    private Mono<byte[]> body(ServerRequest request) {
        return RequestBodies.bytes(request, (int) Math.min(api.maxRequestSize().toBytes(), Integer.MAX_VALUE));
    }

    private ServedModel requireModel(String name) {
        ServedModel model = host.require();
        if (!model.info().name().equals(name)) {
            throw OpenAiException.modelNotFound(name, model.info().name());
        }
        return model;
    }

    private void checkInternalToken(ServerRequest request) {
        String token = instance.internalToken();
        if (token.isEmpty()) {
            return;
        }
        String given = request.headers().firstHeader(HttpHeaders.AUTHORIZATION);
        byte[] expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        if (given == null || !MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8))) {
            throw new OpenAiException(401, new OpenAiError(
                    "the internal endpoint needs the instance's internal token", "authentication_error", null,
                    "invalid_internal_token"), null);
        }
    }

    private PreparedCall chatCall(ServedModel model, ChatCompletionRequest chat) {
        int[] promptIds = PromptIds.of(chat, model.chatTemplate(), model.tokenizer());
        checkContext(model, "messages", promptIds.length, chat.params());
        return new PreparedCall(Api.CHAT, "chatcmpl-" + newId(), chat.params(), chat.stream(), chat.includeUsage(),
                promptIds, "", null, null, 0);
    }

    private PreparedCall completionCall(ServedModel model, CompletionRequest completion) {
        int[] promptIds = PromptIds.of(completion, model.tokenizer());
        checkContext(model, "prompt", promptIds.length, completion.params());
        String echo = "";
        if (completion.echo()) {
            echo = completion.prompt() instanceof CompletionRequest.Prompt.Text text ? text.text()
                    : decode(model, promptIds, "prompt");
        }
        return new PreparedCall(Api.COMPLETIONS, "cmpl-" + newId(), completion.params(), completion.stream(),
                completion.includeUsage(), promptIds, echo, null, null, 0);
    }

    private PreparedCall generateCall(ServedModel model, GenerateRequest generate) {
        int[] promptIds = generate.promptTokenIds();
        checkContext(model, "prompt_token_ids", promptIds.length, generate.params());
        String id = generate.requestId() != null ? generate.requestId()
                : (generate.api() == Api.CHAT ? "chatcmpl-" : "cmpl-") + newId();
        boolean includeUsage = generate.api() == Api.CHAT ? generate.chat().includeUsage()
                : generate.completion().includeUsage();
        String echo = "";
        if (generate.api() == Api.COMPLETIONS && generate.completion().echo()) {
            // the same echo as the public endpoint: the prompt as the client wrote it (decoding the ids
            // would add the special tokens the tokenizer put in, e.g. BOS)
            echo = generate.completion().prompt() instanceof CompletionRequest.Prompt.Text text ? text.text()
                    : decode(model, promptIds, "prompt_token_ids");
        }
        return new PreparedCall(generate.api(), id, generate.params(), generate.stream(), includeUsage, promptIds, echo,
                generate.tenantId(), generate.cacheSalt(), generate.numPublishedBlocks());
    }

    private static String decode(ServedModel model, int[] ids, String param) {
        int vocabSize = model.info().vocabSize();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw OpenAiException.invalidRequest(param, "token id " + ids[i] + " at index " + i
                        + " is outside the vocabulary 0.." + (vocabSize - 1));
            }
        }
        return model.tokenizer().decode(ids, false);
    }

    /**
     * Like OpenAI and vLLM: a prompt must leave room for a token, and an explicit max_tokens must fit
     * the context; without max_tokens the request may generate up to the context length.
     */
    private static void checkContext(ServedModel model, String promptParam, int numPromptTokens, GenerationParams params) {
        int maxModelLen = model.info().maxModelLen();
        if (numPromptTokens == 0) {
            throw OpenAiException.invalidRequest(promptParam, "the prompt is empty after tokenization");
        }
        if (numPromptTokens >= maxModelLen) {
            throw OpenAiException.invalidRequest(promptParam, "This model's maximum context length is " + maxModelLen
                    + " tokens. However, your prompt has " + numPromptTokens + " tokens, which leaves no room for "
                    + "the completion. Please reduce the length of the prompt.", "context_length_exceeded");
        }
        Integer maxTokens = params.maxTokens();
        if (maxTokens != null && (long) numPromptTokens + maxTokens > maxModelLen) {
            throw OpenAiException.invalidRequest("max_tokens", "This model's maximum context length is " + maxModelLen
                    + " tokens. However, you requested " + ((long) numPromptTokens + maxTokens) + " tokens ("
                    + numPromptTokens + " in the prompt, " + maxTokens + " for the completion). Please reduce the "
                    + "prompt or max_tokens to at most " + (maxModelLen - numPromptTokens) + ".",
                    "context_length_exceeded");
        }
    }

    private Mono<ServerResponse> respond(ServedModel model, PreparedCall call) {
        return Mono.fromCallable(() -> EngineBridge.submitAll(model.engine(), engineRequests(model, call), observer))
                .flatMap(choices -> {
                    ResponseAssembler assembler = new ResponseAssembler(call, model.info().name(),
                            System.currentTimeMillis() / 1000, model.tokenizer());
                    if (call.stream()) {
                        Flux<byte[]> frames = assembler.frames(choices);
                        return ServerResponse.ok().contentType(MediaType.TEXT_EVENT_STREAM)
                                .header(HttpHeaders.CACHE_CONTROL, "no-cache")
                                .header("X-Accel-Buffering", "no")
                                .body((message, context) -> message.writeAndFlushWith(frames.map(
                                        bytes -> Mono.just(message.bufferFactory().wrap(bytes)))));
                    }
                    return assembler.complete(choices).flatMap(response -> ServerResponse.ok()
                            .contentType(MediaType.APPLICATION_JSON)
                            .bodyValue(OpenAiJson.MAPPER.writeValueAsBytes(response)));
                });
    }

    private List<EngineRequest> engineRequests(ServedModel model, PreparedCall call) {
        GenerationParams params = call.params();
        long arrivalNanos = System.nanoTime();
        List<EngineRequest> requests = new ArrayList<>(params.n());
        for (int i = 0; i < params.n(); i++) {
            SamplingParams sampling = samplingParams(params, i, model.info().maxModelLen());
            requests.add(new EngineRequest(call.responseId() + "-" + i, call.promptIds(), sampling, call.tenantId(),
                    call.cacheSalt(), call.numPublishedBlocks(), arrivalNanos));
        }
        return requests;
    }

    /** The engine's parameters for choice {@code index}: with a seed, choice i draws from seed + i. */
    static SamplingParams samplingParams(GenerationParams params, int index, int maxModelLen) {
        SamplingParams.Builder b = SamplingParams.builder()
                .maxTokens(params.maxTokens() != null ? params.maxTokens() : maxModelLen)
                .ignoreEos(params.ignoreEos())
                .temperature(params.temperature() != null ? params.temperature() : DEFAULT_TEMPERATURE);
        if (params.topP() != null) {
            b.topP(params.topP());
        }
        if (params.topK() != null) {
            b.topK(Math.max(0, params.topK()));
        }
        if (params.minP() != null) {
            b.minP(params.minP());
        }
        if (params.seed() != null) {
            b.seed(params.seed() + index);
        }
        if (params.presencePenalty() != null) {
            b.presencePenalty(params.presencePenalty());
        }
        if (params.frequencyPenalty() != null) {
            b.frequencyPenalty(params.frequencyPenalty());
        }
        if (params.repetitionPenalty() != null) {
            b.repetitionPenalty(params.repetitionPenalty());
        }
        if (params.minTokens() != null) {
            b.minTokens(params.minTokens());
        }
        if (!params.logitBias().isEmpty()) {
            Map<Integer, Float> bias = new HashMap<>();
            params.logitBias().forEach((id, value) -> bias.put(id, value.floatValue()));
            b.logitBias(bias);
        }
        b.stop(params.stop());
        b.stopTokenIds(new HashSet<>(params.stopTokenIds()));
        b.logprobs(params.topLogprobs() == null ? -1 : params.topLogprobs());
        return b.build();
    }

    private static String newId() {
        return UUID.randomUUID().toString().replace("-", "");
    }
}
