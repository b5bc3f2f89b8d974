package io.kvserve.engine.ops;

/**
 * RoPE's per-pair angular frequencies: pair {@code i} of a head rotates by
 * {@code position * inverseFrequencies[i]} with
 * {@code inverseFrequencies[i] = theta^(-2i/headDim) / divisors[i]}.
 *
 * @param headDim            elements per head, even
 * @param inverseFrequencies (headDim / 2) radians per position
 */
public record RopeFrequencies(int headDim, float[] inverseFrequencies) {

    public RopeFrequencies {
        if (headDim <= 0 || headDim % 2 != 0 || inverseFrequencies.length != headDim / 2) {
            throw new IllegalArgumentException("headDim " + headDim + " must be positive and even, with headDim / 2 "
                    + "frequencies (got " + inverseFrequencies.length + ")");
        }
        inverseFrequencies = inverseFrequencies.clone();
    }

    /**
     * Frequencies for {@code theta} (rope base) with per-pair {@code divisors} (llama3 scaling,
     * {@code ModelConfig.ropeFrequencyDivisors()}); null divisors mean all 1.
     */
    public static RopeFrequencies of(int headDim, double theta, float[] divisors) {
        float[] inv = new float[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            double divisor = divisors == null ? 1.0 : divisors[i];
            inv[i] = (float) (Math.pow(theta, -2.0 * i / headDim) / divisor);
        }
        return new RopeFrequencies(headDim, inv);
    }

    /** Radians per position of pair {@code i}. */
    public float inverseFrequency(int i) {
        return inverseFrequencies[i];
    }
}
