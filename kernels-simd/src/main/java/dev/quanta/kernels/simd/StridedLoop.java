package dev.quanta.kernels.simd;

import java.util.Arrays;

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

    /** A walk's sizes, and each operand's strides over them. */
    public record Walk(long[] sizes, long[][] strides) {
    }

    /**
     * The same walk, in the same order, over fewer axes: axes of size 1 drop out, and an axis merges
     * into the one outside it where every operand steps over it whole (a contiguous [1, 129, 3]
     * becomes one row of 387), so that a body gets long rows. Only for bodies that treat every
     * element alike: the last axis may change.
     */
    public static Walk coalesce(long[] sizes, long[][] strides) {
        int operands = strides.length;
        for (long size : sizes) {
            if (size == 0) {
                return new Walk(sizes, strides);
            }
        }
        long[] merged = new long[sizes.length];
        long[][] mergedStrides = new long[operands][sizes.length];
        int rank = 0;
        for (int axis = 0; axis < sizes.length; axis++) {
            if (sizes[axis] == 1) {
                continue;
            }
            boolean joins = rank > 0;
            for (int k = 0; k < operands && joins; k++) {
                joins = mergedStrides[k][rank - 1] == strides[k][axis] * sizes[axis];
            }
            if (joins) {
                merged[rank - 1] *= sizes[axis];
            } else {
                merged[rank++] = sizes[axis];
            }
            for (int k = 0; k < operands; k++) {
                mergedStrides[k][rank - 1] = strides[k][axis];
            }
        }
        long[][] walkStrides = new long[operands][];
        for (int k = 0; k < operands; k++) {
            walkStrides[k] = Arrays.copyOf(mergedStrides[k], rank);
        }
        return new Walk(Arrays.copyOf(merged, rank), walkStrides);
    }

    /**
     * Calls {@code row} for every row of {@code sizes} (one call for a scalar), with positions
     * {@code offsets[k] + Σ index·strides[k]} for each operand k.
     */
    public static void forEachRow(long[] sizes, long[] offsets, long[][] strides, Row row) {
        forEachRow(sizes, offsets, strides, 0, rows(sizes), row);
    }

    /** The rows of {@code sizes}: its elements over the last axis' size (one for a scalar, none if empty). */
    public static long rows(long[] sizes) {
        long rows = 1;
        for (int axis = 0; axis < sizes.length; axis++) {
            rows *= axis == sizes.length - 1 ? Math.min(sizes[axis], 1) : sizes[axis];
        }
        return rows;
    }

    /**
     * As {@link #forEachRow(long[], long[], long[][], Row)}, for {@code count} rows from row
     * {@code first} in row-major order only: threads can take blocks of rows.
     */
    public static void forEachRow(long[] sizes, long[] offsets, long[][] strides, long first, long count, Row row) {
        long rows = rows(sizes);
        if (first < 0 || count < 0 || first + count > rows) {
            throw new IllegalArgumentException("rows " + first + " to " + (first + count) + " of " + rows);
        }
        if (count == 0) {
            return;
        }
        int operands = offsets.length;
        int rank = sizes.length;
        long[] positions = offsets.clone();
        long[] inner = new long[operands];
        long length = rank == 0 ? 1 : sizes[rank - 1];
        for (int k = 0; k < operands; k++) {
            inner[k] = rank == 0 ? 0 : strides[k][rank - 1];
        }
        long[] index = new long[Math.max(rank - 1, 0)];
        long rest = first;
        for (int axis = rank - 2; axis >= 0; axis--) {
            index[axis] = rest % sizes[axis];
            rest /= sizes[axis];
            for (int k = 0; k < operands; k++) {
                positions[k] += index[axis] * strides[k][axis];
            }
        }
        for (long done = 0; done < count; done++) {
            row.run(positions, inner, length);
            for (int axis = rank - 2; axis >= 0; axis--) {
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
        }
    }
}
