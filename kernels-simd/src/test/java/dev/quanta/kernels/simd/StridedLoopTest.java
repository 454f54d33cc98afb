package dev.quanta.kernels.simd;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StridedLoopTest {

    @Test
    void visitsEveryRowWithEachOperandsPositions() {
        List<String> rows = new ArrayList<>();
        StridedLoop.forEachRow(new long[] {2, 3, 4}, new long[] {100, 0}, new long[][] {{12, 4, 1}, {0, 1, 0}},
                (positions, inner, length) -> rows.add(positions[0] + "/" + positions[1] + "/" + inner[0] + "/" + inner[1]
                        + "/" + length));
        assertThat(rows).containsExactly("100/0/1/0/4", "104/1/1/0/4", "108/2/1/0/4", "112/0/1/0/4", "116/1/1/0/4",
                "120/2/1/0/4");
    }

    @Test
    void aScalarIsOneRowOfOneAndAnEmptyShapeNone() {
        List<Long> lengths = new ArrayList<>();
        StridedLoop.forEachRow(new long[0], new long[] {5}, new long[][] {{}}, (p, inner, length) -> lengths.add(length));
        StridedLoop.forEachRow(new long[] {3, 0}, new long[] {0}, new long[][] {{0, 1}}, (p, inner, length) -> lengths.add(-1L));
        assertThat(lengths).containsExactly(1L);
    }

    @Test
    void coalescingMergesAxesThatEveryOperandStepsOverWhole() {
        // A contiguous [1, 129, 3] and a scalar broadcast over it: one row of 387.
        StridedLoop.Walk walk = StridedLoop.coalesce(new long[] {1, 129, 3}, new long[][] {{387, 3, 1}, {0, 0, 0}});
        assertThat(walk.sizes()).containsExactly(387);
        assertThat(walk.strides()).isDeepEqualTo(new long[][] {{1}, {0}});
        // A bias over channels ([1, C, 1] against [N, C, H·W]) keeps its axes apart; the rows stay H·W long.
        walk = StridedLoop.coalesce(new long[] {2, 4, 5, 6}, new long[][] {{120, 30, 6, 1}, {0, 1, 0, 0}});
        assertThat(walk.sizes()).containsExactly(2, 4, 30);
        assertThat(walk.strides()).isDeepEqualTo(new long[][] {{120, 30, 1}, {0, 1, 0}});
        // Only ones: a scalar. An empty shape stays as it is.
        assertThat(StridedLoop.coalesce(new long[] {1, 1}, new long[][] {{1, 1}}).sizes()).isEmpty();
        assertThat(StridedLoop.coalesce(new long[] {3, 0}, new long[][] {{0, 1}}).sizes()).containsExactly(3, 0);
    }

    /** A coalesced walk visits the same positions in the same order as the walk it came from. */
    @Test
    void aCoalescedWalkVisitsTheSameElementsInOrder() {
        SplittableRandom random = new SplittableRandom(0xC0A1);
        for (int trial = 0; trial < 500; trial++) {
            int rank = random.nextInt(0, 6);
            long[] sizes = new long[rank];
            long[][] strides = new long[3][rank];
            long contiguous = 1;
            for (int axis = rank - 1; axis >= 0; axis--) {
                sizes[axis] = random.nextInt(1, 5);
                // Operand 0 contiguous, 1 broadcast along some axes, 2 a strided view.
                strides[0][axis] = contiguous;
                strides[1][axis] = random.nextBoolean() ? 0 : contiguous;
                strides[2][axis] = random.nextInt(-2, 3) * contiguous * random.nextInt(1, 3);
                contiguous *= sizes[axis];
            }
            long[] offsets = {0, 7, 500};
            StridedLoop.Walk walk = StridedLoop.coalesce(sizes, strides);
            assertThat(walk.sizes().length).isLessThanOrEqualTo(rank);
            assertThat(elements(walk.sizes(), offsets, walk.strides())).as("trial %d", trial)
                    .isEqualTo(elements(sizes, offsets, strides));
        }
    }

    /** Each element's positions, in the order a walk visits them. */
    private static List<String> elements(long[] sizes, long[] offsets, long[][] strides) {
        List<String> elements = new ArrayList<>();
        StridedLoop.forEachRow(sizes, offsets, strides, (p, inner, length) -> {
            for (long i = 0; i < length; i++) {
                elements.add((p[0] + i * inner[0]) + "/" + (p[1] + i * inner[1]) + "/" + (p[2] + i * inner[2]));
            }
        });
        return elements;
    }

    /** Blocks of rows, walked one after the other from their first row, visit what one walk does. */
    @Test
    void blocksOfRowsTogetherVisitWhatTheWholeWalkDoes() {
        SplittableRandom random = new SplittableRandom(0x57A1);
        for (int trial = 0; trial < 200; trial++) {
            int rank = random.nextInt(0, 5);
            long[] sizes = new long[rank];
            long[][] strides = new long[2][rank];
            for (int axis = 0; axis < rank; axis++) {
                sizes[axis] = random.nextInt(1, 5);
                strides[0][axis] = random.nextInt(-3, 30);
                strides[1][axis] = random.nextInt(0, 2) * random.nextInt(1, 9);
            }
            long[] offsets = {random.nextInt(0, 1000), random.nextInt(0, 1000)};
            List<String> whole = new ArrayList<>();
            StridedLoop.forEachRow(sizes, offsets, strides, (p, inner, length) -> whole.add(
                    p[0] + "/" + p[1] + "/" + inner[0] + "/" + inner[1] + "/" + length));
            long rows = StridedLoop.rows(sizes);
            assertThat(whole).hasSize((int) rows);
            List<String> blocks = new ArrayList<>();
            for (long first = 0; first < rows; ) {
                long count = Math.min(rows - first, random.nextInt(1, 4));
                StridedLoop.forEachRow(sizes, offsets, strides, first, count, (p, inner, length) -> blocks.add(
                        p[0] + "/" + p[1] + "/" + inner[0] + "/" + inner[1] + "/" + length));
                first += count;
            }
            assertThat(blocks).as("trial %d", trial).isEqualTo(whole);
        }
        assertThatThrownBy(() -> StridedLoop.forEachRow(new long[] {2, 3}, new long[] {0}, new long[][] {{3, 1}}, 1, 2,
                (p, inner, length) -> { })).isInstanceOf(IllegalArgumentException.class);
    }
}
