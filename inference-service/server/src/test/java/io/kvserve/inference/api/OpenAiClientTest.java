package io.kvserve.inference.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import io.kvserve.engine.EngineRequest;
import io.kvserve.engine.RequestOutput;
import io.kvserve.engine.sample.SamplingParams;
import io.kvserve.inference.ServerTestBase;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The server through the official OpenAI Java client (retries off, strict response validation), the
 * way a user's application talks to it: responses must parse as OpenAI's own types.
 */
class OpenAiClientTest extends ServerTestBase {

    private OpenAIClient client;

    @BeforeEach
    void client() {
        client = OpenAIOkHttpClient.builder().baseUrl("http://localhost:" + port + "/v1").apiKey("unused")
                .maxRetries(0).responseValidation(true).build();
    }

    @AfterEach
    void close() {
        client.close();
    }

    private ChatCompletionCreateParams.Builder chat(String user, int maxTokens) {
        return ChatCompletionCreateParams.builder().model("tiny").addSystemMessage("You are terse.")
                .addUserMessage(user).maxCompletionTokens(maxTokens).temperature(0.0);
    }

    @Test
    void chat_greedy_returnsMaxTokensWithUsageAndLengthFinish() {
        ChatCompletion completion = client.chat().completions().create(chat("Hello there", 8).build());

        assertThat(completion.model()).isEqualTo("tiny");
        assertThat(completion.choices()).hasSize(1);
        ChatCompletion.Choice choice = completion.choices().getFirst();
        assertThat(choice.message().content()).isPresent();
        assertThat(choice.finishReason()).isIn(ChatCompletion.Choice.FinishReason.LENGTH,
                ChatCompletion.Choice.FinishReason.STOP);
        assertThat(completion.usage()).isPresent();
        assertThat(completion.usage().get().promptTokens()).isGreaterThan(4);
        if (choice.finishReason() == ChatCompletion.Choice.FinishReason.LENGTH) {
            assertThat(completion.usage().get().completionTokens()).isEqualTo(8);
        }
        assertThat(completion.usage().get().totalTokens()).isEqualTo(
                completion.usage().get().promptTokens() + completion.usage().get().completionTokens());
    }

    @Test
    void chatStream_concatenated_equalsNonStreamedAndEndsWithUsage() {
        String expected = client.chat().completions().create(chat("Tell me a story", 12).build()).choices().getFirst()
                .message().content().orElseThrow();
        ChatCompletionCreateParams params = chat("Tell me a story", 12)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();

        StringBuilder text = new StringBuilder();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> {
                chunks.add(chunk);
                chunk.choices().forEach(c -> c.delta().content().ifPresent(text::append));
            });
        }

        assertThat(text.toString()).isEqualTo(expected);
        assertThat(chunks.getFirst().choices().getFirst().delta().role()).isPresent();
        ChatCompletionChunk last = chunks.getLast();
        assertThat(last.choices()).isEmpty();
        assertThat(last.usage()).isPresent();
        assertThat(last.usage().get().completionTokens()).isBetween(1L, 12L);
        assertThat(chunks.subList(0, chunks.size() - 1)).allSatisfy(c -> assertThat(c.usage()).isEmpty());
        assertThat(chunks.get(chunks.size() - 2).choices().getFirst().finishReason()).isPresent();
    }

    @Test
    void completion_promptIds_matchesTheEngineRunDirectly() throws InterruptedException {
        int[] promptIds = {1, 17, 300, 42, 99, 5, 512, 7};
        Completion completion = client.completions().create(CompletionCreateParams.builder().model("tiny")
                .prompt(CompletionCreateParams.Prompt.ofArrayOfTokens(toLongs(promptIds))).maxTokens(10)
                .temperature(0.0).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());

        LinkedBlockingQueue<RequestOutput> outputs = new LinkedBlockingQueue<>();
        host.require().engine().submit(EngineRequest.of("reference", promptIds,
                SamplingParams.builder().maxTokens(10).temperature(0).ignoreEos(true).build()), outputs::add);
        StringBuilder reference = new StringBuilder();
        RequestOutput output;
        do {
            output = outputs.poll(30, TimeUnit.SECONDS);
            assertThat(output).isNotNull();
            reference.append(output.text());
        } while (!output.finished());

        assertThat(completion.choices().getFirst().text()).isEqualTo(reference.toString());
        assertThat(completion.usage().orElseThrow().completionTokens()).isEqualTo(10);
        assertThat(completion.usage().orElseThrow().promptTokens()).isEqualTo(promptIds.length);
    }

    @Test
    void completionStream_textEqualsNonStreamed() {
        CompletionCreateParams params = CompletionCreateParams.builder().model("tiny").prompt("Once upon a time")
                .maxTokens(10).temperature(0.0).build();
        String expected = client.completions().create(params).choices().getFirst().text();

        StringBuilder text = new StringBuilder();
        // OpenAI streams legacy completion chunks with "finish_reason": null until the last; the
        // client's strict validation wants it set in every chunk, so this stream is read unvalidated
        OpenAIClient lenient = OpenAIOkHttpClient.builder().baseUrl("http://localhost:" + port + "/v1")
                .apiKey("unused").maxRetries(0).build();
        try (StreamResponse<Completion> stream = lenient.completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(c -> text.append(c.text())));
        } finally {
            lenient.close();
        }
        assertThat(text.toString()).isEqualTo(expected);
    }

    @Test
    void stop_endsBeforeTheStopStringWithFinishStop() {
        CompletionCreateParams.Builder params = CompletionCreateParams.builder().model("tiny").prompt("The weather is")
                .maxTokens(24).temperature(0.0).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true));
        String free = client.completions().create(params.build()).choices().getFirst().text();
        assertThat(free.length()).as("greedy text to cut").isGreaterThan(6);
        String stop = free.substring(free.length() / 2, free.length() / 2 + 2);
        int cut = free.indexOf(stop);

        Completion stopped = client.completions().create(params.stop(stop).build());

        assertThat(stopped.choices().getFirst().text()).isEqualTo(free.substring(0, cut));
        assertThat(stopped.choices().getFirst().finishReason()).isEqualTo(com.openai.models.completions.CompletionChoice.FinishReason.STOP);
    }

    @Test
    void seed_sameSeedSameText_nChoicesDiffer() {
        ChatCompletionCreateParams params = chat("Pick random words", 16).temperature(1.0).seed(1234L).n(2).build();

        ChatCompletion first = client.chat().completions().create(params);
        ChatCompletion second = client.chat().completions().create(params);

        assertThat(first.choices()).hasSize(2);
        List<String> a = first.choices().stream().map(c -> c.message().content().orElse("")).toList();
        List<String> b = second.choices().stream().map(c -> c.message().content().orElse("")).toList();
        assertThat(a).isEqualTo(b);
        assertThat(a.get(0)).isNotEqualTo(a.get(1)); // choice i draws from seed + i
        assertThat(first.usage().orElseThrow().completionTokens()).as("at least one token per choice")
                .isGreaterThanOrEqualTo(first.choices().size());
    }

    @Test
    void logprobs_topAlternativesOrderedAndChosenIsProbability() {
        ChatCompletion completion = client.chat().completions().create(chat("Hi", 4).logprobs(true).topLogprobs(3).build());

        var content = completion.choices().getFirst().logprobs().orElseThrow().content().orElseThrow();
        assertThat(content).isNotEmpty();
        for (var token : content) {
            assertThat(token.logprob()).isLessThanOrEqualTo(0.0);
            assertThat(token.topLogprobs()).hasSize(3);
            assertThat(token.topLogprobs().get(0).logprob()).isGreaterThanOrEqualTo(token.topLogprobs().get(2).logprob());
            // greedy: the chosen token is the most likely one
            assertThat(token.logprob()).isCloseTo(token.topLogprobs().get(0).logprob(), org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    @Test
    void badTemperature_isBadRequestNamingTheParameter() {
        assertThatThrownBy(() -> client.chat().completions().create(chat("Hi", 4).temperature(5.0).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(e.param()).contains("temperature");
                    assertThat(e.type()).contains("invalid_request_error");
                });
    }

    @Test
    void unknownModel_isNotFound() {
        assertThatThrownBy(() -> client.chat().completions().create(chat("Hi", 4).model("gpt-9").build()))
                .isInstanceOfSatisfying(NotFoundException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(404);
                    assertThat(e.code()).contains("model_not_found");
                });
    }

    @Test
    void maxTokensBeyondContext_isBadRequestWithContextLengthCode() {
        assertThatThrownBy(() -> client.completions().create(CompletionCreateParams.builder().model("tiny")
                .prompt("Hello").maxTokens(100_000).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> {
                    assertThat(e.param()).contains("max_tokens");
                    assertThat(e.code()).contains("context_length_exceeded");
                });
    }

    @Test
    void models_listsTheServedModel() {
        var models = client.models().list();
        assertThat(models.data()).extracting(m -> m.id()).containsExactly("tiny");
    }

    private static List<Long> toLongs(int[] ids) {
        List<Long> list = new ArrayList<>(ids.length);
        for (int id : ids) {
            list.add((long) id);
        }
        return list;
    }
}
