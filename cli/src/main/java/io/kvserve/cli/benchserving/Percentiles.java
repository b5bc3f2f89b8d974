package io.kvserve.cli.benchserving;

import java.util.Arrays;

/**
 * Summary statistics of a sample. Percentiles use linear interpolation between closest ranks (the
 * "C = 1" variant of Hyndman and Fan's type 7, numpy's default, hence what vLLM's and SGLang's
 * reports show): for sorted values {@code x[0..n-1]} the p-th percentile is at rank
 * {@code h = (n - 1) p / 100}, {@code x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h])}.
 * An empty sample gives zeros, as those reports do.
 */
record Percentiles(int count, double mean, double std, double median, double p90, double p99, double min, double max) {

    static Percentiles of(double[] values) {
        if (values.length == 0) {
            return new Percentiles(0, 0, 0, 0, 0, 0, 0, 0);
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double sum = 0;
        for (double v : sorted) {
            sum += v;
        }
        double mean = sum / sorted.length;
        double squares = 0;
        for (double v : sorted) {
            squares += (v - mean) * (v - mean);
        }
        double std = Math.sqrt(squares / sorted.length); // population std, as numpy's np.std
        return new Percentiles(sorted.length, mean, std, percentile(sorted, 50), percentile(sorted, 90),
                percentile(sorted, 99), sorted[0], sorted[sorted.length - 1]);
    }

    /** The p-th percentile (0..100) of ascending {@code sorted}, linearly interpolated. */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            throw new IllegalArgumentException("no values");
        }
        if (p < 0 || p > 100) {
            throw new IllegalArgumentException("percentile " + p + " is outside 0..100");
        }
        double rank = (sorted.length - 1) * p / 100;
        int below = (int) Math.floor(rank);
        int above = Math.min(below + 1, sorted.length - 1);
        return sorted[below] + (rank - below) * (sorted[above] - sorted[below]);
    }
}
