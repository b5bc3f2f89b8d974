package io.kvserve.cuda;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GraphBucketsTest {

    @Test
    void sizes_upTo64_areSmallOnesThenPowersOfTwoAndMidpoints() {
        assertThat(new GraphBuckets(64).sizes()).containsExactly(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64);
    }

    @Test
    void sizes_endAtTheMaximumEvenOffTheSeries() {
        assertThat(new GraphBuckets(20).sizes()).containsExactly(1, 2, 3, 4, 6, 8, 12, 16, 20);
        assertThat(new GraphBuckets(3).sizes()).containsExactly(1, 2, 3);
    }

    @Test
    void bucketFor_padsToTheSmallestBucketAndWastesAtMostAThird() {
        GraphBuckets buckets = new GraphBuckets(256);
        assertThat(buckets.bucketFor(5)).isEqualTo(6);
        assertThat(buckets.bucketFor(33)).isEqualTo(48);
        assertThat(buckets.bucketFor(256)).isEqualTo(256);
        assertThat(buckets.bucketFor(257)).isEqualTo(-1);
        for (int n = 1; n <= 256; n++) {
            assertThat(buckets.bucketFor(n) - n).as("n = %d", n).isLessThanOrEqualTo(Math.max(1, buckets.bucketFor(n) / 3));
        }
    }

    @Test
    void new_nonPositiveMaximum_isRefused() {
        assertThatThrownBy(() -> new GraphBuckets(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
