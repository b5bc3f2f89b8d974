package io.kvserve.engine;

/**
 * A snapshot of the engine, published by its step loop after every step (vLLM's metric names in the
 * comments).
 *
 * @param numRunning         requests running ({@code vllm:num_requests_running})
 * @param numWaiting         requests waiting, preempted ones included ({@code vllm:num_requests_waiting})
 * @param kvCacheUsage       fraction of KV blocks in use, 0..1 ({@code vllm:kv_cache_usage_perc})
 * @param numFreeBlocks      KV blocks not in use (cached ones included)
 * @param numTotalBlocks     KV blocks in the pool
 * @param prefixCacheQueries prompt tokens looked up in the prefix cache ({@code vllm:prefix_cache_queries})
 * @param prefixCacheHits    of those, tokens found ({@code vllm:prefix_cache_hits})
 * @param numPreemptions     preemptions since start ({@code vllm:num_preemptions})
 * @param promptTokens       prompt tokens of requests admitted ({@code vllm:prompt_tokens})
 * @param generationTokens   tokens sampled ({@code vllm:generation_tokens})
 * @param numSteps           forward steps run
 */
public record EngineStats(int numRunning, int numWaiting, double kvCacheUsage, int numFreeBlocks, int numTotalBlocks,
                          long prefixCacheQueries, long prefixCacheHits, long numPreemptions, long promptTokens,
                          long generationTokens, long numSteps) {
}
