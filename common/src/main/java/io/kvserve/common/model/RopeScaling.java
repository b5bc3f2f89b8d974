package io.kvserve.common.model;

/**
 * How RoPE frequencies are stretched for contexts longer than training.
 *
 * <p>Llama 3.x scaling [1] divides the frequency of pair i by a factor that is 1 for high
 * frequencies (wavelength &lt; originalContextLength / highFreqFactor), {@code factor} for low ones
 * (wavelength &gt; originalContextLength / lowFreqFactor), and interpolates between them.
 * llama.cpp stores no metadata for it: its converter writes the per-pair divisors as the tensor
 * {@code rope_freqs.weight} [2], and ggml's rope divides each frequency by them. A config read from
 * GGUF therefore carries those divisors ({@link ModelConfig#ropeFreqFactors()}) and only
 * {@code factor} here (the largest divisor); the other three parameters are 0 = unknown.
 *
 * <p>[1] transformers modeling_rope_utils {@code _compute_llama3_parameters};
 * [2] llama.cpp convert_hf_to_gguf.py {@code LlamaModel.generate_extra_tensors}.
 *
 * @param type                  none, linear or llama3
 * @param factor                frequency divisor (linear: for every pair; llama3: for low frequencies); 1 for none
 * @param lowFreqFactor         llama3 only, 0 if unknown
 * @param highFreqFactor        llama3 only, 0 if unknown
 * @param originalContextLength llama3 only: the training context, 0 if unknown
 */
public record RopeScaling(Type type, float factor, float lowFreqFactor, float highFreqFactor, int originalContextLength) {

    /** Scaling kinds. */
    public enum Type { NONE, LINEAR, LLAMA3 }

    /** No scaling. */
    public static final RopeScaling NONE = new RopeScaling(Type.NONE, 1f, 0f, 0f, 0);

    public RopeScaling {
        if (type == null) {
            throw new IllegalArgumentException("rope scaling type is null; use RopeScaling.NONE");
        }
        if (!(factor > 0) || !Float.isFinite(factor)) {
            throw new IllegalArgumentException("rope scaling factor must be a positive number, got " + factor);
        }
        if (type == Type.LLAMA3) {
            boolean unknown = lowFreqFactor == 0 && highFreqFactor == 0 && originalContextLength == 0;
            boolean valid = lowFreqFactor > 0 && highFreqFactor > lowFreqFactor && originalContextLength > 0;
            if (!unknown && !valid) {
                throw new IllegalArgumentException("llama3 rope scaling needs 0 < lowFreqFactor < highFreqFactor and "
                        + "originalContextLength > 0, got lowFreqFactor=" + lowFreqFactor + ", highFreqFactor="
                        + highFreqFactor + ", originalContextLength=" + originalContextLength
                        + "; check rope_scaling in config.json");
            }
        }
    }

    /** Linear (position interpolation) scaling by {@code factor}. */
    public static RopeScaling linear(float factor) {
        return new RopeScaling(Type.LINEAR, factor, 0f, 0f, 0);
    }

    /** Llama 3 scaling with all parameters known. */
    public static RopeScaling llama3(float factor, float lowFreqFactor, float highFreqFactor, int originalContextLength) {
        return new RopeScaling(Type.LLAMA3, factor, lowFreqFactor, highFreqFactor, originalContextLength);
    }

    /** Whether all parameters needed by {@link #frequencyDivisors} are known. */
    public boolean isComputable() {
        return type != Type.LLAMA3 || originalContextLength > 0;
    }

    /**
     * The divisor of each pair's frequency {@code ropeTheta^(-2i/headDim)}, i in 0..headDim/2-1,
     * computed as llama.cpp's converter computes {@code rope_freqs.weight}.
     *
     * @throws IllegalStateException for llama3 scaling with unknown parameters
     */
    public float[] frequencyDivisors(int headDim, double ropeTheta) {
        float[] divisors = new float[headDim / 2];
        switch (type) {
            case NONE -> java.util.Arrays.fill(divisors, 1f);
            case LINEAR -> java.util.Arrays.fill(divisors, factor);
            case LLAMA3 -> {
                if (!isComputable()) {
                    throw new IllegalStateException("llama3 rope scaling parameters are unknown; use the divisors read from the file");
                }
                double lowFreqWavelen = originalContextLength / (double) lowFreqFactor;
                double highFreqWavelen = originalContextLength / (double) highFreqFactor;
                for (int i = 0; i < divisors.length; i++) {
                    float freq = (float) (1.0 / Math.pow(ropeTheta, (2.0 * i) / headDim));
                    double wavelen = 2 * Math.PI / freq;
                    if (wavelen < highFreqWavelen) {
                        divisors[i] = 1f;
                    } else if (wavelen > lowFreqWavelen) {
                        divisors[i] = factor;
                    } else {
                        double smooth = (originalContextLength / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                        divisors[i] = (float) (1 / ((1 - smooth) / factor + smooth));
                    }
                }
            }
        }
        return divisors;
    }
}
