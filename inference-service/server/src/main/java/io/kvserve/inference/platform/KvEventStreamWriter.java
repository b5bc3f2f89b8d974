package io.kvserve.inference.platform;

import io.kvserve.common.events.KvEventEntry;

/** Where {@link RedisKvEventPublisher} appends its entries: the Redis stream, or a list in a test. */
interface KvEventStreamWriter {

    /** Appends one entry; throws on failure (Redis unreachable, timeout). Blocking. */
    void append(KvEventEntry entry);

    /** Whether the stream is reachable now; false instead of throwing. Blocking. */
    boolean ping();
}
