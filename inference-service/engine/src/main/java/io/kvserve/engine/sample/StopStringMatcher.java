package io.kvserve.engine.sample;

import java.util.List;

/**
 * Finds a request's stop strings in its generated text as it arrives in detokenized deltas, so that a
 * stop string split across tokens is still caught and no part of it is ever emitted.
 *
 * <p>The matcher keeps the text not yet emitted ({@code pending}). On each push it looks for the
 * earliest stop string in it; if there is none, it emits all of it except the longest suffix that is a
 * prefix of some stop string, which it holds back until the next delta settles it:
 * <pre>
 * stop "abc"     push "xa" -> emit "x",  hold "a"
 *                push "b"  -> emit "",   hold "ab"
 *                push "x"  -> emit "abx" (false start), hold ""
 *                push "abc" -> emit "" , stopped
 * </pre>
 * Nothing emitted can be the start of a match: a stop string beginning in emitted text and running
 * past the pending end would make a longer held suffix. Each push costs O(|pending| * total stop
 * length), and pending is at most the longest stop string plus the delta. Text is compared in UTF-16
 * code units; a well-formed stop string never starts with a low surrogate, so a held suffix never
 * splits a surrogate pair the delta did not split itself. Stop strings apply to generated text only:
 * the prompt is never pushed.
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
    private final int maxHeld; // longest possible held suffix: the longest stop string less one char
    private final StringBuilder pending = new StringBuilder();
    private String matchedStop;

    public StopStringMatcher(List<String> stopStrings) {
        this.stopStrings = stopStrings.toArray(String[]::new);
        int longest = 0;
        for (String s : this.stopStrings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("a stop string must not be empty");
            }
            longest = Math.max(longest, s.length());
        }
        maxHeld = Math.max(0, longest - 1);
    }

    /** Adds the next piece of generated text; returns what may be emitted now. */
    public Result push(String delta) {
        if (matchedStop != null) {
            throw new IllegalStateException("push after the stop string \"" + matchedStop + "\" matched");
        }
        if (stopStrings.length == 0) {
            return new Result(delta, false);
        }
        pending.append(delta);

        int stopAt = -1;
        for (String s : stopStrings) {
            int at = pending.indexOf(s);
            if (at >= 0 && (stopAt < 0 || at < stopAt)) {
                stopAt = at;
                matchedStop = s;
            }
        }
        if (stopAt >= 0) {
            String text = pending.substring(0, stopAt);
            pending.setLength(0);
            return new Result(text, true);
        }

        int numEmit = pending.length() - heldSuffixLength();
        String text = pending.substring(0, numEmit);
        pending.delete(0, numEmit);
        return new Result(text, false);
    }

    /** The held-back text, at the end of generation without a stop; empty after a stop. */
    public String flush() {
        String text = pending.toString();
        pending.setLength(0);
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

    /** The length of the longest suffix of pending that is a proper prefix of some stop string. */
    private int heldSuffixLength() {
        int length = pending.length();
        for (int k = Math.min(length, maxHeld); k > 0; k--) {
            int start = length - k;
            for (String s : stopStrings) {
                if (k < s.length() && regionMatches(start, s, k)) {
                    return k;
                }
            }
        }
        return 0;
    }

    private boolean regionMatches(int start, String s, int k) {
        for (int i = 0; i < k; i++) {
            if (pending.charAt(start + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
