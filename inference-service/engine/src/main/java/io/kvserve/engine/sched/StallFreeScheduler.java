package io.kvserve.engine.sched;

import io.kvserve.engine.kv.AllocationResult;
import io.kvserve.engine.kv.KvCacheManager;
import io.kvserve.engine.kv.PrefixHit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Continuous batching under a per-step token budget with chunked prefill, stall-free: running
 * sequences are scheduled before new ones are admitted, and a long prompt enters in chunks instead of
 * pausing every decode behind it.
 *
 * <h2>Design</h2>
 * Like vLLM v1's scheduler [1], there are no "prefill" and "decode" phases, only requests whose
 * {@code numComputedTokens} trails their {@code numTokens}: each step gives each request
 * {@code min(numTokens - numComputedTokens, budget left)} new tokens. A decoding request trails by
 * one token (the last one sampled), a request in prefill by the rest of its prompt, a preempted one
 * by everything. A step fills its budget in three passes: (1) the decodes of running requests, (2)
 * the next chunks of running requests still in prefill, (3) chunks of waiting requests admitted
 * now. So a long prompt never delays a decode: it enters in chunks beside them, the hybrid batches
 * of Sarathi-Serve [2]. One step's budget, maxNumBatchedTokens = 16:
 * <pre>
 *   budget | d d d | p p p p p | q q q q q q q q |      16 tokens
 *            A B C   D           E
 *   pass 1   decodes of running requests A, B, C (each samples)
 *   pass 2   D, admitted earlier: the last 5 tokens of its prompt (the chunk ends it: D samples)
 *   pass 3   E, admitted now: the first 8 of its 40 prompt tokens (a partial chunk: no logits)
 * </pre>
 * A sequence samples a token only when its chunk reaches its last known token; a partial chunk just
 * fills the KV cache.
 *
 * <p><b>KV blocks.</b> Each scheduled chunk first reserves its slots with
 * {@link KvCacheManager#allocateSlots}. When a decode's allocation fails, the most recently admitted
 * running request is preempted by recompute [1][3]: its blocks are freed, its numComputedTokens drops
 * to 0 (so its prompt plus the output so far is recomputed when it returns, mostly from the prefix
 * cache), and it goes to the front of the waiting queue; then the allocation is retried. If the
 * request that needs the blocks is itself the most recent, it is the one preempted. A prefill chunk
 * (pass 2) preempts only requests admitted after it and not yet scheduled in this step; otherwise it
 * waits a step, while the decodes ahead of it finish and free blocks. A step that preempted admits
 * nobody (vLLM's rule: a full cache should drain, not churn).
 *
 * <p><b>Prefix caching.</b> A waiting request's hash chain is looked up when it is admitted; the hit,
 * capped so that at least one token is computed (logits need a fed token), becomes its starting
 * numComputedTokens and costs no budget. The first {@code allocateSlots} passes
 * {@code hit + chunk} tokens, since the manager matches the prefix on a request's first call only.
 * The chain keeps growing as output tokens fill blocks ({@link Request#appendToken}), so a finished
 * conversation's blocks serve the next turn.
 *
 * <p><b>Waiting order.</b> Following KVShare [4], the queue is ranked by expected prefix-hit fraction
 * (cached tokens / tokens to compute, looked up at each step since the cache changes), which admits
 * first the requests that cost least per token and keeps their prefixes from being evicted before
 * they are used. A pure hit-first order starves misses, so each request also earns
 * {@code waitedSeconds / agingSeconds}:
 * <pre>
 *   score = hitFraction (0..1) + waitedSeconds / agingSeconds        higher first, FCFS on ties
 * </pre>
 * Since hitFraction is at most 1, a request outranks every request that arrived more than
 * agingSeconds after it: it waits at most for those that arrived before it or within agingSeconds
 * after, which bounds starvation. Preempted requests come before all others (they hold user-visible
 * streams in flight). Only the {@code maxNumCandidates} oldest waiting requests are ranked in a step
 * (the oldest are the ones aging protects, and the per-step cost stays bounded). Admission stops at
 * the first ranked request that does not fit, rather than letting smaller ones jump it. Hits exist
 * only within a tenant's salted chain or a published prefix ({@code BlockHasher}), so the order
 * leaks nothing across tenants.
 *
 * <h2>References</h2>
 * <ol>
 *   <li>vLLM, vllm/v1/core/sched/scheduler.py ({@code schedule}: running then waiting, token budget,
 *       {@code _preempt_request}; {@code num_computed_tokens}).</li>
 *   <li>Agrawal et al., "Taming Throughput-Latency Tradeoff in LLM Inference with Sarathi-Serve",
 *       OSDI 2024 (chunked prefills, stall-free batching).</li>
 *   <li>Kwon et al., "Efficient Memory Management for Large Language Model Serving with
 *       PagedAttention", SOSP 2023 (preemption by recompute).</li>
 *   <li>Yang et al., "KVShare: An LLM Service System with Efficient and Effective Multi-Tenant KV
 *       Cache Reuse", 2025 (cache-aware scheduling of the waiting queue).</li>
 * </ol>
 */
public final class StallFreeScheduler implements Scheduler {

    private final SchedulerConfig config;
    private final KvCacheManager kv;
    private final LongSupplier nanoClock;
    private final int blockSize;
    private final List<Request> running = new ArrayList<>();  // admission order, oldest first
    private final List<Request> waiting = new ArrayList<>();  // preempted first, then arrival order
    private long numAdmissions;
    private long numPreemptions;
    private long numSteps;

    /**
     * @param nanoClock {@link System#nanoTime()} or a test clock, on the scale of the requests'
     *                  arrival times
     */
    public StallFreeScheduler(SchedulerConfig config, KvCacheManager kv, LongSupplier nanoClock) {
        this.config = Objects.requireNonNull(config, "config");
        this.kv = Objects.requireNonNull(kv, "kv");
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.blockSize = kv.blockSize();
    }

    @Override
    public void add(Request request) {
        if (request.status() != Request.Status.WAITING || request.numComputedTokens() != 0) {
            throw new IllegalArgumentException("only a new request can be added: " + request);
        }
        if (request.maxNumTokens() > config.maxModelLen()) {
            throw new IllegalArgumentException(request + " may reach " + request.maxNumTokens()
                    + " tokens, past maxModelLen " + config.maxModelLen());
        }
        waiting.add(request);
    }

    @Override
    public SchedulerOutput schedule() {
        long now = nanoClock.getAsLong();
        int budget = config.maxNumBatchedTokens();
        List<ScheduledSequence> sequences = new ArrayList<>();
        List<String> preemptedIds = new ArrayList<>();

        // 1. decodes of running requests, oldest admission first; they may preempt the newest
        int i = 0;
        while (i < running.size() && budget > 0) {
            Request r = running.get(i);
            if (r.numTokens() - r.numComputedTokens() != 1) {
                i++; // a prefill (or recompute) in progress: pass 2
                continue;
            }
            if (!allocateOrPreempt(r, 1, preemptedIds, false)) {
                break; // r itself was the newest: it waits, and so does everything after it
            }
            scheduleRunning(r, 1, now, sequences);
            budget--;
            i++;
        }

        // 2. the next chunks of running prefills, in the budget the decodes left (Sarathi's stall-free
        //    order: a long prompt never delays a decode); a chunk that lacks blocks preempts only
        //    newer requests not yet scheduled in this step, otherwise it waits for the next step
        for (int j = 0; j < running.size() && budget > 0; j++) {
            Request r = running.get(j);
            if (r.lastScheduledStep == numSteps) {
                continue;
            }
            int numNew = Math.min(r.numTokens() - r.numComputedTokens(), budget);
            if (numNew <= 0 || !allocateOrPreempt(r, numNew, preemptedIds, true)) {
                continue;
            }
            scheduleRunning(r, numNew, now, sequences);
            budget -= numNew;
        }

        // 3. waiting requests, best ranked first, while budget, sequences and blocks last
        if (preemptedIds.isEmpty() && budget > 0 && running.size() < config.maxNumSeqs() && !waiting.isEmpty()) {
            for (Request r : rank(now)) {
                if (budget == 0 || running.size() >= config.maxNumSeqs()) {
                    break;
                }
                PrefixHit hit = kv.findCachedPrefix(r.blockHashes());
                int numHitBlocks = Math.min(hit.numBlocks(), (r.numTokens() - 1) / blockSize);
                int numHitTokens = numHitBlocks * blockSize;
                int numNew = Math.min(r.numTokens() - numHitTokens, budget);
                AllocationResult result = kv.allocateSlots(r.requestId(), numHitTokens + numNew, r.blockHashes(),
                        r.numTokens());
                if (!(result instanceof AllocationResult.Allocated allocated)) {
                    break;
                }
                if (allocated.numCachedTokens() != numHitTokens) {
                    throw new IllegalStateException("prefix hit of " + r.requestId() + " changed between lookup ("
                            + numHitTokens + " tokens) and allocation (" + allocated.numCachedTokens() + ")");
                }
                waiting.remove(r);
                running.add(r);
                r.admit(numHitTokens, numAdmissions++);
                sequences.add(sequence(r, numHitTokens, numNew));
                r.markScheduled(numNew, now);
                r.lastScheduledStep = numSteps;
                budget -= numNew;
            }
        }
        numSteps++;
        return new SchedulerOutput(sequences, preemptedIds, config.maxNumBatchedTokens() - budget);
    }

    /**
     * Reserves {@code numNew} slots for running request {@code r}, preempting the most recently admitted
     * running requests while blocks are short. Victims are never requests already scheduled in this
     * step; with {@code onlyNewer}, never {@code r} itself or anything admitted before it (then
     * {@code r} just does not run this step). False when {@code r} got no slots.
     */
    private boolean allocateOrPreempt(Request r, int numNew, List<String> preemptedIds, boolean onlyNewer) {
        while (kv.allocateSlots(r.requestId(), numNew, r.blockHashes()) instanceof AllocationResult.NoFreeBlocks) {
            Request victim = running.getLast();
            if (victim.lastScheduledStep == numSteps || (onlyNewer && victim.admissionSeq() <= r.admissionSeq())) {
                return false;
            }
            running.removeLast();
            kv.free(victim.requestId());
            victim.preempt();
            waiting.addFirst(victim);
            preemptedIds.add(victim.requestId());
            numPreemptions++;
            if (victim == r) {
                return false;
            }
        }
        return true;
    }

    private void scheduleRunning(Request r, int numNew, long now, List<ScheduledSequence> sequences) {
        sequences.add(sequence(r, r.numComputedTokens(), numNew));
        r.markScheduled(numNew, now);
        r.lastScheduledStep = numSteps;
    }

    private ScheduledSequence sequence(Request r, int startPosition, int numNew) {
        return new ScheduledSequence(r.requestId(), r.tokenIds(startPosition, numNew), startPosition,
                kv.blockTable(r.requestId()), startPosition + numNew == r.numTokens());
    }

    /** The {@code maxNumCandidates} oldest waiting requests, best first: see the class comment. */
    private List<Request> rank(long nowNanos) {
        int n = Math.min(waiting.size(), config.maxNumCandidates());
        Candidate[] candidates = new Candidate[n];
        for (int j = 0; j < n; j++) {
            Request r = waiting.get(j);
            candidates[j] = new Candidate(r, j, r.isPreempted(), score(r, nowNanos));
        }
        Arrays.sort(candidates, CANDIDATE_ORDER);
        List<Request> ranked = new ArrayList<>(n);
        for (Candidate c : candidates) {
            ranked.add(c.request());
        }
        return ranked;
    }

    private double score(Request r, long nowNanos) {
        double hitFraction = (double) kv.findCachedPrefix(r.blockHashes()).numTokens() / r.numTokens();
        double waitedSeconds = Math.max(0, nowNanos - r.arrivalNanos()) / 1e9;
        return Math.min(1, hitFraction) + waitedSeconds / config.agingSeconds();
    }

    private record Candidate(Request request, int position, boolean preempted, double score) {
    }

    /** Preempted first, then higher score, then earlier in the queue (FCFS). */
    private static final Comparator<Candidate> CANDIDATE_ORDER = (a, b) -> {
        if (a.preempted() != b.preempted()) {
            return a.preempted() ? -1 : 1;
        }
        int byScore = Double.compare(b.score(), a.score());
        return byScore != 0 ? byScore : Integer.compare(a.position(), b.position());
    };

    @Override
    public Request finish(String requestId) {
        Request r = remove(running, requestId);
        if (r == null) {
            r = remove(waiting, requestId);
        }
        if (r == null) {
            return null;
        }
        kv.free(requestId);
        r.markFinished();
        return r;
    }

    private static Request remove(List<Request> list, String requestId) {
        for (int j = 0; j < list.size(); j++) {
            if (list.get(j).requestId().equals(requestId)) {
                return list.remove(j);
            }
        }
        return null;
    }

    @Override
    public List<String> rankedWaitingIds() {
        List<String> ids = new ArrayList<>();
        for (Request r : rank(nanoClock.getAsLong())) {
            ids.add(r.requestId());
        }
        for (int j = ids.size(); j < waiting.size(); j++) {
            ids.add(waiting.get(j).requestId());
        }
        return ids;
    }

    @Override
    public int numRunning() {
        return running.size();
    }

    @Override
    public int numWaiting() {
        return waiting.size();
    }

    @Override
    public long numPreemptions() {
        return numPreemptions;
    }

    /** The running requests, oldest admission first; a read-only view for tests and debugging. */
    public List<Request> running() {
        return java.util.Collections.unmodifiableList(running);
    }

    public SchedulerConfig config() {
        return config;
    }
}
