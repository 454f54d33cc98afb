package dev.quanta.kernels.simd;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * float32 matrix product C = A·B (or C += A·B) on row-major operands with arbitrary row strides,
 * register-blocked: four rows of A against two vectors of columns of B, so each loaded B vector
 * serves four rows and each broadcast A element two vectors. Offsets and strides are in elements.
 */
public final class FloatGemm {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
    private static final int ROWS = 4;

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
        int step = SPECIES.length();
        int row = 0;
        for (; row + ROWS <= m; row += ROWS) {
            for (int column = 0; column < n; column += 2 * step) {
                block4(a, b, c, row, column, n, k, accumulate);
            }
        }
        for (; row < m; row++) {
            for (int column = 0; column < n; column += step) {
                block1(a, b, c, row, column, n, k, accumulate);
            }
        }
    }

    private static void block4(Matrix a, Matrix b, Matrix c, int row, int column, int n, int k, boolean accumulate) {
        int step = SPECIES.length();
        VectorMask<Float> mask0 = SPECIES.indexInRange(column, n);
        VectorMask<Float> mask1 = SPECIES.indexInRange(column + step, n);
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES), c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES), c31 = FloatVector.zero(SPECIES);
        MemorySegment as = a.segment();
        MemorySegment bs = b.segment();
        for (int p = 0; p < k; p++) {
            long bAt = b.byteAt(p, column);
            FloatVector b0 = FloatVector.fromMemorySegment(SPECIES, bs, bAt, ORDER, mask0);
            FloatVector b1 = FloatVector.fromMemorySegment(SPECIES, bs, bAt + step * 4L, ORDER, mask1);
            FloatVector a0 = FloatVector.broadcast(SPECIES, as.get(FloatRows.FLOAT, a.byteAt(row, p)));
            FloatVector a1 = FloatVector.broadcast(SPECIES, as.get(FloatRows.FLOAT, a.byteAt(row + 1, p)));
            FloatVector a2 = FloatVector.broadcast(SPECIES, as.get(FloatRows.FLOAT, a.byteAt(row + 2, p)));
            FloatVector a3 = FloatVector.broadcast(SPECIES, as.get(FloatRows.FLOAT, a.byteAt(row + 3, p)));
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        store(c, row, column, c00, mask0, accumulate);
        store(c, row, column + step, c01, mask1, accumulate);
        store(c, row + 1, column, c10, mask0, accumulate);
        store(c, row + 1, column + step, c11, mask1, accumulate);
        store(c, row + 2, column, c20, mask0, accumulate);
        store(c, row + 2, column + step, c21, mask1, accumulate);
        store(c, row + 3, column, c30, mask0, accumulate);
        store(c, row + 3, column + step, c31, mask1, accumulate);
    }

    private static void block1(Matrix a, Matrix b, Matrix c, int row, int column, int n, int k, boolean accumulate) {
        VectorMask<Float> mask = SPECIES.indexInRange(column, n);
        FloatVector sum = FloatVector.zero(SPECIES);
        for (int p = 0; p < k; p++) {
            FloatVector bv = FloatVector.fromMemorySegment(SPECIES, b.segment(), b.byteAt(p, column), ORDER, mask);
            sum = FloatVector.broadcast(SPECIES, a.segment().get(FloatRows.FLOAT, a.byteAt(row, p))).fma(bv, sum);
        }
        store(c, row, column, sum, mask, accumulate);
    }

    private static void store(Matrix c, int row, int column, FloatVector value, VectorMask<Float> mask, boolean accumulate) {
        if (!mask.anyTrue()) {
            return;
        }
        long at = c.byteAt(row, column);
        if (accumulate) {
            value = value.add(FloatVector.fromMemorySegment(SPECIES, c.segment(), at, ORDER, mask));
        }
        value.intoMemorySegment(c.segment(), at, ORDER, mask);
    }

    /** The definition, in double precision: the tests' reference. */
    public static void reference(Matrix a, Matrix b, Matrix c, int m, int n, int k, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = accumulate ? c.segment().get(FloatRows.FLOAT, c.byteAt(i, j)) : 0;
                for (int p = 0; p < k; p++) {
                    sum += (double) a.segment().get(FloatRows.FLOAT, a.byteAt(i, p))
                            * b.segment().get(FloatRows.FLOAT, b.byteAt(p, j));
                }
                c.segment().set(FloatRows.FLOAT, c.byteAt(i, j), (float) sum);
            }
        }
    }
}
