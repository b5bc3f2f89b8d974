package io.kvserve.gateway.route;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import reactor.core.publisher.Flux;

class SseFramerTest {

    private static final String STREAM = "data: {\"a\":1}\n\ndata: {\"b\":\"x\\ny\"}\n\n"
            + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3}}\n\ndata: [DONE]\n\n";

    @Test
    void frames_cutAnywhere_comeOutWholeAndUnchanged() {
        Random random = new Random(1);
        byte[] bytes = STREAM.getBytes(StandardCharsets.UTF_8);
        for (int trial = 0; trial < 200; trial++) {
            List<DataBuffer> pieces = new ArrayList<>();
            for (int start = 0; start < bytes.length; ) {
                int end = Math.min(bytes.length, start + 1 + random.nextInt(12));
                pieces.add(DefaultDataBufferFactory.sharedInstance.wrap(java.util.Arrays.copyOfRange(bytes, start, end)));
                start = end;
            }
            List<String> frames = SseFramer.frames(Flux.fromIterable(pieces))
                    .map(f -> new String(f.bytes(), StandardCharsets.UTF_8)).collectList().block();
            assertThat(frames).containsExactly("data: {\"a\":1}\n\n", "data: {\"b\":\"x\\ny\"}\n\n",
                    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3}}\n\n", "data: [DONE]\n\n");
        }
    }

    @Test
    void frameKinds_areRecognised() {
        List<Frame> frames = SseFramer.frames(Flux.just(DefaultDataBufferFactory.sharedInstance.wrap(
                (STREAM + "data: {\"error\":{\"message\":\"m\"}}\n\n").getBytes(StandardCharsets.UTF_8))))
                .collectList().block();
        assertThat(frames).extracting(Frame::hasUsage).containsExactly(false, false, true, false, false);
        assertThat(frames).extracting(Frame::isDone).containsExactly(false, false, false, true, false);
        assertThat(frames).extracting(Frame::isError).containsExactly(false, false, false, false, true);
        assertThat(frames.get(2).json()).isEqualTo("{\"choices\":[],\"usage\":{\"prompt_tokens\":3}}");
    }

    @Test
    void trailingPartialEvent_isDropped() {
        List<Frame> frames = SseFramer.frames(Flux.just(DefaultDataBufferFactory.sharedInstance.wrap(
                "data: {\"a\":1}\n\ndata: {\"cut".getBytes(StandardCharsets.UTF_8)))).collectList().block();
        assertThat(frames).hasSize(1);
    }
}
