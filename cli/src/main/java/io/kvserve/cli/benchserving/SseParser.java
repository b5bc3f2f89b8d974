package io.kvserve.cli.benchserving;

import java.util.function.Consumer;

/**
 * Server-sent events framing (WHATWG HTML, "event stream interpretation"), as far as the OpenAI API
 * uses it: text arrives in fragments cut anywhere (mid-line, mid-{@code \r\n}); each complete line is
 * one field; {@code data:} lines accumulate (joined by {@code \n}) and a blank line dispatches them as
 * one event. Comment lines ({@code :keep-alive}) and other fields ({@code event:}, {@code id:},
 * {@code retry:}) are ignored. Not thread-safe: one parser per response, fed in arrival order.
 */
final class SseParser {

    private final Consumer<String> onData;
    private final StringBuilder line = new StringBuilder();
    private final StringBuilder data = new StringBuilder();
    private boolean hasData;
    private boolean lastWasCr;

    /** @param onData called with each event's data, once per dispatched event */
    SseParser(Consumer<String> onData) {
        this.onData = onData;
    }

    /** Feeds the next fragment of the body. */
    void feed(CharSequence fragment) {
        for (int i = 0; i < fragment.length(); i++) {
            char c = fragment.charAt(i);
            if (c == '\n' && lastWasCr) { // second half of a \r\n cut between two fragments or not
                lastWasCr = false;
                continue;
            }
            lastWasCr = c == '\r';
            if (c == '\n' || c == '\r') {
                endLine();
            } else {
                line.append(c);
            }
        }
    }

    /**
     * The body has ended. An event not closed by a blank line is dispatched anyway (the spec drops it),
     * so that a server that leaves out the last blank line still ends with its {@code [DONE]}.
     */
    void finish() {
        if (!line.isEmpty()) {
            endLine();
        }
        if (hasData) {
            dispatch();
        }
    }

    private void endLine() {
        if (line.isEmpty()) {
            if (hasData) {
                dispatch();
            }
            return;
        }
        if (line.charAt(0) != ':') {
            int colon = indexOf(line, ':');
            String field = colon < 0 ? line.toString() : line.substring(0, colon);
            if (field.equals("data")) {
                int start = colon < 0 ? line.length() : colon + 1;
                if (start < line.length() && line.charAt(start) == ' ') {
                    start++;
                }
                if (hasData) {
                    data.append('\n');
                }
                data.append(line, start, line.length());
                hasData = true;
            }
        }
        line.setLength(0);
    }

    private void dispatch() {
        String event = data.toString();
        data.setLength(0);
        hasData = false;
        onData.accept(event);
    }

    private static int indexOf(CharSequence s, char c) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == c) {
                return i;
            }
        }
        return -1;
    }
}
