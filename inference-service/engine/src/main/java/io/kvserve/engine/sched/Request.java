package io.kvserve.engine.sched;

import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.common.kvcache.BlockHasher;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The scheduler's view of one request: its tokens (prompt, then output), how many of them have KV
 * in the cache, and the hash chain of its full blocks (vLLM v1's {@code Request}).
 *
 * <pre>
 *   tokenIds   | p0 p1 ... p(P-1) | o0 o1 ... o(k-1) |          numTokens = P + k
 *              |&lt;----- numComputedTokens -----&gt;|&lt;-- to compute --&gt;|
 *   blockHashes  one per full block of tokenIds (prompt and output alike), grown as outputs fill blocks
 * </pre>
 * After a preemption numComputedTokens is 0 again and the whole {@code tokenIds}, prompt plus the
 * output so far, is recomputed; the prefix cache usually gives most of it back.
 *
 * <p>The hash chain is computed once at creation (on the submitting thread) and extended one block
 * at a time by {@link #appendToken}: published blocks under {@link BlockHasher#publishedSalt()}, the
 * rest under the request's salt, re-keyed after the published prefix (see {@link BlockHasher}).
 *
 * <p>Not thread-safe: created on any thread, then owned by the engine's step-loop thread.
 */
public final class Request {

    /** Where a request is in its life. */
    public enum Status { WAITING, RUNNING, FINISHED }

    private final String requestId;
    private final int numPromptTokens;
    private final int maxNumTokens;
    private final long arrivalNanos;
    private final byte[] salt;
    private final int numPublishedBlocks;
    private final BlockHasher hasher;         // null: prefix caching off, no chain
    private final List<BlockHash> blockHashes = new ArrayList<>();
    private BlockHash nextParent;             // parent of the next full block's hash

    private int[] tokenIds;                   // (capacity) prompt then output, numTokens used
    private int numTokens;
    private int numComputedTokens;
    private Status status = Status.WAITING;
    private boolean preempted;
    private int numPreemptions;
    private int numCachedPromptTokens = -1;   // -1 until first admitted
    private long admissionSeq;
    private long firstScheduledNanos = -1;
    long lastScheduledStep = -1;              // the scheduler's step counter when last scheduled

    /**
     * @param requestId          unique among live requests
     * @param promptIds          the prompt, at least one token; copied
     * @param maxNumTokens       most tokens (prompt plus output) this request will ever hold; its KV
     *                           needs at most {@code maxNumTokens - 1} slots, since the last sampled
     *                           token is never fed back
     * @param arrivalNanos       {@link System#nanoTime()} at arrival, for the aging term
     * @param salt               the chain's secret salt, at least 16 bytes
     * @param numPublishedBlocks leading blocks hashed in the published namespace
     * @param hasher             the engine's block hasher, or null when prefix caching is off
     */
    public Request(String requestId, int[] promptIds, int maxNumTokens, long arrivalNanos, byte[] salt,
                   int numPublishedBlocks, BlockHasher hasher) {
        this.requestId = Objects.requireNonNull(requestId, "requestId");
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("request " + requestId + " has an empty prompt");
        }
        if (maxNumTokens <= promptIds.length) {
            throw new IllegalArgumentException("request " + requestId + ": maxNumTokens " + maxNumTokens
                    + " leaves no room to generate after " + promptIds.length + " prompt tokens");
        }
        this.numPromptTokens = promptIds.length;
        this.maxNumTokens = maxNumTokens;
        this.arrivalNanos = arrivalNanos;
        this.salt = salt;
        this.numPublishedBlocks = numPublishedBlocks;
        this.hasher = hasher;
        this.tokenIds = Arrays.copyOf(promptIds, Math.min(maxNumTokens, promptIds.length + 64));
        this.numTokens = promptIds.length;
        if (hasher != null) {
            blockHashes.addAll(hasher.hashChain(salt, tokenIds, numTokens, numPublishedBlocks));
            if (blockHashes.size() > numPublishedBlocks) {
                nextParent = blockHashes.getLast();
            } else if (numPublishedBlocks > 0) {
                nextParent = hasher.rekey(blockHashes.getLast(), salt);
            } else {
                nextParent = hasher.root(salt);
            }
        }
    }

    public String requestId() {
        return requestId;
    }

    public int numPromptTokens() {
        return numPromptTokens;
    }

    /** Prompt plus output tokens so far. */
    public int numTokens() {
        return numTokens;
    }

    public int numOutputTokens() {
        return numTokens - numPromptTokens;
    }

    /** Most tokens (prompt plus output) this request may reach. */
    public int maxNumTokens() {
        return maxNumTokens;
    }

    /** Token {@code index} of prompt-then-output. */
    public int tokenId(int index) {
        Objects.checkIndex(index, numTokens);
        return tokenIds[index];
    }

    /** A copy of tokens {@code from .. from + count - 1}. */
    public int[] tokenIds(int from, int count) {
        Objects.checkFromIndexSize(from, count, numTokens);
        return Arrays.copyOfRange(tokenIds, from, from + count);
    }

    /** Leading tokens whose KV is in the cache (computed, or scheduled in the step under way). */
    public int numComputedTokens() {
        return numComputedTokens;
    }

    public long arrivalNanos() {
        return arrivalNanos;
    }

    public Status status() {
        return status;
    }

    /** Whether it was preempted and waits to be recomputed (cleared on re-admission). */
    public boolean isPreempted() {
        return preempted;
    }

    public int numPreemptions() {
        return numPreemptions;
    }

    /** Prompt tokens served by the prefix cache at first admission; 0 before it. */
    public int numCachedPromptTokens() {
        return Math.max(0, numCachedPromptTokens);
    }

    /** {@link System#nanoTime()} when first scheduled; -1 before. */
    public long firstScheduledNanos() {
        return firstScheduledNanos;
    }

    /** The hash chain of the full blocks of the tokens so far, block 0 first; empty with prefix caching off. */
    public List<BlockHash> blockHashes() {
        return blockHashes;
    }

    /**
     * Appends a sampled token; when it fills a block, that block's hash joins the chain, so the
     * block is cached when it is allocated-full and later requests (or this one after a preemption)
     * can hit it.
     */
    public void appendToken(int tokenId) {
        if (numTokens == tokenIds.length) {
            tokenIds = Arrays.copyOf(tokenIds, Math.min(Math.max(maxNumTokens, numTokens + 1), 2 * numTokens));
        }
        tokenIds[numTokens++] = tokenId;
        if (hasher != null && numTokens % hasher.blockSize() == 0) {
            nextParent = hasher.next(nextParent, tokenIds, numTokens - hasher.blockSize());
            blockHashes.add(nextParent);
        }
    }

    void markScheduled(int numNewTokens, long nowNanos) {
        numComputedTokens += numNewTokens;
        if (firstScheduledNanos < 0) {
            firstScheduledNanos = nowNanos;
        }
    }

    void admit(int numCachedTokens, long seq) {
        status = Status.RUNNING;
        preempted = false;
        numComputedTokens = numCachedTokens;
        admissionSeq = seq;
        if (numCachedPromptTokens < 0) {
            numCachedPromptTokens = Math.min(numCachedTokens, numPromptTokens);
        }
    }

    void preempt() {
        status = Status.WAITING;
        preempted = true;
        numPreemptions++;
        numComputedTokens = 0;
    }

    void markFinished() {
        status = Status.FINISHED;
    }

    long admissionSeq() {
        return admissionSeq;
    }

    @Override
    public String toString() {
        return "Request[" + requestId + ", " + status + ", tokens=" + numTokens + " (prompt " + numPromptTokens
                + "), computed=" + numComputedTokens + (preempted ? ", preempted" : "") + "]";
    }
}
