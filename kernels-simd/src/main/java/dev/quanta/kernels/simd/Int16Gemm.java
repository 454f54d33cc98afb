package dev.quanta.kernels.simd;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.LSHL;

import dev.quanta.tensor.Layouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact int8/uint8 products C = (A − zero points)·(B − zero points) into int32 for a constant B of
 * narrow range (ONNX Runtime's 7-bit weights), on 16-bit lane multiplies (vpmullw) where the
 * float GEMM ({@link FloatGemm#multiplyIntegers}) spends a float multiply-add on each product: on
 * AVX-512 the integer units take about 1.5 times as many products a second as the FMA units
 * (register-only loops, bench/RESULTS.md, ninth session).
 *
 * <p>A's values become a = value − 128 for uint8 (value for int8), in [−128, 127], and B's its
 * values less their zero points, at most {@link #WIDEST_B} in magnitude. B is packed so that a
 * 32-bit lane holds one column at two consecutive depths; one multiply of it by a broadcast pair of
 * A's values gives both products, one in each 16-bit half. Each half adds up {@link #STEPS} such
 * products in 16 bits, which B's range keeps from overflowing (so {@link #pack} refuses wider B),
 * before the halves are sign-extended and added into int32 sums. The column sums of B then give back the zero points:
 * Σ(x − zx)·b = Σa·b + (128 − zx)·Σb for uint8 x. Every step is exact in int32, whatever K.
 */
public final class Int16Gemm {

    private static final VectorSpecies<Integer> INT = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> SHORT = ShortVector.SPECIES_PREFERRED;
    private static final int LANES = INT.length();
    /** Bytes of A widened to one vector of 16-bit lanes. */
    private static final VectorSpecies<Byte> ROW_BYTES =
            ByteVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(SHORT.vectorBitSize() / 2));
    /** Rows of C per micro-kernel tile: four rows by two vectors measured fastest of the tiles C2 keeps in registers. */
    public static final int ROWS = 4;
    /** Columns of C per micro-kernel tile and per packed panel of B. */
    public static final int PANEL = 2 * LANES;
    /** Depth pairs whose products each 16-bit half sums before it is widened. */
    static final int STEPS = 3;
    /** B's largest magnitude less its zero point: {@link #STEPS} products with A's (up to 128) fit 16 bits. */
    static final int WIDEST_B = Short.MAX_VALUE / (STEPS * 128);
    /** Rows of A converted at a time, reused across every panel of B (fewer for a deep product). */
    private static final int ROW_CHUNK = 16 * ROWS;
    /** The most ints a chunk of A's converted rows takes (1 MiB), so that a very deep product keeps it small. */
    private static final int CHUNK_INTS = 1 << 18;
    private static final ThreadLocal<int[][]> ROWS_OF_A = ThreadLocal.withInitial(() -> new int[1][0]);
    private static final ThreadLocal<int[]> TILE = ThreadLocal.withInitial(() -> new int[ROWS * PANEL]);

    private Int16Gemm() {
    }

    /**
     * A constant B[k×n] packed for {@link #multiply}: panel p (columns p·PANEL..), depth pair s, is
     * PANEL 32-bit lanes, lane j holding column p·PANEL + j at depths 2s (low half) and 2s + 1, its
     * values less their zero points; zero past k and n. The pairs run to a whole number of
     * {@link #STEPS}.
     */
    public static final class Packed {
        private final MemorySegment data;
        private final int k;
        private final int n;
        private final int pairs;
        /** Per column (padded to whole panels): the sum of B's values less their zero point. */
        private final int[] columnSums;

        private Packed(MemorySegment data, int k, int n, int pairs, int[] columnSums) {
            this.data = data;
            this.k = k;
            this.n = n;
            this.pairs = pairs;
            this.columnSums = columnSums;
        }
    }

    /** Bytes {@link #pack} takes for a k×n B. */
    public static long packedBytes(int k, int n) {
        return (long) pairs(k) * Math.ceilDiv(n, PANEL) * PANEL * 4;
    }

    private static int pairs(int k) {
        return Math.ceilDiv(Math.ceilDiv(k, 2), STEPS) * STEPS;
    }

    /**
     * Packs a constant int8 or uint8 B[k×n] (zero points per tensor or per column), or returns null
     * when a value less its zero point exceeds {@link #WIDEST_B} in magnitude (full-range weights:
     * the float GEMM takes those).
     */
    public static Packed pack(FloatGemm.Int8Matrix b, int k, int n) {
        if (!b.perColumn() && b.zeroPoints().length != 1) {
            throw new IllegalArgumentException("B's zero points go per column");
        }
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) {
                if (Math.abs(b.shifted(p, j)) > WIDEST_B) {
                    return null;
                }
            }
        }
        int pairs = pairs(k);
        int panels = Math.ceilDiv(n, PANEL);
        MemorySegment data = Arena.ofAuto().allocate(Math.max(4, packedBytes(k, n)), 64);
        int[] columnSums = new int[panels * PANEL];
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) {
                int value = (int) b.shifted(p, j);
                columnSums[j] += value;
                long lane = ((long) j / PANEL * pairs + p / 2) * PANEL + j % PANEL;
                data.set(Layouts.INT16, lane * 4 + p % 2 * 2, (short) value);
            }
        }
        return new Packed(data, k, n, pairs, columnSums);
    }

    /**
     * C[m×n] = (A − zero points)·(B − zero points), columns {@code firstColumn..} (a multiple of
     * {@link #PANEL}) of a packed B, A's zero points per tensor or per row; int32 sums, or floats
     * through {@code then} when it is not null.
     */
    public static void multiply(FloatGemm.Int8Matrix a, Packed b, int firstColumn, FloatGemm.Matrix c, int m, int n,
            int k, FloatGemm.Dequantization then) {
        if (a.perColumn()) {
            throw new IllegalArgumentException("A's zero points go per row");
        }
        if (firstColumn % PANEL != 0 || k != b.k || firstColumn + n > b.n) {
            throw new IllegalArgumentException("columns " + firstColumn + ".." + (firstColumn + n) + " at depth " + k
                    + " of a packed " + b.k + "×" + b.n + " B, from a multiple of " + PANEL);
        }
        int chunkRows = Math.clamp(CHUNK_INTS / Math.max(1, b.pairs) / ROWS * ROWS, ROWS, ROW_CHUNK);
        int[] rows = rowsOfA(chunkRows * b.pairs);
        int[] tile = TILE.get();
        for (int chunk = 0; chunk < m; chunk += chunkRows) {
            int height = Math.min(chunkRows, m - chunk);
            for (int r = 0; r < Math.ceilDiv(height, ROWS) * ROWS; r++) {
                convertRow(a, chunk + r, r < height, k, rows, r * b.pairs, b.pairs);
            }
            for (int column = 0; column < n; column += PANEL) {
                long bAt = (long) (firstColumn + column) / PANEL * b.pairs * PANEL * 4;
                for (int block = 0; block < height; block += ROWS) {
                    kernel(rows, block * b.pairs, b.pairs, b.data, bAt, tile);
                    store(tile, Math.min(ROWS, height - block), a, b, firstColumn, c, chunk + block, column, n, then);
                }
            }
        }
    }

    private static int[] rowsOfA(int pairs) {
        int[][] held = ROWS_OF_A.get();
        if (held[0].length < pairs) {
            held[0] = new int[pairs];
        }
        return held[0];
    }

    /**
     * Row {@code row} of A as pairs of 16-bit values in ints (value − 128 for uint8, value for int8;
     * the even depth in the low half), zero past k and for a row past A's ({@code present} false),
     * filling {@code pairs} ints from {@code at}.
     */
    private static void convertRow(FloatGemm.Int8Matrix a, int row, boolean present, int k, int[] rows, int at,
            int pairs) {
        int p = 0;
        if (present) {
            MemorySegment segment = Segments.exact(a.segment());
            long from = a.byteAt(row, 0);
            // uint8 less 128 is its bits with the sign flipped, read as int8.
            byte flip = (byte) (a.unsigned() ? 0x80 : 0);
            for (; p + SHORT.length() <= k; p += SHORT.length()) {
                ((ShortVector) ByteVector.fromMemorySegment(ROW_BYTES, segment, from + p, Layouts.ORDER)
                        .lanewise(VectorOperators.XOR, flip).convertShape(VectorOperators.B2S, SHORT, 0))
                        .reinterpretAsInts().intoArray(rows, at + p / 2);
            }
            for (; p < k; p += 2) {
                int even = (byte) (segment.get(ValueLayout.JAVA_BYTE, from + p) ^ flip);
                int odd = p + 1 < k ? (byte) (segment.get(ValueLayout.JAVA_BYTE, from + p + 1) ^ flip) : 0;
                rows[at + p / 2] = even & 0xFFFF | odd << 16;
            }
        }
        Arrays.fill(rows, at + p / 2, at + pairs, 0);
    }

    /**
     * tile[r·PANEL + j] = Σ a·b of the block's row r and the panel's column j, over all of K: four
     * rows of A (their pairs of 16-bit values from {@code rows[a0]}, each {@code pairs} after the
     * last) by one packed panel. A is read from a heap array: read from a segment, in a JVM that had
     * run the M = 1 products of {@code quanta bench-ops --int8} first, the kernel ran at a fifth of its
     * speed (21–27 GOP/s against 111–115, one thread), the segment reads' shared profile presumably
     * polluted. Written out for {@link #STEPS} = 3: with a loop over the steps, or with more rows, C2 kept
     * fewer vectors in registers and the kernel ran 12% slower, or a hundred times slower.
     */
    private static void kernel(int[] rows, int a0, int pairs, MemorySegment packed, long bAt, int[] tile) {
        packed = Segments.exact(packed);
        IntVector s00 = IntVector.zero(INT), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        int a1 = a0 + pairs, a2 = a1 + pairs, a3 = a2 + pairs;
        long stepBytes = PANEL * 4L;
        for (int p = 0; p < pairs; p += STEPS, bAt += STEPS * stepBytes) {
            ShortVector b0 = ShortVector.fromMemorySegment(SHORT, packed, bAt, Layouts.ORDER);
            ShortVector b1 = ShortVector.fromMemorySegment(SHORT, packed, bAt + LANES * 4, Layouts.ORDER);
            ShortVector a = IntVector.broadcast(INT, rows[a0 + p]).reinterpretAsShorts();
            ShortVector t00 = a.mul(b0), t01 = a.mul(b1);
            a = IntVector.broadcast(INT, rows[a1 + p]).reinterpretAsShorts();
            ShortVector t10 = a.mul(b0), t11 = a.mul(b1);
            a = IntVector.broadcast(INT, rows[a2 + p]).reinterpretAsShorts();
            ShortVector t20 = a.mul(b0), t21 = a.mul(b1);
            a = IntVector.broadcast(INT, rows[a3 + p]).reinterpretAsShorts();
            ShortVector t30 = a.mul(b0), t31 = a.mul(b1);

            b0 = ShortVector.fromMemorySegment(SHORT, packed, bAt + stepBytes, Layouts.ORDER);
            b1 = ShortVector.fromMemorySegment(SHORT, packed, bAt + stepBytes + LANES * 4, Layouts.ORDER);
            a = IntVector.broadcast(INT, rows[a0 + p + 1]).reinterpretAsShorts();
            t00 = t00.add(a.mul(b0));
            t01 = t01.add(a.mul(b1));
            a = IntVector.broadcast(INT, rows[a1 + p + 1]).reinterpretAsShorts();
            t10 = t10.add(a.mul(b0));
            t11 = t11.add(a.mul(b1));
            a = IntVector.broadcast(INT, rows[a2 + p + 1]).reinterpretAsShorts();
            t20 = t20.add(a.mul(b0));
            t21 = t21.add(a.mul(b1));
            a = IntVector.broadcast(INT, rows[a3 + p + 1]).reinterpretAsShorts();
            t30 = t30.add(a.mul(b0));
            t31 = t31.add(a.mul(b1));

            b0 = ShortVector.fromMemorySegment(SHORT, packed, bAt + 2 * stepBytes, Layouts.ORDER);
            b1 = ShortVector.fromMemorySegment(SHORT, packed, bAt + 2 * stepBytes + LANES * 4, Layouts.ORDER);
            a = IntVector.broadcast(INT, rows[a0 + p + 2]).reinterpretAsShorts();
            t00 = t00.add(a.mul(b0));
            t01 = t01.add(a.mul(b1));
            a = IntVector.broadcast(INT, rows[a1 + p + 2]).reinterpretAsShorts();
            t10 = t10.add(a.mul(b0));
            t11 = t11.add(a.mul(b1));
            a = IntVector.broadcast(INT, rows[a2 + p + 2]).reinterpretAsShorts();
            t20 = t20.add(a.mul(b0));
            t21 = t21.add(a.mul(b1));
            a = IntVector.broadcast(INT, rows[a3 + p + 2]).reinterpretAsShorts();
            t30 = t30.add(a.mul(b0));
            t31 = t31.add(a.mul(b1));

            // Each lane's halves, sign-extended, added: the low half by shifting it up and back.
            IntVector v = t00.reinterpretAsInts();
            s00 = s00.add(v.lanewise(LSHL, 16).lanewise(ASHR, 16).add(v.lanewise(ASHR, 16)));
            v = t01.reinterpretAsInts();
            s01 = s01.add(v.lanewise(LSHL, 16).lanewise(ASHR, 16).add(v.lanewise(ASHR, 16)));
            v = t10.reinterpretAsInts();
            s10 = s10.add(v.lanewise(LSHL, 16).lanewise(ASHR, 16).add(v.lanewise(ASHR, 16)));
            v = t11.reinterpretAsInts();
            s11 = s11.add(v.lanewise(LSHL, 16).lanewise(ASHR, 16).add(v.lanewise(ASHR, 16)));
            v = t20.reinterpretAsInts();
            s20 = s20.add(v.lanewise(LSHL, 16).lanewise(ASHR, 16).add(v.lanewise(ASHR, 16)));
            v = t21.reinterpretAsInts();
            s21 = s21.add(v.lanewise(LSHL, 16).lanewise(ASHR, 16).add(v.lanewise(ASHR, 16)));
            v = t30.reinterpretAsInts();
            s30 = s30.add(v.lanewise(LSHL, 16).lanewise(ASHR, 16).add(v.lanewise(ASHR, 16)));
            v = t31.reinterpretAsInts();
            s31 = s31.add(v.lanewise(LSHL, 16).lanewise(ASHR, 16).add(v.lanewise(ASHR, 16)));
        }
        s00.intoArray(tile, 0);
        s01.intoArray(tile, LANES);
        s10.intoArray(tile, PANEL);
        s11.intoArray(tile, PANEL + LANES);
        s20.intoArray(tile, 2 * PANEL);
        s21.intoArray(tile, 2 * PANEL + LANES);
        s30.intoArray(tile, 3 * PANEL);
        s31.intoArray(tile, 3 * PANEL + LANES);
    }

    /** The tile's first {@code valid} rows into C from (row, column), the zero points' terms added back. */
    private static void store(int[] tile, int valid, FloatGemm.Int8Matrix a, Packed b, int firstColumn,
            FloatGemm.Matrix c, int row, int column, int n, FloatGemm.Dequantization then) {
        MemorySegment segment = Segments.exact(c.segment());
        int offset = a.unsigned() ? 128 : 0;
        for (int r = 0; r < valid; r++) {
            int zeroTerm = offset - a.zeroPoint(row + r);
            for (int half = 0; half < PANEL && column + half < n; half += LANES) {
                int at = r * PANEL + half;
                IntVector.fromArray(INT, b.columnSums, firstColumn + column + half).mul(zeroTerm)
                        .add(IntVector.fromArray(INT, tile, at)).intoArray(tile, at);
                FloatGemm.storeSums(tile, at, segment, c.byteAt(row + r, column + half), column + half, n, then,
                        firstColumn + column + half);
            }
        }
    }
}
