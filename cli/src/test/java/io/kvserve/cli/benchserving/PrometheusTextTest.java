package io.kvserve.cli.benchserving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {

    /** The shape Micrometer's Prometheus registry writes for the gateway's overhead timer (SLO buckets, no quantiles). */
    static String overhead(double n50us, double n1ms, double n2ms, double nAll, double chunkAll) {
        return """
                # HELP kvserve_gateway_overhead_seconds Time the gateway itself adds
                # TYPE kvserve_gateway_overhead_seconds histogram
                kvserve_gateway_overhead_seconds_bucket{application="kvserve-gateway",phase="request",le="5.0E-5"} %s
                kvserve_gateway_overhead_seconds_bucket{application="kvserve-gateway",phase="request",le="0.001"} %s
                kvserve_gateway_overhead_seconds_bucket{application="kvserve-gateway",phase="request",le="0.002"} %s
                kvserve_gateway_overhead_seconds_bucket{application="kvserve-gateway",phase="request",le="+Inf"} %s
                kvserve_gateway_overhead_seconds_count{application="kvserve-gateway",phase="request"} %s
                kvserve_gateway_overhead_seconds_bucket{application="kvserve-gateway",phase="chunk",le="5.0E-5"} %s
                kvserve_gateway_overhead_seconds_bucket{application="kvserve-gateway",phase="chunk",le="0.001"} %s
                kvserve_gateway_overhead_seconds_bucket{application="kvserve-gateway",phase="chunk",le="0.002"} %s
                kvserve_gateway_overhead_seconds_bucket{application="kvserve-gateway",phase="chunk",le="+Inf"} %s
                kvserve_gateway_open_streams{application="kvserve-gateway"} 3.0
                """.formatted(n50us, n1ms, n2ms, nAll, nAll, chunkAll, chunkAll, chunkAll, chunkAll);
    }

    @Test
    void parse_labelsWithEscapesAndATimestamp_keepsNameLabelsAndValue() {
        PrometheusText text = PrometheusText.parse("""
                # TYPE x counter
                x_total{path="/a\\"b",le="1"} 7 1700000000000
                plain 2.5E-3

                """);
        assertThat(text.value("x_total", Map.of("path", "/a\"b"))).isEqualTo(7);
        assertThat(text.value("plain", Map.of())).isEqualTo(0.0025);
        assertThat(text.value("absent", Map.of())).isNaN();
    }

    @Test
    void buckets_selectedByLabel_areCumulativeByUpperBound() {
        PrometheusText.Buckets request = PrometheusText.parse(overhead(10, 80, 95, 100, 7))
                .buckets("kvserve_gateway_overhead_seconds", Map.of("phase", "request"));
        assertThat(request.cumulativeCounts()).containsExactly(Map.entry(5.0e-5, 10.0), Map.entry(0.001, 80.0),
                Map.entry(0.002, 95.0), Map.entry(Double.POSITIVE_INFINITY, 100.0));
        assertThat(request.count()).isEqualTo(100);
        assertThat(request.shareAtOrBelow(0.002)).isEqualTo(0.95);
    }

    @Test
    void minus_twoScrapes_leavesTheObservationsBetweenThem() {
        PrometheusText before = PrometheusText.parse(overhead(10, 80, 95, 100, 7));
        PrometheusText after = PrometheusText.parse(overhead(110, 180, 195, 300, 9));
        PrometheusText.Buckets delta = after.buckets("kvserve_gateway_overhead_seconds", Map.of("phase", "request"))
                .minus(before.buckets("kvserve_gateway_overhead_seconds", Map.of("phase", "request")));
        assertThat(delta.cumulativeCounts().values()).containsExactly(100.0, 100.0, 100.0, 200.0);
        assertThat(delta.plus(delta).count()).isEqualTo(400);
    }

    @Test
    void quantile_rankInsideABucket_interpolatesAsHistogramQuantileDoes() {
        // 10 in (0, 50us], 70 in (50us, 1ms], 15 in (1ms, 2ms], 5 above 2 ms
        PrometheusText.Buckets b = PrometheusText.parse(overhead(10, 80, 95, 100, 7))
                .buckets("kvserve_gateway_overhead_seconds", Map.of("phase", "request"));
        assertThat(b.quantile(0.05)).isCloseTo(25e-6, within(1e-12));                 // half-way through the first bucket
        assertThat(b.quantile(0.5)).isCloseTo(50e-6 + 950e-6 * 40 / 70, within(1e-12)); // rank 50: 40 of the second bucket's 70
        assertThat(b.quantile(0.9)).isCloseTo(0.001 + 0.001 * 10 / 15, within(1e-12));
        assertThat(b.beyondLastBound(0.9)).isFalse();
    }

    @Test
    void quantile_rankInTheInfBucket_givesTheLastBoundAndSaysSo() {
        PrometheusText.Buckets b = PrometheusText.parse(overhead(10, 80, 95, 100, 7))
                .buckets("kvserve_gateway_overhead_seconds", Map.of("phase", "request"));
        assertThat(b.quantile(0.99)).isEqualTo(0.002);
        assertThat(b.beyondLastBound(0.99)).isTrue();
    }

    @Test
    void quantile_noObservations_isNaN() {
        PrometheusText.Buckets none = PrometheusText.parse(overhead(0, 0, 0, 0, 0))
                .buckets("kvserve_gateway_overhead_seconds", Map.of("phase", "request"));
        assertThat(none.quantile(0.5)).isNaN();
        assertThat(none.shareAtOrBelow(0.002)).isNaN();
        assertThat(none.beyondLastBound(0.99)).isFalse();
    }

    @Test
    void shareAtOrBelow_notABucketBound_isRejectedWithTheBounds() {
        PrometheusText.Buckets b = PrometheusText.parse(overhead(10, 80, 95, 100, 7))
                .buckets("kvserve_gateway_overhead_seconds", Map.of("phase", "request"));
        assertThatThrownBy(() -> b.shareAtOrBelow(0.003)).hasMessageContaining("le=0.003").hasMessageContaining("0.002");
    }
}
