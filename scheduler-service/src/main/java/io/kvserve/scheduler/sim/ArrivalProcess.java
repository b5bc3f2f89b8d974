package io.kvserve.scheduler.sim;

import java.util.SplittableRandom;

/** Inter-arrival times of new requests (or new chat sessions), in seconds, drawn from the workload's random source. */
public sealed interface ArrivalProcess {

    /** Mean requests per second. */
    double ratePerSecond();

    double nextGapSeconds(SplittableRandom random);

    /** The same shape at another mean rate. */
    ArrivalProcess withRate(double ratePerSecond);

    /** Poisson arrivals: exponential gaps. */
    record Poisson(double ratePerSecond) implements ArrivalProcess {
        public Poisson {
            requirePositive(ratePerSecond);
        }

        @Override
        public double nextGapSeconds(SplittableRandom random) {
            return -Math.log(1.0 - random.nextDouble()) / ratePerSecond;
        }

        @Override
        public ArrivalProcess withRate(double rate) {
            return new Poisson(rate);
        }
    }

    /**
     * Gamma-distributed gaps with coefficient of variation {@code cv} (cv 1 is Poisson; cv 3 is bursty:
     * many short gaps and a few long ones), same mean rate.
     */
    record Gamma(double ratePerSecond, double cv) implements ArrivalProcess {
        public Gamma {
            requirePositive(ratePerSecond);
            requirePositive(cv);
        }

        @Override
        public double nextGapSeconds(SplittableRandom random) {
            double shape = 1.0 / (cv * cv);
            return sampleGamma(random, shape) / (shape * ratePerSecond);
        }

        @Override
        public ArrivalProcess withRate(double rate) {
            return new Gamma(rate, cv);
        }

        /** Marsaglia and Tsang (2000), with the boost {@code U^(1/shape)} for shape < 1. */
        private static double sampleGamma(SplittableRandom random, double shape) {
            if (shape < 1) {
                return sampleGamma(random, shape + 1) * Math.pow(1.0 - random.nextDouble(), 1.0 / shape);
            }
            double d = shape - 1.0 / 3, c = 1.0 / Math.sqrt(9 * d);
            while (true) {
                double x = gaussian(random), v = 1 + c * x;
                if (v <= 0) {
                    continue;
                }
                v = v * v * v;
                double u = 1.0 - random.nextDouble();
                if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
                    return d * v;
                }
            }
        }

        private static double gaussian(SplittableRandom random) {
            double u1 = 1.0 - random.nextDouble(), u2 = random.nextDouble();
            return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
        }
    }

    /**
     * On/off bursts: Poisson at {@code rate * (on + off) / on} during {@code onSeconds}, nothing during
     * {@code offSeconds}, so the mean rate is {@code ratePerSecond}.
     */
    record OnOff(double ratePerSecond, double onSeconds, double offSeconds) implements ArrivalProcess {
        public OnOff {
            requirePositive(ratePerSecond);
            requirePositive(onSeconds);
            if (offSeconds < 0) {
                throw new IllegalArgumentException("offSeconds must be >= 0, got " + offSeconds);
            }
        }

        @Override
        public double nextGapSeconds(SplittableRandom random) {
            throw new UnsupportedOperationException("OnOff needs the current time: use nextArrival");
        }

        @Override
        public ArrivalProcess withRate(double rate) {
            return new OnOff(rate, onSeconds, offSeconds);
        }

        @Override
        public double nextArrival(double nowSeconds, SplittableRandom random) {
            double period = onSeconds + offSeconds;
            double burstRate = ratePerSecond * period / onSeconds;
            // time spent "on" so far, advanced by an exponential amount of on-time
            double cycles = Math.floor(nowSeconds / period);
            double onTime = cycles * onSeconds + Math.min(nowSeconds - cycles * period, onSeconds);
            onTime += -Math.log(1.0 - random.nextDouble()) / burstRate;
            double c = Math.floor(onTime / onSeconds);
            return c * period + (onTime - c * onSeconds);
        }
    }

    /** The next arrival after {@code nowSeconds}. */
    default double nextArrival(double nowSeconds, SplittableRandom random) {
        return nowSeconds + nextGapSeconds(random);
    }

    /** Parses {@code poisson}, {@code gamma:CV} or {@code onoff:ON_SECONDS:OFF_SECONDS}. */
    static ArrivalProcess parse(String spec, double ratePerSecond) {
        String[] parts = spec.split(":");
        return switch (parts[0]) {
            case "poisson" -> new Poisson(ratePerSecond);
            case "gamma" -> new Gamma(ratePerSecond, parts.length > 1 ? Double.parseDouble(parts[1]) : 3.0);
            case "onoff" -> new OnOff(ratePerSecond, parts.length > 1 ? Double.parseDouble(parts[1]) : 10.0,
                    parts.length > 2 ? Double.parseDouble(parts[2]) : 10.0);
            default -> throw new IllegalArgumentException("unknown arrival process '" + spec
                    + "': use poisson, gamma:CV or onoff:ON_SECONDS:OFF_SECONDS");
        };
    }

    private static void requirePositive(double value) {
        if (!(value > 0)) {
            throw new IllegalArgumentException("must be > 0, got " + value);
        }
    }
}
