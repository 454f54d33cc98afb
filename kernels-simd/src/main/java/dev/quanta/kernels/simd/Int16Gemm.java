package dev.quanta.kernels.simd;

import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.XOR;

import dev.quanta.tensor.Layouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.stream.IntStream;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact int8/uint8 products C = (A − zero points)·(B − zero points) into int32 for a constant B
 * whose columns each span at most {@link #WIDE_SPAN} values (ONNX Runtime's symmetric int8 weights,
 * −127..127, and its 7-bit ones), on 16-bit lane multiplies (vpmullw) where the float GEMM ({@link
 * FloatGemm#multiplyIntegers}) spends a float multiply-add on each product: on AVX-512 the integer
 * units take about 1.5 times as many products a second as the FMA units (register-only loops,
 * bench/RESULTS.md, ninth session).
 *
 * <p>Each column j of B is packed as its values less their zero point plus an offset o_j, so that
 * two products fit a 16-bit half: with columns spanning at most {@link #SPAN} (narrow), B's values
 * b' are in 0..128 and A's a in 0..255 (uint8 as it is, int8 plus 128), products below 2^15; wider
 * columns take b' in −127..127 and a in −128..127 (uint8 less 128), products within ±2^14. A
 * 32-bit lane holds one column at two consecutive depths; one multiply of it by a broadcast pair of
 * A's values gives both products, one in each 16-bit half, and each half adds up {@link #STEPS}
 * such products. The halves are then widened with three operations (four for signed halves, first
 * made unsigned by adding 2^15 to each): the whole lane is added into one int32 sum, its upper half
 * shifted down into another, and the tile takes sum − 65535·upper at the end, exact modulo 2^32
 * whatever K. The zero points and offsets come back through B's column sums and A's row sums:
 * Σ(a − za)(b' − o) = Σa·b' − o·Σa − za·Σ(b' − o). {@link Int8Gemv} widens its lanes the same way.
 *
 * <p>{@link #packWhole} packs a B of any values the same way, signed (a convolution's patches, per
 * call), for an A that never takes −128 once signed (weights within ±127): products within ±127·128.
 * A {@link PaddedImage} holds a convolution's image in that form, two channels to a plane, so that
 * {@link #multiply(Filters, int, int, PaddedImage, int, FloatGemm.Matrix, int)} reads each tap's
 * vectors where they lie, with no patch matrix gathered or packed.
 */
public final class Int16Gemm {

    /** The system property that chooses this kernel ({@code true}) or the float GEMM ({@code false}) for int8 products. */
    public static final String CHOICE_PROPERTY = "quanta.int8.lanes16";
    /**
     * Whether int8 products with a narrow constant B take this kernel rather than the float GEMM's
     * exact products ({@link FloatGemm#multiplyIntegers}); both give the same sums, so only speed
     * decides. Set by {@link #CHOICE_PROPERTY}, else by the processor: on an Intel Xeon with
     * AVX-512 the 16-bit multiplies, adds and shifts share the two 512-bit ports with the FMAs, and
     * the float GEMM did 141–155 GOP/s a core against this kernel's 113–124 (twentieth session); on
     * Zen 4, whose four vector pipes take the adds beside the multiplies, this kernel did 117–118
     * against the float GEMM's 95–98, and on a Zen 5 276–290 against 226–251 (bench/RESULTS.md).
     */
    public static final boolean CHOSEN = chosen(System.getProperty(CHOICE_PROPERTY), Cpu.vendor(),
            IntVector.SPECIES_PREFERRED.vectorBitSize());

    private static final VectorSpecies<Integer> INT = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> SHORT = ShortVector.SPECIES_PREFERRED;
    private static final int LANES = INT.length();
    /** Rows of C per micro-kernel tile: four rows by two vectors measured fastest of the tiles C2 keeps in registers. */
    public static final int ROWS = 4;
    /** Columns of C per micro-kernel tile and per packed panel of B. */
    public static final int PANEL = 2 * LANES;
    /** Depth pairs whose products each 16-bit half sums before it is widened. */
    static final int STEPS = 2;
    /** The widest span of B's columns (largest value less smallest) for unsigned halves: STEPS products of A's 255 and this fit 16 bits. */
    static final int SPAN = 0xFFFF / (STEPS * 255);
    /** The widest span of B's columns for signed halves: STEPS products of A's −128 and ±(this / 2) fit 16 signed bits. */
    static final int WIDE_SPAN = 2 * (Short.MAX_VALUE / (STEPS * 128));
    /** Adds 2^15 to each 16-bit half of a lane, making a signed half unsigned. */
    private static final int HALVES_SIGN = 0x8000_8000;
    /** Rows of A converted at a time, reused across every panel of B (fewer for a deep product). */
    private static final int ROW_CHUNK = 16 * ROWS;
    /** The most ints a chunk of A's converted rows takes (1 MiB), so that a very deep product keeps it small. */
    private static final int CHUNK_INTS = 1 << 18;
    private static final ThreadLocal<int[][]> ROWS_OF_A = ThreadLocal.withInitial(() -> new int[1][0]);
    private static final ThreadLocal<int[]> TILE = ThreadLocal.withInitial(() -> new int[ROWS * PANEL]);
    private static final ThreadLocal<int[]> ROW_SUMS = ThreadLocal.withInitial(() -> new int[ROW_CHUNK]);
    /** 16-bit values a scratch for {@link #packWhole} should hold at most (2 MB). */
    private static final int WHOLE_SCRATCH_SHORTS = 1 << 20;
    /** Index vectors of a pair of vectors' even lanes and odd ones (a phase each, at stride 2). */
    private static final IntVector EVEN_LANES = IntVector.fromArray(INT,
            IntStream.range(0, LANES).map(i -> 2 * i).toArray(), 0);
    private static final IntVector ODD_LANES = IntVector.fromArray(INT,
            IntStream.range(0, LANES).map(i -> 2 * i + 1).toArray(), 0);
    /** A byte for each int lane (and more, masked off, where that would be under the narrowest shape). */
    private static final VectorSpecies<Byte> LANE_BYTES = ByteVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(Math.max(VectorShape.S_64_BIT.vectorBitSize(), INT.vectorBitSize() / 4)));

    private Int16Gemm() {
    }

    /**
     * A constant B[k×n] packed for {@link #multiply}: panel p (columns p·PANEL..), depth pair s, is
     * PANEL 32-bit lanes, lane j holding column p·PANEL + j at depths 2s (low half) and 2s + 1, its
     * values less their zero points plus the column's offset; zero past k and n. The pairs run to a
     * whole number of {@link #STEPS}.
     */
    public static final class Packed {
        private final short[] data;
        private final int k;
        private final int n;
        private final int pairs;
        /** Per column (padded to whole panels): the sum of B's values less their zero point. */
        private final int[] columnSums;
        /** Per column (padded to whole panels): what the packed values add to B's less their zero point. */
        private final int[] offsets;
        /** Whether B's values are signed (wide columns), and A's with them. */
        private final boolean signed;
        /** Whether B's values take all of −128..127 ({@link #packWhole}), so that A's may not be −128. */
        private final boolean whole;

        private Packed(short[] data, int k, int n, int pairs, int[] columnSums, int[] offsets, boolean signed,
                boolean whole) {
            this.data = data;
            this.k = k;
            this.n = n;
            this.pairs = pairs;
            this.columnSums = columnSums;
            this.offsets = offsets;
            this.signed = signed;
            this.whole = whole;
        }
    }

    /**
     * A convolution's image read in place as B by {@link #multiply(Filters, int, int, PaddedImage,
     * int, FloatGemm.Matrix, int)}, where a patch matrix would hold each value once a tap: its channels
     * zero-padded, two channels to a plane, as signed bytes (uint8 less 128) for signed filters or
     * unsigned ones (int8 plus 128) for narrow ones, so that a 32-bit lane holds a pair of depths
     * as {@link Packed} does; x's zero point in the padding and in the
     * channels past the image (to a whole number of {@link #STEPS} planes). With strides s × t, each
     * plane is split into s·t phases, padded row r and column c going to phase (r mod s, c mod t) at
     * (r div s, c div t), each phase W′ = ⌈padded width / t⌉ columns wide, so that output position
     * (y, x) is column y·W′ + x of every tap: tap (i, j) reads it in the phase of its offsets
     * (i·dilation, j·dilation) at their quotients by the strides. Channel c's value at plane
     * position p lies at {@code values[((c / 2)·plane + p)·2 + c % 2]}.
     */
    public static final class PaddedImage {
        private final short[] values;
        private final int channels;
        private final Depthwise.Shape shape;
        private final int planes;
        /** Rows and columns of a phase. */
        private final int phaseHeight;
        private final int phaseWidth;
        private final int plane;
        private final int[] taps;
        private final int farthestTap;
        /** Whether values are stored signed (uint8 less 128), for signed filters, or unsigned (int8 plus 128), for narrow ones. */
        private final boolean signed;
        /** x's zero point as stored: what the stored values add to x less its zero point. */
        private final int offset;
        /** Per position, Σ over the channels of x less its zero point, once {@link #sumChannels} has run. */
        private int[] channelSums;

        /**
         * An image of {@code channels} planes of {@code shape}'s size, padding and window in {@code
         * values} (at least {@link #shorts} of them), which {@link #copyChannels} fills; its values
         * stored signed for {@link Filters#signed} filters, unsigned for narrow ones.
         */
        public PaddedImage(short[] values, int channels, Depthwise.Shape shape, boolean unsigned, int zeroPoint,
                boolean signed) {
            int size = shorts(channels, shape);
            if (values.length < size) {
                throw new IllegalArgumentException(values.length + " values for " + channels + " channels of "
                        + shape.height() + "×" + shape.width() + " padded, where they take " + size);
            }
            if (IntStream.of(shape.padTop(), shape.padLeft(), shape.padBottom(), shape.padRight()).anyMatch(pad -> pad < 0)) {
                throw new IllegalArgumentException("negative padding " + shape);
            }
            this.values = values;
            this.channels = channels;
            this.shape = shape;
            this.planes = planes(channels);
            this.phaseHeight = Math.ceilDiv(shape.height() + shape.padTop() + shape.padBottom(), shape.strideHeight());
            this.phaseWidth = Math.ceilDiv(shape.width() + shape.padLeft() + shape.padRight(), shape.strideWidth());
            this.plane = phasePlane(shape);
            this.taps = new int[shape.kernelHeight() * shape.kernelWidth()];
            for (int t = 0; t < taps.length; t++) {
                int row = t / shape.kernelWidth() * shape.dilationHeight();
                int column = t % shape.kernelWidth() * shape.dilationWidth();
                taps[t] = (row % shape.strideHeight() * shape.strideWidth() + column % shape.strideWidth())
                        * phaseHeight * phaseWidth + row / shape.strideHeight() * phaseWidth + column / shape.strideWidth();
            }
            this.farthestTap = Arrays.stream(taps).max().orElse(0);
            if (columns() + farthestTap > plane && shape.outHeight() > 0) {
                throw new IllegalArgumentException("the window of " + shape + " reaches past its padded plane");
            }
            this.signed = signed;
            this.offset = zeroPoint + (signed ? (unsigned ? -128 : 0) : (unsigned ? 0 : 128));
        }

        /** The 16-bit values an image of {@code channels} planes of {@code shape} takes, with a panel's room past them. */
        public static int shorts(int channels, Depthwise.Shape shape) {
            return Math.toIntExact(2 * ((long) planes(channels) * phasePlane(shape) + PANEL));
        }

        private static int phasePlane(Depthwise.Shape shape) {
            return Math.toIntExact((long) Math.ceilDiv(shape.height() + shape.padTop() + shape.padBottom(), shape.strideHeight())
                    * shape.strideHeight() * Math.ceilDiv(shape.width() + shape.padLeft() + shape.padRight(), shape.strideWidth())
                    * shape.strideWidth());
        }

        private static int planes(int channels) {
            return Math.ceilDiv(Math.ceilDiv(channels, 2), STEPS) * STEPS;
        }

        /** The planes {@link #copyChannels} fills, past the image's channels too. */
        public int planes() {
            return planes;
        }

        /** W′: the columns between output rows. */
        public int columnWidth() {
            return phaseWidth;
        }

        /** The columns that hold every output position: the last output row's ends the product. */
        public int columns() {
            return shape.outHeight() == 0 ? 0 : (shape.outHeight() - 1) * phaseWidth + shape.outWidth();
        }

        /**
         * Copies channels 2·pair and 2·pair + 1 (x's zero point past the image) of an image of
         * {@code shape}'s height × width bytes a channel, channel c's first row from byte {@code at +
         * c·channelBytes} of {@code x} (an image's band of rows: {@code channelBytes} its whole
         * plane), into their plane, x's zero point around them. The planes of different pairs can
         * be copied at once.
         */
        public void copyChannels(int pair, MemorySegment x, long at, long channelBytes, boolean unsigned) {
            MemorySegment segment = Segments.exact(x);
            // A uint8 less 128, or an int8 plus 128, is its bits with the sign flipped.
            byte flip = (byte) (unsigned == signed ? 0x80 : 0);
            int mask = signed ? 0xFFFF : 0xFF;
            int even = 2 * pair;
            boolean odd = even + 1 < channels;
            int width = shape.width();
            IntVector zero = IntVector.broadcast(INT, offset);
            int planeAt = pair * plane;
            Arrays.fill(values, 2 * planeAt, 2 * (planeAt + plane), (short) offset);
            int strideWidth = shape.strideWidth();
            int phase = phaseHeight * phaseWidth;
            for (int row = 0; row < shape.height() && even < channels; row++) {
                int paddedRow = shape.padTop() + row;
                int rowAt = planeAt + paddedRow % shape.strideHeight() * strideWidth * phase
                        + paddedRow / shape.strideHeight() * phaseWidth;
                long from = at + even * channelBytes + (long) row * width;
                int i = 0;
                int step = strideWidth == 2 ? 2 * LANES : LANES;
                for (; i + step - LANES + LANE_BYTES.length() <= width && strideWidth <= 2; i += step) {
                    IntVector pairs = pairs(segment, from + i, channelBytes, flip, mask, odd, zero);
                    int column = shape.padLeft() + i;
                    if (strideWidth == 1) {
                        pairs.reinterpretAsShorts().intoArray(values, 2 * (rowAt + column));
                    } else {
                        // Two vectors of columns into their even and odd ones, each a run of its phase.
                        IntVector next = pairs(segment, from + i + LANES, channelBytes, flip, mask, odd, zero);
                        int evenAt = rowAt + column % 2 * phase + column / 2;
                        int oddAt = rowAt + (column + 1) % 2 * phase + (column + 1) / 2;
                        EVEN_LANES.selectFrom(pairs, next).reinterpretAsShorts().intoArray(values, 2 * evenAt);
                        ODD_LANES.selectFrom(pairs, next).reinterpretAsShorts().intoArray(values, 2 * oddAt);
                    }
                }
                // The rest of the row, and rows at strides past 2, value by value into their phases.
                for (; i < width; i++) {
                    int column = shape.padLeft() + i;
                    int lane = 2 * (rowAt + column % strideWidth * phase + column / strideWidth);
                    values[lane] = (short) ((byte) (segment.get(ValueLayout.JAVA_BYTE, from + i) ^ flip) & mask);
                    values[lane + 1] = (short) (odd ? (byte) (segment.get(ValueLayout.JAVA_BYTE, from + channelBytes + i) ^ flip)
                            & mask : offset);
                }
            }
        }

        /**
         * LANES columns of a pair of channels (the second's {@code channelBytes} on, or {@code zero})
         * as lanes of pairs, each value its byte with {@code flip}, signed ({@code mask} 0xFFFF) or
         * unsigned (0xFF).
         */
        private static IntVector pairs(MemorySegment segment, long at, long channelBytes, byte flip, int mask, boolean odd,
                IntVector zero) {
            IntVector low = signedBytes(segment, at, flip, null);
            IntVector high = odd ? signedBytes(segment, at + channelBytes, flip, null).and(mask) : zero;
            return low.and(mask).or(high.lanewise(LSHL, 16));
        }

        /**
         * Sums the channels at each position (x less its zero point), for products whose A's zero
         * points do not cancel its shift ({@link Filters#needsColumnSums}); after every plane is copied.
         */
        public void sumChannels() {
            int[] sums = new int[plane];
            IntVector twice = IntVector.broadcast(INT, 2 * offset);
            for (int pair = 0; pair < planes; pair++) {
                int i = 0;
                for (; i + LANES <= plane; i += LANES) {
                    IntVector lanes = ShortVector.fromArray(SHORT, values, 2 * (pair * plane + i)).reinterpretAsInts();
                    IntVector.fromArray(INT, sums, i).add(lanes.lanewise(LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                            .add(lanes.lanewise(VectorOperators.ASHR, 16)).sub(twice).intoArray(sums, i);
                }
                for (; i < plane; i++) {
                    int at = 2 * (pair * plane + i);
                    sums[i] += values[at] + values[at + 1] - 2 * offset;
                }
            }
            channelSums = sums;
        }

        /** The window's taps. */
        public int taps() {
            return taps.length;
        }

        /** x less its zero point: channel c's value that tap t reads for column {@code column}. */
        public int valueAt(int c, int t, int column) {
            return values[2 * ((c / 2) * plane + column + taps[t]) + c % 2] - offset;
        }
    }

    /**
     * This kernel's choice from the property's value ({@code true}, {@code false}, or null for the
     * processor's default), the processor's vendor and its preferred vector width in bits.
     */
    static boolean chosen(String property, String vendor, int vectorBits) {
        if (property == null || property.isBlank()) {
            return !(vendor.equals(Cpu.INTEL) && vectorBits >= 512);
        }
        return switch (property.strip()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(
                    "system property " + CHOICE_PROPERTY + " is true or false, not '" + property + "'");
        };
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
     * when a column spans more than {@link #WIDE_SPAN} (the float GEMM takes those) or the packed
     * values would not fit one Java array.
     */
    public static Packed pack(FloatGemm.Int8Matrix b, int k, int n) {
        if (!b.perColumn() && b.zeroPoints().length != 1) {
            throw new IllegalArgumentException("B's zero points go per column");
        }
        if (packedBytes(k, n) / 2 > Integer.MAX_VALUE - 8) {
            return null;
        }
        int panels = Math.ceilDiv(n, PANEL);
        int[] lowest = new int[n];
        int widest = 0;
        for (int j = 0; j < n && k > 0; j++) {
            lowest[j] = Integer.MAX_VALUE;
            int highest = Integer.MIN_VALUE;
            for (int p = 0; p < k; p++) {
                int value = (int) b.shifted(p, j);
                lowest[j] = Math.min(lowest[j], value);
                highest = Math.max(highest, value);
            }
            widest = Math.max(widest, highest - lowest[j]);
        }
        if (widest > WIDE_SPAN) {
            return null;
        }
        boolean signed = widest > SPAN;
        int[] offsets = new int[panels * PANEL];
        for (int j = 0; j < n; j++) {
            offsets[j] = -lowest[j] - (signed ? WIDE_SPAN / 2 : 0);
        }
        int pairs = pairs(k);
        short[] data = new short[Math.toIntExact(packedBytes(k, n) / 2)];
        int[] columnSums = new int[panels * PANEL];
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) {
                int value = (int) b.shifted(p, j);
                columnSums[j] += value;
                int lane = (j / PANEL * pairs + p / 2) * PANEL + j % PANEL;
                data[lane * 2 + p % 2] = (short) (value + offsets[j]);
            }
        }
        return new Packed(data, k, n, pairs, columnSums, offsets, signed, false);
    }

    /**
     * Packs an int8 or uint8 B[k×n] of any values (activations: a convolution's patches, packed per
     * call), each as a signed byte (uint8 less 128), for a product whose A never takes −128 as a
     * signed value (weights within ±127, as ONNX Runtime's symmetric int8 ones are): two products of
     * at most 127·128 then fit a signed 16-bit half. {@link #multiply} refuses an A with −128. With
     * {@code unsigned}, each as an unsigned byte (int8 plus 128) for an A of 0..128 ({@link
     * #narrowed}): two products of at most 128·255 fit an unsigned half, which needs no XOR a lane.
     * Vectors of bytes widen straight into the packed lanes. {@code scratch} is reused when it is
     * large enough; null when the packed values would not fit one Java array.
     */
    public static Packed packWhole(FloatGemm.Int8Matrix b, int k, int n, boolean unsigned, Packed scratch) {
        if (!b.perColumn() && b.zeroPoints().length != 1) {
            throw new IllegalArgumentException("B's zero points go per column");
        }
        if (packedBytes(k, n) / 2 > Integer.MAX_VALUE - 8) {
            return null;
        }
        int pairs = pairs(k);
        int panels = Math.ceilDiv(n, PANEL);
        int size = Math.toIntExact(packedBytes(k, n) / 2);
        short[] data = scratch != null && scratch.data.length >= size ? scratch.data : new short[size];
        int[] columnSums = scratch != null && scratch.columnSums.length >= panels * PANEL ? scratch.columnSums
                : new int[panels * PANEL];
        int[] offsets = scratch != null && scratch.offsets.length >= panels * PANEL ? scratch.offsets
                : new int[panels * PANEL];
        MemorySegment segment = Segments.exact(b.segment());
        // A uint8 less 128 is its bits with the sign flipped, read as int8; an int8 plus 128 so too,
        // read as uint8 (its low byte).
        byte flip = (byte) (b.unsigned() != unsigned ? 0x80 : 0);
        int valueBits = unsigned ? 0xFF : -1;
        int columns = panels * PANEL;
        Arrays.fill(columnSums, 0, columns, 0);
        // Row pair by row pair, each row read along its length: column by column down the k rows, each
        // load fell on another page of the patch matrix (rows a band of positions apart), and the
        // loads took a tenth of an int8 ISNet's run (JFR).
        for (int p = 0; p < 2 * pairs; p += 2) {
            for (int column = 0; column < columns; column += LANES) {
                // Masked loads only for the last, partial vector of columns: masked, each load checked its bounds.
                VectorMask<Byte> valid = column + LANE_BYTES.length() <= n ? null
                        : LANE_BYTES.indexInRange(column, Math.min(n, column + LANES));
                IntVector even = p < k ? signedBytes(segment, b.byteAt(p, column), flip, valid).and(valueBits) : IntVector.zero(INT);
                IntVector odd = p + 1 < k ? signedBytes(segment, b.byteAt(p + 1, column), flip, valid).and(valueBits)
                        : IntVector.zero(INT);
                IntVector.fromArray(INT, columnSums, column).add(even).add(odd).intoArray(columnSums, column);
                int lane = (column / PANEL * pairs * PANEL + column % PANEL + p / 2 * PANEL) * 2;
                even.and(0xFFFF).or(odd.lanewise(LSHL, 16)).reinterpretAsShorts().intoArray(data, lane);
            }
        }
        for (int column = 0; column < columns; column += LANES) {
            IntVector sums = IntVector.fromArray(INT, columnSums, column);
            // Σ(x − zx) = Σb' − k·o, where b' = x − zx + o: o = zx plus what x took to be stored (uint8
            // less 128 or int8 as it is, signed; uint8 as it is or int8 plus 128, unsigned).
            int stored = unsigned ? (b.unsigned() ? 0 : 128) : (b.unsigned() ? -128 : 0);
            for (int j = column; j < column + LANES; j++) {
                offsets[j] = j < n ? b.zeroPoint(j) + stored : 0;
            }
            IntVector offset = IntVector.fromArray(INT, offsets, column);
            sums.sub(offset.mul(k)).intoArray(columnSums, column);
        }
        return new Packed(data, k, n, pairs, columnSums, offsets, !unsigned, !unsigned);
    }

    /**
     * m rows of k int8 or uint8 values (a convolution's filters) each within {@link #SPAN} of its
     * smallest ({@link Filters#narrow}), as the A of a B packed unsigned by {@link #packWhole}: each
     * row less its smallest value, 0..128, as uint8, in a copy of its own; {@code lowest[f]} is
     * what row f took off, which its zero point takes off too.
     */
    public static MemorySegment narrowed(FloatGemm.Int8Matrix w, int m, long k, int[] lowest) {
        MemorySegment copy = Arena.ofAuto().allocate(Math.max(1, m * k), 64);
        for (int f = 0; f < m; f++) {
            int[] range = range(w, f, k);
            if (range[1] - range[0] > SPAN) {
                throw new IllegalArgumentException("row " + f + " spans " + range[0] + ".." + range[1]
                        + ", wider than the " + SPAN + " of narrow rows");
            }
            lowest[f] = range[0];
            for (long i = 0; i < k; i++) {
                byte value = w.segment().get(ValueLayout.JAVA_BYTE, w.byteAt(f, i));
                copy.set(ValueLayout.JAVA_BYTE, f * k + i, (byte) ((w.unsigned() ? value & 0xFF : value) - range[0]));
            }
        }
        return copy;
    }

    /**
     * The most columns of a k-deep B that {@link #packWhole} should take at a time (whole panels, one
     * at least), so that a thread's reused scratch stays within about 2 MB.
     */
    public static int wholeColumns(int k) {
        return Math.max(1, WHOLE_SCRATCH_SHORTS / (pairs(k) * 2 * PANEL)) * PANEL;
    }

    /**
     * Whether {@code count} int8 or uint8 values from {@code offset} can be the A of a B packed by
     * {@link #packWhole}: none is −128 once signed (uint8 less 128).
     */
    public static boolean takesWholeB(MemorySegment segment, long offset, long count, boolean unsigned) {
        byte least = (byte) (unsigned ? 0 : -128);
        VectorSpecies<Byte> bytes = ByteVector.SPECIES_PREFERRED;
        long i = 0;
        for (; i + bytes.length() <= count; i += bytes.length()) {
            if (ByteVector.fromMemorySegment(bytes, segment, offset + i, Layouts.ORDER).eq(least).anyTrue()) {
                return false;
            }
        }
        for (; i < count; i++) {
            if (segment.get(ValueLayout.JAVA_BYTE, offset + i) == least) {
                return false;
            }
        }
        return true;
    }

    /** LANES bytes from {@code at} (those of {@code valid} when it is not null, zero past it) as signed values in ints. */
    private static IntVector signedBytes(MemorySegment segment, long at, byte flip, VectorMask<Byte> valid) {
        ByteVector bytes = valid == null ? ByteVector.fromMemorySegment(LANE_BYTES, segment, at, Layouts.ORDER)
                : ByteVector.fromMemorySegment(LANE_BYTES, segment, at, Layouts.ORDER, valid);
        return (IntVector) bytes.lanewise(VectorOperators.XOR, flip).convertShape(VectorOperators.B2I, INT, 0);
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
        int[] rows = rowsOfA(chunkRows * b.pairs + b.pairs);
        // The last pairs of the scratch hold one row as converted, before it is interleaved.
        int line = chunkRows * b.pairs;
        int[] rowSums = ROW_SUMS.get();
        int[] tile = TILE.get();
        // What A's values take to become unsigned (int8 plus 128), or signed (uint8 less 128).
        int aShift = b.signed ? (a.unsigned() ? -128 : 0) : (a.unsigned() ? 0 : 128);
        for (int chunk = 0; chunk < m; chunk += chunkRows) {
            int height = Math.min(chunkRows, m - chunk);
            for (int r = 0; r < Math.ceilDiv(height, ROWS) * ROWS; r++) {
                if (r < height) {
                    rowSums[r] = Int8Gemv.pairs(a, chunk + r, k, aShift, rows, line, b.pairs);
                    if (b.whole) {
                        refuseLeast(rows, line, b.pairs, chunk + r);
                    }
                } else {
                    Arrays.fill(rows, line, line + b.pairs, 0);
                }
                int at = r / ROWS * ROWS * b.pairs + r % ROWS;
                for (int pair = 0; pair < b.pairs; pair++, at += ROWS) {
                    rows[at] = rows[line + pair];
                }
            }
            for (int column = 0; column < n; column += PANEL) {
                int bAt = (firstColumn + column) / PANEL * b.pairs * PANEL * 2;
                for (int block = 0; block < height; block += ROWS) {
                    kernel(rows, block * b.pairs, b.pairs, b.data, bAt, b.signed, tile);
                    store(tile, Math.min(ROWS, height - block), rowSums, block, a, aShift, b.offsets, b.columnSums,
                            firstColumn, c, chunk + block, column, n, then);
                }
            }
        }
    }

    /**
     * A convolution's filters as the A of {@link #multiply(Filters, int, int, PaddedImage, int,
     * FloatGemm.Matrix, int)}: row f holds, tap by tap, its pairs of channels' weights in the 16-bit
     * halves of a lane (signed, uint8 less 128; or, narrow, less the filter's smallest weight), zero
     * past the channels; rows to a whole tile, each tile's rows interleaved as {@link #kernel} reads
     * them.
     */
    public static final class Filters {
        private final int[] pairs;
        private final int[] rowSums;
        /** Per filter, its zero point as packed (with the packed values' shift); in the matrix that {@link #store} reads. */
        private final FloatGemm.Int8Matrix zeroPoints;
        private final int m;
        private final int channels;
        private final int taps;
        private final boolean signed;

        private Filters(int[] pairs, int[] rowSums, FloatGemm.Int8Matrix zeroPoints, int m, int channels, int taps,
                boolean signed) {
            this.pairs = pairs;
            this.rowSums = rowSums;
            this.zeroPoints = zeroPoints;
            this.m = m;
            this.channels = channels;
            this.taps = taps;
            this.signed = signed;
        }

        /**
         * Whether the products need the image's column sums ({@link PaddedImage#sumChannels}): a
         * filter's zero point is not its values' shift (int8 weights with a zero point other than 0).
         */
        public boolean needsColumnSums() {
            return Arrays.stream(zeroPoints.zeroPoints()).anyMatch(zeroPoint -> zeroPoint != 0);
        }

        /** Whether the filters take their image signed ({@link PaddedImage}): weights spanning more than {@link #SPAN}. */
        public boolean signed() {
            return signed;
        }

        /**
         * Whether every one of m filters (rows of {@code w}, k values each) spans at most {@link
         * #SPAN} values, so that {@link #packFilters} can take them unsigned, a signed image's
         * XOR a lane fewer: ONNX Runtime's 7-bit weights (reduce_range).
         */
        public static boolean narrow(FloatGemm.Int8Matrix w, int m, long k) {
            for (int f = 0; f < m; f++) {
                int[] range = range(w, f, k);
                if (range[1] - range[0] > SPAN) {
                    return false;
                }
            }
            return true;
        }
    }

    /** The smallest and largest of row f's k values. */
    private static int[] range(FloatGemm.Int8Matrix w, int f, long k) {
        int lowest = Integer.MAX_VALUE;
        int highest = Integer.MIN_VALUE;
        for (long i = 0; i < k; i++) {
            byte value = w.segment().get(ValueLayout.JAVA_BYTE, w.byteAt(f, i));
            int v = w.unsigned() ? value & 0xFF : value;
            lowest = Math.min(lowest, v);
            highest = Math.max(highest, v);
        }
        return new int[] {lowest, highest};
    }

    /**
     * Packs m filters of int8 or uint8 weights, filter f's weight for channel c at tap t at element
     * (f, c·taps + t) of {@code w} (ONNX's layout; zero points per tensor or per filter). {@code
     * narrow} filters ({@link Filters#narrow}) are packed less their smallest value, 0..128, for an
     * unsigned image (products of at most 128·255); others as signed values, none −128, for a signed
     * image: two products of −128 by an image's −128 would overflow a signed half.
     */
    public static Filters packFilters(FloatGemm.Int8Matrix w, int m, int channels, int taps, boolean narrow) {
        if (w.perColumn()) {
            throw new IllegalArgumentException("the filters' zero points go per filter");
        }
        int planes = PaddedImage.planes(channels);
        int perRow = taps * planes;
        int[] pairs = new int[Math.toIntExact(Math.ceilDiv(m, ROWS) * ROWS * (long) perRow)];
        int[] rowSums = new int[Math.ceilDiv(m, ROWS) * ROWS];
        int[] zeroPoints = new int[m];
        long k = (long) channels * taps;
        for (int f = 0; f < m; f++) {
            int[] range = range(w, f, k);
            if (narrow && range[1] - range[0] > SPAN) {
                throw new IllegalArgumentException("filter " + f + " spans " + range[0] + ".." + range[1]
                        + ", wider than the " + SPAN + " of narrow filters");
            }
            int shift = narrow ? -range[0] : w.unsigned() ? -128 : 0;
            zeroPoints[f] = w.zeroPoint(f) + shift;
            for (int c = 0; c < channels; c++) {
                for (int t = 0; t < taps; t++) {
                    byte value = w.segment().get(ValueLayout.JAVA_BYTE, w.byteAt(f, (long) c * taps + t));
                    int shifted = (w.unsigned() ? value & 0xFF : value) + shift;
                    if (shifted == -128) {
                        throw new IllegalArgumentException("filter " + f + " holds −128 as a signed value at channel " + c
                                + ", tap " + t + ", which a 16-bit half cannot take two products of");
                    }
                    int at = (f / ROWS * perRow + t * planes + c / 2) * ROWS + f % ROWS;
                    pairs[at] |= c % 2 == 0 ? shifted & 0xFFFF : shifted << 16;
                    rowSums[f] += shifted;
                }
            }
        }
        return new Filters(pairs, rowSums, new FloatGemm.Int8Matrix(w.segment(), w.offset(), w.rowStride(), w.unsigned(),
                zeroPoints, false, 0), m, channels, taps, !narrow);
    }

    /** Each thread's corrections of a block of an image's columns: B's offsets and column sums. */
    private static final ThreadLocal<int[][]> IMAGE_CORRECTIONS = ThreadLocal.withInitial(() -> new int[2][0]);

    /**
     * C[rows×count] = (filters − zero points)·(patches − x's zero point) for filters {@code
     * firstRow..firstRow + rows} (from a multiple of {@link #ROWS}) and the patches at columns
     * {@code first..first + count} of a padded image (see {@link PaddedImage}), int32 sums.
     */
    public static void multiply(Filters a, int firstRow, int rows, PaddedImage b, int first, FloatGemm.Matrix c, int count) {
        int panels = Math.ceilDiv(count, PANEL);
        if (firstRow % ROWS != 0 || firstRow < 0 || rows < 0 || firstRow + rows > a.m) {
            throw new IllegalArgumentException("filters " + firstRow + ".." + (firstRow + rows) + " of " + a.m
                    + ", from a multiple of " + ROWS);
        }
        if (a.signed != b.signed) {
            throw new IllegalArgumentException((a.signed ? "signed" : "narrow") + " filters against "
                    + (b.signed ? "a signed" : "an unsigned") + " image");
        }
        if (a.channels != b.channels || a.taps != b.taps.length || first < 0 || count < 0
                || 2 * ((long) (b.planes - 1) * b.plane + first + (long) panels * PANEL + b.farthestTap) > b.values.length) {
            throw new IllegalArgumentException(a.m + " filters of " + a.channels + " channels by " + a.taps
                    + " taps against columns " + first + ".." + (first + count) + " of an image of " + b.channels
                    + " channels by " + b.taps.length + " taps");
        }
        int[][] corrections = IMAGE_CORRECTIONS.get();
        if (corrections[0].length < panels * PANEL) {
            corrections[0] = new int[panels * PANEL];
            corrections[1] = new int[panels * PANEL];
        }
        int[] offsets = corrections[0];
        int[] columnSums = corrections[1];
        Arrays.fill(offsets, 0, panels * PANEL, b.offset);
        if (a.needsColumnSums()) {
            if (b.channelSums == null) {
                throw new IllegalStateException("the image's channels are not summed");
            }
            for (int j = 0; j < count; j++) {
                int sum = 0;
                for (int tap : b.taps) {
                    sum += b.channelSums[first + j + tap];
                }
                columnSums[j] = sum;
            }
        } else {
            Arrays.fill(columnSums, 0, panels * PANEL, 0);
        }
        int perRow = a.taps * b.planes;
        int[] tapAt = new int[a.taps];
        for (int t = 0; t < a.taps; t++) {
            tapAt[t] = 2 * b.taps[t];
        }
        int[] tile = TILE.get();
        // Chunks of filters that stay in cache across the panels, as multiply's chunks of A's rows.
        int chunkRows = Math.clamp(CHUNK_INTS / Math.max(1, perRow) / ROWS * ROWS, ROWS, ROW_CHUNK);
        int end = firstRow + rows;
        // C's rows numbered as the filters' (block's zero points and row sums are the filters').
        FloatGemm.Matrix byFilter = new FloatGemm.Matrix(c.segment(), c.offset() - firstRow * c.rowStride(), c.rowStride());
        for (int chunk = firstRow; chunk < end; chunk += chunkRows) {
            for (int column = 0; column < count; column += PANEL) {
                for (int block = chunk; block < Math.min(end, chunk + chunkRows); block += ROWS) {
                    kernelFromImage(a.pairs, block * perRow, perRow, b.values, 2 * (first + column), tapAt, 2 * b.plane,
                            a.signed, tile);
                    store(tile, Math.min(ROWS, end - block), a.rowSums, block, a.zeroPoints, 0, offsets, columnSums, 0,
                            byFilter, block, column, count, null);
                }
            }
        }
    }

    /** Throws when a pair of A's 16-bit values holds −128, which B's whole range cannot take two products of. */
    private static void refuseLeast(int[] rows, int from, int pairs, int row) {
        int i = from;
        for (; i + LANES <= from + pairs; i += LANES) {
            if (IntVector.fromArray(INT, rows, i).reinterpretAsShorts().eq((short) -128).anyTrue()) {
                break;
            }
        }
        for (; i < from + pairs; i++) {
            if ((short) rows[i] == -128 || rows[i] >> 16 == -128) {
                throw new IllegalArgumentException("row " + row + " of A holds −128 as a signed value (" + (i - from) * 2
                        + "), which a B packed whole cannot take");
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
     * tile[r·PANEL + j] = Σ a·b' of the block's row r and the panel's column j over all of K, modulo
     * 2^32: four rows of A (their pairs of 16-bit values from {@code rows[a0]}, interleaved: pair p of
     * row r at a0 + p·ROWS + r) by one packed panel. Interleaved, A's loads take one index where four
     * rows' took four, and C2 no longer moved the loop's indices through vector registers: 282 GOP/s
     * against 258 on a Zen 5 core (a throwaway loop over 64 rows by 384 columns, 384 deep). A and B
     * are read from heap arrays: read from segments, each load's bounds check took a score of scalar
     * instructions, and in a JVM that had run the M = 1 products of {@code quanta bench-ops --int8}
     * first, reading A so ran the kernel at a fifth of its speed. Written out for {@link #STEPS} = 2:
     * with a loop over the steps, or with more rows, C2 kept fewer vectors in registers. {@code
     * signed} (wide columns) adds an XOR a lane; C2 splits the loop on it, so that each kind runs as
     * fast as a kernel of its own (with the XOR always there, even of zero, the narrow kind lost 15%).
     */
    private static void kernel(int[] rows, int a0, int pairs, short[] packed, int bAt, boolean signed, int[] tile) {
        IntVector s00 = IntVector.zero(INT), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        IntVector h00 = s00, h01 = s00, h10 = s00, h11 = s00, h20 = s00, h21 = s00, h30 = s00, h31 = s00;
        int step = PANEL * 2;
        for (int p = a0; p < a0 + ROWS * pairs; p += ROWS * STEPS, bAt += STEPS * step) {
            ShortVector b0 = ShortVector.fromArray(SHORT, packed, bAt);
            ShortVector b1 = ShortVector.fromArray(SHORT, packed, bAt + SHORT.length());
            ShortVector d0 = ShortVector.fromArray(SHORT, packed, bAt + step);
            ShortVector d1 = ShortVector.fromArray(SHORT, packed, bAt + step + SHORT.length());
            // Row by row, both depth pairs, then into the sums: with every row's first products taken
            // before the second pair's, C2's schedule ran the loop 10% slower (Zen 5, a throwaway loop).
            ShortVector a = IntVector.broadcast(INT, rows[p]).reinterpretAsShorts();
            ShortVector e = IntVector.broadcast(INT, rows[p + 4]).reinterpretAsShorts();
            IntVector v = a.mul(b0).add(e.mul(d0)).reinterpretAsInts();
            if (signed) {
                v = v.lanewise(XOR, HALVES_SIGN);
            }
            s00 = s00.add(v);
            h00 = h00.add(v.lanewise(LSHR, 16));
            v = a.mul(b1).add(e.mul(d1)).reinterpretAsInts();
            if (signed) {
                v = v.lanewise(XOR, HALVES_SIGN);
            }
            s01 = s01.add(v);
            h01 = h01.add(v.lanewise(LSHR, 16));
            a = IntVector.broadcast(INT, rows[p + 1]).reinterpretAsShorts();
            e = IntVector.broadcast(INT, rows[p + 5]).reinterpretAsShorts();
            v = a.mul(b0).add(e.mul(d0)).reinterpretAsInts();
            if (signed) {
                v = v.lanewise(XOR, HALVES_SIGN);
            }
            s10 = s10.add(v);
            h10 = h10.add(v.lanewise(LSHR, 16));
            v = a.mul(b1).add(e.mul(d1)).reinterpretAsInts();
            if (signed) {
                v = v.lanewise(XOR, HALVES_SIGN);
            }
            s11 = s11.add(v);
            h11 = h11.add(v.lanewise(LSHR, 16));
            a = IntVector.broadcast(INT, rows[p + 2]).reinterpretAsShorts();
            e = IntVector.broadcast(INT, rows[p + 6]).reinterpretAsShorts();
            v = a.mul(b0).add(e.mul(d0)).reinterpretAsInts();
            if (signed) {
                v = v.lanewise(XOR, HALVES_SIGN);
            }
            s20 = s20.add(v);
            h20 = h20.add(v.lanewise(LSHR, 16));
            v = a.mul(b1).add(e.mul(d1)).reinterpretAsInts();
            if (signed) {
                v = v.lanewise(XOR, HALVES_SIGN);
            }
            s21 = s21.add(v);
            h21 = h21.add(v.lanewise(LSHR, 16));
            a = IntVector.broadcast(INT, rows[p + 3]).reinterpretAsShorts();
            e = IntVector.broadcast(INT, rows[p + 7]).reinterpretAsShorts();
            v = a.mul(b0).add(e.mul(d0)).reinterpretAsInts();
            if (signed) {
                v = v.lanewise(XOR, HALVES_SIGN);
            }
            s30 = s30.add(v);
            h30 = h30.add(v.lanewise(LSHR, 16));
            v = a.mul(b1).add(e.mul(d1)).reinterpretAsInts();
            if (signed) {
                v = v.lanewise(XOR, HALVES_SIGN);
            }
            s31 = s31.add(v);
            h31 = h31.add(v.lanewise(LSHR, 16));
        }
        // The signed halves' 2^15 came into every lane's sum twice a widening.
        int bias = signed ? pairs / STEPS << 16 : 0;
        // Σ(low + high) from Σ(high·2^16 + low) and Σhigh, modulo 2^32; written out, as a method C2 did
        // not always inline it, and boxed the sums at every step of the loop.
        s00.sub(h00.lanewise(LSHL, 16)).add(h00).sub(bias).intoArray(tile, 0);
        s01.sub(h01.lanewise(LSHL, 16)).add(h01).sub(bias).intoArray(tile, LANES);
        s10.sub(h10.lanewise(LSHL, 16)).add(h10).sub(bias).intoArray(tile, PANEL);
        s11.sub(h11.lanewise(LSHL, 16)).add(h11).sub(bias).intoArray(tile, PANEL + LANES);
        s20.sub(h20.lanewise(LSHL, 16)).add(h20).sub(bias).intoArray(tile, 2 * PANEL);
        s21.sub(h21.lanewise(LSHL, 16)).add(h21).sub(bias).intoArray(tile, 2 * PANEL + LANES);
        s30.sub(h30.lanewise(LSHL, 16)).add(h30).sub(bias).intoArray(tile, 3 * PANEL);
        s31.sub(h31.lanewise(LSHL, 16)).add(h31).sub(bias).intoArray(tile, 3 * PANEL + LANES);
    }

    /**
     * {@link #kernel} with B read from a padded image (signed or unsigned values, as {@code signed}
     * says): tap by tap ({@code tapAt}, in 16-bit values), pairs of channels {@code planeStride}
     * values apart. Its loop repeats the kernel's: reading B through a table of offsets in the one
     * kernel cost the int8 products 2–4% (a throwaway loop, one JVM alternating the two).
     */
    private static void kernelFromImage(int[] rows, int a0, int pairs, short[] image, int bBase, int[] tapAt,
            int planeStride, boolean signed, int[] tile) {
        IntVector s00 = IntVector.zero(INT), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        IntVector h00 = s00, h01 = s00, h10 = s00, h11 = s00, h20 = s00, h21 = s00, h30 = s00, h31 = s00;
        int planes = pairs / tapAt.length;
        int p = a0;
        for (int tap : tapAt) {
            int end = p + ROWS * planes;
            for (int bAt = bBase + tap; p < end; p += ROWS * STEPS, bAt += STEPS * planeStride) {
                ShortVector b0 = ShortVector.fromArray(SHORT, image, bAt);
                ShortVector b1 = ShortVector.fromArray(SHORT, image, bAt + SHORT.length());
                ShortVector d0 = ShortVector.fromArray(SHORT, image, bAt + planeStride);
                ShortVector d1 = ShortVector.fromArray(SHORT, image, bAt + planeStride + SHORT.length());
                // Row by row, both depth pairs, then into the sums: with every row's first products taken
                // before the second pair's, C2's schedule ran the loop 10% slower (Zen 5, a throwaway loop).
                ShortVector a = IntVector.broadcast(INT, rows[p]).reinterpretAsShorts();
                ShortVector e = IntVector.broadcast(INT, rows[p + 4]).reinterpretAsShorts();
                IntVector v = a.mul(b0).add(e.mul(d0)).reinterpretAsInts();
                if (signed) {
                    v = v.lanewise(XOR, HALVES_SIGN);
                }
                s00 = s00.add(v);
                h00 = h00.add(v.lanewise(LSHR, 16));
                v = a.mul(b1).add(e.mul(d1)).reinterpretAsInts();
                if (signed) {
                    v = v.lanewise(XOR, HALVES_SIGN);
                }
                s01 = s01.add(v);
                h01 = h01.add(v.lanewise(LSHR, 16));
                a = IntVector.broadcast(INT, rows[p + 1]).reinterpretAsShorts();
                e = IntVector.broadcast(INT, rows[p + 5]).reinterpretAsShorts();
                v = a.mul(b0).add(e.mul(d0)).reinterpretAsInts();
                if (signed) {
                    v = v.lanewise(XOR, HALVES_SIGN);
                }
                s10 = s10.add(v);
                h10 = h10.add(v.lanewise(LSHR, 16));
                v = a.mul(b1).add(e.mul(d1)).reinterpretAsInts();
                if (signed) {
                    v = v.lanewise(XOR, HALVES_SIGN);
                }
                s11 = s11.add(v);
                h11 = h11.add(v.lanewise(LSHR, 16));
                a = IntVector.broadcast(INT, rows[p + 2]).reinterpretAsShorts();
                e = IntVector.broadcast(INT, rows[p + 6]).reinterpretAsShorts();
                v = a.mul(b0).add(e.mul(d0)).reinterpretAsInts();
                if (signed) {
                    v = v.lanewise(XOR, HALVES_SIGN);
                }
                s20 = s20.add(v);
                h20 = h20.add(v.lanewise(LSHR, 16));
                v = a.mul(b1).add(e.mul(d1)).reinterpretAsInts();
                if (signed) {
                    v = v.lanewise(XOR, HALVES_SIGN);
                }
                s21 = s21.add(v);
                h21 = h21.add(v.lanewise(LSHR, 16));
                a = IntVector.broadcast(INT, rows[p + 3]).reinterpretAsShorts();
                e = IntVector.broadcast(INT, rows[p + 7]).reinterpretAsShorts();
                v = a.mul(b0).add(e.mul(d0)).reinterpretAsInts();
                if (signed) {
                    v = v.lanewise(XOR, HALVES_SIGN);
                }
                s30 = s30.add(v);
                h30 = h30.add(v.lanewise(LSHR, 16));
                v = a.mul(b1).add(e.mul(d1)).reinterpretAsInts();
                if (signed) {
                    v = v.lanewise(XOR, HALVES_SIGN);
                }
                s31 = s31.add(v);
                h31 = h31.add(v.lanewise(LSHR, 16));
            }
        }
        int bias = signed ? pairs / STEPS << 16 : 0;
        s00.sub(h00.lanewise(LSHL, 16)).add(h00).sub(bias).intoArray(tile, 0);
        s01.sub(h01.lanewise(LSHL, 16)).add(h01).sub(bias).intoArray(tile, LANES);
        s10.sub(h10.lanewise(LSHL, 16)).add(h10).sub(bias).intoArray(tile, PANEL);
        s11.sub(h11.lanewise(LSHL, 16)).add(h11).sub(bias).intoArray(tile, PANEL + LANES);
        s20.sub(h20.lanewise(LSHL, 16)).add(h20).sub(bias).intoArray(tile, 2 * PANEL);
        s21.sub(h21.lanewise(LSHL, 16)).add(h21).sub(bias).intoArray(tile, 2 * PANEL + LANES);
        s30.sub(h30.lanewise(LSHL, 16)).add(h30).sub(bias).intoArray(tile, 3 * PANEL);
        s31.sub(h31.lanewise(LSHL, 16)).add(h31).sub(bias).intoArray(tile, 3 * PANEL + LANES);
    }

    /**
     * The tile's first {@code valid} rows into C from (row, column), the zero points' and offsets'
     * terms taken off (A's row sums from {@code rowSums[block]}, B's offsets and column sums from
     * {@code offsets[firstColumn + column]} and {@code columnSums[firstColumn + column]}).
     */
    private static void store(int[] tile, int valid, int[] rowSums, int block, FloatGemm.Int8Matrix a,
            int aShift, int[] offsets, int[] columnSums, int firstColumn, FloatGemm.Matrix c, int row, int column, int n,
            FloatGemm.Dequantization then) {
        MemorySegment segment = Segments.exact(c.segment());
        for (int r = 0; r < valid; r++) {
            int zeroPoint = a.zeroPoint(row + r) + aShift;
            int rowSum = rowSums[block + r];
            for (int half = 0; half < PANEL && column + half < n; half += LANES) {
                int at = r * PANEL + half;
                int j = firstColumn + column + half;
                IntVector sums = IntVector.fromArray(INT, tile, at)
                        .sub(IntVector.fromArray(INT, offsets, j).mul(rowSum))
                        .sub(IntVector.fromArray(INT, columnSums, j).mul(zeroPoint));
                // A whole vector of int32 sums goes straight to C: through the tile and storeSums, the
                // stores were 10% of a 1×1 QLinearConv's samples (64 deep, so the kernel's loop is short),
                // and the layer took 1.35–1.40 ms on one thread against 1.32–1.37 so.
                if (then == null && column + half + LANES <= n) {
                    sums.intoMemorySegment(segment, c.byteAt(row + r, column + half), Layouts.ORDER);
                    continue;
                }
                sums.intoArray(tile, at);
                FloatGemm.storeSums(tile, at, segment, c.byteAt(row + r, column + half), column + half, n, then, j);
            }
        }
    }
}
