package io.kvserve.cli.benchserving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PoissonArrivalsTest {

    @Test
    void firstSeconds_sameSeed_sameTimes_otherSeed_otherTimes() {
        double[] a = new PoissonArrivals(10, 42).firstSeconds(100);
        double[] b = new PoissonArrivals(10, 42).firstSeconds(100);
        double[] c = new PoissonArrivals(10, 43).firstSeconds(100);
        assertThat(a).containsExactly(b);
        assertThat(a).isNotEqualTo(c);
        for (int i = 1; i < a.length; i++) {
            assertThat(a[i]).isGreaterThan(a[i - 1]);
        }
    }

    @Test
    void firstSeconds_manyArrivals_haveExponentialGapsOfMeanOneOverRate() {
        int n = 40_000;
        double rate = 5;
        double[] times = new PoissonArrivals(rate, 7).firstSeconds(n);
        double sum = 0;
        double squares = 0;
        int aboveMean = 0;
        double previous = 0;
        for (double t : times) {
            double gap = t - previous;
            previous = t;
            sum += gap;
            squares += gap * gap;
            if (gap > 1 / rate) {
                aboveMean++;
            }
        }
        double mean = sum / n;
        double std = Math.sqrt(squares / n - mean * mean);
        // the sample mean of n exponential gaps has standard error (1/rate)/sqrt(n) = 0.001; allow 5 of them
        assertThat(mean).isBetween(0.2 - 0.005, 0.2 + 0.005);
        // exponential: std equals the mean, and P(gap > mean) = 1/e (a uniform or fixed gap would fail these)
        assertThat(std / mean).isBetween(0.95, 1.05);
        assertThat((double) aboveMean / n).isBetween(Math.exp(-1) - 0.015, Math.exp(-1) + 0.015);
        // n arrivals of rate 5 take n/5 s
        assertThat(times[n - 1]).isBetween(n / rate * 0.97, n / rate * 1.03);
    }

    @Test
    void nextSeconds_infiniteRate_sendsEverythingAtZero() {
        assertThat(new PoissonArrivals(Double.POSITIVE_INFINITY, 1).firstSeconds(5)).containsOnly(0.0);
    }

    @Test
    void new_nonPositiveRate_isRejected() {
        assertThatThrownBy(() -> new PoissonArrivals(0, 1)).hasMessageContaining("--request-rate 0.0");
    }
}
