/**
 * The platform's Redis wire format: KV event stream entries ({@link io.kvserve.common.events.KvEventEntry},
 * {@link io.kvserve.common.events.KvStreamEvent}), instance registrations
 * ({@link io.kvserve.common.events.InstanceRegistration}) and the key names
 * ({@link io.kvserve.common.events.RedisKeys}). Documented in {@code docs/redis-schema.md}; inference
 * instances write it, kvshare and the scheduler read it.
 */
package io.kvserve.common.events;
