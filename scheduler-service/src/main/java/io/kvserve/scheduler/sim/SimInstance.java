package io.kvserve.scheduler.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One simulated inference instance: the engine's continuous batching under a token budget
 * (decodes first, then prefill chunks, then admissions in arrival order, as
 * {@code StallFreeScheduler} does without its hit-ordered queue), a {@link PrefixCache}, and a
 * {@link CostModel} for the step time.
 *
 * <p>A step is planned when it starts ({@link #startStep}) and applied when it ends
 * ({@link #finishStep}): a request whose prompt completes in a step gets its first token at that
 * step's end; each later step in which it decodes gives one more token.
 */
public final class SimInstance {

    /** A request admitted to the instance. */
    static final class Running {
        final SimRequest request;
        final double placedSeconds;
        final int predictedHitTokens;
        int numHitTokens;
        int numComputedTokens;
        int numOutputTokens;
        int chunkTokens;
        boolean decoding;
        double firstTokenSeconds = Double.NaN;

        Running(SimRequest request, double placedSeconds, int predictedHitTokens) {
            this.request = request;
            this.placedSeconds = placedSeconds;
            this.predictedHitTokens = predictedHitTokens;
        }

        int numAnonymousBlocks() {
            return request.numBlocksNeeded() - request.blockHashes().length;
        }
    }

    private final String id;
    private final InstanceSpec spec;
    private final PrefixCache cache;
    private final ArrayDeque<Running> waiting = new ArrayDeque<>();
    private final List<Running> running = new ArrayList<>();
    private final Consumer<RequestOutcome> onFinish;

    private boolean stepping;
    private double stepStartSeconds;
    private double busySeconds;
    private long numPrefillTokens;
    private long numDecodeTokens;

    public SimInstance(String id, InstanceSpec spec, Consumer<RequestOutcome> onFinish) {
        this.id = id;
        this.spec = spec;
        this.cache = new PrefixCache(spec.numKvBlocks());
        this.onFinish = onFinish;
    }

    public String id() {
        return id;
    }

    public InstanceSpec spec() {
        return spec;
    }

    public PrefixCache cache() {
        return cache;
    }

    public int numRunning() {
        return running.size();
    }

    public int numWaiting() {
        return waiting.size();
    }

    public boolean stepping() {
        return stepping;
    }

    public double busySeconds() {
        return busySeconds;
    }

    /** Prompt tokens computed (cache misses) plus tokens decoded. */
    public long numProcessedTokens() {
        return numPrefillTokens + numDecodeTokens;
    }

    /** Prompt tokens its cache holds for this chain: what kvshare would report. */
    public int cachedTokens(SimRequest request) {
        return cache.numLeadingHits(request.blockHashes()) * SimRequest.BLOCK_SIZE;
    }

    /** Queues a request; the caller starts a step when {@link #stepping()} is false. */
    public void enqueue(SimRequest request, double nowSeconds, int predictedHitTokens) {
        waiting.addLast(new Running(request, nowSeconds, predictedHitTokens));
    }

    /**
     * Plans a step at {@code nowSeconds}.
     *
     * @return the step's duration in seconds, or -1 when there is nothing to run (the instance idles)
     */
    public double startStep(double nowSeconds) {
        int budget = spec.maxNumBatchedTokens();
        int numDecodes = 0;
        int numPrefill = 0;
        for (Running r : running) {
            r.chunkTokens = 0;
            if (r.decoding) {
                numDecodes++;
                budget--;
            }
        }
        for (Running r : running) {
            if (!r.decoding && budget > 0) {
                r.chunkTokens = Math.min(budget, r.request.numPromptTokens() - r.numComputedTokens);
                budget -= r.chunkTokens;
                numPrefill += r.chunkTokens;
            }
        }
        while (budget > 0 && !waiting.isEmpty() && running.size() < spec.maxNumSeqs()) {
            Running r = waiting.peekFirst();
            int numHitBlocks = cache.allocate(r.request.blockHashes(), r.numAnonymousBlocks());
            if (numHitBlocks < 0) {
                if (running.isEmpty()) {
                    throw new IllegalStateException("request " + r.request.id() + " needs " + r.request.numBlocksNeeded()
                            + " KV blocks, more than instance " + id + " has (" + spec.numKvBlocks() + ")");
                }
                break;
            }
            waiting.pollFirst();
            // a full hit still computes the last prompt token (its logits give the first output token)
            r.numHitTokens = Math.min(numHitBlocks * SimRequest.BLOCK_SIZE, r.request.numPromptTokens() - 1);
            r.numComputedTokens = r.numHitTokens;
            r.chunkTokens = Math.min(budget, r.request.numPromptTokens() - r.numComputedTokens);
            budget -= r.chunkTokens;
            numPrefill += r.chunkTokens;
            running.add(r);
        }
        if (numDecodes == 0 && numPrefill == 0) {
            stepping = false;
            return -1;
        }
        stepping = true;
        stepStartSeconds = nowSeconds;
        return spec.cost().stepSeconds(numPrefill, numDecodes);
    }

    /** Applies the step planned by {@link #startStep}, ending at {@code nowSeconds}. */
    public void finishStep(double nowSeconds) {
        busySeconds += nowSeconds - stepStartSeconds;
        int kept = 0;
        for (int i = 0; i < running.size(); i++) {
            Running r = running.get(i);
            boolean done = false;
            if (r.decoding) {
                r.numOutputTokens++;
                numDecodeTokens++;
                done = r.numOutputTokens >= r.request.numOutputTokens();
            } else if (r.chunkTokens > 0) {
                int fromBlock = r.numComputedTokens / SimRequest.BLOCK_SIZE;
                r.numComputedTokens += r.chunkTokens;
                numPrefillTokens += r.chunkTokens;
                long[] hashes = r.request.blockHashes();
                for (int b = fromBlock; b < r.numComputedTokens / SimRequest.BLOCK_SIZE; b++) {
                    cache.markComputed(hashes[b]);
                }
                if (r.numComputedTokens == r.request.numPromptTokens()) {
                    r.firstTokenSeconds = nowSeconds;
                    r.numOutputTokens = 1;
                    r.decoding = true;
                    done = r.request.numOutputTokens() == 1;
                }
            }
            if (done) {
                cache.release(r.request.blockHashes(), r.numAnonymousBlocks());
                onFinish.accept(new RequestOutcome(r.request, id, r.placedSeconds, r.firstTokenSeconds, nowSeconds,
                        r.numHitTokens, r.predictedHitTokens));
            } else {
                running.set(kept++, r);
            }
        }
        running.subList(kept, running.size()).clear();
        stepping = false;
    }
}
