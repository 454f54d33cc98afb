package dev.quanta.kernels.simd;

import dev.quanta.tensor.Layouts;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * float32 matrix product C = A·B (or C += A·B) on row-major operands with arbitrary row strides.
 * B is packed a panel at a time (two vectors of columns by up to {@link #DEPTH} rows, contiguous,
 * zero-padded) into a per-thread buffer, so the micro-kernel streams it; the micro-kernel holds
 * four rows of C by two vectors in registers, each loaded B vector serving four rows and each
 * broadcast A element two vectors. Offsets and strides are in elements.
 */
public final class FloatGemm {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> INT_SPECIES = IntVector.SPECIES_PREFERRED;
    private static final int ROWS = 4;
    /** Rows of B per packed panel: 256 × two vectors is 32 KiB with AVX-512, 16 KiB with AVX2, within an L1 data cache. */
    static final int DEPTH = 256;
    private static final int PANEL = 2 * SPECIES.length();
    /** The largest operand magnitude for which {@link #multiplyIntegers} is exact: 256·255² < 2^24. */
    public static final int EXACT_OPERAND_LIMIT = 255;

    private static final ThreadLocal<float[]> PACKED = ThreadLocal.withInitial(() -> new float[DEPTH * PANEL]);

    private FloatGemm() {
    }

    /** Row-major matrix operands: element (i, j) at {@code offset + i·rowStride + j}. */
    public record Matrix(MemorySegment segment, long offset, long rowStride) {
        long byteAt(long row, long column) {
            return (offset + row * rowStride + column) * 4;
        }
    }

    /** C[m×n] = A[m×k]·B[k×n], or C += A·B when {@code accumulate}. */
    public static void multiply(Matrix a, Matrix b, Matrix c, int m, int n, int k, boolean accumulate) {
        multiply(a, b, c, m, n, k, accumulate, false);
    }

    /**
     * C[m×n] = A[m×k]·B[k×n] in int32 for operands that are integers of magnitude at most
     * {@link #EXACT_OPERAND_LIMIT} stored as float (shifted int8/uint8 values): a block of
     * {@link #DEPTH} products sums below 2^24, so every fused multiply-add is exact, and each
     * block's sums are converted to int32 and added to C. Bit-exact, whatever the summation order.
     */
    public static void multiplyIntegers(Matrix a, Matrix b, Matrix c, int m, int n, int k) {
        multiply(a, b, c, m, n, k, false, true);
    }

    private static void multiply(Matrix a, Matrix b, Matrix c, int m, int n, int k, boolean accumulate,
            boolean integers) {
        if (k == 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) {
                    c.segment().asSlice(c.byteAt(i, 0), n * 4L).fill((byte) 0); // 0 as float and as int32
                }
            }
            return;
        }
        float[] packed = PACKED.get();
        for (int depth = 0; depth < k; depth += DEPTH) {
            int rows = Math.min(DEPTH, k - depth);
            boolean add = accumulate || depth > 0;
            for (int column = 0; column < n; column += PANEL) {
                if (m < ROWS) {
                    // Too few rows to repay packing (a copy of B per call): stream B in place.
                    for (int row = 0; row < m; row++) {
                        rowUnpacked(a, b, c, row, depth, rows, column, n, add, integers);
                    }
                    continue;
                }
                pack(b, depth, rows, column, n, packed);
                int row = 0;
                for (; row + ROWS <= m; row += ROWS) {
                    block4(a, packed, c, row, depth, rows, column, n, add, integers);
                }
                for (; row < m; row++) {
                    block1(a, packed, c, row, depth, rows, column, n, add, integers);
                }
            }
        }
    }

    /** packed[p·PANEL + j] = B[depth + p, column + j], zero past the last column. */
    private static void pack(Matrix b, int depth, int rows, int column, int n, float[] packed) {
        int width = Math.min(PANEL, n - column);
        for (int p = 0; p < rows; p++) {
            MemorySegment.copy(b.segment(), Layouts.FLOAT, b.byteAt(depth + p, column), packed, p * PANEL, width);
            if (width < PANEL) {
                java.util.Arrays.fill(packed, p * PANEL + width, (p + 1) * PANEL, 0f);
            }
        }
    }

    private static void block4(Matrix a, float[] packed, Matrix c, int row, int depth, int rows, int column, int n,
            boolean accumulate, boolean integers) {
        int step = SPECIES.length();
        VectorMask<Float> mask0 = SPECIES.indexInRange(column, n);
        VectorMask<Float> mask1 = SPECIES.indexInRange(column + step, n);
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES), c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES), c31 = FloatVector.zero(SPECIES);
        MemorySegment as = a.segment();
        long a0At = a.byteAt(row, depth);
        long a1At = a.byteAt(row + 1, depth);
        long a2At = a.byteAt(row + 2, depth);
        long a3At = a.byteAt(row + 3, depth);
        for (int p = 0; p < rows; p++) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, packed, p * PANEL);
            FloatVector b1 = FloatVector.fromArray(SPECIES, packed, p * PANEL + step);
            long offset = p * 4L;
            FloatVector a0 = FloatVector.broadcast(SPECIES, as.get(Layouts.FLOAT, a0At + offset));
            FloatVector a1 = FloatVector.broadcast(SPECIES, as.get(Layouts.FLOAT, a1At + offset));
            FloatVector a2 = FloatVector.broadcast(SPECIES, as.get(Layouts.FLOAT, a2At + offset));
            FloatVector a3 = FloatVector.broadcast(SPECIES, as.get(Layouts.FLOAT, a3At + offset));
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        store(c, row, column, c00, mask0, accumulate, integers);
        store(c, row, column + step, c01, mask1, accumulate, integers);
        store(c, row + 1, column, c10, mask0, accumulate, integers);
        store(c, row + 1, column + step, c11, mask1, accumulate, integers);
        store(c, row + 2, column, c20, mask0, accumulate, integers);
        store(c, row + 2, column + step, c21, mask1, accumulate, integers);
        store(c, row + 3, column, c30, mask0, accumulate, integers);
        store(c, row + 3, column + step, c31, mask1, accumulate, integers);
    }

    private static void block1(Matrix a, float[] packed, Matrix c, int row, int depth, int rows, int column, int n,
            boolean accumulate, boolean integers) {
        int step = SPECIES.length();
        FloatVector sum0 = FloatVector.zero(SPECIES);
        FloatVector sum1 = FloatVector.zero(SPECIES);
        long aAt = a.byteAt(row, depth);
        for (int p = 0; p < rows; p++) {
            FloatVector value = FloatVector.broadcast(SPECIES, a.segment().get(Layouts.FLOAT, aAt + p * 4L));
            sum0 = value.fma(FloatVector.fromArray(SPECIES, packed, p * PANEL), sum0);
            sum1 = value.fma(FloatVector.fromArray(SPECIES, packed, p * PANEL + step), sum1);
        }
        store(c, row, column, sum0, SPECIES.indexInRange(column, n), accumulate, integers);
        store(c, row, column + step, sum1, SPECIES.indexInRange(column + step, n), accumulate, integers);
    }

    /** One row of C by two vectors of columns, B read where it lies (masked in the last panel). */
    private static void rowUnpacked(Matrix a, Matrix b, Matrix c, int row, int depth, int rows, int column, int n,
            boolean accumulate, boolean integers) {
        int step = SPECIES.length();
        VectorMask<Float> mask0 = SPECIES.indexInRange(column, n);
        VectorMask<Float> mask1 = SPECIES.indexInRange(column + step, n);
        FloatVector sum0 = FloatVector.zero(SPECIES);
        FloatVector sum1 = FloatVector.zero(SPECIES);
        MemorySegment as = a.segment();
        MemorySegment bs = b.segment();
        long aAt = a.byteAt(row, depth);
        long bAt = b.byteAt(depth, column);
        long bRow = b.rowStride() * 4;
        if (column + PANEL <= n) {
            for (int p = 0; p < rows; p++, bAt += bRow) {
                FloatVector value = FloatVector.broadcast(SPECIES, as.get(Layouts.FLOAT, aAt + p * 4L));
                sum0 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, bAt, Layouts.ORDER), sum0);
                sum1 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, bAt + step * 4L, Layouts.ORDER), sum1);
            }
        } else {
            for (int p = 0; p < rows; p++, bAt += bRow) {
                FloatVector value = FloatVector.broadcast(SPECIES, as.get(Layouts.FLOAT, aAt + p * 4L));
                sum0 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, bAt, Layouts.ORDER, mask0), sum0);
                sum1 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, bAt + step * 4L, Layouts.ORDER, mask1), sum1);
            }
        }
        store(c, row, column, sum0, mask0, accumulate, integers);
        store(c, row, column + step, sum1, mask1, accumulate, integers);
    }

    private static void store(Matrix c, int row, int column, FloatVector value, VectorMask<Float> mask, boolean accumulate,
            boolean integers) {
        if (!mask.anyTrue()) {
            return;
        }
        long at = c.byteAt(row, column);
        if (integers) {
            IntVector sums = (IntVector) value.convert(VectorOperators.F2I, 0);
            VectorMask<Integer> lanes = mask.cast(INT_SPECIES);
            if (accumulate) {
                sums = sums.add(IntVector.fromMemorySegment(INT_SPECIES, c.segment(), at, Layouts.ORDER, lanes));
            }
            sums.intoMemorySegment(c.segment(), at, Layouts.ORDER, lanes);
            return;
        }
        if (accumulate) {
            value = value.add(FloatVector.fromMemorySegment(SPECIES, c.segment(), at, Layouts.ORDER, mask));
        }
        value.intoMemorySegment(c.segment(), at, Layouts.ORDER, mask);
    }

    /** The definition, in double precision: the tests' reference. */
    public static void reference(Matrix a, Matrix b, Matrix c, int m, int n, int k, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = accumulate ? c.segment().get(Layouts.FLOAT, c.byteAt(i, j)) : 0;
                for (int p = 0; p < k; p++) {
                    sum += (double) a.segment().get(Layouts.FLOAT, a.byteAt(i, p))
                            * b.segment().get(Layouts.FLOAT, b.byteAt(p, j));
                }
                c.segment().set(Layouts.FLOAT, c.byteAt(i, j), (float) sum);
            }
        }
    }
}
