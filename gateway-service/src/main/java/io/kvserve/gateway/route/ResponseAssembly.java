package io.kvserve.gateway.route;

import io.kvserve.common.openai.GenerateRequest.Api;
import io.kvserve.common.openai.OpenAiJson;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A non-streamed response, put together at the gateway from the instance's stream. The gateway asks
 * instances to stream every request, so the time limits (first token, gap between tokens) hold for
 * non-streamed requests too, and since nothing reaches the client before the end, a request whose
 * instance fails at any point can still be retried on the next one. The result has the shape the
 * instance itself writes for {@code "stream": false} (checked against it in the end-to-end test):
 *
 * <pre>
 *   chat:        chunks' delta.content joined -&gt; message.content; logprobs.content lists joined
 *   completions: chunks' text joined (the first chunk carries the echo) -&gt; text; logprobs lists
 *                joined, text_offset made absolute (the stream's are per chunk)
 *   both:        the last finish_reason per choice; the usage chunk's usage; id, created, model
 *                of the first chunk
 * </pre>
 */
final class ResponseAssembly {

    private static final byte[] INCOMPLETE = ("{\"error\":{\"message\":\"the inference instance ended the stream "
            + "without a completion chunk\",\"type\":\"server_error\",\"code\":\"upstream_failed\"}}")
            .getBytes(StandardCharsets.UTF_8);

    private final Api api;
    private final String instanceId;
    private final Map<Integer, Choice> choices = new TreeMap<>();
    private JsonNode first;
    private JsonNode usage;

    private ResponseAssembly(Api api, String instanceId) {
        this.api = api;
        this.instanceId = instanceId;
    }

    /** The complete response of {@code frames}, or an error when the stream broke or carried one. */
    static Mono<Frame> of(Api api, String instanceId, Flux<Frame> frames) {
        return Mono.defer(() -> {
            ResponseAssembly assembly = new ResponseAssembly(api, instanceId);
            return frames.doOnNext(assembly::add).then(Mono.fromCallable(assembly::build));
        });
    }

    private static final class Choice {
        final StringBuilder text = new StringBuilder();
        ArrayNode chatLogprobs;
        ArrayNode tokens;
        ArrayNode tokenLogprobs;
        ArrayNode topLogprobs;
        ArrayNode textOffsets;
        int echoLength = -1;
        String finishReason;
    }

    private void add(Frame frame) {
        if (frame.isDone()) {
            return; // InstanceClient fails a stream that ends without it, so it always comes last
        }
        if (frame.isError()) {
            byte[] body = frame.json().getBytes(StandardCharsets.UTF_8);
            int status = frame.json().contains("\"engine_error\"") ? 500 : 503;
            throw new UpstreamStatusException(instanceId, status, body, null);
        }
        JsonNode chunk = OpenAiJson.MAPPER.readTree(frame.json());
        if (first == null) {
            first = chunk;
        }
        if (chunk.path("usage").isObject()) {
            usage = chunk.path("usage");
        }
        for (JsonNode c : chunk.path("choices")) {
            Choice choice = choices.computeIfAbsent(c.path("index").asInt(), i -> new Choice());
            if (api == Api.CHAT) {
                choice.text.append(c.path("delta").path("content").asString(""));
                JsonNode content = c.path("logprobs").path("content");
                if (content.isArray()) {
                    choice.chatLogprobs = append(choice.chatLogprobs, content);
                }
            } else {
                String text = c.path("text").asString("");
                if (choice.echoLength < 0) {
                    choice.echoLength = text.length(); // the first chunk: the echoed prompt, or ""
                }
                JsonNode logprobs = c.path("logprobs");
                if (logprobs.isObject()) {
                    int offset = choice.text.length();
                    for (JsonNode token : logprobs.path("tokens")) {
                        choice.textOffsets = append(choice.textOffsets, OpenAiJson.MAPPER.getNodeFactory()
                                .arrayNode().add(offset));
                        offset += token.asString("").length();
                    }
                    choice.tokens = append(choice.tokens, logprobs.path("tokens"));
                    choice.tokenLogprobs = append(choice.tokenLogprobs, logprobs.path("token_logprobs"));
                    choice.topLogprobs = append(choice.topLogprobs, logprobs.path("top_logprobs"));
                }
                choice.text.append(text);
            }
            if (c.path("finish_reason").isString()) {
                choice.finishReason = c.path("finish_reason").asString();
            }
        }
    }

    private static ArrayNode append(ArrayNode into, JsonNode items) {
        ArrayNode target = into != null ? into : OpenAiJson.MAPPER.getNodeFactory().arrayNode();
        for (JsonNode item : items) {
            target.add(item);
        }
        return target;
    }

    private Frame build() {
        if (first == null) {
            throw new UpstreamStatusException(instanceId, 502, INCOMPLETE, null);
        }
        ObjectNode response = OpenAiJson.MAPPER.createObjectNode();
        response.put("id", first.path("id").asString());
        response.put("object", api == Api.CHAT ? "chat.completion" : "text_completion");
        response.put("created", first.path("created").asLong());
        response.put("model", first.path("model").asString());
        ArrayNode list = response.putArray("choices");
        choices.forEach((index, choice) -> {
            ObjectNode c = list.addObject();
            c.put("index", index);
            if (api == Api.CHAT) {
                ObjectNode message = c.putObject("message");
                message.put("role", "assistant");
                message.put("content", choice.text.toString());
                message.putNull("refusal");
                if (choice.chatLogprobs != null) {
                    c.putObject("logprobs").set("content", choice.chatLogprobs);
                } else {
                    c.putNull("logprobs");
                }
            } else {
                c.put("text", choice.text.toString());
                if (choice.tokens != null) {
                    ObjectNode logprobs = c.putObject("logprobs");
                    logprobs.set("tokens", choice.tokens);
                    logprobs.set("token_logprobs", choice.tokenLogprobs);
                    logprobs.set("top_logprobs", choice.topLogprobs);
                    logprobs.set("text_offset", choice.textOffsets);
                } else {
                    c.putNull("logprobs");
                }
            }
            c.put("finish_reason", choice.finishReason);
        });
        if (usage != null) {
            response.set("usage", usage);
        } else {
            response.putNull("usage");
        }
        return Frame.now(OpenAiJson.MAPPER.writeValueAsBytes(response));
    }
}
