package dev.quanta.kernels.simd;

import dev.quanta.tensor.Layouts;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * A 2-D convolution of a few float32 planes by one filter into one plane (a depthwise
 * convolution's group, or all of a network's first layer reads of an RGB image), and a max pool of
 * a plane, over copies of the planes inside their padding, so that every tap reads inside them.
 * Each row of the copy is split into as many phases as the stride along the row (column c in
 * phase c mod stride, at c div stride), so that the columns one tap reads for consecutive outputs
 * lie side by side whatever the stride: outputs go a vector at a time in each of a few rows (and,
 * in {@link #planes4}, for four filters), each tap one load and one fused multiply-add into sums
 * held in registers (the last vector of a row overlapping the one before; a row narrower than a
 * vector masked at the store). Each output adds its taps channel after channel, each in row-major
 * kernel order, from +0, as the lowered product adds them (a padding tap adds +0, which leaves a
 * sum begun at +0 unchanged). The lowered form gathered the patches and multiplied them by a
 * one-row matrix: 1–4 GOP/s.
 */
public final class Depthwise {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /** Two bytes a 16-bit lane, as many lanes as a float vector's. */
    private static final VectorSpecies<Short> BYTE_PAIRS = ShortVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(SPECIES.length() * Short.SIZE));
    /** A thread's room for a whole input plane of floats ({@link #planeScratch}). */
    private static final ThreadLocal<float[]> PLANE = ThreadLocal.withInitial(() -> new float[0]);
    /** Lanes 0, 2, 4, … and 1, 3, 5, … of two vectors side by side (indexes past the first select from the second). */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(SPECIES, lane -> 2 * lane);
    private static final VectorShuffle<Float> ODD = VectorShuffle.fromOp(SPECIES, lane -> 2 * lane + 1);

    private Depthwise() {
    }

    /** The input plane's sizes, the kernel's and how it moves, the padding on each side, and the output's sizes. */
    public record Shape(int height, int width, int kernelHeight, int kernelWidth, int strideHeight, int strideWidth,
            int dilationHeight, int dilationWidth, int padTop, int padLeft, int padBottom, int padRight, int outHeight,
            int outWidth) {

        /** Columns of one phase of a padded row. */
        int phaseWidth() {
            return Math.ceilDiv(width + padLeft + padRight, strideWidth);
        }

        /** Floats between the starts of two padded rows. */
        int rowLength() {
            return Math.multiplyExact(strideWidth, phaseWidth());
        }

        /**
         * Floats of the padded copy, with a vector's more after its last row: a plane narrower than
         * a vector is read a whole vector a row, the lanes past the row on into the next (or into
         * those zeros) and never stored.
         */
        public int paddedSize() {
            return Math.addExact(Math.multiplyExact(height + padTop + padBottom, rowLength()), SPECIES.length());
        }
    }

    /**
     * The float plane x (dense rows, offset in bytes) into {@code padded} from {@code from} (its
     * channel's place, {@link Shape#paddedSize} floats each) as {@link #plane} reads it: {@code
     * border} (0 for a convolution, −∞ for a max pool) all over, then each value at its padded row,
     * phase and column.
     */
    public static void pad(MemorySegment x, long xOffset, Shape s, float border, float[] padded, int from) {
        Arrays.fill(padded, from, from + s.paddedSize(), border);
        if (s.strideWidth() == 1) {
            for (int h = 0; h < s.height(); h++) {
                FloatRows.copyToArray(x, xOffset + (long) h * s.width() * 4, padded, rowAt(s, from, h) + s.padLeft(),
                        s.width());
            }
            return;
        }
        // At strides, the whole plane in one copy, each row then split into phases from there: a row's
        // copy at a time was 29% of a depthwise layer at stride 2 (144 planes of 56×56, one thread).
        float[] plane = planeScratch(s);
        MemorySegment.copy(x, Layouts.FLOAT, xOffset, plane, 0, s.height() * s.width());
        phasesOfPlane(plane, s, padded, from);
    }

    /**
     * As {@link #pad(MemorySegment, long, Shape, float, float[], int)} for a plane of int8 or uint8
     * values (dense rows, offset in bytes), each less {@code zeroPoint}: at stride 1 a row at a time
     * into place; at stride 2 a row at a time straight into its two phases ({@link #bytesToHalves});
     * at other strides, and where rows are narrower than those loops' vectors, the plane converted
     * in one pass, then placed or split into phases (a row at a time through a converted copy had
     * been slower: a depthwise QLinearConv at stride 2, 144 planes of 56×56 on one thread, 0.174–0.184
     * ms against 0.147–0.152; narrow rows went a value at a time, 85 of a JFR profile's 204 samples
     * of padding in MobileNetV2's QDQ model).
     */
    public static void padBytes(MemorySegment x, long xOffset, boolean unsigned, float zeroPoint, Shape s, float border,
            float[] padded, int from) {
        Arrays.fill(padded, from, from + s.paddedSize(), border);
        int rowVector = s.strideWidth() * SPECIES.length();
        if (s.strideWidth() == 1 && s.width() >= rowVector) {
            for (int h = 0; h < s.height(); h++) {
                FloatRows.bytesToArray(x, xOffset + (long) h * s.width(), unsigned, zeroPoint, padded,
                        rowAt(s, from, h) + s.padLeft(), s.width());
            }
            return;
        }
        if (s.strideWidth() == 2 && s.width() >= rowVector) {
            for (int h = 0; h < s.height(); h++) {
                bytesToHalves(x, xOffset + (long) h * s.width(), unsigned, zeroPoint, s.width(), padded, rowAt(s, from, h),
                        s.padLeft(), s.phaseWidth());
            }
            return;
        }
        float[] plane = planeScratch(s);
        FloatRows.bytesToArray(x, xOffset, unsigned, zeroPoint, plane, 0, s.height() * s.width());
        if (s.strideWidth() == 1) {
            for (int h = 0; h < s.height(); h++) {
                System.arraycopy(plane, h * s.width(), padded, rowAt(s, from, h) + s.padLeft(), s.width());
            }
            return;
        }
        phasesOfPlane(plane, s, padded, from);
    }

    /**
     * A row of {@code width} int8 or uint8 values less the zero point into its two phases at stride
     * 2, as {@link #halves} places floats: two vectors' worth of bytes read as 16-bit lanes, whose
     * low bytes are the even values and high bytes the odd ones, so that no lane crosses to another:
     * converted whole and then split by two-vector permutes, a depthwise QLinearConv at stride 2
     * (144 planes of 56×56, one thread) took 0.23 ms, 0.18 so.
     */
    private static void bytesToHalves(MemorySegment x, long at, boolean unsigned, float zeroPoint, int width, float[] padded,
            int row, int padLeft, int phaseStride) {
        x = Segments.exact(x);
        int lanes = SPECIES.length();
        int evenAt = row + padLeft % 2 * phaseStride + padLeft / 2;
        int oddAt = row + (1 - padLeft % 2) * phaseStride + (padLeft + 1) / 2;
        int v = 0;
        for (; v + 2 * lanes <= width; v += 2 * lanes) {
            bytePairsToHalves(x, at, v, unsigned, zeroPoint, padded, evenAt, oddAt);
        }
        // The rest as one more pair overlapping the last, from an even value so that the lanes keep
        // their phases; at most one value is left after it.
        if (v < width && width >= 2 * lanes) {
            v = (width - 2 * lanes) & ~1;
            bytePairsToHalves(x, at, v, unsigned, zeroPoint, padded, evenAt, oddAt);
            v += 2 * lanes;
        }
        for (; v < width; v++) {
            byte value = x.get(ValueLayout.JAVA_BYTE, at + v);
            padded[(v % 2 == 0 ? evenAt : oddAt) + v / 2] = (unsigned ? value & 0xFF : value) - zeroPoint;
        }
    }

    /** Values v..v + 2·lanes − 1 (v even) of a row of bytes into their phases; no vector goes in or out. */
    private static void bytePairsToHalves(MemorySegment x, long at, int v, boolean unsigned, float zeroPoint, float[] padded,
            int evenAt, int oddAt) {
        IntVector pairs = (IntVector) ShortVector.fromMemorySegment(BYTE_PAIRS, x, at + v, Layouts.ORDER)
                .convertShape(VectorOperators.S2I, IntVector.SPECIES_PREFERRED, 0);
        IntVector even = unsigned ? pairs.and(0xFF) : pairs.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24);
        IntVector odd = unsigned ? pairs.lanewise(VectorOperators.LSHR, 8).and(0xFF)
                : pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 24);
        ((FloatVector) even.convert(VectorOperators.I2F, 0)).sub(zeroPoint).intoArray(padded, evenAt + v / 2);
        ((FloatVector) odd.convert(VectorOperators.I2F, 0)).sub(zeroPoint).intoArray(padded, oddAt + v / 2);
    }

    /** Where input row h's padded row starts in a copy from {@code from}. */
    private static int rowAt(Shape s, int from, int h) {
        return from + (h + s.padTop()) * s.rowLength();
    }

    /** This thread's room for a whole input plane of floats. */
    private static float[] planeScratch(Shape s) {
        int values = Math.multiplyExact(s.height(), s.width());
        float[] plane = PLANE.get();
        if (plane.length < values) {
            plane = new float[values];
            PLANE.set(plane);
        }
        return plane;
    }

    /** A plane of floats (dense rows from {@code plane[0]}) split into its padded rows' phases. */
    private static void phasesOfPlane(float[] plane, Shape s, float[] padded, int from) {
        for (int h = 0; h < s.height(); h++) {
            phases(plane, h * s.width(), s.width(), padded, rowAt(s, from, h), s.padLeft(), s.strideWidth(),
                    s.phaseWidth());
        }
    }

    /**
     * A row of {@code width} values from {@code line[start]} (padded column v + padLeft each) into
     * its phases at a stride: padded column c to {@code row + (c mod stride)·phaseStride + c div stride}.
     */
    public static void phases(float[] line, int start, int width, float[] padded, int row, int padLeft, int stride,
            int phaseStride) {
        if (stride == 2) {
            halves(line, start, width, padded, row, padLeft, phaseStride);
            return;
        }
        // Phase by phase, padded column k·stride + phase at k: no division per value.
        for (int phase = 0; phase < stride; phase++) {
            int k = Math.max(0, Math.ceilDiv(padLeft - phase, stride));
            int to = row + phase * phaseStride;
            for (int v = k * stride + phase - padLeft; v < width; v += stride, k++) {
                padded[to + k] = line[start + v];
            }
        }
    }

    /**
     * A row of {@code width} values into its two phases at stride 2, padded column c at row + (c mod
     * 2)·phaseStride + c div 2: by vectors, each pair of vectors split into its even and odd lanes
     * (one value at a time took most of a strided depthwise convolution's time, JFR).
     */
    private static void halves(float[] line, int start, int width, float[] padded, int row, int padLeft, int phaseStride) {
        int lanes = SPECIES.length();
        // Value v is padded column v + padLeft: the even values land in phase padLeft mod 2 from
        // padLeft div 2 on, the odd ones in the other phase from (padLeft + 1) div 2 on.
        int evenPhase = padLeft % 2;
        int evenAt = row + evenPhase * phaseStride + padLeft / 2;
        int oddAt = row + (1 - evenPhase) * phaseStride + (padLeft + 1) / 2;
        if (width < 2 * lanes) {
            splitShort(line, start, width, padded, evenAt, oddAt);
            return;
        }
        int v = 0;
        for (; v + 2 * lanes <= width; v += 2 * lanes) {
            split(line, start, v, padded, evenAt, oddAt);
        }
        // The rest as one more pair of vectors overlapping the last, from an even value so that the
        // lanes keep their phases; at most one value is left after it.
        if (v < width) {
            v = (width - 2 * lanes) & ~1;
            split(line, start, v, padded, evenAt, oddAt);
            v += 2 * lanes;
        }
        for (; v < width; v++) {
            padded[(v % 2 == 0 ? evenAt : oddAt) + v / 2] = line[start + v];
        }
    }

    /**
     * A row narrower than two vectors into its phases through masked vectors: one value at a time,
     * the rows of MNIST's 2×2 max pool over 28×28 planes took 9% of the model's run (JFR).
     */
    private static void splitShort(float[] line, int start, int width, float[] padded, int evenAt, int oddAt) {
        int lanes = SPECIES.length();
        FloatVector low = FloatVector.fromArray(SPECIES, line, start, SPECIES.indexInRange(0, width));
        FloatVector high = FloatVector.fromArray(SPECIES, line, start + lanes, SPECIES.indexInRange(lanes, width));
        low.rearrange(EVEN, high).intoArray(padded, evenAt, SPECIES.indexInRange(0, (width + 1) / 2));
        low.rearrange(ODD, high).intoArray(padded, oddAt, SPECIES.indexInRange(0, width / 2));
    }

    /** Values v..v + 2·lanes − 1 (v even) of a row from {@code line[start]} into their phases. */
    private static void split(float[] line, int start, int v, float[] padded, int evenAt, int oddAt) {
        FloatVector low = FloatVector.fromArray(SPECIES, line, start + v);
        FloatVector high = FloatVector.fromArray(SPECIES, line, start + v + SPECIES.length());
        low.rearrange(EVEN, high).intoArray(padded, evenAt + v / 2);
        low.rearrange(ODD, high).intoArray(padded, oddAt + v / 2);
    }

    /**
     * y[oh, ow] = Σ w[wFrom + (c·kh + i)·kw + j]·x_c[oh·sh − padTop + i·dh, ow·sw − padLeft + j·dw]
     * over {@code channels} planes x_c, from {@link #pad}'s copies of them one after the other from
     * {@code from}, then + bias; y dense, offset in bytes. The bias is added as the sums leave, one
     * rounding as a pass after it would take (that pass cost a float 3×3 depthwise layer 5%: 144
     * planes of 56×56, one thread, 0.147–0.151 against 0.139–0.145 ms); 0 leaves every sum's bits
     * (a sum begun at +0 is never −0).
     */
    public static void plane(float[] padded, int from, int channels, float[] w, int wFrom, float bias, Shape s,
            MemorySegment y, long yOffset) {
        y = Segments.exact(y);
        int[] offsets = channelTapOffsets(s, from, channels);
        int taps = offsets.length;
        int lanes = SPECIES.length();
        // A plane narrower than a vector (MobileNet's 14×14 and 7×7) takes one vector a row, its
        // lanes past the row masked off at the store; one float at a time it took 5.6 µs a 14×14
        // plane with a 5×5 filter, its sum a chain of dependent multiply-adds.
        VectorMask<Float> narrow = s.outWidth() < lanes ? SPECIES.indexInRange(0, s.outWidth()) : null;
        int lastVector = Math.max(0, s.outWidth() - lanes);
        // Four rows at a time: four independent chains of multiply-adds, where one row's chain, a
        // tap after the other, waited on each one's latency. A 56×56 plane, 3×3, one thread:
        // 1.71–1.78 µs against 2.39–2.63 at stride 1, 0.52–0.53 against 0.73–0.83 at stride 2
        // (a throwaway loop, builds alternating in separate JVMs; bench/RESULTS.md, twelfth session).
        int rowStep = s.strideHeight() * s.rowLength();
        long rowBytes = s.outWidth() * 4L;
        FloatVector shift = FloatVector.broadcast(SPECIES, bias);
        int oh = threeByThreeRows(padded, offsets, rowStep, w, wFrom, bias, s, y, yOffset);
        for (; oh + 4 <= s.outHeight(); oh += 4) {
            int top = oh * rowStep;
            long row = yOffset + oh * rowBytes;
            for (int ow = 0; ow < s.outWidth(); ow += lanes) {
                ow = Math.min(ow, lastVector);
                FloatVector sum0 = FloatVector.zero(SPECIES), sum1 = sum0, sum2 = sum0, sum3 = sum0;
                for (int t = 0; t < taps; t++) {
                    FloatVector weight = FloatVector.broadcast(SPECIES, w[wFrom + t]);
                    int at = top + ow + offsets[t];
                    sum0 = FloatVector.fromArray(SPECIES, padded, at).fma(weight, sum0);
                    sum1 = FloatVector.fromArray(SPECIES, padded, at + rowStep).fma(weight, sum1);
                    sum2 = FloatVector.fromArray(SPECIES, padded, at + 2 * rowStep).fma(weight, sum2);
                    sum3 = FloatVector.fromArray(SPECIES, padded, at + 3 * rowStep).fma(weight, sum3);
                }
                store(sum0.add(shift), y, row + ow * 4L, narrow);
                store(sum1.add(shift), y, row + rowBytes + ow * 4L, narrow);
                store(sum2.add(shift), y, row + 2 * rowBytes + ow * 4L, narrow);
                store(sum3.add(shift), y, row + 3 * rowBytes + ow * 4L, narrow);
            }
        }
        for (; oh < s.outHeight(); oh++) {
            int top = oh * rowStep;
            long row = yOffset + oh * rowBytes;
            for (int ow = 0; ow < s.outWidth(); ow += lanes) {
                ow = Math.min(ow, lastVector);
                FloatVector sum = FloatVector.zero(SPECIES);
                for (int t = 0; t < taps; t++) {
                    sum = FloatVector.fromArray(SPECIES, padded, top + ow + offsets[t])
                            .fma(FloatVector.broadcast(SPECIES, w[wFrom + t]), sum);
                }
                store(sum.add(shift), y, row + ow * 4L, narrow);
            }
        }
    }

    /**
     * {@link #plane}'s rows four at a time where its window is one plane's 3×3 whose kernel rows
     * lie a fixed distance apart with the same three columns each, and output rows one kernel row
     * apart (stride 1 down the plane, times the dilation) with the columns side by side, or two
     * apart with any columns (stride 2, any stride or dilation along the row): its nine weights
     * held in registers, and each input vector loaded once for all the output rows that read it (six
     * rows of loads for four output rows at stride 1, nine at stride 2, where a tap at a time
     * loaded twelve). Each output adds its taps in plane's order, so the sums are plane's. Returns
     * the output rows done (none for other windows, or for planes narrower than a vector). The
     * depthwise 3×3 144→144 over 56×56 of {@code quanta bench-ops --conv}, one thread (Zen 5, old
     * and new jars in turn): float 0.24–0.25 → 0.15 ms, QLinearConv 0.29 → 0.22; at stride 2 float
     * 0.16–0.17 → 0.15, QLinearConv 0.18–0.19 → 0.18.
     */
    private static int threeByThreeRows(float[] padded, int[] offsets, int rowStep, float[] w, int wFrom, float bias,
            Shape s, MemorySegment y, long yOffset) {
        if (offsets.length != 9 || s.outWidth() < SPECIES.length()) {
            return 0;
        }
        int first = offsets[0];
        int kernelRow = offsets[3] - first;
        for (int t = 0; t < 9; t++) {
            if (offsets[t] != first + t / 3 * kernelRow + offsets[t % 3] - first) {
                return 0;
            }
        }
        int c1 = offsets[1] - first;
        int c2 = offsets[2] - first;
        if (rowStep == kernelRow && c1 == 1 && c2 == 2) {
            return threeByThreeDownOne(padded, first, kernelRow, w, wFrom, bias, s, y, yOffset);
        }
        return rowStep == 2 * kernelRow
                ? threeByThreeDownTwo(padded, first, kernelRow, c1, c2, w, wFrom, bias, s, y, yOffset) : 0;
    }

    /**
     * {@link #threeByThreeRows} with output rows one kernel row apart, a kernel row's columns side
     * by side: input row i feeds output rows i − 2 … i. The columns' offsets are constants here:
     * as variables (as in the stride-2 form) the layer above took 5–8% more time.
     */
    private static int threeByThreeDownOne(float[] padded, int first, int kernelRow, float[] w, int wFrom, float bias,
            Shape s, MemorySegment y, long yOffset) {
        int lanes = SPECIES.length();
        int width = s.outWidth();
        long rowBytes = width * 4L;
        FloatVector w0 = FloatVector.broadcast(SPECIES, w[wFrom + 0]);
        FloatVector w1 = FloatVector.broadcast(SPECIES, w[wFrom + 1]);
        FloatVector w2 = FloatVector.broadcast(SPECIES, w[wFrom + 2]);
        FloatVector w3 = FloatVector.broadcast(SPECIES, w[wFrom + 3]);
        FloatVector w4 = FloatVector.broadcast(SPECIES, w[wFrom + 4]);
        FloatVector w5 = FloatVector.broadcast(SPECIES, w[wFrom + 5]);
        FloatVector w6 = FloatVector.broadcast(SPECIES, w[wFrom + 6]);
        FloatVector w7 = FloatVector.broadcast(SPECIES, w[wFrom + 7]);
        FloatVector w8 = FloatVector.broadcast(SPECIES, w[wFrom + 8]);
        // The bias comes as a float: a vector argument of a method C2 does not inline is boxed, and
        // the loop ran three times slower so.
        FloatVector shift = FloatVector.broadcast(SPECIES, bias);
        int oh = 0;
        for (; oh + 4 <= s.outHeight(); oh += 4) {
            long row = yOffset + oh * rowBytes;
            for (int ow = 0; ow < width; ow += lanes) {
                ow = Math.min(ow, width - lanes);
                int at = first + oh * kernelRow + ow;
                FloatVector x0 = FloatVector.fromArray(SPECIES, padded, at);
                FloatVector x1 = FloatVector.fromArray(SPECIES, padded, at + 1);
                FloatVector x2 = FloatVector.fromArray(SPECIES, padded, at + 2);
                FloatVector sum0 = x2.fma(w2, x1.fma(w1, x0.fma(w0, FloatVector.zero(SPECIES))));
                at += kernelRow;
                x0 = FloatVector.fromArray(SPECIES, padded, at);
                x1 = FloatVector.fromArray(SPECIES, padded, at + 1);
                x2 = FloatVector.fromArray(SPECIES, padded, at + 2);
                sum0 = x2.fma(w5, x1.fma(w4, x0.fma(w3, sum0)));
                FloatVector sum1 = x2.fma(w2, x1.fma(w1, x0.fma(w0, FloatVector.zero(SPECIES))));
                at += kernelRow;
                x0 = FloatVector.fromArray(SPECIES, padded, at);
                x1 = FloatVector.fromArray(SPECIES, padded, at + 1);
                x2 = FloatVector.fromArray(SPECIES, padded, at + 2);
                sum0 = x2.fma(w8, x1.fma(w7, x0.fma(w6, sum0)));
                sum1 = x2.fma(w5, x1.fma(w4, x0.fma(w3, sum1)));
                FloatVector sum2 = x2.fma(w2, x1.fma(w1, x0.fma(w0, FloatVector.zero(SPECIES))));
                at += kernelRow;
                x0 = FloatVector.fromArray(SPECIES, padded, at);
                x1 = FloatVector.fromArray(SPECIES, padded, at + 1);
                x2 = FloatVector.fromArray(SPECIES, padded, at + 2);
                sum1 = x2.fma(w8, x1.fma(w7, x0.fma(w6, sum1)));
                sum2 = x2.fma(w5, x1.fma(w4, x0.fma(w3, sum2)));
                FloatVector sum3 = x2.fma(w2, x1.fma(w1, x0.fma(w0, FloatVector.zero(SPECIES))));
                at += kernelRow;
                x0 = FloatVector.fromArray(SPECIES, padded, at);
                x1 = FloatVector.fromArray(SPECIES, padded, at + 1);
                x2 = FloatVector.fromArray(SPECIES, padded, at + 2);
                sum2 = x2.fma(w8, x1.fma(w7, x0.fma(w6, sum2)));
                sum3 = x2.fma(w5, x1.fma(w4, x0.fma(w3, sum3)));
                at += kernelRow;
                x0 = FloatVector.fromArray(SPECIES, padded, at);
                x1 = FloatVector.fromArray(SPECIES, padded, at + 1);
                x2 = FloatVector.fromArray(SPECIES, padded, at + 2);
                sum3 = x2.fma(w8, x1.fma(w7, x0.fma(w6, sum3)));
                sum0.add(shift).intoMemorySegment(y, row + ow * 4L, Layouts.ORDER);
                sum1.add(shift).intoMemorySegment(y, row + rowBytes + ow * 4L, Layouts.ORDER);
                sum2.add(shift).intoMemorySegment(y, row + 2 * rowBytes + ow * 4L, Layouts.ORDER);
                sum3.add(shift).intoMemorySegment(y, row + 3 * rowBytes + ow * 4L, Layouts.ORDER);
            }
        }
        return oh;
    }

    /**
     * {@link #threeByThreeRows} with output rows two kernel rows apart: input row 2o + 2 feeds output
     * rows o and o + 1.
     */
    private static int threeByThreeDownTwo(float[] padded, int first, int kernelRow, int c1, int c2, float[] w,
            int wFrom, float bias, Shape s, MemorySegment y, long yOffset) {
        int lanes = SPECIES.length();
        int width = s.outWidth();
        long rowBytes = width * 4L;
        FloatVector w0 = FloatVector.broadcast(SPECIES, w[wFrom + 0]);
        FloatVector w1 = FloatVector.broadcast(SPECIES, w[wFrom + 1]);
        FloatVector w2 = FloatVector.broadcast(SPECIES, w[wFrom + 2]);
        FloatVector w3 = FloatVector.broadcast(SPECIES, w[wFrom + 3]);
        FloatVector w4 = FloatVector.broadcast(SPECIES, w[wFrom + 4]);
        FloatVector w5 = FloatVector.broadcast(SPECIES, w[wFrom + 5]);
        FloatVector w6 = FloatVector.broadcast(SPECIES, w[wFrom + 6]);
        FloatVector w7 = FloatVector.broadcast(SPECIES, w[wFrom + 7]);
        FloatVector w8 = FloatVector.broadcast(SPECIES, w[wFrom + 8]);
        // The bias comes as a float: a vector argument of a method C2 does not inline is boxed, and
        // the loop ran three times slower so.
        FloatVector shift = FloatVector.broadcast(SPECIES, bias);
        int oh = 0;
        for (; oh + 4 <= s.outHeight(); oh += 4) {
            long row = yOffset + oh * rowBytes;
            for (int ow = 0; ow < width; ow += lanes) {
                ow = Math.min(ow, width - lanes);
                int at = first + 2 * oh * kernelRow + ow;
                FloatVector x0 = FloatVector.fromArray(SPECIES, padded, at);
                FloatVector x1 = FloatVector.fromArray(SPECIES, padded, at + c1);
                FloatVector x2 = FloatVector.fromArray(SPECIES, padded, at + c2);
                FloatVector sum0 = x2.fma(w2, x1.fma(w1, x0.fma(w0, FloatVector.zero(SPECIES))));
                at += kernelRow;
                x0 = FloatVector.fromArray(SPECIES, padded, at);
                x1 = FloatVector.fromArray(SPECIES, padded, at + c1);
                x2 = FloatVector.fromArray(SPECIES, padded, at + c2);
                sum0 = x2.fma(w5, x1.fma(w4, x0.fma(w3, sum0)));
                at += kernelRow;
                x0 = FloatVector.fromArray(SPECIES, padded, at);
                x1 = FloatVector.fromArray(SPECIES, padded, at + c1);
                x2 = FloatVector.fromArray(SPECIES, padded, at + c2);
                sum0 = x2.fma(w8, x1.fma(w7, x0.fma(w6, sum0)));
                FloatVector sum1 = x2.fma(w2, x1.fma(w1, x0.fma(w0, FloatVector.zero(SPECIES))));
                at += kernelRow;
                x0 = FloatVector.fromArray(SPECIES, padded, at);
                x1 = FloatVector.fromArray(SPECIES, padded, at + c1);
                x2 = FloatVector.fromArray(SPECIES, padded, at + c2);
                sum1 = x2.fma(w5, x1.fma(w4, x0.fma(w3, sum1)));
                at += kernelRow;
                x0 = FloatVector.fromArray(SPECIES, padded, at);
                x1 = FloatVector.fromArray(SPECIES, padded, at + c1);
                x2 = FloatVector.fromArray(SPECIES, padded, at + c2);
                sum1 = x2.fma(w8, x1.fma(w7, x0.fma(w6, sum1)));
                FloatVector sum2 = x2.fma(w2, x1.fma(w1, x0.fma(w0, FloatVector.zero(SPECIES))));
                at += kernelRow;
                x0 = FloatVector.fromArray(SPECIES, padded, at);
                x1 = FloatVector.fromArray(SPECIES, padded, at + c1);
                x2 = FloatVector.fromArray(SPECIES, padded, at + c2);
                sum2 = x2.fma(w5, x1.fma(w4, x0.fma(w3, sum2)));
                at += kernelRow;
                x0 = FloatVector.fromArray(SPECIES, padded, at);
                x1 = FloatVector.fromArray(SPECIES, padded, at + c1);
                x2 = FloatVector.fromArray(SPECIES, padded, at + c2);
                sum2 = x2.fma(w8, x1.fma(w7, x0.fma(w6, sum2)));
                FloatVector sum3 = x2.fma(w2, x1.fma(w1, x0.fma(w0, FloatVector.zero(SPECIES))));
                at += kernelRow;
                x0 = FloatVector.fromArray(SPECIES, padded, at);
                x1 = FloatVector.fromArray(SPECIES, padded, at + c1);
                x2 = FloatVector.fromArray(SPECIES, padded, at + c2);
                sum3 = x2.fma(w5, x1.fma(w4, x0.fma(w3, sum3)));
                at += kernelRow;
                x0 = FloatVector.fromArray(SPECIES, padded, at);
                x1 = FloatVector.fromArray(SPECIES, padded, at + c1);
                x2 = FloatVector.fromArray(SPECIES, padded, at + c2);
                sum3 = x2.fma(w8, x1.fma(w7, x0.fma(w6, sum3)));
                sum0.add(shift).intoMemorySegment(y, row + ow * 4L, Layouts.ORDER);
                sum1.add(shift).intoMemorySegment(y, row + rowBytes + ow * 4L, Layouts.ORDER);
                sum2.add(shift).intoMemorySegment(y, row + 2 * rowBytes + ow * 4L, Layouts.ORDER);
                sum3.add(shift).intoMemorySegment(y, row + 3 * rowBytes + ow * 4L, Layouts.ORDER);
            }
        }
        return oh;
    }

    /**
     * {@link #plane} for four filters at once, filter j's weights from {@code wFrom + j·filterStride}
     * and its plane {@code planeBytes} after filter j − 1's: each loaded vector of the input meets
     * the four filters' weights, where a filter at a time loaded it four times as often. Each
     * output's sum is {@link #plane}'s, tap for tap.
     */
    public static void planes4(float[] padded, int from, int channels, float[] w, int wFrom, int filterStride, Shape s,
            MemorySegment y, long yOffset, long planeBytes) {
        y = Segments.exact(y);
        int[] offsets = channelTapOffsets(s, from, channels);
        int taps = offsets.length;
        int lanes = SPECIES.length();
        VectorMask<Float> narrow = s.outWidth() < lanes ? SPECIES.indexInRange(0, s.outWidth()) : null;
        int lastVector = Math.max(0, s.outWidth() - lanes);
        int rowStep = s.strideHeight() * s.rowLength();
        long rowBytes = s.outWidth() * 4L;
        int w1 = wFrom + filterStride;
        int w2 = w1 + filterStride;
        int w3 = w2 + filterStride;
        // Two rows by four filters: eight sums, two loads and four broadcasts a tap.
        int oh = 0;
        for (; oh + 2 <= s.outHeight(); oh += 2) {
            int top = oh * rowStep;
            for (int ow = 0; ow < s.outWidth(); ow += lanes) {
                ow = Math.min(ow, lastVector);
                FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
                FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                for (int t = 0; t < taps; t++) {
                    int at = top + ow + offsets[t];
                    FloatVector upper = FloatVector.fromArray(SPECIES, padded, at);
                    FloatVector lower = FloatVector.fromArray(SPECIES, padded, at + rowStep);
                    FloatVector weight = FloatVector.broadcast(SPECIES, w[wFrom + t]);
                    a0 = upper.fma(weight, a0);
                    b0 = lower.fma(weight, b0);
                    weight = FloatVector.broadcast(SPECIES, w[w1 + t]);
                    a1 = upper.fma(weight, a1);
                    b1 = lower.fma(weight, b1);
                    weight = FloatVector.broadcast(SPECIES, w[w2 + t]);
                    a2 = upper.fma(weight, a2);
                    b2 = lower.fma(weight, b2);
                    weight = FloatVector.broadcast(SPECIES, w[w3 + t]);
                    a3 = upper.fma(weight, a3);
                    b3 = lower.fma(weight, b3);
                }
                long at = yOffset + oh * rowBytes + ow * 4L;
                store(a0, y, at, narrow);
                store(b0, y, at + rowBytes, narrow);
                store(a1, y, at + planeBytes, narrow);
                store(b1, y, at + planeBytes + rowBytes, narrow);
                store(a2, y, at + 2 * planeBytes, narrow);
                store(b2, y, at + 2 * planeBytes + rowBytes, narrow);
                store(a3, y, at + 3 * planeBytes, narrow);
                store(b3, y, at + 3 * planeBytes + rowBytes, narrow);
            }
        }
        if (oh < s.outHeight()) {
            int top = oh * rowStep;
            for (int ow = 0; ow < s.outWidth(); ow += lanes) {
                ow = Math.min(ow, lastVector);
                FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
                for (int t = 0; t < taps; t++) {
                    FloatVector upper = FloatVector.fromArray(SPECIES, padded, top + ow + offsets[t]);
                    a0 = upper.fma(FloatVector.broadcast(SPECIES, w[wFrom + t]), a0);
                    a1 = upper.fma(FloatVector.broadcast(SPECIES, w[w1 + t]), a1);
                    a2 = upper.fma(FloatVector.broadcast(SPECIES, w[w2 + t]), a2);
                    a3 = upper.fma(FloatVector.broadcast(SPECIES, w[w3 + t]), a3);
                }
                long at = yOffset + oh * rowBytes + ow * 4L;
                store(a0, y, at, narrow);
                store(a1, y, at + planeBytes, narrow);
                store(a2, y, at + 2 * planeBytes, narrow);
                store(a3, y, at + 3 * planeBytes, narrow);
            }
        }
    }

    /**
     * y[oh, ow] = the largest value under the window, as Math.max takes it (a NaN wins), from {@link
     * #pad}'s copy of x with −∞ for a border, which no window reads past (a pool's last window in
     * ceil mode needs the padding widened to it). One vector of outputs a row at a time, its taps in
     * turn; a value at a time along the strided row this took most of ResNet's max pool (JFR).
     */
    public static void maxPlane(float[] padded, Shape s, MemorySegment y, long yOffset) {
        y = Segments.exact(y);
        int[] offsets = tapOffsets(s);
        int lanes = SPECIES.length();
        VectorMask<Float> narrow = s.outWidth() < lanes ? SPECIES.indexInRange(0, s.outWidth()) : null;
        int lastVector = Math.max(0, s.outWidth() - lanes);
        int rowStep = s.strideHeight() * s.rowLength();
        long rowBytes = s.outWidth() * 4L;
        for (int oh = 0; oh < s.outHeight(); oh++) {
            int top = oh * rowStep;
            for (int ow = 0; ow < s.outWidth(); ow += lanes) {
                ow = Math.min(ow, lastVector);
                FloatVector largest = FloatVector.fromArray(SPECIES, padded, top + ow + offsets[0]);
                for (int t = 1; t < offsets.length; t++) {
                    largest = largest.max(FloatVector.fromArray(SPECIES, padded, top + ow + offsets[t]));
                }
                store(largest, y, yOffset + oh * rowBytes + ow * 4L, narrow);
            }
        }
    }

    /** The taps of {@code channels} copies from {@code from} as one window: channel c's read its copy, c·paddedSize on. */
    private static int[] channelTapOffsets(Shape s, int from, int channels) {
        int[] window = tapOffsets(s);
        int[] offsets = new int[channels * window.length];
        int paddedSize = s.paddedSize();
        for (int t = 0; t < offsets.length; t++) {
            offsets[t] = from + t / window.length * paddedSize + window[t % window.length];
        }
        return offsets;
    }

    /** Where each tap of the window reads in the padded copy for output (0, 0); output (oh, ow) adds oh·sh·rowLength + ow. */
    private static int[] tapOffsets(Shape s) {
        int[] offsets = new int[s.kernelHeight() * s.kernelWidth()];
        // The sizes once: each is a division, and a plane's call (a task's, a channel's) took 5% of a
        // depthwise QLinearConv's samples working them out tap by tap.
        int rowLength = s.rowLength();
        int phaseWidth = s.phaseWidth();
        for (int i = 0; i < s.kernelHeight(); i++) {
            for (int j = 0; j < s.kernelWidth(); j++) {
                int column = j * s.dilationWidth();
                offsets[i * s.kernelWidth() + j] = i * s.dilationHeight() * rowLength
                        + column % s.strideWidth() * phaseWidth + column / s.strideWidth();
            }
        }
        return offsets;
    }

    /** A row's vector of outputs, its lanes past the row left out when {@code narrow} masks them. */
    private static void store(FloatVector sums, MemorySegment y, long at, VectorMask<Float> narrow) {
        if (narrow == null) {
            sums.intoMemorySegment(y, at, Layouts.ORDER);
        } else {
            sums.intoMemorySegment(y, at, Layouts.ORDER, narrow);
        }
    }
}
