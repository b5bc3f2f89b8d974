package io.kvserve.common.model.gen;

import java.nio.charset.StandardCharsets;

/**
 * Deterministic random weights, addressable by (seed, tensor, HF row): any row can be produced on
 * its own, so a GGUF file (with permuted Q/K rows) and a safetensors file from the same seed hold
 * the same model, and a 1B-parameter model is written with one row in memory.
 *
 * <p>Values are uniform with the standard deviation a sane initialisation would give, so activations
 * stay O(1) through the layers and logits are neither flat nor one-hot:
 * projections {@code 1/sqrt(rowLength)}, embeddings {@code 1/sqrt(dim)}, norms {@code 1 ± 0.1},
 * biases {@code ±0.02}.
 */
public final class RandomWeights {

    private static final double SQRT3 = Math.sqrt(3.0);

    private final long seed;

    public RandomWeights(long seed) {
        this.seed = seed;
    }

    /** Fills {@code dst[0 .. rowLength)} with HF row {@code hfRow} of {@code tensor}. */
    public void fillHfRow(GeneratedTensor tensor, int hfRow, float[] dst, ModelPreset preset) {
        int n = tensor.rowLength();
        if (tensor.kind() == GeneratedTensor.Kind.ROPE_FREQS) {
            // llama.cpp's rope_freqs.weight: the divisor of each rotary frequency, as its converter computes it
            float[] divisors = preset.ropeScaling().frequencyDivisors(preset.headDim(), preset.ropeTheta());
            System.arraycopy(divisors, 0, dst, 0, divisors.length);
            return;
        }
        long state = mix(seed ^ nameHash(tensor.hfName() != null ? tensor.hfName() : tensor.ggufName()) ^ (hfRow * 0x9E3779B97F4A7C15L));
        double std = switch (tensor.kind()) {
            case PROJECTION -> 1.0 / Math.sqrt(n);
            case EMBEDDING -> 1.0 / Math.sqrt(n);
            case NORM -> 0.1;
            case BIAS -> 0.02;
            case ROPE_FREQS -> throw new AssertionError();
        };
        double offset = tensor.kind() == GeneratedTensor.Kind.NORM ? 1.0 : 0.0;
        double halfWidth = std * SQRT3;
        for (int i = 0; i < n; i++) {
            state += 0x9E3779B97F4A7C15L;
            long bits = mix(state) >>> 11;                       // 53 random bits
            double u = bits * 0x1.0p-53;                         // [0, 1)
            dst[i] = (float) (offset + (2 * u - 1) * halfWidth);
        }
    }

    /** Fills GGUF row {@code ggufRow}: the HF row it holds after llama.cpp's Q/K permutation. */
    public void fillGgufRow(GeneratedTensor tensor, int ggufRow, float[] dst, ModelPreset preset) {
        fillHfRow(tensor, tensor.hfRowOf(ggufRow), dst, preset);
    }

    private static long nameHash(String name) {
        long h = 0xCBF29CE484222325L;                            // FNV-1a 64
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * 0x100000001B3L;
        }
        return h;
    }

    /** SplitMix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
