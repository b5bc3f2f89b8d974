package io.kvserve.engine.sample;

import java.util.Arrays;
import java.util.List;

/**
 * Finds a request's stop strings in its generated text as it arrives in detokenized deltas, so that a
 * stop string split across tokens is still caught and no part of it is ever emitted.
 *
 * <p>Each stop string has a Knuth-Morris-Pratt automaton [1] whose state is the length of the longest
 * prefix of that stop string ending the text seen so far; the text arrives one UTF-16 unit at a time
 * through all automata. The held-back text is the longest of those prefixes (it could still become a
 * stop string); everything before it is emitted:
 * <pre>
 * stop "abc"     push "xa"  -> emit "x",   hold "a"     (state 1)
 *                push "b"   -> emit "",    hold "ab"    (state 2)
 *                push "x"   -> emit "abx", hold ""      (false start, state 0)
 *                push "abc" -> emit "",    stopped      (state 3 = length)
 * </pre>
 * Nothing emitted can be the start of a match: a stop string starting in emitted text and running
 * past the end would be a longer prefix than the held one.
 *
 * <p>With several stop strings, the first one to complete wins, and among those completing on the
 * same character the one starting earliest; the text is what precedes it. That is what a stream fed
 * one character at a time would do, so the result does not depend on how the text is cut into
 * deltas (vLLM checks its stop list in order after each token instead, which can depend on the cut
 * when one stop string contains another [2]).
 *
 * <p>Cost: O(delta length x number of stop strings) amortized per push, plus the emitted substring;
 * the held text is shorter than the longest stop string. A well-formed stop string never starts with
 * a low surrogate, so a held suffix never splits a surrogate pair that the delta did not split itself.
 * Stop strings apply to generated text only: the prompt is never pushed.
 *
 * <p>References: [1] Knuth, Morris, Pratt, Fast pattern matching in strings, SIAM J. Comput. 6(2),
 * 1977; [2] vLLM {@code vllm/v1/engine/detokenizer.py}, {@code check_stop_strings}.
 */
public final class StopStringMatcher {

    /**
     * What one push settled.
     *
     * @param text    text safe to emit now; when stopped, everything before the stop string
     * @param stopped whether a stop string completed (it is not in {@code text})
     */
    public record Result(String text, boolean stopped) {
    }

    private final String[] stopStrings;
    private final int[][] failure; // per stop string s: failure[s][k] = longest proper border of s[0..k]
    private final int[] states;    // per stop string: length of its longest prefix ending the text
    private final StringBuilder pending = new StringBuilder(); // emitted text is gone; this is the held part
    private String matchedStop;

    public StopStringMatcher(List<String> stopStrings) {
        this.stopStrings = stopStrings.toArray(String[]::new);
        failure = new int[this.stopStrings.length][];
        states = new int[this.stopStrings.length];
        for (int s = 0; s < this.stopStrings.length; s++) {
            String stop = this.stopStrings[s];
            if (stop.isEmpty()) {
                throw new IllegalArgumentException("a stop string must not be empty");
            }
            failure[s] = failureFunction(stop);
        }
    }

    /** Adds the next piece of generated text; returns what may be emitted now. */
    public Result push(String delta) {
        if (matchedStop != null) {
            throw new IllegalStateException("push after the stop string \"" + matchedStop + "\" matched");
        }
        if (stopStrings.length == 0) {
            return new Result(delta, false);
        }
        int heldBefore = pending.length();
        for (int i = 0; i < delta.length(); i++) {
            char c = delta.charAt(i);
            int matched = -1;
            for (int s = 0; s < stopStrings.length; s++) {
                int state = advance(s, c);
                states[s] = state;
                // a longer stop string completing on this character starts earlier
                if (state == stopStrings[s].length() && (matched < 0 || state > stopStrings[matched].length())) {
                    matched = s;
                }
            }
            if (matched >= 0) {
                matchedStop = stopStrings[matched];
                // the text so far is pending + delta[0..i]; the stop string is its last stop.length() units
                int end = heldBefore + i + 1 - matchedStop.length();
                String text = end <= heldBefore ? pending.substring(0, end)
                        : pending.append(delta, 0, end - heldBefore).toString();
                pending.setLength(0);
                return new Result(text, true);
            }
        }
        int held = 0;
        for (int state : states) {
            held = Math.max(held, state);
        }
        if (held == 0 && heldBefore == 0) {
            return new Result(delta, false); // the common case: nothing held, nothing to copy
        }
        // emit pending + delta except the last `held` units
        int total = heldBefore + delta.length();
        int numEmit = total - held;
        String text;
        if (numEmit <= heldBefore) {
            text = pending.substring(0, numEmit);
            pending.delete(0, numEmit).append(delta);
        } else {
            text = pending.append(delta, 0, numEmit - heldBefore).toString();
            pending.setLength(0);
            pending.append(delta, numEmit - heldBefore, delta.length());
        }
        return new Result(text, false);
    }

    /** The held-back text, at the end of generation without a stop; empty after a stop. */
    public String flush() {
        String text = pending.toString();
        pending.setLength(0);
        Arrays.fill(states, 0);
        return text;
    }

    /** Whether a stop string has matched. */
    public boolean stopped() {
        return matchedStop != null;
    }

    /** The stop string that matched (vLLM's {@code stop_reason}), or null. */
    public String matchedStop() {
        return matchedStop;
    }

    private int advance(int s, char c) {
        String stop = stopStrings[s];
        int[] fail = failure[s];
        int state = states[s];
        if (state == stop.length()) {
            state = fail[state - 1];
        }
        while (state > 0 && stop.charAt(state) != c) {
            state = fail[state - 1];
        }
        return stop.charAt(state) == c ? state + 1 : 0;
    }

    /** KMP's table: entry k is the length of the longest proper prefix of s[0..k] that is also its suffix. */
    private static int[] failureFunction(String s) {
        int[] fail = new int[s.length()];
        int k = 0;
        for (int i = 1; i < s.length(); i++) {
            while (k > 0 && s.charAt(i) != s.charAt(k)) {
                k = fail[k - 1];
            }
            if (s.charAt(i) == s.charAt(k)) {
                k++;
            }
            fail[i] = k;
        }
        return fail;
    }
}
