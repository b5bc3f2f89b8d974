package io.kvserve.scheduler.sim;

/**
 * Time of one engine step: {@code a + b * prefillTokens + c * decodeSequences}.
 *
 * <p>Defaults ({@link #SMOLLM2_135M_Q8_0_2_CORES}) are fitted to kvserve's own engine on this
 * machine, smollm2-135m Q8_0 on 2 cores, from the table in {@code inference-service/engine/README.md}
 * ("Performance against llama.cpp", 2026-11-22, {@code tools/bench/compare-llamacpp.py}):
 * <ul>
 *   <li>pp512 at 760.9 tokens/s: one step of 512 prompt tokens takes 0.6729 s, so
 *       {@code b = (0.6729 - a) / 512 = 1.311 ms} per prefill token;</li>
 *   <li>tg128 at 263.7 tokens/s: one decode step of one sequence takes 3.79 ms = {@code a + c};</li>
 *   <li>decode of 16 sequences at 470.6 tokens/s aggregate: one step takes 34.0 ms = {@code a + 16c},
 *       so {@code c = 2.014 ms}, {@code a = 1.78 ms}. (The 4-sequence row, 337.9 tokens/s = 11.8 ms
 *       per step, falls 2 ms above the line: the fit favours the ends.)</li>
 * </ul>
 * Prefill attention grows with the context; the model keeps it linear (the pp512 figure averages it
 * over 512 positions).
 *
 * @param stepSeconds            a: fixed cost of a step (weights streamed once, sampling, bookkeeping)
 * @param prefillSecondsPerToken b: cost of each prompt token computed in the step
 * @param decodeSecondsPerSeq    c: cost of each sequence decoding one token in the step
 */
public record CostModel(double stepSeconds, double prefillSecondsPerToken, double decodeSecondsPerSeq) {

    public static final CostModel SMOLLM2_135M_Q8_0_2_CORES = new CostModel(0.00178, 0.001311, 0.002014);

    public CostModel {
        if (stepSeconds < 0 || prefillSecondsPerToken < 0 || decodeSecondsPerSeq < 0) {
            throw new IllegalArgumentException("cost constants must be >= 0, got a=" + stepSeconds + " b="
                    + prefillSecondsPerToken + " c=" + decodeSecondsPerSeq);
        }
    }

    public double stepSeconds(int numPrefillTokens, int numDecodeSeqs) {
        return stepSeconds + prefillSecondsPerToken * numPrefillTokens + decodeSecondsPerSeq * numDecodeSeqs;
    }

    /** Prompt tokens per second of a step that only prefills {@code numTokens}. */
    public double prefillTokensPerSecond(int numTokens) {
        return numTokens / stepSeconds(numTokens, 0);
    }

    /** The same engine with {@code n} times the compute (the oracle's pooled instance). */
    public CostModel scaledDown(int n) {
        return new CostModel(stepSeconds / n, prefillSecondsPerToken / n, decodeSecondsPerSeq / n);
    }
}
