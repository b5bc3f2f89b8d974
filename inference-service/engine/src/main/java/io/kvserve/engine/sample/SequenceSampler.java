package io.kvserve.engine.sample;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Per-request sampling state: picks each next token from one row of logits and remembers what it
 * picked (for the penalties and {@code min_tokens}). One instance per request, used only by the
 * engine's step thread; it survives preemption unchanged, so a recomputed request samples on as if
 * it had never been preempted.
 *
 * <h2>Pipeline</h2>
 * In vLLM v1's order [1]:
 * <ol>
 *   <li>logprobs, when asked for: {@code log_softmax} of the raw row (max subtracted, log-sum-exp in
 *       double) for the chosen token and the top N, so they describe the model and not the request's
 *       sampling settings (vLLM's default {@code raw_logprobs});</li>
 *   <li>logit bias (OpenAI [3]);</li>
 *   <li>{@code min_tokens}: stop token ids, and EOS unless {@code ignore_eos}, set to -inf while fewer
 *       than {@code min_tokens} tokens were generated;</li>
 *   <li>penalties: repetition penalty over tokens of the prompt or the output (positive logits divided,
 *       negative multiplied, as CTRL / HF's {@code RepetitionPenaltyLogitsProcessor} [4]), then
 *       frequency ({@code count * f}) and presence ({@code p} once) over output tokens only [3];</li>
 *   <li>temperature below {@link #MIN_TEMPERATURE}: argmax, first index on ties. Otherwise divide by
 *       the temperature, keep the top k (ties with the k-th kept, as vLLM), keep the nucleus top p
 *       (smallest most-likely prefix whose mass reaches p, ties broken by lower token id), drop tokens
 *       below {@code min_p * p_max}, and draw one token from what is left with the request's own
 *       {@link SplittableRandom}.</li>
 * </ol>
 * min-p comes after top-p here, as {@link SamplingParams} documents and HF orders its warpers [4];
 * vLLM v1 applies min-p before top-k/top-p [2]. The two orders differ only when top-p and min-p are
 * both set (the ratio {@code p / p_max} does not change under renormalisation, so min-p commutes
 * with top-k).
 *
 * <h2>Reproducibility</h2>
 * The generator is seeded with {@code params.seed()}, or the engine's {@code defaultSeed} when the
 * request names none, and consumed once per randomly sampled token and by nothing else. Same seed,
 * prompt, parameters and logits give the same tokens, whatever else is in the batch.
 *
 * <h2>Cost per token</h2>
 * V is the vocabulary size.
 * <ul>
 *   <li>bias, min_tokens, penalties: O(number of biased / masked / distinct seen tokens), not O(V):
 *       seen tokens are kept in {@link TokenCounts}, sized by the request's distinct tokens;</li>
 *   <li>greedy: one O(V) argmax, no allocation beyond the returned {@link SampledToken};</li>
 *   <li>random: O(V) max and softmax weights {@code exp((logit - max) / T)} (Vector API,
 *       {@link SampleKernels}), an O(V / 1024 + 1024) draw. Top-k finds the k-th largest logit with a
 *       size-k min-heap, O(V log k) worst and close to O(V) in practice (most logits lose one
 *       comparison with the root). Top-p does not sort the row: one pass files the weights into 2048
 *       buckets by their leading float bits (exponent and 3 mantissa bits, so buckets are 1/8 octave
 *       wide and ordered), the buckets are walked from the top until their mass reaches p, and only
 *       the m tokens of that boundary bucket are sorted; over all tokens the rest is one vector pass
 *       that zeroes the weights below the bucket, so the draw keeps its block sums. O(V + m log m),
 *       m a small part of V unless the row is nearly flat (all weights within 1/8 octave), which is
 *       then one full sort. Min-p is one more vector pass.</li>
 *   <li>logprobs: an O(V) copy of the raw row, an O(V) log-sum-exp (one vector {@code exp} per token)
 *       and an insertion top-N, O(V) in practice and O(V N) at worst, N &lt;= 20.</li>
 * </ul>
 * Measured on this project's shared 2-core dev machine (AVX-512, load average about 4), V = 128256,
 * per token including the caller's 128k-float row copy (10 us), rows Gaussian with sd 2.5 so that
 * top-p 0.9 keeps about 11% of the vocabulary; best of 10 x 300 tokens in thread CPU time
 * ({@code SamplerBenchmark.main}, command in its comment):
 * <pre>
 *   greedy                     20 us    T = 1, top-k 50                24 us
 *   greedy, 3 penalties        25 us    T = 1, top-p 0.9              169 us
 *   T = 1                      55 us    greedy, 5 logprobs             76 us
 * </pre>
 * The first version (scalar {@code Math.exp}, a linear draw, the nucleus gathered into a sorted list)
 * took 684 us at T = 1 and 978 us with top-p 0.9 in a wall-clock loop of the same shape.
 * The O(V) working arrays belong to the calling thread, not the sampler ({@link Scratch}): allocated
 * on a thread's first call for the largest vocabulary seen, then reused, so no call allocates beyond
 * the returned token. A sampler holds per-request state only: the penalty counts (only when a
 * penalty is set, sized by distinct tokens) and its bias and stop ids.
 *
 * <p>References:
 * [1] vLLM v1 {@code vllm/v1/sample/sampler.py};
 * [2] vLLM v1 {@code vllm/v1/sample/ops/topk_topp_sampler.py} and the built-in logits processors;
 * [3] OpenAI API reference, parameter details for {@code logit_bias}, {@code frequency_penalty},
 *     {@code presence_penalty};
 * [4] Hugging Face transformers {@code RepetitionPenaltyLogitsProcessor}, {@code TopPLogitsWarper},
 *     {@code MinPLogitsWarper}; Keskar et al. 2019, CTRL, section 4.1.
 */
public final class SequenceSampler {

    /**
     * Temperatures below this are greedy, as vLLM's {@code _SAMPLING_EPS}: below it every token but the
     * most likely has weight {@code exp(-gap / T)} = 0 in float unless its logit is within about 1e-3
     * of the max, so a draw would be argmax bar float noise.
     */
    public static final double MIN_TEMPERATURE = 1e-5;

    /** Top-p over a candidate list (after top-k) this long or shorter sorts it whole, without buckets. */
    private static final int SORT_ALL_MAX_CANDIDATES = 4096;
    /** Top-p buckets: a positive float's bits shifted right by this many keep exponent + 3 mantissa bits. */
    private static final int BUCKET_SHIFT = 20;
    private static final int NUM_BUCKETS = 1 << (31 - BUCKET_SHIFT);

    private final SamplingParams params;
    private final int vocabSize;
    private final int eosTokenId;
    private final boolean greedy;
    private final float temperature;
    private final SplittableRandom random;
    private int numGenerated;

    // logit bias flattened from the map, so the hot path neither iterates a Map nor unboxes
    private final int[] biasTokenIds;   // (numBiased)
    private final float[] biasValues;   // (numBiased)
    // set to -inf until minTokens tokens were generated: stop token ids, plus EOS unless ignoreEos
    private final int[] minTokensMaskIds; // (numMasked)
    private final int[] stopTokenIds;     // (numStopIds) params.stopTokenIds() unboxed

    // repetition penalty: tokens seen in the prompt or output; null when the penalty is 1
    private final TokenCounts seenTokens;
    // presence / frequency penalty: output tokens only; null when both penalties are 0
    private final TokenCounts outputTokens;

    private final boolean useTopK;      // 0 < topK < vocabSize
    private final boolean useTopP;      // topP < 1
    private final boolean useLogprobs;  // logprobs >= 0

    // the calling thread's scratch (see Scratch), bound at the start of each sample(); contents never
    // outlive a call
    private int[] candidateIds;   // (>= vocabSize) the surviving tokens, first numCandidates valid
    private float[] weights;      // (>= vocabSize) exp((logit - max) / T) of token j (all tokens) or of
                                  // candidateIds[j] (a list), unnormalised
    private float[] kthHeap;      // (>= topK) min-heap of the k largest logits
    private long[] sortKeys;      // (>= vocabSize) weightBits << 32 | ~tokenId
    private double[] bucketMass;  // (NUM_BUCKETS) weight mass per bucket
    private double[] blockSums;   // (>= ceil(vocabSize / SampleKernels.BLOCK)) weight mass per block of ids
    private float[] rawLogits;    // (>= vocabSize) the row as it came in

    // logprobs; null unless requested
    private final int[] topIds;         // (logprobs) most likely first
    private final float[] topLogits;    // (logprobs)

    /**
     * @param params      the request's sampling parameters; token ids in them must be below vocabSize
     * @param promptIds   the prompt, for the repetition penalty (not kept)
     * @param vocabSize   the number of logits per row
     * @param eosTokenId  the model's end-of-sequence token, or -1 if none
     * @param defaultSeed the seed when {@code params.seed()} is empty (the engine draws it at submission)
     */
    public SequenceSampler(SamplingParams params, int[] promptIds, int vocabSize, int eosTokenId, long defaultSeed) {
        this.params = Objects.requireNonNull(params, "params");
        Objects.requireNonNull(promptIds, "promptIds");
        if (vocabSize < 1) {
            throw new IllegalArgumentException("vocabSize must be positive, got " + vocabSize);
        }
        if (eosTokenId < -1 || eosTokenId >= vocabSize) {
            throw new IllegalArgumentException("eosTokenId must be -1 or in 0.." + (vocabSize - 1) + ", got "
                    + eosTokenId);
        }
        params.checkVocabulary(vocabSize);
        this.vocabSize = vocabSize;
        this.eosTokenId = eosTokenId;
        this.greedy = params.temperature() < MIN_TEMPERATURE;
        this.temperature = (float) params.temperature();
        this.random = new SplittableRandom(params.seed().orElse(defaultSeed));

        Map<Integer, Float> bias = params.logitBias();
        biasTokenIds = new int[bias.size()];
        biasValues = new float[bias.size()];
        int b = 0;
        for (Map.Entry<Integer, Float> e : bias.entrySet()) {
            biasTokenIds[b] = e.getKey();
            biasValues[b] = e.getValue();
            b++;
        }
        stopTokenIds = params.stopTokenIds().stream().mapToInt(Integer::intValue).sorted().toArray();
        boolean maskEos = eosTokenId >= 0 && !params.ignoreEos() && !params.stopTokenIds().contains(eosTokenId);
        minTokensMaskIds = maskEos ? append(stopTokenIds, eosTokenId) : stopTokenIds;

        for (int id : promptIds) {
            Objects.checkIndex(id, vocabSize);
        }
        if (params.repetitionPenalty() != 1) {
            // distinct tokens are usually a fraction of a long prompt: start small, grow by doubling
            seenTokens = new TokenCounts(Math.min(promptIds.length, 1024) + 64);
            for (int id : promptIds) {
                seenTokens.add(id);
            }
        } else {
            seenTokens = null;
        }
        outputTokens = params.presencePenalty() != 0 || params.frequencyPenalty() != 0 ? new TokenCounts(64) : null;

        useTopK = params.topK() > 0 && params.topK() < vocabSize;
        useTopP = params.topP() < 1;
        useLogprobs = params.logprobs() >= 0;
        if (useLogprobs) {
            int n = Math.min(params.logprobs(), vocabSize);
            topIds = new int[n];
            topLogits = new float[n];
        } else {
            topIds = null;
            topLogits = null;
        }
    }

    /** The number of tokens sampled so far. */
    public int numGenerated() {
        return numGenerated;
    }

    /** The parameters this sampler was built with. */
    public SamplingParams params() {
        return params;
    }

    /**
     * Whether {@code tokenId} ends the sequence as a token: one of the request's stop token ids, or the
     * model's EOS unless {@code ignore_eos}.
     */
    public boolean isStopToken(int tokenId) {
        return (tokenId == eosTokenId && !params.ignoreEos()) || Arrays.binarySearch(stopTokenIds, tokenId) >= 0;
    }

    /**
     * Picks the next token from {@code logits[offset .. offset + vocabSize)} and records it. One call
     * at a time per sampler; samplers on one thread share that thread's working arrays.
     *
     * @param logits a scratch row: this method may overwrite the range it reads
     */
    public SampledToken sample(float[] logits, int offset) {
        Objects.checkFromIndexSize(offset, vocabSize, logits.length);
        if (useLogprobs || !greedy) {
            bind(SCRATCH.get());
        }
        double logNormalizer = 0;
        int numTop = 0;
        if (useLogprobs) {
            System.arraycopy(logits, offset, rawLogits, 0, vocabSize);
            logNormalizer = logSumExp(rawLogits, 0, vocabSize);
            numTop = topN(rawLogits, vocabSize, topIds, topLogits);
        }

        for (int i = 0; i < biasTokenIds.length; i++) {
            logits[offset + biasTokenIds[i]] += biasValues[i];
        }
        if (numGenerated < params.minTokens()) {
            for (int id : minTokensMaskIds) {
                logits[offset + id] = Float.NEGATIVE_INFINITY;
            }
        }
        applyPenalties(logits, offset);

        int tokenId = greedy ? argmax(logits, offset, vocabSize) : sampleRandom(logits, offset);
        record(tokenId);

        if (!useLogprobs) {
            return new SampledToken(tokenId, Float.NaN, List.of());
        }
        var top = new SampledToken.TokenLogprob[numTop];
        for (int j = 0; j < numTop; j++) {
            top[j] = new SampledToken.TokenLogprob(topIds[j], (float) (topLogits[j] - logNormalizer));
        }
        // List.of is immutable already, so SampledToken's List.copyOf keeps it instead of copying
        return new SampledToken(tokenId, (float) (rawLogits[tokenId] - logNormalizer), List.of(top));
    }

    /** The index of the largest of {@code x[offset .. offset + n)}, the first one on ties; NaN never wins. */
    public static int argmax(float[] x, int offset, int n) {
        Objects.checkFromIndexSize(offset, n, x.length);
        if (n == 0) {
            throw new IllegalArgumentException("argmax of an empty range");
        }
        float max = SampleKernels.max(x, offset, n);
        if (!Float.isNaN(max)) {
            return SampleKernels.nextAtLeast(x, offset, 0, n, max);
        }
        return argmaxScalar(x, offset, n);
    }

    /** {@link #argmax}'s scalar reference, also its path for rows with NaN (which never wins). */
    static int argmaxScalar(float[] x, int offset, int n) {
        int best = 0;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = x[offset + i];
            if (v > bestValue) {
                bestValue = v;
                best = i;
            }
        }
        return best;
    }

    private void applyPenalties(float[] logits, int offset) {
        if (seenTokens != null) {
            float p = (float) params.repetitionPenalty();
            int[] ids = seenTokens.ids();
            for (int j = 0, n = seenTokens.size(); j < n; j++) {
                int i = offset + ids[j];
                float x = logits[i];
                logits[i] = x > 0 ? x / p : x * p;
            }
        }
        if (outputTokens != null) {
            float frequency = (float) params.frequencyPenalty();
            float presence = (float) params.presencePenalty();
            int[] ids = outputTokens.ids();
            int[] counts = outputTokens.counts();
            for (int j = 0, n = outputTokens.size(); j < n; j++) {
                int i = offset + ids[j];
                logits[i] -= frequency * counts[j];
                logits[i] -= presence;
            }
        }
    }

    private int sampleRandom(float[] logits, int offset) {
        int n = vocabSize;
        // candidates: all tokens (token id = position, candidateIds unused) until a filter writes a list
        boolean allTokens;
        int numCandidates;
        float max;
        double mass;
        if (useTopK) {
            // top-k: keep every token at or above the k-th largest logit (temperature keeps the order)
            float threshold = kthLargest(logits, offset, n, kthHeap, params.topK());
            allTokens = false;
            numCandidates = 0;
            max = Float.NEGATIVE_INFINITY;
            for (int i = SampleKernels.nextAtLeast(logits, offset, 0, n, threshold); i < n;
                    i = SampleKernels.nextAtLeast(logits, offset, i + 1, n, threshold)) {
                candidateIds[numCandidates++] = i;
                max = Math.max(max, logits[offset + i]);
            }
            mass = 0;
            for (int j = 0; j < numCandidates; j++) {
                float w = (float) Math.exp((logits[offset + candidateIds[j]] - max) / temperature);
                weights[j] = w;
                mass += w;
            }
        } else {
            allTokens = true;
            numCandidates = n;
            max = SampleKernels.max(logits, offset, n);
            mass = max == Float.NEGATIVE_INFINITY ? 0
                    : SampleKernels.expScaled(logits, offset, n, max, temperature, weights, blockSums);
        }
        if (max == Float.NEGATIVE_INFINITY) {
            // everything banned (bias -100 cannot do it, -inf from the model or min_tokens can): take the
            // first candidate rather than divide by a zero mass, still using up this token's draw
            random.nextDouble();
            return allTokens ? 0 : candidateIds[0];
        }

        if (useTopP) {
            if (allTokens) {
                mass = maskNucleus(n, mass);
            } else {
                numCandidates = keepNucleus(numCandidates, mass);
                mass = 0;
                for (int j = 0; j < numCandidates; j++) {
                    mass += weights[j];
                }
            }
        }
        if (params.minP() > 0) {
            // the most likely token has weight exp(0) = 1 and survives every filter above
            float threshold = (float) params.minP();
            if (allTokens) {
                mass = SampleKernels.keepAtLeast(weights, n, threshold, blockSums);
            } else {
                int kept = 0;
                mass = 0;
                for (int j = 0; j < numCandidates; j++) {
                    float w = weights[j];
                    if (w >= threshold) {
                        candidateIds[kept] = candidateIds[j];
                        weights[kept++] = w;
                        mass += w;
                    }
                }
                numCandidates = kept;
            }
        }

        double u = random.nextDouble() * mass;
        if (allTokens) {
            return SampleKernels.drawBlocked(weights, n, blockSums, u);
        }
        double cumulative = 0;
        int lastPositive = -1;
        for (int j = 0; j < numCandidates; j++) {
            float w = weights[j];
            if (w > 0) {
                cumulative += w;
                lastPositive = j;
                if (u < cumulative) {
                    break;
                }
            }
        }
        // lastPositive stays -1 only when no weight is positive, which max > -inf rules out; ending the
        // loop without a break means u was within rounding of the total mass
        return candidateIds[lastPositive];
    }

    /**
     * Top-p over all tokens: zeroes the weights outside the nucleus (the most likely tokens, in order,
     * until their mass reaches {@code topP * mass}, ties broken by lower token id) and returns the
     * nucleus mass, the block sums refilled for the draw.
     *
     * <pre>
     * bucket = weightBits >>> 20   (exponent + 3 mantissa bits: monotone in the weight)
     *
     *   1016 [w = 1.0] | 1015 | ... | b+1 | b | b-1 | ... | 0
     *   &lt;-- mass &lt; target, all kept -->  ^ mass(1016..b) >= target: only bucket b is sorted, its
     *                                    lighter part zeroed one by one, buckets below b zeroed by a
     *                                    vector pass (w &lt; lower bound of b)
     * </pre>
     * Every weight in a higher bucket is larger than every weight in bucket b, so the higher buckets
     * are a most-likely prefix that does not reach the target yet, and the nucleus ends inside b.
     */
    private double maskNucleus(int n, double mass) {
        double target = params.topP() * mass;
        int boundary = boundaryBucket(n, target);
        double cumulative = 0;
        for (int b = boundary + 1; b < NUM_BUCKETS; b++) {
            cumulative += bucketMass[b];
        }
        float lo = Float.intBitsToFloat(boundary << BUCKET_SHIFT);
        float hi = Float.intBitsToFloat((boundary + 1) << BUCKET_SHIFT);
        int numKeys = 0;
        for (int i = SampleKernels.nextInRange(weights, 0, n, lo, hi); i < n;
                i = SampleKernels.nextInRange(weights, i + 1, n, lo, hi)) {
            sortKeys[numKeys++] = sortKey(weights[i], i);
        }
        Arrays.sort(sortKeys, 0, numKeys);
        int k = numKeys - 1;
        for (; k >= 0 && cumulative < target; k--) {
            cumulative += Float.intBitsToFloat((int) (sortKeys[k] >>> 32));
        }
        for (; k >= 0; k--) {
            weights[~(int) sortKeys[k]] = 0;
        }
        return SampleKernels.keepAtLeast(weights, n, lo, blockSums);
    }

    /**
     * Top-p over a candidate list (after top-k): shrinks it to the nucleus as {@link #maskNucleus}
     * defines it and returns its length; candidateIds and weights are rewritten, in no particular
     * order. Lists up to {@value #SORT_ALL_MAX_CANDIDATES} are sorted whole, longer ones use the
     * buckets.
     */
    private int keepNucleus(int numCandidates, double mass) {
        double target = params.topP() * mass;
        int boundary = 0;                    // sort candidates in this bucket ...
        int keepAbove = NUM_BUCKETS;         // ... keep, unsorted, those above this one
        if (numCandidates > SORT_ALL_MAX_CANDIDATES) {
            boundary = boundaryBucket(numCandidates, target);
            keepAbove = boundary;
        }
        int kept = 0;
        int numKeys = 0;
        double cumulative = 0;
        for (int j = 0; j < numCandidates; j++) {
            float w = weights[j];
            int bucket = Float.floatToRawIntBits(w) >>> BUCKET_SHIFT;
            if (bucket > keepAbove) {
                candidateIds[kept] = candidateIds[j]; // kept <= j: compacts in place
                weights[kept++] = w;
                cumulative += w;
            } else if (bucket >= boundary) {
                sortKeys[numKeys++] = sortKey(w, candidateIds[j]);
            }
        }
        Arrays.sort(sortKeys, 0, numKeys);
        for (int k = numKeys - 1; k >= 0 && cumulative < target; k--) {
            long key = sortKeys[k];
            float w = Float.intBitsToFloat((int) (key >>> 32));
            candidateIds[kept] = ~(int) key;
            weights[kept++] = w;
            cumulative += w;
        }
        return kept;
    }

    /**
     * Files weights[0..n) into the buckets (bucketMass) and returns the highest bucket b with
     * mass(buckets >= b) >= target, 0 if none.
     */
    private int boundaryBucket(int n, double target) {
        Arrays.fill(bucketMass, 0);
        for (int j = 0; j < n; j++) {
            float w = weights[j];
            bucketMass[Float.floatToRawIntBits(w) >>> BUCKET_SHIFT] += w;
        }
        double reached = 0;
        int bucket = NUM_BUCKETS - 1;
        while (bucket > 0) {
            reached += bucketMass[bucket];
            if (reached >= target) {
                break;
            }
            bucket--;
        }
        return bucket;
    }

    /** Ascending keys: heavier weight later; on equal weight the lower id has the larger ~id. */
    private static long sortKey(float weight, int tokenId) {
        return ((long) Float.floatToRawIntBits(weight) << 32) | (~tokenId & 0xFFFF_FFFFL);
    }

    /** The k-th largest of {@code x[offset .. offset + n)}, with heap[0..k) as a min-heap. */
    private static float kthLargest(float[] x, int offset, int n, float[] heap, int k) {
        System.arraycopy(x, offset, heap, 0, k);
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(heap, i, k);
        }
        for (int i = SampleKernels.nextAbove(x, offset, k, n, heap[0]); i < n;
                i = SampleKernels.nextAbove(x, offset, i + 1, n, heap[0])) {
            heap[0] = x[offset + i];
            siftDown(heap, 0, k);
        }
        return heap[0];
    }

    private static void siftDown(float[] heap, int i, int size) {
        float v = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && heap[child + 1] < heap[child]) {
                child++;
            }
            if (!(heap[child] < v)) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = v;
    }

    /** {@code log(sum(exp(x)))} over the range, in double, with the max subtracted first. */
    static double logSumExp(float[] x, int offset, int n) {
        float max = SampleKernels.max(x, offset, n);
        return max + Math.log(SampleKernels.sumExp(x, offset, n, max));
    }

    /**
     * Fills ids/values with the {@code ids.length} largest of x[0..n), largest first, the lower id first on
     * ties; returns how many were filled (fewer only if x is shorter).
     */
    private static int topN(float[] x, int n, int[] ids, float[] values) {
        int capacity = ids.length;
        if (capacity == 0) {
            return 0;
        }
        int size = 0;
        for (int i = 0; i < n; i++) {
            if (size == capacity) {
                i = SampleKernels.nextAbove(x, 0, i, n, values[size - 1]);
                if (i == n) {
                    break;
                }
            }
            float v = x[i];
            int pos = size == capacity ? size - 1 : size++;
            while (pos > 0 && values[pos - 1] < v) {
                values[pos] = values[pos - 1];
                ids[pos] = ids[pos - 1];
                pos--;
            }
            values[pos] = v;
            ids[pos] = i;
        }
        return size;
    }

    private void bind(Scratch scratch) {
        scratch.ensure(vocabSize, useTopK ? params.topK() : 0);
        candidateIds = scratch.candidateIds;
        weights = scratch.weights;
        kthHeap = scratch.kthHeap;
        sortKeys = scratch.sortKeys;
        bucketMass = scratch.bucketMass;
        blockSums = scratch.blockSums;
        rawLogits = scratch.rawLogits;
    }

    /**
     * The O(V) working arrays, one set per thread: the engine samples its sequences one after another
     * on its step thread, so a batch of 256 requests over a 128k vocabulary shares about 2.5 MB here
     * instead of holding that much each. Sized up to the largest vocabulary and top-k seen, never
     * down; nothing in them is read before it is written in the same call.
     */
    private static final class Scratch {
        int[] candidateIds = new int[0];
        float[] weights = new float[0];
        float[] kthHeap = new float[0];
        long[] sortKeys = new long[0];
        final double[] bucketMass = new double[NUM_BUCKETS];
        double[] blockSums = new double[0];
        float[] rawLogits = new float[0];

        void ensure(int vocabSize, int topK) {
            if (weights.length < vocabSize) {
                candidateIds = new int[vocabSize];
                weights = new float[vocabSize];
                sortKeys = new long[vocabSize];
                blockSums = new double[SampleKernels.numBlocks(vocabSize)];
                rawLogits = new float[vocabSize];
            }
            if (kthHeap.length < topK) {
                kthHeap = new float[topK];
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private void record(int tokenId) {
        numGenerated++;
        if (seenTokens != null) {
            seenTokens.add(tokenId);
        }
        if (outputTokens != null) {
            outputTokens.add(tokenId);
        }
    }

    private static int[] append(int[] ids, int id) {
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = id;
        return out;
    }
}
