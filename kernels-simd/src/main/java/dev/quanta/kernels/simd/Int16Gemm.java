package dev.quanta.kernels.simd;

import dev.quanta.tensor.Layouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * AVX-512 the integer units take about 1.6 times as many products a second as the FMA units
 * (register-only loops, bench/RESULTS.md, ninth session).
 *
 * <p>A's values become a = value − 128 for uint8 (value for int8), in [−128, 127], and B's its
 * values less their zero points, at most {@link #WIDEST_B} in magnitude. B is packed so that a 32-bit lane holds one column at two
 * consecutive depths; one multiply of it by a broadcast pair of A's values gives both products,
 * one in each 16-bit half. Each half adds up {@link #STEPS} such products in 16 bits, which B's
 * range keeps from overflowing (so {@link #pack} refuses wider B), before the halves are
 * sign-extended and added into int32 sums. The column sums of B then give back the zero points:
 * Σ(x − zx)·b = Σa·b + (128 − zx)·Σb for uint8 x. Every step is exact in int32, whatever K.
 */
public final class Int16Gemm {

    private static final VectorSpecies<Integer> INT = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> SHORT = ShortVector.SPECIES_PREFERRED;
    private static final int LANES = INT.length();
    /** Bytes of A widened to one vector of 16-bit lanes. */
    private static final VectorSpecies<Byte> ROW_BYTES =
            ByteVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(SHORT.vectorBitSize() / 2));
    /** Rows of C per micro-kernel tile. Four rows by two vectors measured fastest of the tiles that C2 keeps in registers. */
    public static final int ROWS = 4;
    /** Columns of C per micro-kernel tile and per packed panel of B. */
    public static final int PANEL = 2 * LANES;
    /** Depth pairs whose products each 16-bit half sums before it is widened. */
    static final int STEPS = 3;
    /** B's largest magnitude (less its zero point): {@link #STEPS} products with A's (up to 128) stay within 16 bits. */
    static final int WIDEST_B = Short.MAX_VALUE / (STEPS * 128);
    /** Rows of A converted at a time, reused across every panel of B. */
    private static final int ROW_CHUNK = 16 * ROWS;
    private static final ThreadLocal<MemorySegment[]> ROWS_OF_A = ThreadLocal.withInitial(() -> new MemorySegment[1]);
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
        long rowBytes = b.pairs * 4L;
        MemorySegment rows = rowsOfA(ROW_CHUNK * rowBytes);
        int[] tile = TILE.get();
        for (int chunk = 0; chunk < m; chunk += ROW_CHUNK) {
            int height = Math.min(ROW_CHUNK, m - chunk);
            for (int r = 0; r < Math.ceilDiv(height, ROWS) * ROWS; r++) {
                convertRow(a, chunk + r, r < height, k, rows, r * rowBytes, rowBytes);
            }
            for (int column = 0; column < n; column += PANEL) {
                long bAt = (long) (firstColumn + column) / PANEL * b.pairs * PANEL * 4;
                for (int block = 0; block < height; block += ROWS) {
                    kernel(rows, block * rowBytes, rowBytes, b.data, bAt, b.pairs, tile);
                    store(tile, Math.min(ROWS, height - block), a, b, firstColumn, c, chunk + block, column, n, then);
                }
            }
        }
    }

    private static MemorySegment rowsOfA(long bytes) {
        MemorySegment[] held = ROWS_OF_A.get();
        if (held[0] == null || held[0].byteSize() < bytes) {
            held[0] = Arena.ofAuto().allocate(bytes, 64);
        }
        return held[0];
    }

    /**
     * Row {@code row} of A as 16-bit values: value − 128 for uint8, value for int8; zero past k
     * and for a row past A's ({@code present} false), filling {@code rowBytes} from {@code at}.
     */
    private static void convertRow(FloatGemm.Int8Matrix a, int row, boolean present, int k, MemorySegment rows,
            long at, long rowBytes) {
        rows = Segments.exact(rows);
        int p = 0;
        if (present) {
            MemorySegment segment = Segments.exact(a.segment());
            long from = a.byteAt(row, 0);
            // uint8 less 128 is its bits with the sign flipped, read as int8.
            byte flip = (byte) (a.unsigned() ? 0x80 : 0);
            for (; p + SHORT.length() <= k; p += SHORT.length()) {
                ByteVector.fromMemorySegment(ROW_BYTES, segment, from + p, Layouts.ORDER).lanewise(VectorOperators.XOR, flip)
                        .convertShape(VectorOperators.B2S, SHORT, 0).intoMemorySegment(rows, at + 2L * p, Layouts.ORDER);
            }
            for (; p < k; p++) {
                byte value = (byte) (segment.get(ValueLayout.JAVA_BYTE, from + p) ^ flip);
                rows.set(Layouts.INT16, at + 2L * p, value);
            }
        }
        rows.asSlice(at + 2L * p, rowBytes - 2L * p).fill((byte) 0);
    }

    /**
     * tile[r·PANEL + j] = Σ a·b of the block's row r and the panel's column j, over all of K: four
     * rows of A (each {@code rowBytes} after the last, pairs of 16-bit values) by one packed panel.
     * Written out for {@link #STEPS} = 3: with a loop over the steps, or with more rows, C2 kept
     * fewer vectors in registers and the kernel ran 12% slower, or a hundred times slower.
     */
    private static void kernel(MemorySegment rows, long aAt, long rowBytes, MemorySegment packed, long bAt, int pairs,
            int[] tile) {
        rows = Segments.exact(rows);
        packed = Segments.exact(packed);
        IntVector s00 = IntVector.zero(INT), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        long a1 = rowBytes, a2 = 2 * rowBytes, a3 = 3 * rowBytes;
        long stepBytes = PANEL * 4L;
        for (long end = aAt + pairs * 4L; aAt < end; aAt += STEPS * 4, bAt += STEPS * stepBytes) {
            ShortVector b0 = ShortVector.fromMemorySegment(SHORT, packed, bAt, Layouts.ORDER);
            ShortVector b1 = ShortVector.fromMemorySegment(SHORT, packed, bAt + LANES * 4, Layouts.ORDER);
            ShortVector a = IntVector.broadcast(INT, rows.get(Layouts.INT32, aAt)).reinterpretAsShorts();
            ShortVector t00 = a.mul(b0), t01 = a.mul(b1);
            a = IntVector.broadcast(INT, rows.get(Layouts.INT32, aAt + a1)).reinterpretAsShorts();
            ShortVector t10 = a.mul(b0), t11 = a.mul(b1);
            a = IntVector.broadcast(INT, rows.get(Layouts.INT32, aAt + a2)).reinterpretAsShorts();
            ShortVector t20 = a.mul(b0), t21 = a.mul(b1);
            a = IntVector.broadcast(INT, rows.get(Layouts.INT32, aAt + a3)).reinterpretAsShorts();
            ShortVector t30 = a.mul(b0), t31 = a.mul(b1);

            b0 = ShortVector.fromMemorySegment(SHORT, packed, bAt + stepBytes, Layouts.ORDER);
            b1 = ShortVector.fromMemorySegment(SHORT, packed, bAt + stepBytes + LANES * 4, Layouts.ORDER);
            a = IntVector.broadcast(INT, rows.get(Layouts.INT32, aAt + 4)).reinterpretAsShorts();
            t00 = t00.add(a.mul(b0));
            t01 = t01.add(a.mul(b1));
            a = IntVector.broadcast(INT, rows.get(Layouts.INT32, aAt + a1 + 4)).reinterpretAsShorts();
            t10 = t10.add(a.mul(b0));
            t11 = t11.add(a.mul(b1));
            a = IntVector.broadcast(INT, rows.get(Layouts.INT32, aAt + a2 + 4)).reinterpretAsShorts();
            t20 = t20.add(a.mul(b0));
            t21 = t21.add(a.mul(b1));
            a = IntVector.broadcast(INT, rows.get(Layouts.INT32, aAt + a3 + 4)).reinterpretAsShorts();
            t30 = t30.add(a.mul(b0));
            t31 = t31.add(a.mul(b1));

            b0 = ShortVector.fromMemorySegment(SHORT, packed, bAt + 2 * stepBytes, Layouts.ORDER);
            b1 = ShortVector.fromMemorySegment(SHORT, packed, bAt + 2 * stepBytes + LANES * 4, Layouts.ORDER);
            a = IntVector.broadcast(INT, rows.get(Layouts.INT32, aAt + 8)).reinterpretAsShorts();
            t00 = t00.add(a.mul(b0));
            t01 = t01.add(a.mul(b1));
            a = IntVector.broadcast(INT, rows.get(Layouts.INT32, aAt + a1 + 8)).reinterpretAsShorts();
            t10 = t10.add(a.mul(b0));
            t11 = t11.add(a.mul(b1));
            a = IntVector.broadcast(INT, rows.get(Layouts.INT32, aAt + a2 + 8)).reinterpretAsShorts();
            t20 = t20.add(a.mul(b0));
            t21 = t21.add(a.mul(b1));
            a = IntVector.broadcast(INT, rows.get(Layouts.INT32, aAt + a3 + 8)).reinterpretAsShorts();
            t30 = t30.add(a.mul(b0));
            t31 = t31.add(a.mul(b1));

            // Each lane's halves, sign-extended, added: the low half by shifting it up and back.
            IntVector v = t00.reinterpretAsInts();
            s00 = s00.add(v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16)));
            v = t01.reinterpretAsInts();
            s01 = s01.add(v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16)));
            v = t10.reinterpretAsInts();
            s10 = s10.add(v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16)));
            v = t11.reinterpretAsInts();
            s11 = s11.add(v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16)));
            v = t20.reinterpretAsInts();
            s20 = s20.add(v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16)));
            v = t21.reinterpretAsInts();
            s21 = s21.add(v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16)));
            v = t30.reinterpretAsInts();
            s30 = s30.add(v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16)));
            v = t31.reinterpretAsInts();
            s31 = s31.add(v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16)));
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
