package dev.quanta.kernels.simd;

/**
 * Walks several operands of one shape together, row by row: the innermost axis is handed to
 * the body as a run, so the body's loop is a plain counted loop the JIT can vectorize or the
 * body can hand to a vector kernel when the inner strides are 1 (or 0, a broadcast scalar).
 */
public final class StridedLoop {

    /** One row: each operand's storage position of the row's first element and its inner stride. */
    @FunctionalInterface
    public interface Row {
        void run(long[] positions, long[] innerStrides, long length);
    }

    private StridedLoop() {
    }

    /**
     * Calls {@code row} for every row of {@code sizes} (one call for a scalar), with positions
     * {@code offsets[k] + Σ index·strides[k]} for each operand k.
     */
    public static void forEachRow(long[] sizes, long[] offsets, long[][] strides, Row row) {
        int operands = offsets.length;
        int rank = sizes.length;
        for (long size : sizes) {
            if (size == 0) {
                return;
            }
        }
        long[] positions = offsets.clone();
        long[] inner = new long[operands];
        long length = rank == 0 ? 1 : sizes[rank - 1];
        for (int k = 0; k < operands; k++) {
            inner[k] = rank == 0 ? 0 : strides[k][rank - 1];
        }
        long[] index = new long[Math.max(rank - 1, 0)];
        while (true) {
            row.run(positions, inner, length);
            int axis = rank - 2;
            for (; axis >= 0; axis--) {
                if (++index[axis] < sizes[axis]) {
                    for (int k = 0; k < operands; k++) {
                        positions[k] += strides[k][axis];
                    }
                    break;
                }
                index[axis] = 0;
                for (int k = 0; k < operands; k++) {
                    positions[k] -= strides[k][axis] * (sizes[axis] - 1);
                }
            }
            if (axis < 0) {
                return;
            }
        }
    }
}
