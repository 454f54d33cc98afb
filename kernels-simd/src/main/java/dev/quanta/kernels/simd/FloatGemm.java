package dev.quanta.kernels.simd;

import dev.quanta.tensor.Layouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * float32 matrix product C = A·B (or C += A·B) on row-major operands with arbitrary row strides.
 * Blocked the usual way for caches: per {@link #DEPTH}-deep slice of K, a chunk of B's columns is
 * packed into panels two vectors wide and a chunk of A's rows into blocks of {@link #ROWS} rows,
 * both contiguous and zero-padded, so the micro-kernel streams them. The micro-kernel holds
 * six rows of C by two vectors in twelve registers: each loaded B vector serves six rows and
 * each broadcast A element two vectors. Offsets and strides are in elements.
 */
public final class FloatGemm {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> INT_SPECIES = IntVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    /** Rows of C per micro-kernel: twelve accumulators, two B vectors and a broadcast fit AVX2's sixteen registers. */
    static final int ROWS = 6;
    /** Columns of C per micro-kernel and per packed panel of B. */
    static final int PANEL = 2 * LANES;
    /** Depth of a packed slice: a panel of B is 16 KiB with AVX2, 32 KiB with AVX-512, within an L1 data cache. */
    static final int DEPTH = 256;
    /** Rows of A packed at a time (72 KiB, in L2), reused across a whole chunk of B's columns. */
    static final int ROW_CHUNK = 12 * ROWS;
    /** Columns of B packed at a time (512 KiB with AVX2, in L2), reused across every row of A. */
    static final int COLUMN_CHUNK = 32 * PANEL;
    /** Fewer rows than this stream B where it lies: packing it would cost about what the product does. */
    private static final int PACKING_MIN_ROWS = 4;
    /** The largest operand magnitude for which {@link #multiplyIntegers} is exact: 256·255² < 2^24. */
    public static final int EXACT_OPERAND_LIMIT = 255;

    // Off-heap and 64-byte aligned: a vector load from a float[] may straddle cache lines, and the
    // byte-indexed segment loop compiled measurably better than the array one (see bench/RESULTS.md).
    private static final ThreadLocal<MemorySegment> PACKED_A = ThreadLocal.withInitial(() -> buffer(ROW_CHUNK * DEPTH));
    private static final ThreadLocal<MemorySegment> PACKED_B = ThreadLocal.withInitial(() -> buffer(DEPTH * COLUMN_CHUNK));
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[ROWS * PANEL]);

    private FloatGemm() {
    }

    private static MemorySegment buffer(int floats) {
        return Arena.ofAuto().allocate(floats * 4L, 64);
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
        for (int depth = 0; depth < k; depth += DEPTH) {
            int rows = Math.min(DEPTH, k - depth);
            boolean add = accumulate || depth > 0;
            float[] tile = TILE.get();
            if (m < PACKING_MIN_ROWS) {
                for (int column = 0; column < n; column += PANEL) {
                    for (int row = 0; row < m; row++) {
                        rowUnpacked(a, b, tile, c, row, depth, rows, column, n, add, integers);
                    }
                }
                continue;
            }
            MemorySegment packedA = PACKED_A.get();
            MemorySegment packedB = PACKED_B.get();
            for (int columns = 0; columns < n; columns += COLUMN_CHUNK) {
                int width = Math.min(COLUMN_CHUNK, n - columns);
                packB(b, depth, rows, columns, width, packedB);
                for (int chunk = 0; chunk < m; chunk += ROW_CHUNK) {
                    int height = Math.min(ROW_CHUNK, m - chunk);
                    packA(a, chunk, height, depth, rows, packedA);
                    for (int panel = 0; panel * PANEL < width; panel++) {
                        int column = columns + panel * PANEL;
                        for (int block = 0; block * ROWS < height; block++) {
                            kernel(packedA, block * ROWS * rows * 4L, packedB, panel * PANEL * rows * 4L, rows, tile, c,
                                    chunk + block * ROWS, Math.min(ROWS, height - block * ROWS), column, n, add, integers);
                        }
                    }
                }
            }
        }
    }

    /** Panel p of the chunk: packed[p·PANEL·rows + i·PANEL + j] = B[depth + i, columns + p·PANEL + j], zero past the chunk. */
    private static void packB(Matrix b, int depth, int rows, int columns, int width, MemorySegment packed) {
        MemorySegment segment = b.segment();
        for (int panel = 0; panel * PANEL < width; panel++) {
            int first = panel * PANEL;
            VectorMask<Float> mask0 = SPECIES.indexInRange(first, width);
            VectorMask<Float> mask1 = SPECIES.indexInRange(first + LANES, width);
            long to = first * rows * 4L;
            long from = b.byteAt(depth, columns + first);
            long rowBytes = b.rowStride() * 4;
            boolean whole = first + PANEL <= width;
            for (int i = 0; i < rows; i++, to += PANEL * 4L, from += rowBytes) {
                FloatVector first0 = whole ? FloatVector.fromMemorySegment(SPECIES, segment, from, Layouts.ORDER)
                        : FloatVector.fromMemorySegment(SPECIES, segment, from, Layouts.ORDER, mask0);
                FloatVector first1 = whole ? FloatVector.fromMemorySegment(SPECIES, segment, from + LANES * 4L, Layouts.ORDER)
                        : FloatVector.fromMemorySegment(SPECIES, segment, from + LANES * 4L, Layouts.ORDER, mask1);
                first0.intoMemorySegment(packed, to, Layouts.ORDER);
                first1.intoMemorySegment(packed, to + LANES * 4L, Layouts.ORDER);
            }
        }
    }

    /** Block q of the chunk: packed[q·ROWS·rows + i·ROWS + r] = A[first + q·ROWS + r, depth + i], zero past the chunk. */
    private static void packA(Matrix a, int first, int height, int depth, int rows, MemorySegment packed) {
        MemorySegment segment = a.segment();
        int blocks = Math.ceilDiv(height, ROWS);
        for (int block = 0; block < blocks; block++) {
            int base = block * ROWS * rows;
            for (int r = 0; r < ROWS; r++) {
                int row = block * ROWS + r;
                if (row >= height) {
                    for (int i = 0; i < rows; i++) {
                        packed.set(Layouts.FLOAT, (base + i * ROWS + r) * 4L, 0f);
                    }
                    continue;
                }
                long from = a.byteAt(first + row, depth);
                for (int i = 0; i < rows; i++) {
                    packed.set(Layouts.FLOAT, (base + i * ROWS + r) * 4L, segment.get(Layouts.FLOAT, from + i * 4L));
                }
            }
        }
    }

    /** C[row.., column..] (= or +=) six packed rows of A times a packed panel of B; only {@code valid} rows are stored. */
    private static void kernel(MemorySegment packedA, long aAt, MemorySegment packedB, long bAt, int rows, float[] tile,
            Matrix c, int row, int valid, int column, int n, boolean accumulate, boolean integers) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES), c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES), c31 = FloatVector.zero(SPECIES);
        FloatVector c40 = FloatVector.zero(SPECIES), c41 = FloatVector.zero(SPECIES);
        FloatVector c50 = FloatVector.zero(SPECIES), c51 = FloatVector.zero(SPECIES);
        long aEnd = aAt + rows * ROWS * 4L;
        for (long at = aAt, bt = bAt; at < aEnd; at += ROWS * 4, bt += PANEL * 4) {
            FloatVector b0 = FloatVector.fromMemorySegment(SPECIES, packedB, bt, Layouts.ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(SPECIES, packedB, bt + LANES * 4, Layouts.ORDER);
            FloatVector value = FloatVector.broadcast(SPECIES, packedA.get(Layouts.FLOAT, at));
            c00 = value.fma(b0, c00);
            c01 = value.fma(b1, c01);
            value = FloatVector.broadcast(SPECIES, packedA.get(Layouts.FLOAT, at + 4));
            c10 = value.fma(b0, c10);
            c11 = value.fma(b1, c11);
            value = FloatVector.broadcast(SPECIES, packedA.get(Layouts.FLOAT, at + 8));
            c20 = value.fma(b0, c20);
            c21 = value.fma(b1, c21);
            value = FloatVector.broadcast(SPECIES, packedA.get(Layouts.FLOAT, at + 12));
            c30 = value.fma(b0, c30);
            c31 = value.fma(b1, c31);
            value = FloatVector.broadcast(SPECIES, packedA.get(Layouts.FLOAT, at + 16));
            c40 = value.fma(b0, c40);
            c41 = value.fma(b1, c41);
            value = FloatVector.broadcast(SPECIES, packedA.get(Layouts.FLOAT, at + 20));
            c50 = value.fma(b0, c50);
            c51 = value.fma(b1, c51);
        }
        // The sums leave through an array: vectors passed to a method C2 does not inline would be boxed.
        c00.intoArray(tile, 0);
        c01.intoArray(tile, LANES);
        c10.intoArray(tile, PANEL);
        c11.intoArray(tile, PANEL + LANES);
        c20.intoArray(tile, 2 * PANEL);
        c21.intoArray(tile, 2 * PANEL + LANES);
        c30.intoArray(tile, 3 * PANEL);
        c31.intoArray(tile, 3 * PANEL + LANES);
        c40.intoArray(tile, 4 * PANEL);
        c41.intoArray(tile, 4 * PANEL + LANES);
        c50.intoArray(tile, 5 * PANEL);
        c51.intoArray(tile, 5 * PANEL + LANES);
        for (int r = 0; r < valid; r++) {
            store(tile, r * PANEL, c, row + r, column, n, accumulate, integers);
        }
    }

    /** One row of C by two vectors of columns, B read where it lies (masked in the last panel). */
    private static void rowUnpacked(Matrix a, Matrix b, float[] tile, Matrix c, int row, int depth, int rows, int column,
            int n, boolean accumulate, boolean integers) {
        VectorMask<Float> mask0 = SPECIES.indexInRange(column, n);
        VectorMask<Float> mask1 = SPECIES.indexInRange(column + LANES, n);
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
                sum1 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, bAt + LANES * 4L, Layouts.ORDER), sum1);
            }
        } else {
            for (int p = 0; p < rows; p++, bAt += bRow) {
                FloatVector value = FloatVector.broadcast(SPECIES, as.get(Layouts.FLOAT, aAt + p * 4L));
                sum0 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, bAt, Layouts.ORDER, mask0), sum0);
                sum1 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, bAt + LANES * 4L, Layouts.ORDER, mask1), sum1);
            }
        }
        sum0.intoArray(tile, 0);
        sum1.intoArray(tile, LANES);
        store(tile, 0, c, row, column, n, accumulate, integers);
    }

    /** C[row, column..] (= or +=) a panel's width of sums from {@code sums[from..]}, up to column n. */
    private static void store(float[] sums, int from, Matrix c, int row, int column, int n, boolean accumulate,
            boolean integers) {
        MemorySegment segment = c.segment();
        for (int half = 0; half < PANEL && column + half < n; half += LANES) {
            long at = c.byteAt(row, column + half);
            FloatVector value = FloatVector.fromArray(SPECIES, sums, from + half);
            boolean whole = column + half + LANES <= n;
            if (integers) {
                IntVector sum = (IntVector) value.convert(VectorOperators.F2I, 0);
                if (whole) {
                    if (accumulate) {
                        sum = sum.add(IntVector.fromMemorySegment(INT_SPECIES, segment, at, Layouts.ORDER));
                    }
                    sum.intoMemorySegment(segment, at, Layouts.ORDER);
                } else {
                    VectorMask<Integer> lanes = INT_SPECIES.indexInRange(column + half, n);
                    if (accumulate) {
                        sum = sum.add(IntVector.fromMemorySegment(INT_SPECIES, segment, at, Layouts.ORDER, lanes));
                    }
                    sum.intoMemorySegment(segment, at, Layouts.ORDER, lanes);
                }
            } else if (whole) {
                if (accumulate) {
                    value = value.add(FloatVector.fromMemorySegment(SPECIES, segment, at, Layouts.ORDER));
                }
                value.intoMemorySegment(segment, at, Layouts.ORDER);
            } else {
                VectorMask<Float> lanes = SPECIES.indexInRange(column + half, n);
                if (accumulate) {
                    value = value.add(FloatVector.fromMemorySegment(SPECIES, segment, at, Layouts.ORDER, lanes));
                }
                value.intoMemorySegment(segment, at, Layouts.ORDER, lanes);
            }
        }
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
