package dev.quanta.kernels.simd;

import dev.quanta.tensor.Layouts;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact int8/uint8 products of a few rows of A (M = 1 above all: decoding) with a constant B, in
 * int32 arithmetic on 16-bit lane multiplies, reading B as bytes: a quarter of what the float GEMM's
 * packed B streams, where few rows make the product memory-bound. (B packed as 16-bit values saves
 * the mask or shift that unpacks two columns from a lane, and was 4% faster on a Zen 3 with a 512 KB
 * L2; on a Zen 4 with 1 MB of L2 the bytes of 1×384×1536 stay there and took 13.2–13.5 µs on one
 * thread against 16.4–17.0, and two threads on fixed halves 6.9–7.5 µs against 7.3–8.5.)
 *
 * <p>Every value is first made non-negative: A's by adding 128 when it is signed, B's by taking off
 * its smallest value. Products of two such bytes then fit 16 unsigned bits. B is packed so that one
 * 16-bit multiply (vpmullw) of a vector of B by a broadcast pair of A's values gives, in each 32-bit
 * lane, the products of one column at two consecutive depths, one in each half. Lanes add up in
 * int32 modulo 2^32, their upper halves (shifted down) apart, and the products' sum is the lanes'
 * sum less 65535 times the upper halves' sum. When B's values span at most {@link #NARROW_SPAN}
 * (the 7-bit weights of ONNX Runtime's quantizer with {@code reduce_range}), products stay below
 * 2^15, so two lanes add without a carry between halves before one shift serves both. The offsets
 * and the zero points come off at the end through the row and column sums; every step is exact
 * modulo 2^32, so the int32 result is, whatever K.
 */
public final class Int8Gemv {

    private static final VectorSpecies<Integer> INT = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> SHORT = ShortVector.SPECIES_PREFERRED;
    private static final int LANES = INT.length();
    /** Bytes of A widened to a vector of 16-bit lanes: two per int lane. */
    private static final VectorSpecies<Byte> ROW_BYTES =
            ByteVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(INT.vectorBitSize() / 2));
    /** Columns per strip: four vectors of int sums, from two vectors of bytes a pair of depths. */
    public static final int STRIP = 4 * LANES;
    /** One strip at four depths: four vectors of 16-bit lanes, each holding two bytes of B. */
    private static final int QUAD_SHORTS = 4 * SHORT.length();
    /** B's widest span of values (largest less smallest) whose products with any byte stay below 2^15. */
    static final int NARROW_SPAN = 128;
    private static final ThreadLocal<int[]> SUMS = ThreadLocal.withInitial(() -> new int[STRIP]);
    private static final ThreadLocal<int[]> PAIRS = ThreadLocal.withInitial(() -> new int[0]);

    private Int8Gemv() {
    }

    /**
     * A constant B[k×n] packed for {@link #multiply}. Strip s at depths 4q..4q+3 is a block of four
     * vectors: vector 2g + t holds depths 4q + 2t + h (h = 0, 1, adjacent 16-bit lanes) of the
     * columns 2g·LANES + c (low bytes) and 2g·LANES + LANES + c (high bytes), c below LANES. Past
     * k and n the bytes are zero.
     */
    public static final class Packed {
        private final short[] data;
        private final int k;
        private final int n;
        private final int quads;
        private final boolean narrow;
        /**
         * Per column (padded to whole strips): the sum of B's values plus the offset that made them
         * non-negative, and its zero point plus that offset.
         */
        private final int[] columnSums;
        private final int[] zeroPoints;

        private Packed(short[] data, int k, int n, boolean narrow, int[] columnSums, int[] zeroPoints) {
            this.data = data;
            this.k = k;
            this.n = n;
            this.quads = Math.ceilDiv(k, 4);
            this.narrow = narrow;
            this.columnSums = columnSums;
            this.zeroPoints = zeroPoints;
        }

        /** Whether B's span lets two lanes of products add before their upper halves are taken. */
        public boolean narrow() {
            return narrow;
        }
    }

    /** Packs a constant int8 or uint8 B[k×n], zero points per tensor or per column, for any number of products. */
    public static Packed pack(FloatGemm.Int8Matrix b, int k, int n) {
        if (!b.perColumn() && b.zeroPoints().length != 1) {
            throw new IllegalArgumentException("B's zero points go per column");
        }
        int smallest = Integer.MAX_VALUE;
        int largest = Integer.MIN_VALUE;
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) {
                int value = value(b, p, j);
                smallest = Math.min(smallest, value);
                largest = Math.max(largest, value);
            }
        }
        int offset = k == 0 || n == 0 ? 0 : -smallest;
        int strips = Math.ceilDiv(n, STRIP);
        int quads = Math.ceilDiv(k, 4);
        long size = (long) strips * quads * QUAD_SHORTS;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a " + k + "×" + n + " B is too large to pack in one array");
        }
        short[] data = new short[(int) size];
        int[] columnSums = new int[strips * STRIP];
        int[] zeroPoints = new int[strips * STRIP];
        for (int j = 0; j < n; j++) {
            zeroPoints[j] = b.zeroPoint(j) + offset;
        }
        // B read row by row, as it lies; each byte goes to its strip, depth and lane.
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) {
                int value = value(b, p, j) + offset;
                columnSums[j] += value;
                int group = j % STRIP / (2 * LANES);
                int high = j % (2 * LANES) / LANES;
                int lane = j % LANES;
                int vector = (j / STRIP * quads + p / 4) * 4 + 2 * group + p % 4 / 2;
                data[vector * SHORT.length() + 2 * lane + p % 2] |= (short) ((value & 0xFF) << 8 * high);
            }
        }
        return new Packed(data, k, n, largest - smallest <= NARROW_SPAN, columnSums, zeroPoints);
    }

    private static int value(FloatGemm.Int8Matrix b, int row, int column) {
        byte value = b.segment().get(ValueLayout.JAVA_BYTE, b.byteAt(row, column));
        return b.unsigned() ? value & 0xFF : value;
    }

    /**
     * C[m×n] = (A − zero points)·(B − zero points) in int32, columns {@code firstColumn..} (a multiple
     * of {@link #STRIP}) of a packed B; A's zero points per tensor or per row.
     */
    public static void multiply(FloatGemm.Int8Matrix a, Packed b, int firstColumn, FloatGemm.Matrix c, int m, int n,
            int k) {
        if (a.perColumn()) {
            throw new IllegalArgumentException("A's zero points go per row");
        }
        if (firstColumn % STRIP != 0 || k != b.k || firstColumn + n > b.n) {
            throw new IllegalArgumentException("columns " + firstColumn + ".." + (firstColumn + n) + " at depth " + k
                    + " of a packed " + b.k + "×" + b.n + " B, from a multiple of " + STRIP);
        }
        int[] pairs = PAIRS.get();
        if (pairs.length < 2 * b.quads) {
            pairs = new int[2 * b.quads];
            PAIRS.set(pairs);
        }
        int aOffset = a.unsigned() ? 0 : 128;
        for (int row = 0; row < m; row++) {
            int rowSum = pairs(a, row, k, aOffset, pairs, 0, 2 * b.quads);
            int zeroPoint = a.zeroPoint(row) + aOffset;
            // Σ(a − za)(b − zb) = Σab − za·Σb − zb·(Σa − k·za), with offset values and zero points alike.
            int rowTerm = rowSum - k * zeroPoint;
            for (int column = 0; column < n; column += STRIP) {
                strip(pairs, b, firstColumn + column, zeroPoint, rowTerm, c, row, column, n);
            }
        }
    }

    /**
     * Fills {@code pairs[at..at + count)} with A's row two values a 32-bit lane (the even depth in
     * the low half), each plus {@code shift} (−128, 0 or 128: 128 makes int8 non-negative, −128 makes
     * uint8 signed), as 16-bit values, zero past k, and returns their sum. Bytes widened to 16-bit
     * lanes are already those pairs.
     */
    static int pairs(FloatGemm.Int8Matrix a, int row, int k, int shift, int[] pairs, int at, int count) {
        MemorySegment segment = Segments.exact(a.segment());
        long from = a.byteAt(row, 0);
        // Adding ±128 to a byte is flipping its sign bit and reading it the other way.
        byte flip = (byte) (shift == 0 ? 0 : 0x80);
        boolean signed = (a.unsigned() ? 0 : -128) + shift < 0;
        VectorOperators.Conversion<Byte, Short> widen = signed ? VectorOperators.B2S : VectorOperators.ZERO_EXTEND_B2S;
        IntVector lows = IntVector.zero(INT);
        IntVector highs = lows;
        int p = 0;
        for (; p + 2 * LANES <= k; p += 2 * LANES) {
            IntVector two = ((ShortVector) ByteVector.fromMemorySegment(ROW_BYTES, segment, from + p, Layouts.ORDER)
                    .lanewise(VectorOperators.XOR, flip).convertShape(widen, SHORT, 0)).reinterpretAsInts();
            two.intoArray(pairs, at + p / 2);
            if (signed) {
                lows = lows.add(two.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                highs = highs.add(two.lanewise(VectorOperators.ASHR, 16));
            } else {
                lows = lows.add(two.and(0xFFFF));
                highs = highs.add(two.lanewise(VectorOperators.LSHR, 16));
            }
        }
        int sum = lows.add(highs).reduceLanes(VectorOperators.ADD);
        for (; p < 2 * count; p += 2) {
            int even = p < k ? value(a, row, p) + shift : 0;
            int odd = p + 1 < k ? value(a, row, p + 1) + shift : 0;
            pairs[at + p / 2] = even & 0xFFFF | odd << 16;
            sum += even + odd;
        }
        return sum;
    }

    /**
     * One strip of C's row. The narrow and the wide loop differ only in how they add the upper
     * halves; written as one loop with the test inside, C2's first (on-stack) compilation ran both
     * at full speed but its standard one made the wide loop half as fast (measured in a throwaway
     * loop at 1×384×1536), so each is written out.
     */
    private static void strip(int[] pairs, Packed b, int bColumn, int zeroPoint, int rowTerm, FloatGemm.Matrix c,
            int row, int column, int n) {
        IntVector sum0 = IntVector.zero(INT), sum1 = sum0, sum2 = sum0, sum3 = sum0;
        IntVector high0 = sum0, high1 = sum0, high2 = sum0, high3 = sum0;
        short[] data = b.data;
        int at = bColumn / STRIP * b.quads * QUAD_SHORTS;
        // Each step: the low and the high bytes of each 16-bit lane of B are the columns of two vectors
        // of sums; "a" products take the even pair of depths, "b" products the odd pair.
        if (b.narrow) {
            for (int q = 0; q < b.quads; q++, at += QUAD_SHORTS) {
                ShortVector even = IntVector.broadcast(INT, pairs[2 * q]).reinterpretAsShorts();
                ShortVector odd = IntVector.broadcast(INT, pairs[2 * q + 1]).reinterpretAsShorts();
                ShortVector evenLow = ShortVector.fromArray(SHORT, data, at);
                ShortVector oddLow = ShortVector.fromArray(SHORT, data, at + SHORT.length());
                ShortVector evenHigh = ShortVector.fromArray(SHORT, data, at + 2 * SHORT.length());
                ShortVector oddHigh = ShortVector.fromArray(SHORT, data, at + 3 * SHORT.length());
                IntVector s0 = evenLow.and((short) 0xFF).mul(even).add(oddLow.and((short) 0xFF).mul(odd)).reinterpretAsInts();
                IntVector s1 = evenLow.lanewise(VectorOperators.LSHR, 8).mul(even)
                        .add(oddLow.lanewise(VectorOperators.LSHR, 8).mul(odd)).reinterpretAsInts();
                IntVector s2 = evenHigh.and((short) 0xFF).mul(even).add(oddHigh.and((short) 0xFF).mul(odd)).reinterpretAsInts();
                IntVector s3 = evenHigh.lanewise(VectorOperators.LSHR, 8).mul(even)
                        .add(oddHigh.lanewise(VectorOperators.LSHR, 8).mul(odd)).reinterpretAsInts();
                sum0 = sum0.add(s0);
                sum1 = sum1.add(s1);
                sum2 = sum2.add(s2);
                sum3 = sum3.add(s3);
                high0 = high0.add(s0.lanewise(VectorOperators.LSHR, 16));
                high1 = high1.add(s1.lanewise(VectorOperators.LSHR, 16));
                high2 = high2.add(s2.lanewise(VectorOperators.LSHR, 16));
                high3 = high3.add(s3.lanewise(VectorOperators.LSHR, 16));
            }
        } else {
            for (int q = 0; q < b.quads; q++, at += QUAD_SHORTS) {
                ShortVector even = IntVector.broadcast(INT, pairs[2 * q]).reinterpretAsShorts();
                ShortVector odd = IntVector.broadcast(INT, pairs[2 * q + 1]).reinterpretAsShorts();
                ShortVector evenLow = ShortVector.fromArray(SHORT, data, at);
                ShortVector oddLow = ShortVector.fromArray(SHORT, data, at + SHORT.length());
                ShortVector evenHigh = ShortVector.fromArray(SHORT, data, at + 2 * SHORT.length());
                ShortVector oddHigh = ShortVector.fromArray(SHORT, data, at + 3 * SHORT.length());
                IntVector a0 = evenLow.and((short) 0xFF).mul(even).reinterpretAsInts();
                IntVector b0 = oddLow.and((short) 0xFF).mul(odd).reinterpretAsInts();
                IntVector a1 = evenLow.lanewise(VectorOperators.LSHR, 8).mul(even).reinterpretAsInts();
                IntVector b1 = oddLow.lanewise(VectorOperators.LSHR, 8).mul(odd).reinterpretAsInts();
                IntVector a2 = evenHigh.and((short) 0xFF).mul(even).reinterpretAsInts();
                IntVector b2 = oddHigh.and((short) 0xFF).mul(odd).reinterpretAsInts();
                IntVector a3 = evenHigh.lanewise(VectorOperators.LSHR, 8).mul(even).reinterpretAsInts();
                IntVector b3 = oddHigh.lanewise(VectorOperators.LSHR, 8).mul(odd).reinterpretAsInts();
                sum0 = sum0.add(a0.add(b0));
                sum1 = sum1.add(a1.add(b1));
                sum2 = sum2.add(a2.add(b2));
                sum3 = sum3.add(a3.add(b3));
                high0 = high0.add(a0.lanewise(VectorOperators.LSHR, 16)).add(b0.lanewise(VectorOperators.LSHR, 16));
                high1 = high1.add(a1.lanewise(VectorOperators.LSHR, 16)).add(b1.lanewise(VectorOperators.LSHR, 16));
                high2 = high2.add(a2.lanewise(VectorOperators.LSHR, 16)).add(b2.lanewise(VectorOperators.LSHR, 16));
                high3 = high3.add(a3.lanewise(VectorOperators.LSHR, 16)).add(b3.lanewise(VectorOperators.LSHR, 16));
            }
        }
        // The products' sums (lanes less 65535·highs), through an array: a helper taking vectors is
        // not always inlined, and then the loop's vectors were boxed (ten times slower, measured).
        int[] sums = SUMS.get();
        sum0.sub(high0.lanewise(VectorOperators.LSHL, 16)).add(high0).intoArray(sums, 0);
        sum1.sub(high1.lanewise(VectorOperators.LSHL, 16)).add(high1).intoArray(sums, LANES);
        sum2.sub(high2.lanewise(VectorOperators.LSHL, 16)).add(high2).intoArray(sums, 2 * LANES);
        sum3.sub(high3.lanewise(VectorOperators.LSHL, 16)).add(high3).intoArray(sums, 3 * LANES);
        for (int v = 0; v < 4 && column + v * LANES < n; v++) {
            store(sums, v * LANES, b, bColumn + v * LANES, zeroPoint, rowTerm, c, row, column + v * LANES, n);
        }
    }

    /** C[row, column..] = a vector of the products' sums less the offsets' and zero points' terms. */
    private static void store(int[] sums, int from, Packed b, int bColumn, int zeroPoint, int rowTerm,
            FloatGemm.Matrix c, int row, int column, int n) {
        IntVector result = IntVector.fromArray(INT, sums, from)
                .sub(IntVector.fromArray(INT, b.columnSums, bColumn).mul(zeroPoint))
                .sub(IntVector.fromArray(INT, b.zeroPoints, bColumn).mul(rowTerm));
        long at = c.byteAt(row, column);
        MemorySegment out = Segments.exact(c.segment());
        if (column + LANES <= n) {
            result.intoMemorySegment(out, at, Layouts.ORDER);
        } else {
            VectorMask<Integer> valid = INT.indexInRange(column, n);
            result.intoMemorySegment(out, at, Layouts.ORDER, valid);
        }
    }
}
