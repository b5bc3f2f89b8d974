package io.kvserve.cli.benchserving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class PercentilesTest {

    @Test
    void of_fourValues_interpolatesBetweenRanks() {
        // unsorted on purpose; sorted 1 2 3 4
        Percentiles p = Percentiles.of(new double[] {4, 1, 3, 2});
        assertThat(p.count()).isEqualTo(4);
        assertThat(p.mean()).isCloseTo(2.5, within(1e-12));
        assertThat(p.median()).isCloseTo(2.5, within(1e-12));   // rank 1.5
        assertThat(p.p90()).isCloseTo(3.7, within(1e-12));      // rank 2.7: 3 + 0.7 * (4 - 3)
        assertThat(p.p99()).isCloseTo(3.97, within(1e-12));     // rank 2.97
        assertThat(p.std()).isCloseTo(Math.sqrt(1.25), within(1e-12)); // population: (2.25+0.25+0.25+2.25)/4
        assertThat(p.min()).isEqualTo(1);
        assertThat(p.max()).isEqualTo(4);
    }

    @Test
    void percentile_fiveValues_matchesNumpy() {
        double[] sorted = {10, 20, 30, 40, 50};
        assertThat(Percentiles.percentile(sorted, 0)).isEqualTo(10);
        assertThat(Percentiles.percentile(sorted, 50)).isEqualTo(30);
        assertThat(Percentiles.percentile(sorted, 90)).isCloseTo(46, within(1e-12));   // rank 3.6
        assertThat(Percentiles.percentile(sorted, 99)).isCloseTo(49.6, within(1e-12)); // rank 3.96
        assertThat(Percentiles.percentile(sorted, 100)).isEqualTo(50);
        assertThat(Percentiles.percentile(sorted, 25)).isEqualTo(20);
    }

    @Test
    void of_oneOrNoValue_isThatValueOrZeros() {
        Percentiles one = Percentiles.of(new double[] {7});
        assertThat(one.median()).isEqualTo(7);
        assertThat(one.p99()).isEqualTo(7);
        assertThat(one.std()).isZero();
        Percentiles none = Percentiles.of(new double[0]);
        assertThat(none.count()).isZero();
        assertThat(none.mean()).isZero();
        assertThat(none.p99()).isZero();
    }
}
