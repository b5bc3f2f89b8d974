package io.kvserve.engine.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SequenceSamplerTest {

    private static final int A = 3;
    private static final int B = 5;

    private static SequenceSampler sampler(SamplingParams params, int vocabSize) {
        return new SequenceSampler(params, new int[0], vocabSize, -1, 0);
    }

    /** Samples from a copy, since the sampler overwrites the row. */
    private static SampledToken sample(SequenceSampler sampler, float[] logits) {
        float[] row = new float[logits.length + 7];
        System.arraycopy(logits, 0, row, 7, logits.length);
        return sampler.sample(row, 7);
    }

    private static int[] sampleMany(SequenceSampler sampler, float[] logits, int n) {
        int[] counts = new int[logits.length];
        for (int i = 0; i < n; i++) {
            counts[sample(sampler, logits).tokenId()]++;
        }
        return counts;
    }

    private static float[] gaussianLogits(int vocabSize, double scale, long seed) {
        Random random = new Random(seed);
        float[] logits = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            logits[i] = (float) (random.nextGaussian() * scale);
        }
        return logits;
    }

    private static float[] logitsOf(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.log(probabilities[i]);
        }
        return logits;
    }

    /** Logits where A and B lead and every other token is far below. */
    private static float[] twoLeaders(float a, float b) {
        float[] logits = new float[8];
        Arrays.fill(logits, -10);
        logits[A] = a;
        logits[B] = b;
        return logits;
    }

    private static double[] logSoftmaxInDouble(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : logits) {
            sum += Math.exp(x - max);
        }
        double logZ = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = logits[i] - logZ;
        }
        return out;
    }

    @Test
    void argmax_ties_firstIndex() {
        float[] x = {9, 1, 4, 7, 2, 7, 0};
        assertThat(SequenceSampler.argmax(x, 1, 6)).isEqualTo(2); // x[3] and x[5] tie at 7
        assertThat(SequenceSampler.argmax(new float[] {3, 3, 3}, 0, 3)).isZero();
    }

    @Test
    void sample_temperatureZero_isArgmaxOfEachRow() {
        SequenceSampler sampler = sampler(SamplingParams.greedy(100), 1000);
        for (int step = 0; step < 50; step++) {
            float[] logits = gaussianLogits(1000, 3, step);
            assertThat(sample(sampler, logits).tokenId()).isEqualTo(SequenceSampler.argmax(logits, 0, 1000));
        }
        assertThat(sampler.numGenerated()).isEqualTo(50);
    }

    @Test
    void sample_temperature_drawsFollowSoftmaxOfScaledLogits() {
        float[] logits = {1.0f, 2.0f, 0.5f, -1.0f, 1.5f};
        double temperature = 0.7;
        SequenceSampler sampler = sampler(SamplingParams.builder().temperature(temperature).seed(42).build(), 5);
        int n = 20_000;
        int[] counts = sampleMany(sampler, logits, n);

        double[] expected = new double[5];
        double sum = 0;
        for (int i = 0; i < 5; i++) {
            expected[i] = Math.exp(logits[i] / temperature);
            sum += expected[i];
        }
        double chiSquare = 0;
        for (int i = 0; i < 5; i++) {
            double e = n * expected[i] / sum;
            chiSquare += (counts[i] - e) * (counts[i] - e) / e;
        }
        // 4 degrees of freedom: 18.47 is the 0.999 quantile. Ignoring the temperature (T = 1) gives ~1500.
        assertThat(chiSquare).isLessThan(18.47);
    }

    @Test
    void sample_sameSeed_sameSequenceWhateverIsInterleaved() {
        SamplingParams params = SamplingParams.builder().temperature(1).topP(0.95).seed(7).build();
        SequenceSampler first = sampler(params, 100);
        SequenceSampler second = sampler(params, 100);
        SequenceSampler other = sampler(SamplingParams.builder().temperature(1).seed(8).build(), 100);
        for (int step = 0; step < 50; step++) {
            float[] logits = gaussianLogits(100, 1, step);
            sample(other, logits);
            int a = sample(first, logits).tokenId();
            sample(other, logits);
            assertThat(sample(second, logits).tokenId()).isEqualTo(a);
        }
    }

    @Test
    void sample_differentSeeds_differentSequences() {
        SequenceSampler first = sampler(SamplingParams.builder().temperature(1).seed(1).build(), 100);
        SequenceSampler second = sampler(SamplingParams.builder().temperature(1).seed(2).build(), 100);
        int numDiffering = 0;
        for (int step = 0; step < 50; step++) {
            float[] logits = gaussianLogits(100, 1, step);
            if (sample(first, logits).tokenId() != sample(second, logits).tokenId()) {
                numDiffering++;
            }
        }
        assertThat(numDiffering).isGreaterThan(25);
    }

    @Test
    void sample_noSeed_usesDefaultSeedAndExplicitSeedOverridesIt() {
        SamplingParams unseeded = SamplingParams.builder().temperature(1).build();
        SamplingParams seeded = SamplingParams.builder().temperature(1).seed(99).build();
        SequenceSampler a = new SequenceSampler(unseeded, new int[0], 100, -1, 99);
        SequenceSampler b = new SequenceSampler(seeded, new int[0], 100, -1, 12345);
        for (int step = 0; step < 30; step++) {
            float[] logits = gaussianLogits(100, 1, step);
            assertThat(sample(a, logits).tokenId()).isEqualTo(sample(b, logits).tokenId());
        }
    }

    @Test
    void sample_topK1_equalsGreedy() {
        SequenceSampler sampler = sampler(SamplingParams.builder().temperature(1.5).topK(1).seed(3).build(), 1000);
        for (int step = 0; step < 50; step++) {
            float[] logits = gaussianLogits(1000, 2, step);
            assertThat(sample(sampler, logits).tokenId()).isEqualTo(SequenceSampler.argmax(logits, 0, 1000));
        }
    }

    @Test
    void sample_topK3_drawsOnlyTheThreeMostLikely() {
        float[] logits = {0.1f, 2.0f, 0.3f, 1.9f, 0.2f, 1.8f, 0.0f, 1.0f, 0.4f, 0.5f};
        SequenceSampler sampler = sampler(SamplingParams.builder().temperature(1).topK(3).seed(4).build(), 10);
        int[] counts = sampleMany(sampler, logits, 3000);
        assertThat(counts[1]).isPositive();
        assertThat(counts[3]).isPositive();
        assertThat(counts[5]).isPositive();
        assertThat(counts[1] + counts[3] + counts[5]).isEqualTo(3000);
    }

    @Test
    void sample_topP_keepsSmallestSetReachingP() {
        float[] logits = logitsOf(0.5, 0.3, 0.15, 0.05);
        int[] twoTokens = sampleMany(sampler(SamplingParams.builder().temperature(1).topP(0.75).seed(5).build(), 4),
                logits, 5000);
        assertThat(twoTokens[2] + twoTokens[3]).isZero();
        assertThat((double) twoTokens[0] / 5000).isCloseTo(0.5 / 0.8, within(0.03));

        int[] threeTokens = sampleMany(sampler(SamplingParams.builder().temperature(1).topP(0.85).seed(5).build(), 4),
                logits, 5000);
        assertThat(threeTokens[2]).isPositive();
        assertThat(threeTokens[3]).isZero();
    }

    @Test
    void sample_topPOverLargeVocab_tiesAtTheEdgeGoToLowerIds() {
        // 10 tokens of 5% each at ids 1000..1009, the other half spread evenly: a 0.42 nucleus needs 9 of
        // the 10, and the tie at 5% must keep the lower ids (this vocab takes the histogram path)
        int vocabSize = 128_256;
        double[] p = new double[vocabSize];
        Arrays.fill(p, 0.5 / (vocabSize - 10));
        for (int i = 1000; i < 1010; i++) {
            p[i] = 0.05;
        }
        SequenceSampler sampler = sampler(SamplingParams.builder().temperature(1).topP(0.42).seed(6).build(), vocabSize);
        int[] counts = sampleMany(sampler, logitsOf(p), 600);
        for (int i = 1000; i < 1009; i++) {
            assertThat(counts[i]).as("token %d", i).isPositive();
        }
        assertThat(counts[1009]).isZero();
        assertThat(Arrays.stream(counts, 1000, 1009).sum()).isEqualTo(600);
    }

    @Test
    void sample_topKThenTopP_nucleusOfTheRenormalisedTopK() {
        // top-3 renormalised: 0.44, 0.33, 0.22; top_p 0.7 then needs the first two only
        float[] logits = logitsOf(0.4, 0.3, 0.2, 0.1);
        int[] counts = sampleMany(sampler(SamplingParams.builder().temperature(1).topK(3).topP(0.7).seed(2).build(), 4),
                logits, 3000);
        assertThat(counts[0]).isPositive();
        assertThat(counts[1]).isPositive();
        assertThat(counts[2] + counts[3]).isZero();
    }

    @ParameterizedTest(name = "vocab {0}, top_k {1}")
    @CsvSource({"128256, 0", "16384, 16000"})
    void sample_topPOverLargeVocab_nucleusSpanningManyBucketsIsExact(int vocabSize, int topK) {
        // 40 tokens with p ~ 0.9^i hold 90% (weights over 6 octaves), the rest spread evenly; top_p set
        // half-way between the mass of the first 20 and the first 21 tokens keeps exactly ids 0..20
        double[] p = new double[vocabSize];
        Arrays.fill(p, 0.1 / (vocabSize - 40));
        double geometric = (1 - Math.pow(0.9, 40)) / 0.1;
        for (int i = 0; i < 40; i++) {
            p[i] = 0.9 * Math.pow(0.9, i) / geometric;
        }
        double massOf21 = 0;
        for (int i = 0; i < 21; i++) {
            massOf21 += p[i];
        }
        double topP = massOf21 - p[20] / 2;
        // top_k 16000 of 16384 keeps every tie of the flat tail: the same nucleus, on the candidate-list
        // path (and its buckets, past 4096 candidates)
        SequenceSampler sampler = sampler(SamplingParams.builder().temperature(1).topK(topK).topP(topP).seed(13)
                .build(), vocabSize);
        int[] counts = sampleMany(sampler, logitsOf(p), 3000); // token 20: ~40 expected
        for (int i = 0; i <= 20; i++) {
            assertThat(counts[i]).as("token %d", i).isPositive();
        }
        assertThat(Arrays.stream(counts, 0, 21).sum()).isEqualTo(3000);
    }

    @Test
    void sample_llamaVocabTopP09_drawsOnlyFromTheNucleus() {
        int vocabSize = 128_256;
        float[] logits = gaussianLogits(vocabSize, 2.5, 11);
        // reference nucleus: full sort in double
        double[] logp = logSoftmaxInDouble(logits);
        Integer[] order = new Integer[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Double.compare(logp[y], logp[x]));
        Set<Integer> nucleus = new HashSet<>();
        double cumulative = 0;
        for (int i = 0; cumulative < 0.9; i++) {
            nucleus.add(order[i]);
            cumulative += Math.exp(logp[order[i]]);
        }

        SequenceSampler sampler = sampler(SamplingParams.builder().temperature(1).topP(0.9).seed(12).build(), vocabSize);
        int[] counts = sampleMany(sampler, logits, 500);
        for (int i = 0; i < vocabSize; i++) {
            if (counts[i] > 0) {
                assertThat(nucleus).as("drawn token %d", i).contains(i);
            }
        }
        assertThat(sampler.numGenerated()).isEqualTo(500);
    }

    @Test
    void sample_minP_dropsTokensBelowMinPTimesMax() {
        float[] logits = logitsOf(0.5, 0.3, 0.1, 0.06, 0.04); // threshold 0.15 * 0.5 = 0.075
        SequenceSampler sampler = sampler(SamplingParams.builder().temperature(1).minP(0.15).seed(8).build(), 5);
        int[] counts = sampleMany(sampler, logits, 5000);
        assertThat(counts[2]).isPositive();
        assertThat(counts[3] + counts[4]).isZero();
    }

    @ParameterizedTest(name = "top_k {0}")
    @ValueSource(ints = {0, 3})
    void sample_minPWithTopP_bothFiltersHold(int topK) {
        // p: 0.5, 0.3, 0.1, 0.06, 0.04; top_p 0.95 keeps four, min_p 0.15 (0.075) then drops the fourth
        float[] logits = logitsOf(0.5, 0.3, 0.1, 0.06, 0.04);
        SequenceSampler sampler = sampler(
                SamplingParams.builder().temperature(1).topK(topK).topP(0.95).minP(0.15).seed(8).build(), 5);
        int[] counts = sampleMany(sampler, logits, 5000);
        assertThat(counts[0]).isPositive();
        assertThat(counts[1]).isPositive();
        assertThat(counts[2]).isPositive();
        assertThat(counts[3] + counts[4]).isZero();
    }

    @Test
    void sample_logitBiasPlus100_forcesTokenAtTemperatureOne() {
        SequenceSampler sampler = sampler(
                SamplingParams.builder().temperature(1).seed(9).logitBias(Map.of(7, 100f)).build(), 100);
        for (int step = 0; step < 200; step++) {
            assertThat(sample(sampler, gaussianLogits(100, 3, step)).tokenId()).isEqualTo(7);
        }
    }

    @Test
    void sample_logitBiasMinus100_bansTheArgmax() {
        float[] logits = twoLeaders(2.0f, 1.5f);
        SequenceSampler sampler = sampler(SamplingParams.builder().logitBias(Map.of(A, -100f)).build(), 8);
        assertThat(sample(sampler, logits).tokenId()).isEqualTo(B);
    }

    @Test
    void sample_presencePenalty_subtractsOnceFromGeneratedTokens() {
        float[] logits = twoLeaders(2.0f, 1.5f);
        SequenceSampler below = sampler(SamplingParams.builder().presencePenalty(0.49).build(), 8);
        SequenceSampler above = sampler(SamplingParams.builder().presencePenalty(0.51).build(), 8);
        assertThat(sample(below, logits).tokenId()).isEqualTo(A);
        assertThat(sample(below, logits).tokenId()).isEqualTo(A); // 1.51 > 1.5
        assertThat(sample(below, logits).tokenId()).isEqualTo(A); // once, not per occurrence
        assertThat(sample(above, logits).tokenId()).isEqualTo(A);
        assertThat(sample(above, logits).tokenId()).isEqualTo(B); // 1.49 < 1.5
    }

    @Test
    void sample_frequencyPenalty_subtractsPerOccurrence() {
        float[] logits = twoLeaders(2.0f, 1.5f);
        SequenceSampler sampler = sampler(SamplingParams.builder().frequencyPenalty(0.3).build(), 8);
        assertThat(sample(sampler, logits).tokenId()).isEqualTo(A); // 2.0
        assertThat(sample(sampler, logits).tokenId()).isEqualTo(A); // 1.7
        assertThat(sample(sampler, logits).tokenId()).isEqualTo(B); // 1.4 < 1.5
        assertThat(sample(sampler, logits).tokenId()).isEqualTo(A); // 1.4 > 1.2
    }

    @Test
    void sample_presencePenalty_ignoresPromptTokens() {
        SamplingParams params = SamplingParams.builder().presencePenalty(2).frequencyPenalty(2).build();
        SequenceSampler sampler = new SequenceSampler(params, new int[] {A, A, A}, 8, -1, 0);
        assertThat(sample(sampler, twoLeaders(2.0f, 1.5f)).tokenId()).isEqualTo(A);
    }

    @Test
    void sample_repetitionPenalty_dividesPositiveLogitsOfPromptTokens() {
        SamplingParams params = SamplingParams.builder().repetitionPenalty(1.5).build();
        SequenceSampler sampler = new SequenceSampler(params, new int[] {A}, 8, -1, 0);
        assertThat(sample(sampler, twoLeaders(2.0f, 1.5f)).tokenId()).isEqualTo(B); // 2.0 / 1.5 < 1.5
        SequenceSampler mild = new SequenceSampler(SamplingParams.builder().repetitionPenalty(1.2).build(),
                new int[] {A}, 8, -1, 0);
        assertThat(sample(mild, twoLeaders(2.0f, 1.5f)).tokenId()).isEqualTo(A); // 2.0 / 1.2 > 1.5
    }

    @Test
    void sample_repetitionPenalty_multipliesNegativeLogits() {
        SequenceSampler strong = new SequenceSampler(SamplingParams.builder().repetitionPenalty(1.5).build(),
                new int[] {A}, 8, -1, 0);
        assertThat(sample(strong, twoLeaders(-1.0f, -1.2f)).tokenId()).isEqualTo(B); // -1.5 < -1.2
        SequenceSampler mild = new SequenceSampler(SamplingParams.builder().repetitionPenalty(1.1).build(),
                new int[] {A}, 8, -1, 0);
        assertThat(sample(mild, twoLeaders(-1.0f, -1.2f)).tokenId()).isEqualTo(A); // -1.1 > -1.2
    }

    @Test
    void sample_repetitionPenalty_countsOutputTokensOnce() {
        SequenceSampler sampler = sampler(SamplingParams.builder().repetitionPenalty(1.5).build(), 8);
        float[] logits = twoLeaders(2.0f, 1.5f);
        assertThat(sample(sampler, logits).tokenId()).isEqualTo(A); // 2.0 vs 1.5
        assertThat(sample(sampler, logits).tokenId()).isEqualTo(B); // 1.33 vs 1.5
        assertThat(sample(sampler, logits).tokenId()).isEqualTo(A); // 1.33 vs 1.0
        assertThat(sample(sampler, logits).tokenId()).isEqualTo(A); // not divided twice
    }

    @Test
    void sample_minTokens_blocksEosAndStopIdsUntilReached() {
        int eos = 0;
        float[] logits = {5, 4, 3, 1, 0, 0};
        SamplingParams params = SamplingParams.builder().minTokens(3).stopTokenIds(Set.of(1)).build();
        SequenceSampler sampler = new SequenceSampler(params, new int[0], 6, eos, 0);
        assertThat(sample(sampler, logits).tokenId()).isEqualTo(2);
        assertThat(sample(sampler, logits).tokenId()).isEqualTo(2);
        assertThat(sample(sampler, logits).tokenId()).isEqualTo(2);
        assertThat(sample(sampler, logits).tokenId()).isEqualTo(eos);
        assertThat(sampler.isStopToken(eos)).isTrue();
        assertThat(sampler.isStopToken(1)).isTrue();
        assertThat(sampler.isStopToken(2)).isFalse();

        SequenceSampler sampled = new SequenceSampler(
                SamplingParams.builder().minTokens(2).temperature(1).seed(1).build(), new int[0], 6, eos, 0);
        float[] eosCertain = {50, 0, 0, 0, 0, 0};
        assertThat(sample(sampled, eosCertain).tokenId()).isNotEqualTo(eos);
        assertThat(sample(sampled, eosCertain).tokenId()).isNotEqualTo(eos);
        assertThat(sample(sampled, eosCertain).tokenId()).isEqualTo(eos);
    }

    @Test
    void sample_ignoreEos_eosIsNotAStopButStopIdsStillMasked() {
        SamplingParams params = SamplingParams.builder().minTokens(1).ignoreEos(true).stopTokenIds(Set.of(1)).build();
        SequenceSampler sampler = new SequenceSampler(params, new int[0], 4, 0, 0);
        assertThat(sample(sampler, new float[] {1, 5, 0, 0}).tokenId()).isZero();
        assertThat(sampler.isStopToken(0)).isFalse();
        assertThat(sampler.isStopToken(1)).isTrue();
    }

    @Test
    void sample_logprobs_rawLogSoftmaxSortedTopUnaffectedByTemperatureAndBias() {
        float[] logits = gaussianLogits(1000, 3, 21);
        double[] reference = logSoftmaxInDouble(logits);
        Integer[] order = new Integer[1000];
        for (int i = 0; i < 1000; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Double.compare(reference[y], reference[x]));

        SequenceSampler sampler = sampler(SamplingParams.builder().temperature(0.6).topP(0.9).logprobs(5)
                .logitBias(Map.of(order[500], 100f)).seed(1).build(), 1000);
        SampledToken token = sample(sampler, logits);

        assertThat(token.tokenId()).isEqualTo(order[500]);
        assertThat((double) token.logprob()).isCloseTo(reference[order[500]], within(1e-5));
        assertThat(token.topLogprobs()).hasSize(5);
        for (int j = 0; j < 5; j++) {
            SampledToken.TokenLogprob top = token.topLogprobs().get(j);
            assertThat(top.tokenId()).isEqualTo(order[j]);
            assertThat((double) top.logprob()).isCloseTo(reference[order[j]], within(1e-5));
        }
        SampledToken greedy = sample(sampler(SamplingParams.builder().logprobs(5).build(), 1000), logits);
        assertThat(greedy.topLogprobs()).isEqualTo(token.topLogprobs());
    }

    @Test
    void sample_logprobsZero_chosenOnlyAndNoneRequested_nan() {
        float[] logits = {1, 2, 3};
        SampledToken zero = sample(sampler(SamplingParams.builder().logprobs(0).build(), 3), logits);
        assertThat(zero.tokenId()).isEqualTo(2);
        assertThat((double) zero.logprob()).isCloseTo(logSoftmaxInDouble(logits)[2], within(1e-6));
        assertThat(zero.topLogprobs()).isEmpty();

        SampledToken none = sample(sampler(SamplingParams.greedy(1), 3), logits);
        assertThat(none.logprob()).isNaN();
        assertThat(none.topLogprobs()).isEmpty();
    }

    @Test
    void sample_logprobsTies_lowerIdFirst() {
        SampledToken token = sample(sampler(SamplingParams.builder().logprobs(3).build(), 5),
                new float[] {1, 2, 2, 0, 2});
        assertThat(token.topLogprobs()).extracting(SampledToken.TokenLogprob::tokenId).containsExactly(1, 2, 4);
    }

    @Test
    void sample_afterALargerVocabOnTheSameThread_readsOnlyItsOwnRow() {
        // the thread's scratch is sized for 128256 and still holds that row's values past 1000
        float[] large = gaussianLogits(128_256, 1, 3);
        large[5000] = 100;
        SequenceSampler big = sampler(SamplingParams.builder().temperature(1).topP(0.9).logprobs(3).seed(1).build(),
                128_256);
        assertThat(sample(big, large).tokenId()).isEqualTo(5000);

        float[] small = gaussianLogits(1000, 1, 4);
        double[] reference = logSoftmaxInDouble(small);
        SampledToken token = sample(sampler(SamplingParams.builder().temperature(1).topP(0.9).logprobs(3).seed(1)
                .build(), 1000), small);
        assertThat(token.tokenId()).isBetween(0, 999);
        assertThat(token.topLogprobs()).extracting(SampledToken.TokenLogprob::tokenId)
                .containsExactly(SequenceSampler.argmax(small, 0, 1000), token.topLogprobs().get(1).tokenId(),
                        token.topLogprobs().get(2).tokenId())
                .allSatisfy(id -> assertThat(id).isBetween(0, 999));
        assertThat((double) token.logprob()).isCloseTo(reference[token.tokenId()], within(1e-5));
    }

    @Test
    void sample_tinyTemperature_isGreedy() {
        SequenceSampler sampler = sampler(SamplingParams.builder().temperature(1e-9).build(), 1000);
        float[] logits = gaussianLogits(1000, 3, 1);
        assertThat(sample(sampler, logits).tokenId()).isEqualTo(SequenceSampler.argmax(logits, 0, 1000));
    }

    @Test
    void constructor_logitBiasOutsideVocabulary_refused() {
        SamplingParams params = SamplingParams.builder().logitBias(Map.of(10, 1f)).build();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> sampler(params, 10))
                .isInstanceOf(io.kvserve.engine.InvalidRequestException.class);
    }

    @Test
    void sample_allCombined_staysInsideTheVocabulary() {
        SamplingParams params = SamplingParams.builder().temperature(0.9).topK(50).topP(0.8).minP(0.05)
                .repetitionPenalty(1.1).presencePenalty(0.5).frequencyPenalty(0.5).logprobs(3).seed(5)
                .stop(List.of("x")).build();
        SequenceSampler sampler = new SequenceSampler(params, new int[] {1, 2, 3}, 5000, 4, 0);
        for (int step = 0; step < 100; step++) {
            SampledToken token = sample(sampler, gaussianLogits(5000, 2, step));
            assertThat(token.tokenId()).isBetween(0, 4999);
            assertThat(token.topLogprobs()).hasSize(3);
        }
    }
}
