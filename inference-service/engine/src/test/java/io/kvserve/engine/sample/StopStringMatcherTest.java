package io.kvserve.engine.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopStringMatcherTest {

    private static StopStringMatcher.Result emit(String text) {
        return new StopStringMatcher.Result(text, false);
    }

    private static StopStringMatcher.Result stop(String text) {
        return new StopStringMatcher.Result(text, true);
    }

    @Test
    void push_noStopStrings_deltaUnchanged() {
        StopStringMatcher matcher = new StopStringMatcher(List.of());
        assertThat(matcher.push("hello ")).isEqualTo(emit("hello "));
        assertThat(matcher.flush()).isEmpty();
    }

    @Test
    void push_stopSplitOverTwoDeltas_neverEmitted() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("END"));
        assertThat(matcher.push("foo E")).isEqualTo(emit("foo "));
        assertThat(matcher.push("ND bar")).isEqualTo(stop(""));
        assertThat(matcher.matchedStop()).isEqualTo("END");
    }

    @Test
    void push_stopSplitOverThreeDeltas_textBeforeItEmitted() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("</s>"));
        assertThat(matcher.push("ok<")).isEqualTo(emit("ok"));
        assertThat(matcher.push("/")).isEqualTo(emit(""));
        assertThat(matcher.push("s>tail")).isEqualTo(stop(""));
    }

    @Test
    void push_stopInsideOneDelta_textBeforeItOnly() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("\n\n"));
        assertThat(matcher.push("one\n\ntwo")).isEqualTo(stop("one"));
    }

    @Test
    void push_falseStart_heldTextReleased() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("abc"));
        assertThat(matcher.push("ab")).isEqualTo(emit(""));
        assertThat(matcher.push("x")).isEqualTo(emit("abx"));
    }

    @Test
    void push_overlappingStart_matchesAfterTheFalseStart() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("ab"));
        assertThat(matcher.push("a")).isEqualTo(emit(""));
        assertThat(matcher.push("a")).isEqualTo(emit("a"));
        assertThat(matcher.push("b")).isEqualTo(stop(""));

        assertThat(new StopStringMatcher(List.of("ab")).push("aab")).isEqualTo(stop("a"));
    }

    @Test
    void push_multipleStops_earliestInTextWins() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("world", "lo"));
        assertThat(matcher.push("hel")).isEqualTo(emit("he")); // "l" could become "lo"
        assertThat(matcher.push("lo world")).isEqualTo(stop("l"));
        assertThat(matcher.matchedStop()).isEqualTo("lo");

        StopStringMatcher reversed = new StopStringMatcher(List.of("cd", "abcde"));
        assertThat(reversed.push("xabc")).isEqualTo(emit("x")); // "abc" could still become "abcde"
        assertThat(reversed.push("d")).isEqualTo(stop("ab"));   // "cd" completes first
        assertThat(new StopStringMatcher(List.of("cd", "abcde")).push("xabcde")).isEqualTo(stop("xab")); // any cut
    }

    @Test
    void push_twoStopsCompleteOnSameChar_longerOneWins() {
        assertThat(new StopStringMatcher(List.of("bc", "abc")).push("xabcy")).isEqualTo(stop("x"));
    }

    @Test
    void push_randomTextsAndCuts_equalsFirstCompletionReference() {
        java.util.Random random = new java.util.Random(17);
        List<String> stops = List.of("abc", "bca", "aab", "cc", "abab");
        for (int trial = 0; trial < 2000; trial++) {
            StringBuilder text = new StringBuilder();
            for (int i = 0, n = random.nextInt(25); i < n; i++) {
                text.append((char) ('a' + random.nextInt(3)));
            }
            String expected = null;
            for (int end = 1; end <= text.length() && expected == null; end++) {
                int longest = -1;
                for (String stop : stops) {
                    int start = end - stop.length();
                    if (start >= 0 && text.substring(start, end).equals(stop)) {
                        longest = Math.max(longest, stop.length());
                    }
                }
                if (longest >= 0) {
                    expected = text.substring(0, end - longest);
                }
            }
            StopStringMatcher matcher = new StopStringMatcher(stops);
            StringBuilder out = new StringBuilder();
            boolean stopped = false;
            for (int i = 0; i < text.length() && !stopped; ) {
                int next = Math.min(text.length(), i + 1 + random.nextInt(4));
                StopStringMatcher.Result result = matcher.push(text.substring(i, next));
                out.append(result.text());
                stopped = result.stopped();
                i = next;
            }
            if (!stopped) {
                out.append(matcher.flush());
            }
            assertThat(stopped).as("text %s", text).isEqualTo(expected != null);
            assertThat(out).as("text %s", text).hasToString(expected != null ? expected : text.toString());
        }
    }

    @Test
    void push_heldSuffixOfOneStopWhileAnotherMatches_matchWins() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("xyz", "q"));
        assertThat(matcher.push("axy")).isEqualTo(emit("a"));
        assertThat(matcher.push("q")).isEqualTo(stop("xy"));
    }

    @Test
    void push_multiByteAndEmoji_splitStopCaught() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("🛑終"));
        assertThat(matcher.push("日本語😀")).isEqualTo(emit("日本語😀"));
        assertThat(matcher.push("é🛑")).isEqualTo(emit("é"));
        assertThat(matcher.push("終わり")).isEqualTo(stop(""));

        StopStringMatcher emojiOnly = new StopStringMatcher(List.of("😀"));
        assertThat(emojiOnly.push("a😁b")).isEqualTo(emit("a😁b")); // same high surrogate, different pair
        assertThat(emojiOnly.push("c😀")).isEqualTo(stop("c"));
    }

    @Test
    void push_stopAtVeryStart_emptyText() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("###"));
        assertThat(matcher.push("###")).isEqualTo(stop(""));
        assertThat(matcher.stopped()).isTrue();
    }

    @Test
    void push_afterStop_throws() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("x"));
        matcher.push("x");
        assertThatThrownBy(() -> matcher.push("more")).isInstanceOf(IllegalStateException.class);
        assertThat(matcher.flush()).isEmpty();
    }

    @Test
    void flush_endWithoutStop_returnsHeldText() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("STOP"));
        assertThat(matcher.push("the ST")).isEqualTo(emit("the "));
        assertThat(matcher.flush()).isEqualTo("ST");
        assertThat(matcher.flush()).isEmpty();
        assertThat(matcher.stopped()).isFalse();
    }

    @Test
    void push_everyDeltaSplit_sameResultAsWholeText() {
        String text = "a quick <stop brown <sto<stop> fox";
        List<String> stops = List.of("<stop>", "brownie");
        for (int split = 1; split <= 4; split++) {
            StopStringMatcher matcher = new StopStringMatcher(stops);
            StringBuilder out = new StringBuilder();
            boolean stopped = false;
            for (int i = 0; i < text.length() && !stopped; i += split) {
                StopStringMatcher.Result result = matcher.push(text.substring(i, Math.min(text.length(), i + split)));
                out.append(result.text());
                stopped = result.stopped();
            }
            assertThat(stopped).isTrue();
            assertThat(out).as("split %d", split).hasToString("a quick <stop brown <sto");
        }
    }
}
