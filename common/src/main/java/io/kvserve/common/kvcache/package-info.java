/**
 * The prefix-cache naming that the engine, the scheduler and kvshare share: {@link
 * io.kvserve.common.kvcache.BlockHasher} computes the tenant-salted chain of 128-bit {@link
 * io.kvserve.common.kvcache.BlockHash}es over full blocks of token ids; its javadoc is the byte-level
 * specification (version 1) with a Python reference and golden values, so services in other
 * languages can reproduce it.
 */
package io.kvserve.common.kvcache;
