package io.kvserve.cuda;

import io.kvserve.engine.model.ForwardBatch;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BatchLayoutTest {

    /** ForwardBatch's javadoc example: a decode of A at 40 and a prefill chunk of B at 16..19, block size 16. */
    private static ForwardBatch example() {
        return new ForwardBatch(new int[] {5, 6, 7, 8, 9}, new int[] {0, 1, 5}, new int[] {40, 16},
                new int[][] {{7, 2, 9}, {4, 5}}, new int[] {0, 4});
    }

    @Test
    void fill_mixedBatch_givesEachTokenItsPositionSlotAndSequence() {
        BatchLayout layout = new BatchLayout(8, 4, 16, 4, 10);
        layout.fill(example(), 5);

        assertThat(Arrays.copyOf(layout.tokenIds, 5)).containsExactly(5, 6, 7, 8, 9);
        assertThat(Arrays.copyOf(layout.positions, 5)).containsExactly(40, 16, 17, 18, 19);
        // A: position 40 -> block 40/16 = 2 -> id 9, offset 8 -> 9*16+8; B: 16..19 -> block 1 -> id 5
        assertThat(Arrays.copyOf(layout.slots, 5)).containsExactly(152, 80, 81, 82, 83);
        assertThat(Arrays.copyOf(layout.tokenSeqs, 5)).containsExactly(0, 1, 1, 1, 1);
        assertThat(Arrays.copyOf(layout.blockTables, 8)).containsExactly(7, 2, 9, -1, 4, 5, -1, -1);
        assertThat(Arrays.copyOf(layout.logitsIndices, 2)).containsExactly(0, 4);
        assertThat(layout.numLogitsRowsPadded()).isEqualTo(2);
        assertThat(layout.maxContextLen()).isEqualTo(41);
    }

    @Test
    void fill_paddedDecode_padsWithTokensThatWriteNothingAndAttendToNothing() {
        BatchLayout layout = new BatchLayout(8, 8, 16, 2, 10);
        ForwardBatch decode = new ForwardBatch(new int[] {3, 4, 5}, new int[] {0, 1, 2, 3}, new int[] {0, 17, 5},
                new int[][] {{1}, {2, 3}, {4}}, new int[] {0, 1, 2});
        layout.fill(decode, 4);

        assertThat(Arrays.copyOf(layout.positions, 4)).containsExactly(0, 17, 5, -1);
        assertThat(Arrays.copyOf(layout.slots, 4)).containsExactly(16, 49, 69, -1);
        assertThat(Arrays.copyOf(layout.tokenIds, 4)).containsExactly(3, 4, 5, 0);
        assertThat(Arrays.copyOf(layout.logitsIndices, 4)).containsExactly(0, 1, 2, 0);
        assertThat(layout.numTokens()).isEqualTo(3);
        assertThat(layout.numTokensPadded()).isEqualTo(4);
        assertThat(layout.numLogitsRowsPadded()).isEqualTo(4);
    }

    @Test
    void fill_refilledWithAShorterBatch_leavesNoStalePadding() {
        BatchLayout layout = new BatchLayout(8, 4, 16, 4, 10);
        layout.fill(example(), 5);
        layout.fill(ForwardBatch.single(new int[] {1}, 3, new int[] {6}), 2);
        assertThat(Arrays.copyOf(layout.positions, 2)).containsExactly(3, -1);
        assertThat(Arrays.copyOf(layout.slots, 2)).containsExactly(99, -1);
        assertThat(Arrays.copyOf(layout.blockTables, 4)).containsExactly(6, -1, -1, -1);
    }

    @Test
    void fill_blockOutsideTheCache_isRefusedBeforeAnyKernelCouldWriteThere() {
        BatchLayout layout = new BatchLayout(8, 4, 16, 4, 10);
        ForwardBatch batch = ForwardBatch.single(new int[] {1, 2}, 0, new int[] {10});
        assertThatThrownBy(() -> layout.fill(batch, 2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("names block 10, the cache has blocks 0..9");
    }

    @Test
    void fill_blockTableShorterThanTheSequence_isRefused() {
        BatchLayout layout = new BatchLayout(8, 4, 16, 4, 10);
        ForwardBatch batch = ForwardBatch.single(new int[] {1}, 16, new int[] {3});
        assertThatThrownBy(() -> layout.fill(batch, 1)).hasMessageContaining("needs 2 blocks of 16");
    }

    @Test
    void fill_sequenceLongerThanTheDeviceTables_isRefused() {
        BatchLayout layout = new BatchLayout(8, 4, 16, 2, 10);
        ForwardBatch batch = ForwardBatch.single(new int[] {1}, 32, new int[] {1, 2, 3});
        assertThatThrownBy(() -> layout.fill(batch, 1)).hasMessageContaining("hold 2 per sequence");
    }
}
