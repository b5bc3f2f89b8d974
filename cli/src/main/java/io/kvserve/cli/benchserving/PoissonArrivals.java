package io.kvserve.cli.benchserving;

import java.util.SplittableRandom;

/**
 * Open-loop arrival times: a Poisson process of {@code rate} requests per second, i.e. independent
 * exponential gaps of mean {@code 1/rate} (drawn by inversion, {@code -ln(1 - U) / rate}), as vLLM's
 * {@code benchmark_serving} draws them with {@code burstiness = 1}. The same seed gives the same
 * times. An infinite rate sends everything at time 0.
 */
final class PoissonArrivals implements ArrivalSchedule {

    private final double rate;
    private final SplittableRandom random;
    private double nextSeconds;

    PoissonArrivals(double rate, long seed) {
        if (!(rate > 0)) {
            throw new IllegalArgumentException("--request-rate " + rate + " must be > 0 (or inf)");
        }
        this.rate = rate;
        this.random = new SplittableRandom(seed);
    }

    /** The next arrival, in seconds from the start of the run. */
    @Override
    public double nextSeconds() {
        if (Double.isInfinite(rate)) {
            return 0;
        }
        nextSeconds += -Math.log(1 - random.nextDouble()) / rate;
        return nextSeconds;
    }

    /** The first {@code n} arrivals. */
    double[] firstSeconds(int n) {
        double[] times = new double[n];
        for (int i = 0; i < n; i++) {
            times[i] = nextSeconds();
        }
        return times;
    }
}
