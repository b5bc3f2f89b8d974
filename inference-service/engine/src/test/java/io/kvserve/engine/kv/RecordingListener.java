package io.kvserve.engine.kv;

import java.util.ArrayList;
import java.util.List;

/** Keeps the events a pool emitted; {@link #drain()} returns and forgets them. */
final class RecordingListener implements KvEventListener {

    private final List<KvEvent> events = new ArrayList<>();

    @Override
    public void onEvent(KvEvent event) {
        events.add(event);
    }

    List<KvEvent> drain() {
        List<KvEvent> out = List.copyOf(events);
        events.clear();
        return out;
    }
}
