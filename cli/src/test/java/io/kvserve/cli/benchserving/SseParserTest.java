package io.kvserve.cli.benchserving;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseParserTest {

    private static final String STREAM = "data: {\"a\":1}\n\n"
            + ": keep-alive comment\r\n\r\n"
            + "event: message\r\nid: 7\r\ndata: {\"b\":\"x y\"}\r\n\r\n"
            + "data:first\ndata: second\n\n"
            + "data: [DONE]\n\n";

    private static final List<String> EVENTS = List.of("{\"a\":1}", "{\"b\":\"x y\"}", "first\nsecond", "[DONE]");

    private static List<String> parse(List<String> fragments) {
        List<String> events = new ArrayList<>();
        SseParser parser = new SseParser(events::add);
        fragments.forEach(parser::feed);
        parser.finish();
        return events;
    }

    @Test
    void feed_wholeStream_givesEachEventsData() {
        assertThat(parse(List.of(STREAM))).containsExactlyElementsOf(EVENTS);
    }

    @Test
    void feed_cutAtEveryPosition_givesTheSameEvents() {
        // every two-piece cut, including between \r and \n and inside "data:" and "[DONE]"
        for (int cut = 0; cut <= STREAM.length(); cut++) {
            assertThat(parse(List.of(STREAM.substring(0, cut), STREAM.substring(cut))))
                    .as("cut at %d", cut).containsExactlyElementsOf(EVENTS);
        }
    }

    @Test
    void feed_oneCharacterAtATime_givesTheSameEvents() {
        List<String> chars = new ArrayList<>();
        for (char c : STREAM.toCharArray()) {
            chars.add(String.valueOf(c));
        }
        assertThat(parse(chars)).containsExactlyElementsOf(EVENTS);
    }

    @Test
    void feed_eventWithoutBlankLine_isNotDispatchedUntilFinish() {
        List<String> events = new ArrayList<>();
        SseParser parser = new SseParser(events::add);
        parser.feed("data: {\"a\":1}\n");
        assertThat(events).isEmpty();
        parser.feed("\n");
        assertThat(events).containsExactly("{\"a\":1}");
        parser.feed("data: [DONE]");
        assertThat(events).hasSize(1);
        parser.finish();
        assertThat(events).containsExactly("{\"a\":1}", "[DONE]");
    }

    @Test
    void feed_lonelyCarriageReturns_endLines() {
        assertThat(parse(List.of("data: x\r\rdata: y\r", "\r"))).containsExactly("x", "y");
    }
}
