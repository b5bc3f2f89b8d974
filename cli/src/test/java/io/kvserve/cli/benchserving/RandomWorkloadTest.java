package io.kvserve.cli.benchserving;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RandomWorkloadTest {

    @Test
    void request_sameSeedAndIndex_sameRequest_otherIndex_otherPrompt() {
        RandomWorkload a = new RandomWorkload(1, 50, 8, false, 0);
        RandomWorkload b = new RandomWorkload(1, 50, 8, false, 0);
        assertThat(a.request(17)).usingRecursiveComparison().isEqualTo(b.request(17));
        assertThat(a.request(17).prompt()).isNotEqualTo(a.request(18).prompt());
        assertThat(a.request(17).prompt()).isNotEqualTo(new RandomWorkload(2, 50, 8, false, 0).request(17).prompt());
    }

    @Test
    void request_text_isInputLenWordsFromTheList() {
        BenchRequest r = new RandomWorkload(3, 64, 16, false, 0).request(0);
        String[] words = r.prompt().split(" ");
        assertThat(words).hasSize(64);
        assertThat(Set.of(RandomWorkload.WORDS)).containsAll(Arrays.asList(words));
        assertThat(r.maxTokens()).isEqualTo(16);
        assertThat(r.promptIds()).isNull();
    }

    @Test
    void request_ids_areInputLenIdsInTheMiddleOfTheVocabulary() {
        BenchRequest r = new RandomWorkload(3, 300, 4, true, 1000).request(5);
        assertThat(r.promptIds()).hasSize(300).allSatisfy(id -> assertThat(id).isBetween(100, 899));
        assertThat(Set.copyOf(r.promptIds()).size()).isGreaterThan(100);
    }
}
