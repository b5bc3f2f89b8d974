package io.kvserve.inference.api;

import io.kvserve.common.openai.ChatCompletion;
import io.kvserve.common.openai.ChatCompletionChunk;
import io.kvserve.common.openai.ChatLogprobs;
import io.kvserve.common.openai.Completion;
import io.kvserve.common.openai.GenerateRequest.Api;
import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.openai.OpenAiJson;
import io.kvserve.common.openai.Usage;
import io.kvserve.common.tokenizer.Tokenizer;
import io.kvserve.engine.FinishReason;
import io.kvserve.engine.RequestOutput;
import io.kvserve.engine.sample.SampledToken;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Turns the engine outputs of one call's choices into the OpenAI wire format: server-sent event
 * frames ({@code data: {json}\n\n} ... {@code data: [DONE]\n\n}) or one complete response.
 * A choice that ends in an engine error or an abort ends with an error event in a stream (the
 * stream still ends with {@code [DONE]}) and turns a complete response into an error.
 */
final class ResponseAssembler {

    static final byte[] DONE_FRAME = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DATA_PREFIX = "data: ".getBytes(StandardCharsets.US_ASCII);

    private final PreparedCall call;
    private final String model;
    private final long created;
    private final Tokenizer tokenizer;

    ResponseAssembler(PreparedCall call, String model, long created, Tokenizer tokenizer) {
        this.call = call;
        this.model = model;
        this.created = created;
        this.tokenizer = tokenizer;
    }

    static byte[] frame(Object value) {
        byte[] json = OpenAiJson.MAPPER.writeValueAsBytes(value);
        byte[] frame = new byte[DATA_PREFIX.length + json.length + 2];
        System.arraycopy(DATA_PREFIX, 0, frame, 0, DATA_PREFIX.length);
        System.arraycopy(json, 0, frame, DATA_PREFIX.length, json.length);
        frame[frame.length - 2] = '\n';
        frame[frame.length - 1] = '\n';
        return frame;
    }

    // ---- streaming

    /** Every frame of the stream, [DONE] last. */
    Flux<byte[]> frames(List<Flux<RequestOutput>> choices) {
        UsageTotals usage = new UsageTotals();
        List<Flux<byte[]>> perChoice = new ArrayList<>(choices.size());
        for (int i = 0; i < choices.size(); i++) {
            int index = i;
            Flux<byte[]> first = Flux.defer(() -> Flux.just(frame(firstChunk(index))));
            perChoice.add(first.concatWith(choices.get(i).concatMap(output -> {
                if (output.finished()) {
                    usage.add(output.usage());
                }
                return Flux.fromIterable(chunks(index, output));
            })));
        }
        Flux<byte[]> tail = Flux.defer(() -> call.includeUsage()
                ? Flux.just(frame(usageChunk(usage.toUsage())), DONE_FRAME) : Flux.just(DONE_FRAME));
        return Flux.merge(perChoice).concatWith(tail);
    }

    private Object firstChunk(int index) {
        return switch (call.api()) {
            case CHAT -> new ChatCompletionChunk(call.responseId(), created, model,
                    List.of(new ChatCompletionChunk.Choice(index, new ChatCompletionChunk.Delta("assistant", ""), null, null)),
                    null);
            case COMPLETIONS -> new Completion(call.responseId(), created, model,
                    List.of(new Completion.Choice(index, call.echoText(), null, null)), null);
        };
    }

    private List<byte[]> chunks(int index, RequestOutput output) {
        List<byte[]> frames = new ArrayList<>(2);
        boolean hasContent = !output.text().isEmpty() || !output.logprobs().isEmpty();
        String finish = finishReason(output.finishReason());
        if (output.finished() && finish == null) { // error or abort
            if (hasContent) {
                frames.add(frame(contentChunk(index, output, null)));
            }
            frames.add(frame(new OpenAiError.Body(error(output.finishReason()))));
            return frames;
        }
        if (hasContent || finish != null) {
            frames.add(frame(contentChunk(index, output, finish)));
        }
        return frames;
    }

    private Object contentChunk(int index, RequestOutput output, String finish) {
        return switch (call.api()) {
            case CHAT -> {
                ChatCompletionChunk.Delta delta = output.text().isEmpty() && finish != null
                        ? new ChatCompletionChunk.Delta(null, null) : new ChatCompletionChunk.Delta(null, output.text());
                yield new ChatCompletionChunk(call.responseId(), created, model,
                        List.of(new ChatCompletionChunk.Choice(index, delta, chatLogprobs(output.logprobs()), finish)), null);
            }
            case COMPLETIONS -> new Completion(call.responseId(), created, model,
                    List.of(new Completion.Choice(index, output.text(), completionLogprobs(output.logprobs(), 0), finish)),
                    null);
        };
    }

    private Object usageChunk(Usage usage) {
        return switch (call.api()) {
            case CHAT -> new ChatCompletionChunk(call.responseId(), created, model, List.of(), usage);
            case COMPLETIONS -> new Completion(call.responseId(), created, model, List.of(), usage);
        };
    }

    static OpenAiError error(FinishReason reason) {
        return reason == FinishReason.ABORT
                ? new OpenAiError("the request was aborted (the instance is shutting down or the request was cancelled)",
                        "service_unavailable", null, "aborted")
                : new OpenAiError("the engine failed while generating; the request was ended", "server_error", null,
                        "engine_error");
    }

    static String finishReason(FinishReason reason) {
        if (reason == null) {
            return null;
        }
        return switch (reason) {
            case STOP -> "stop";
            case LENGTH -> "length";
            case ABORT, ERROR -> null;
        };
    }

    // ---- complete responses

    /** The whole response, or an {@link OpenAiException} when a choice failed. */
    Mono<Object> complete(List<Flux<RequestOutput>> choices) {
        List<Mono<ChoiceResult>> results = new ArrayList<>(choices.size());
        for (Flux<RequestOutput> choice : choices) {
            results.add(choice.reduce(new ChoiceResult(), ChoiceResult::add));
        }
        return Mono.zip(results, array -> {
            List<ChoiceResult> list = new ArrayList<>(array.length);
            for (Object o : array) {
                list.add((ChoiceResult) o);
            }
            return list;
        }).map(this::assemble);
    }

    private Object assemble(List<ChoiceResult> results) {
        UsageTotals usage = new UsageTotals();
        for (ChoiceResult r : results) {
            String finish = finishReason(r.finishReason);
            if (finish == null) {
                OpenAiError error = error(r.finishReason);
                throw new OpenAiException(
                        r.finishReason == FinishReason.ABORT ? 503 : 500, error, null);
            }
            usage.add(r.usage);
        }
        return switch (call.api()) {
            case CHAT -> {
                List<ChatCompletion.Choice> list = new ArrayList<>(results.size());
                for (int i = 0; i < results.size(); i++) {
                    ChoiceResult r = results.get(i);
                    list.add(new ChatCompletion.Choice(i, new ChatCompletion.Message("assistant", r.text.toString()),
                            chatLogprobs(r.logprobs), finishReason(r.finishReason)));
                }
                yield new ChatCompletion(call.responseId(), created, model, list, usage.toUsage());
            }
            case COMPLETIONS -> {
                List<Completion.Choice> list = new ArrayList<>(results.size());
                for (int i = 0; i < results.size(); i++) {
                    ChoiceResult r = results.get(i);
                    list.add(new Completion.Choice(i, call.echoText() + r.text,
                            completionLogprobs(r.logprobs, call.echoText().length()), finishReason(r.finishReason)));
                }
                yield new Completion(call.responseId(), created, model, list, usage.toUsage());
            }
        };
    }

    // ---- logprobs

    private ChatLogprobs chatLogprobs(List<SampledToken> tokens) {
        if (call.params().topLogprobs() == null || tokens.isEmpty()) {
            return null;
        }
        List<ChatLogprobs.TokenLogprob> content = new ArrayList<>(tokens.size());
        for (SampledToken t : tokens) {
            List<ChatLogprobs.TopLogprob> top = new ArrayList<>(t.topLogprobs().size());
            for (SampledToken.TokenLogprob alt : t.topLogprobs()) {
                top.add(new ChatLogprobs.TopLogprob(tokenizer.tokenText(alt.tokenId()), alt.logprob(),
                        unsignedBytes(alt.tokenId())));
            }
            content.add(new ChatLogprobs.TokenLogprob(tokenizer.tokenText(t.tokenId()), t.logprob(),
                    unsignedBytes(t.tokenId()), top));
        }
        return new ChatLogprobs(content);
    }

    private Completion.Logprobs completionLogprobs(List<SampledToken> tokens, int textOffset) {
        if (call.params().topLogprobs() == null || tokens.isEmpty()) {
            return null;
        }
        List<String> texts = new ArrayList<>(tokens.size());
        List<Double> logprobs = new ArrayList<>(tokens.size());
        List<Map<String, Double>> top = new ArrayList<>(tokens.size());
        List<Integer> offsets = new ArrayList<>(tokens.size());
        int offset = textOffset;
        for (SampledToken t : tokens) {
            String text = tokenizer.tokenText(t.tokenId());
            texts.add(text);
            logprobs.add((double) t.logprob());
            Map<String, Double> alternatives = new LinkedHashMap<>();
            for (SampledToken.TokenLogprob alt : t.topLogprobs()) {
                alternatives.putIfAbsent(tokenizer.tokenText(alt.tokenId()), (double) alt.logprob());
            }
            top.add(alternatives);
            offsets.add(offset);
            offset += text.length();
        }
        return new Completion.Logprobs(texts, logprobs, top, offsets);
    }

    private int[] unsignedBytes(int tokenId) {
        byte[] bytes = tokenizer.tokenBytes(tokenId);
        int[] values = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            values[i] = bytes[i] & 0xff;
        }
        return values;
    }

    /** One choice's outputs folded together. */
    private static final class ChoiceResult {
        final StringBuilder text = new StringBuilder();
        final List<SampledToken> logprobs = new ArrayList<>();
        FinishReason finishReason;
        RequestOutput.Usage usage;

        ChoiceResult add(RequestOutput output) {
            text.append(output.text());
            logprobs.addAll(output.logprobs());
            if (output.finished()) {
                finishReason = output.finishReason();
                usage = output.usage();
            }
            return this;
        }
    }

    /** Usage of a call: the prompt once, completions of every choice, cached tokens of the best choice. */
    private static final class UsageTotals {
        private int promptTokens;
        private int completionTokens;
        private int cachedTokens;

        synchronized void add(RequestOutput.Usage usage) {
            if (usage == null) {
                return;
            }
            promptTokens = usage.promptTokens();
            completionTokens += usage.completionTokens();
            cachedTokens = Math.max(cachedTokens, usage.cachedPromptTokens());
        }

        synchronized Usage toUsage() {
            return Usage.of(promptTokens, completionTokens, cachedTokens);
        }
    }
}
