/**
 * The bookkeeping of the paged KV cache (not the tensors): {@link io.kvserve.engine.kv.BlockPool}
 * owns block reference counts, the LRU free queue that doubles as the prefix cache, and the
 * hash-to-block map, announcing changes as {@link io.kvserve.engine.kv.KvEvent}s to a {@link
 * io.kvserve.engine.kv.KvEventListener}; {@link io.kvserve.engine.kv.KvCacheManager} keeps each
 * request's block table, reuses cached prefixes and maps token positions to KV slots. Block hashes
 * come from {@link io.kvserve.common.kvcache.BlockHasher}. Everything here belongs to the engine's
 * step-loop thread.
 */
package io.kvserve.engine.kv;
