package io.kvserve.cli.benchserving;

/**
 * Bursts: {@code burstSize} requests at once, then the next {@code burstSize} after
 * {@code burstSize / rate} seconds, and so on, so the mean rate is {@code rate} as with Poisson
 * arrivals but all of its variance is in the bursts.
 *
 * <pre>
 *   rate 4/s, burst 8:   t = 0 s: requests 0..7    t = 2 s: 8..15    t = 4 s: 16..23 ...
 * </pre>
 */
final class BurstArrivals implements ArrivalSchedule {

    private final double rate;
    private final int burstSize;
    private long numIssued;

    BurstArrivals(double rate, int burstSize) {
        if (!(rate > 0) || Double.isInfinite(rate)) {
            throw new IllegalArgumentException("--arrival burst needs a finite --request-rate > 0, got " + rate);
        }
        if (burstSize < 1) {
            throw new IllegalArgumentException("--burst-size " + burstSize + " must be >= 1");
        }
        this.rate = rate;
        this.burstSize = burstSize;
    }

    @Override
    public double nextSeconds() {
        long burst = numIssued++ / burstSize;
        return burst * burstSize / rate;
    }
}
