package dev.quanta.kernels.simd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
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
}
