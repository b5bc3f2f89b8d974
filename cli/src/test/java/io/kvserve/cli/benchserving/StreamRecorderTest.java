package io.kvserve.cli.benchserving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class StreamRecorderTest {

    private static final BenchRequest REQUEST = new BenchRequest(3, "hello", null, 5, 4);
    private static final long MS = 1_000_000;

    private static String chat(String content) {
        return "{\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + content + "\"},\"finish_reason\":null}]}";
    }

    private static final String ROLE = "{\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}";
    private static final String USAGE = "{\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":3,\"total_tokens\":14}}";

    @Test
    void decode_eachChunkKind_meansWhatTheApiSays() {
        assertThat(StreamDecoder.decode("[DONE]")).containsExactly(new StreamEvent.Done());
        assertThat(StreamDecoder.decode(chat("Hi"))).containsExactly(new StreamEvent.Content("Hi"));
        assertThat(StreamDecoder.decode("{\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\" yes\"}]}"))
                .containsExactly(new StreamEvent.Content(" yes"));
        assertThat(StreamDecoder.decode(ROLE)).containsExactly(new StreamEvent.Content(""));
        assertThat(StreamDecoder.decode(USAGE)).containsExactly(new StreamEvent.Usage(11, 3));
        assertThat(StreamDecoder.decode("{\"error\":{\"message\":\"engine died\",\"type\":\"server_error\",\"code\":null}}"))
                .containsExactly(new StreamEvent.Error("server_error", "engine died"));
        assertThat(StreamDecoder.decode("{not json")).containsExactly(new StreamEvent.Malformed("{not json"));
    }

    @Test
    void finish_fullStream_timesTextChunksAndTakesTokensFromUsage() {
        StreamRecorder recorder = new StreamRecorder();
        long send = 1_000 * MS;
        recorder.onData(ROLE, send + 5 * MS);          // no text: neither the first token nor a gap
        recorder.onData(chat("a"), send + 100 * MS);
        recorder.onData(chat(""), send + 110 * MS);    // empty content does not count either
        recorder.onData(chat("b"), send + 130 * MS);
        recorder.onData(chat("c"), send + 190 * MS);
        recorder.onData(USAGE, send + 191 * MS);
        recorder.onData("[DONE]", send + 192 * MS);
        RequestRecord r = recorder.finish(REQUEST, false, send - 20 * MS, send, send + 200 * MS);

        assertThat(r.succeeded()).isTrue();
        assertThat(r.sendMs()).isCloseTo(20, within(1e-9));
        assertThat(r.ttftMs()).isCloseTo(100, within(1e-9));
        assertThat(r.itlMs()).containsExactly(30, 60);
        assertThat(r.e2eMs()).isCloseTo(200, within(1e-9));
        assertThat(r.numPromptTokens()).isEqualTo(11);
        assertThat(r.numOutputTokens()).isEqualTo(3);
        assertThat(r.usageReported()).isTrue();
        assertThat(r.tpotMs()).isCloseTo((200 - 100) / 2.0, within(1e-9));
    }

    @Test
    void finish_noUsageChunk_countsTextChunks() {
        StreamRecorder recorder = new StreamRecorder();
        for (int i = 1; i <= 70; i++) {                // past the initial capacity of the time array
            recorder.onData(chat("t"), i * MS);
        }
        recorder.onData("[DONE]", 71 * MS);
        RequestRecord r = recorder.finish(REQUEST, false, 0, 0, 72 * MS);
        assertThat(r.succeeded()).isTrue();
        assertThat(r.numOutputTokens()).isEqualTo(70);
        assertThat(r.numPromptTokens()).isEqualTo(5);
        assertThat(r.usageReported()).isFalse();
        assertThat(r.itlMs()).hasSize(69).containsOnly(1.0);
    }

    @Test
    void finish_errorEventMidStream_failsWithItsType() {
        StreamRecorder recorder = new StreamRecorder();
        recorder.onData(chat("a"), MS);
        recorder.onData("{\"error\":{\"message\":\"out of blocks\",\"type\":\"server_error\"}}", 2 * MS);
        recorder.onData("[DONE]", 3 * MS);
        RequestRecord r = recorder.finish(REQUEST, false, 0, 0, 4 * MS);
        assertThat(r.succeeded()).isFalse();
        assertThat(r.error().key()).isEqualTo("stream:server_error");
        assertThat(r.error().message()).isEqualTo("out of blocks");
    }

    @Test
    void finish_streamCutBeforeDone_isIncomplete() {
        StreamRecorder recorder = new StreamRecorder();
        recorder.onData(chat("a"), MS);
        assertThat(recorder.finish(REQUEST, false, 0, 0, 2 * MS).error().key()).isEqualTo("stream:incomplete");
    }

    @Test
    void finish_doneWithoutText_isNoContent() {
        StreamRecorder recorder = new StreamRecorder();
        recorder.onData(ROLE, MS);
        recorder.onData("[DONE]", 2 * MS);
        RequestRecord r = recorder.finish(REQUEST, true, 0, 0, 2 * MS);
        assertThat(r.error().key()).isEqualTo("stream:no_content");
        assertThat(r.warmup()).isTrue();
        assertThat(r.tpotMs()).isNaN();
    }

    @Test
    void errorOfBody_openAiErrorBody_givesItsType() {
        assertThat(StreamDecoder.errorOfBody("{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit_exceeded\",\"param\":null,\"code\":null}}"))
                .isEqualTo(new StreamEvent.Error("rate_limit_exceeded", "slow down"));
        assertThat(StreamDecoder.errorOfBody("<html>bad gateway</html>")).isNull();
        assertThat(List.of(new RequestError("http", 502, null, "x").key(), new RequestError("timeout", 0, "timeout", "x").key()))
                .containsExactly("http_502", "timeout");
    }
}
