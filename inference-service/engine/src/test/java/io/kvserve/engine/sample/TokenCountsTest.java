package io.kvserve.engine.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenCountsTest {

    @Test
    void add_manyIdsPastSeveralGrowths_matchesAMapInFirstSeenOrder() {
        TokenCounts counts = new TokenCounts(1);
        Map<Integer, Integer> expected = new LinkedHashMap<>();
        Random random = new Random(3);
        for (int i = 0; i < 50_000; i++) {
            int id = random.nextInt(i % 2 == 0 ? 20 : 128_256);
            int before = expected.getOrDefault(id, 0);
            assertThat(counts.add(id)).isEqualTo(before);
            expected.put(id, before + 1);
        }
        assertThat(counts.size()).isEqualTo(expected.size());
        int index = 0;
        for (Map.Entry<Integer, Integer> e : expected.entrySet()) {
            assertThat(counts.id(index)).isEqualTo(e.getKey());
            assertThat(counts.count(index)).isEqualTo(e.getValue());
            index++;
        }
    }

    @Test
    void add_idZeroAndLargestId_counted() {
        TokenCounts counts = new TokenCounts(4);
        assertThat(counts.add(0)).isZero();
        assertThat(counts.add(Integer.MAX_VALUE)).isZero();
        assertThat(counts.add(0)).isEqualTo(1);
        assertThat(counts.size()).isEqualTo(2);
    }
}
