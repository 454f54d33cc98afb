package dev.quanta.kernels.simd;

import dev.quanta.tensor.Layouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.Vector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector kernels over rows of float32 in memory segments. A row operand is either contiguous
 * or a scalar repeated along the row (stride 0). Each kernel has a scalar reference in
 * {@link FloatRowsReference} with the same results, bit for bit for the exact operations.
 */
public final class FloatRows {

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /**
     * Bytes as many as {@link #SPECIES} has lanes. Vectors have 64 bits or more: with 128-bit float
     * vectors (four lanes, as ARM's NEON and {@code -XX:MaxVectorSize=16} give) a vector of eight
     * bytes is read and written through {@link #BYTE_LANES}, a mask of its first four lanes, where
     * {@link #BYTES_FILL_A_VECTOR} is false. Each loop makes that choice itself: behind a helper
     * returning the vector, which C2 did not always inline, the byte conversions ran through the
     * Vector API's Java fallback and the int8 MiniLM's products took twice as long.
     */
    static final VectorSpecies<Byte> BYTES = ByteVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(Math.max(64, SPECIES.length() * 8)));
    static final boolean BYTES_FILL_A_VECTOR = BYTES.length() == SPECIES.length();
    /** Bytes {@link #copy8} moves at a time: the preferred vector's, at most 32. */
    private static final VectorSpecies<Byte> ROW_BYTES = ByteVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(Math.min(256, ByteVector.SPECIES_PREFERRED.vectorBitSize())));
    static final VectorMask<Byte> BYTE_LANES = BYTES.indexInRange(0, SPECIES.length());
    /** 1.5·2^23: adding and taking it away rounds a float below 2^22 in magnitude to an integer, half to even. */
    private static final float ROUNDING = 0x1.8p23f;

    /** The binary operations with a vector form. */
    public enum Op { ADD, SUB, MUL, DIV, MAX, MIN }

    private FloatRows() {
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HIGH = 0.693359375f;
    private static final float LN2_LOW = -2.12194440e-4f;
    /** e^r's Taylor polynomial to degree 7, the highest power first. */
    private static final float[] EXP_TAYLOR = {1f / 5040, 1f / 720, 1f / 120, 1f / 24, 1f / 6, 0.5f, 1f, 1f};
    /** e^x's range: below, results are not normal floats (flushed to 0); above, they overflow. */
    private static final float EXP_LOWEST = -87.3f;
    private static final float EXP_HIGHEST = 88.72283f;

    /**
     * e^x from IEEE additions, multiplications and fused multiply-adds only, so the bits are the
     * same whether the code runs interpreted or compiled (the Vector API's own EXP may differ by an
     * ulp between the two, which would make results depend on JIT state). x = k·ln2 + r with
     * |r| ≤ ln2/2 and e^r by its degree-7 Taylor polynomial, scaled by 2^k; results below the
     * smallest normal float flush to 0, NaN stays NaN through the arithmetic. k is rounded by adding
     * 1.5·2^23 (its bits are then k's low bits) and the range is clamped by comparisons: the
     * conversion to int and the Vector API's min and max (NaN-aware, several instructions each on
     * AVX2) made this function 1.8 times slower.
     */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> below = x.lt(EXP_LOWEST);
        VectorMask<Float> above = x.compare(VectorOperators.GT, EXP_HIGHEST);
        FloatVector clamped = x.blend(EXP_LOWEST, below).blend(EXP_HIGHEST, above);
        FloatVector t = clamped.fma(FloatVector.broadcast(SPECIES, LOG2E), FloatVector.broadcast(SPECIES, ROUNDING));
        FloatVector kf = t.sub(ROUNDING);
        IntVector k = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUNDING));
        FloatVector r = kf.fma(FloatVector.broadcast(SPECIES, -LN2_HIGH), clamped);
        r = kf.fma(FloatVector.broadcast(SPECIES, -LN2_LOW), r);
        FloatVector p = FloatVector.broadcast(SPECIES, EXP_TAYLOR[0]);
        for (int c = 1; c < EXP_TAYLOR.length; c++) {
            p = p.fma(r, FloatVector.broadcast(SPECIES, EXP_TAYLOR[c]));
        }
        // 2^k in two halves: k reaches 128 near the top of the range, where 2^k has no float.
        IntVector low = k.lanewise(VectorOperators.ASHR, 1);
        FloatVector result = p.mul(low.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(k.sub(low).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
        return result.blend(0f, below).blend(Float.POSITIVE_INFINITY, above);
    }

    /** The same function for one element (row tails), so a row's values do not depend on where the tail starts. */
    static float expTail(float x) {
        return exp(FloatVector.broadcast(SPECIES, x)).lane(0);
    }

    /** Below this magnitude tanh takes its series: 1 − 2/(e^{2|x|} + 1) cancels too much there for a few ulps. */
    private static final float TANH_SERIES_END = 0.55f;
    /** tanh(x) = x + x³·P(x²): its Taylor coefficients of x³ … x¹⁹, highest first (within an ulp below 0.55). */
    private static final float[] TANH_SERIES = {-443861162f / 1856156927625f, 6404582f / 10854718875f,
        -929569f / 638512875f, 21844f / 6081075f, -1382f / 155925f, 62f / 2835f, -17f / 315f, 2f / 15f, -1f / 3f};

    /** tanh by {@link #exp} past {@link #TANH_SERIES_END}, its series below; NaN stays NaN. */
    static FloatVector tanh(FloatVector x) {
        FloatVector magnitude = x.abs();
        FloatVector one = FloatVector.broadcast(SPECIES, 1f);
        FloatVector far = one.sub(FloatVector.broadcast(SPECIES, 2f).div(exp(magnitude.add(magnitude)).add(one)));
        far = far.blend(far.neg(), x.lt(0f));
        FloatVector square = x.mul(x);
        FloatVector p = FloatVector.broadcast(SPECIES, TANH_SERIES[0]);
        for (int c = 1; c < TANH_SERIES.length; c++) {
            p = p.fma(square, FloatVector.broadcast(SPECIES, TANH_SERIES[c]));
        }
        FloatVector near = p.mul(square).fma(x, x);
        return far.blend(near, magnitude.lt(TANH_SERIES_END));
    }

    /**
     * {@code out[i] = a[i] op b[i]} for {@code i < length}; {@code aScalar}/{@code bScalar} repeat element 0.
     * Offsets are in bytes.
     */
    public static void binary(Op op, MemorySegment a, long aOffset, boolean aScalar, MemorySegment b, long bOffset,
            boolean bScalar, MemorySegment out, long outOffset, long length) {
        binary(op, a, aOffset, aScalar, aScalar ? a.get(Layouts.FLOAT, aOffset) : 0f, b, bOffset, bScalar,
                bScalar ? b.get(Layouts.FLOAT, bOffset) : 0f, out, outOffset, length);
    }

    /**
     * As the public form, a scalar operand's value given (its segment is then not read). Each form
     * of operands has loops of its own: with a broadcast or a load chosen inside each loop, a JVM
     * that had run every operation on every form multiplied at 0.67–0.87 ns an element, against
     * 0.05–0.1 split by form (a throwaway loop over 16,384 elements).
     */
    private static void binary(Op op, MemorySegment a, long aOffset, boolean aScalar, float aValue, MemorySegment b,
            long bOffset, boolean bScalar, float bValue, MemorySegment out, long outOffset, long length) {
        long vectorEnd = length - length % SPECIES.length();
        // Two scalars (a rare broadcast) go element by element.
        long i = aScalar && bScalar ? 0
                : aScalar ? scalarFirst(op, aValue, b, bOffset, out, outOffset, vectorEnd)
                : bScalar ? scalarSecond(op, a, aOffset, bValue, out, outOffset, vectorEnd)
                : vectors(op, a, aOffset, b, bOffset, out, outOffset, vectorEnd);
        if (i < length && !(aScalar && bScalar)) {
            lastVector(op, a, aOffset, aScalar, aValue, b, bOffset, bScalar, bValue, out, outOffset, i, length);
            return;
        }
        for (; i < length; i++) {
            float x = aScalar ? aValue : a.get(Layouts.FLOAT, aOffset + i * 4);
            float y = bScalar ? bValue : b.get(Layouts.FLOAT, bOffset + i * 4);
            out.set(Layouts.FLOAT, outOffset + i * 4, FloatRowsReference.apply(op, x, y));
        }
    }

    /**
     * Elements {@code from..length} (fewer than a vector) as one masked vector: one at a time, the
     * bias a float convolution adds to each 14-wide output row took 13% of MNIST's run (JFR).
     */
    private static void lastVector(Op op, MemorySegment a, long aOffset, boolean aScalar, float aValue, MemorySegment b,
            long bOffset, boolean bScalar, float bValue, MemorySegment out, long outOffset, long from, long length) {
        a = Segments.exact(a);
        b = Segments.exact(b);
        out = Segments.exact(out);
        VectorMask<Float> rest = SPECIES.indexInRange(from, length);
        FloatVector x = aScalar ? FloatVector.broadcast(SPECIES, aValue)
                : FloatVector.fromMemorySegment(SPECIES, a, aOffset + from * 4, Layouts.ORDER, rest);
        FloatVector y = bScalar ? FloatVector.broadcast(SPECIES, bValue)
                : FloatVector.fromMemorySegment(SPECIES, b, bOffset + from * 4, Layouts.ORDER, rest);
        FloatVector result = switch (op) {
            case ADD -> x.add(y);
            case SUB -> x.sub(y);
            case MUL -> x.mul(y);
            case DIV -> x.div(y);
            case MAX -> x.max(y);
            case MIN -> x.min(y);
        };
        result.intoMemorySegment(out, outOffset + from * 4, Layouts.ORDER, rest);
    }

    // One loop per operation: with the choice inside the loop, its profile changed as new
    // operations came, and C2's recompilations sometimes ended in code without the intrinsics.
    // The loads stay in each loop: a helper returning the vector was not always inlined, and
    // then every load allocated (JFR: most of a run's garbage). Each returns where the vectors end.

    private static long vectors(Op op, MemorySegment a, long aOffset, MemorySegment b, long bOffset, MemorySegment out,
            long outOffset, long vectorEnd) {
        a = Segments.exact(a);
        b = Segments.exact(b);
        out = Segments.exact(out);
        int step = SPECIES.length();
        long i = 0;
        switch (op) {
            case ADD -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
                    FloatVector y = FloatVector.fromMemorySegment(SPECIES, b, bOffset + i * 4, Layouts.ORDER);
                    x.add(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case SUB -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
                    FloatVector y = FloatVector.fromMemorySegment(SPECIES, b, bOffset + i * 4, Layouts.ORDER);
                    x.sub(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case MUL -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
                    FloatVector y = FloatVector.fromMemorySegment(SPECIES, b, bOffset + i * 4, Layouts.ORDER);
                    x.mul(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case DIV -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
                    FloatVector y = FloatVector.fromMemorySegment(SPECIES, b, bOffset + i * 4, Layouts.ORDER);
                    x.div(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case MAX -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
                    FloatVector y = FloatVector.fromMemorySegment(SPECIES, b, bOffset + i * 4, Layouts.ORDER);
                    x.max(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case MIN -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
                    FloatVector y = FloatVector.fromMemorySegment(SPECIES, b, bOffset + i * 4, Layouts.ORDER);
                    x.min(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
        }
        return i;
    }

    private static long scalarFirst(Op op, float aValue, MemorySegment b, long bOffset, MemorySegment out,
            long outOffset, long vectorEnd) {
        b = Segments.exact(b);
        out = Segments.exact(out);
        int step = SPECIES.length();
        FloatVector x = FloatVector.broadcast(SPECIES, aValue);
        long i = 0;
        switch (op) {
            case ADD -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector y = FloatVector.fromMemorySegment(SPECIES, b, bOffset + i * 4, Layouts.ORDER);
                    x.add(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case SUB -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector y = FloatVector.fromMemorySegment(SPECIES, b, bOffset + i * 4, Layouts.ORDER);
                    x.sub(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case MUL -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector y = FloatVector.fromMemorySegment(SPECIES, b, bOffset + i * 4, Layouts.ORDER);
                    x.mul(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case DIV -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector y = FloatVector.fromMemorySegment(SPECIES, b, bOffset + i * 4, Layouts.ORDER);
                    x.div(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case MAX -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector y = FloatVector.fromMemorySegment(SPECIES, b, bOffset + i * 4, Layouts.ORDER);
                    x.max(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case MIN -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector y = FloatVector.fromMemorySegment(SPECIES, b, bOffset + i * 4, Layouts.ORDER);
                    x.min(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
        }
        return i;
    }

    private static long scalarSecond(Op op, MemorySegment a, long aOffset, float bValue, MemorySegment out,
            long outOffset, long vectorEnd) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        int step = SPECIES.length();
        FloatVector y = FloatVector.broadcast(SPECIES, bValue);
        long i = 0;
        switch (op) {
            case ADD -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
                    x.add(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case SUB -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
                    x.sub(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case MUL -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
                    x.mul(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case DIV -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
                    x.div(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case MAX -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
                    x.max(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
            case MIN -> {
                for (; i < vectorEnd; i += step) {
                    FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
                    x.min(y).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
                }
            }
        }
        return i;
    }

    /** Softmax (or log-softmax) of a contiguous row: exponentials of x − max, summed in float lanes. */
    public static void softmax(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length, boolean log) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        int step = SPECIES.length();
        long vectorEnd = length - length % step;
        FloatVector maxes = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        long i = 0;
        for (; i < vectorEnd; i += step) {
            FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
            maxes = maxes.blend(x, x.compare(VectorOperators.GT, maxes)); // see maskedSoftmax
        }
        float max = maxes.reduceLanes(VectorOperators.MAX);
        for (; i < length; i++) {
            max = Math.max(max, a.get(Layouts.FLOAT, aOffset + i * 4));
        }
        finishSoftmax(a, aOffset, out, outOffset, length, log, max);
    }

    /**
     * Softmax of x / divisor + mask over a contiguous row (the mask a row, or one value when
     * {@code maskScalar}), each step rounded as separate division, addition and {@link #softmax}
     * round it: the sums go to {@code out} while their maximum is taken, and the softmax finishes there.
     */
    public static void maskedSoftmax(MemorySegment x, long xOffset, float divisor, MemorySegment mask, long maskOffset,
            boolean maskScalar, MemorySegment out, long outOffset, long length) {
        x = Segments.exact(x);
        mask = Segments.exact(mask);
        out = Segments.exact(out);
        int step = SPECIES.length();
        long vectorEnd = length - length % step;
        FloatVector maskSplat = FloatVector.broadcast(SPECIES, maskScalar ? mask.get(Layouts.FLOAT, maskOffset) : 0f);
        FloatVector maxes = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        long i = 0;
        for (; i < vectorEnd; i += step) {
            FloatVector maskPart = maskScalar ? maskSplat
                    : FloatVector.fromMemorySegment(SPECIES, mask, maskOffset + i * 4, Layouts.ORDER);
            FloatVector sum = FloatVector.fromMemorySegment(SPECIES, x, xOffset + i * 4, Layouts.ORDER).div(divisor)
                    .add(maskPart);
            sum.intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
            // The maximum by comparison and blend: the Vector API's max takes several instructions
            // on AVX2 (for NaN and −0). A NaN lane is passed over, but its exponential is NaN, and
            // so is the whole row then.
            maxes = maxes.blend(sum, sum.compare(VectorOperators.GT, maxes));
        }
        float max = maxes.reduceLanes(VectorOperators.MAX);
        for (; i < length; i++) {
            float sum = x.get(Layouts.FLOAT, xOffset + i * 4) / divisor
                    + mask.get(Layouts.FLOAT, maskOffset + (maskScalar ? 0 : i * 4));
            out.set(Layouts.FLOAT, outOffset + i * 4, sum);
            max = Math.max(max, sum);
        }
        finishSoftmax(out, outOffset, out, outOffset, length, false, max);
    }

    /** The rest of {@link #softmax} once the row's maximum is known. */
    private static void finishSoftmax(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length,
            boolean log, float max) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        int step = SPECIES.length();
        long vectorEnd = length - length % step;
        long i;
        FloatVector sums = FloatVector.zero(SPECIES);
        float tail = 0;
        for (i = 0; i < vectorEnd; i += step) {
            FloatVector e = exp(FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER).sub(max));
            if (!log) {
                e.intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
            }
            sums = sums.add(e);
        }
        for (; i < length; i++) {
            float e = expTail(a.get(Layouts.FLOAT, aOffset + i * 4) - max);
            if (!log) {
                out.set(Layouts.FLOAT, outOffset + i * 4, e);
            }
            tail += e;
        }
        float[] lanes = LANES.get();
        sums.intoArray(lanes, 0);
        float sum = sumLanes(lanes) + tail;
        if (log) {
            // (x − max) − log(sum), in that order: folding log(sum) into a large max first would lose it.
            binaryScalar(Op.SUB, a, aOffset, max, out, outOffset, length);
            binaryScalar(Op.SUB, out, outOffset, (float) Math.log(sum), out, outOffset, length);
        } else {
            binaryScalar(Op.MUL, out, outOffset, 1 / sum, out, outOffset, length);
        }
    }

    /**
     * Layer normalization of a contiguous row, (x − mean)/√(variance + ε)·scale + bias, or RMS
     * normalization (x/√(mean(x²) + ε)·scale) when {@code rmsOnly}; bias may be null. Returns
     * {mean, 1/σ}.
     */
    public static float[] normalize(MemorySegment a, long aOffset, MemorySegment out, long outOffset, int length,
            float[] scale, float[] bias, float epsilon, boolean rmsOnly) {
        float[] statistics = new float[4];
        normalizePair(a, aOffset, aOffset, out, outOffset, outOffset, length, scale, bias, epsilon, rmsOnly, statistics);
        return new float[] {statistics[0], statistics[1]};
    }

    /**
     * {@link #normalize} of two rows at once (the single-row form passes one row twice), each row
     * with its own operations in a fixed order, so a row's bits do not depend on the row beside it:
     * the two rows' sums are independent chains that run side by side, where one row's single chain
     * of additions bounded the loop by its latency (128 rows of 384: 16.8 µs in pairs, 27.3 one at
     * a time, a throwaway loop). {@code statistics} receives the first row's mean and 1/σ, then
     * the second's.
     */
    public static void normalizePair(MemorySegment a, long aOffset, long secondOffset, MemorySegment out, long outOffset,
            long secondOutOffset, int length, float[] scale, float[] bias, float epsilon, boolean rmsOnly,
            float[] statistics) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        int step = SPECIES.length();
        int vectorEnd = length - length % step;
        FloatVector sums0 = FloatVector.zero(SPECIES);
        FloatVector sums1 = FloatVector.zero(SPECIES);
        int i = 0;
        for (; i < vectorEnd; i += step) {
            FloatVector x0 = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4L, Layouts.ORDER);
            FloatVector x1 = FloatVector.fromMemorySegment(SPECIES, a, secondOffset + i * 4L, Layouts.ORDER);
            sums0 = rmsOnly ? x0.fma(x0, sums0) : sums0.add(x0);
            sums1 = rmsOnly ? x1.fma(x1, sums1) : sums1.add(x1);
        }
        float[] lanes = LANES.get();
        sums0.intoArray(lanes, 0);
        float sum0 = sumLanes(lanes);
        sums1.intoArray(lanes, 0);
        float sum1 = sumLanes(lanes);
        for (; i < length; i++) {
            float x0 = a.get(Layouts.FLOAT, aOffset + i * 4L);
            float x1 = a.get(Layouts.FLOAT, secondOffset + i * 4L);
            sum0 += rmsOnly ? x0 * x0 : x0;
            sum1 += rmsOnly ? x1 * x1 : x1;
        }
        float mean0 = rmsOnly ? 0 : sum0 / length;
        float mean1 = rmsOnly ? 0 : sum1 / length;
        float variance0;
        float variance1;
        if (rmsOnly) {
            variance0 = sum0 / length;
            variance1 = sum1 / length;
        } else {
            FloatVector squares0 = FloatVector.zero(SPECIES);
            FloatVector squares1 = FloatVector.zero(SPECIES);
            for (i = 0; i < vectorEnd; i += step) {
                FloatVector d0 = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4L, Layouts.ORDER).sub(mean0);
                FloatVector d1 = FloatVector.fromMemorySegment(SPECIES, a, secondOffset + i * 4L, Layouts.ORDER).sub(mean1);
                squares0 = d0.fma(d0, squares0);
                squares1 = d1.fma(d1, squares1);
            }
            squares0.intoArray(lanes, 0);
            float total0 = sumLanes(lanes);
            squares1.intoArray(lanes, 0);
            float total1 = sumLanes(lanes);
            for (; i < length; i++) {
                float d0 = a.get(Layouts.FLOAT, aOffset + i * 4L) - mean0;
                float d1 = a.get(Layouts.FLOAT, secondOffset + i * 4L) - mean1;
                total0 += d0 * d0;
                total1 += d1 * d1;
            }
            variance0 = total0 / length;
            variance1 = total1 / length;
        }
        float inverse0 = (float) (1 / Math.sqrt(variance0 + epsilon));
        float inverse1 = (float) (1 / Math.sqrt(variance1 + epsilon));
        for (i = 0; i < vectorEnd; i += step) {
            FloatVector gamma = FloatVector.fromArray(SPECIES, scale, i);
            FloatVector y0 = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4L, Layouts.ORDER).sub(mean0)
                    .mul(inverse0).mul(gamma);
            FloatVector y1 = FloatVector.fromMemorySegment(SPECIES, a, secondOffset + i * 4L, Layouts.ORDER).sub(mean1)
                    .mul(inverse1).mul(gamma);
            if (bias != null) {
                FloatVector beta = FloatVector.fromArray(SPECIES, bias, i);
                y0 = y0.add(beta);
                y1 = y1.add(beta);
            }
            y0.intoMemorySegment(out, outOffset + i * 4L, Layouts.ORDER);
            y1.intoMemorySegment(out, secondOutOffset + i * 4L, Layouts.ORDER);
        }
        for (; i < length; i++) {
            // Both read before either is written: a row paired with itself may be normalized in place.
            float beta = bias == null ? 0 : bias[i];
            float y0 = (a.get(Layouts.FLOAT, aOffset + i * 4L) - mean0) * inverse0 * scale[i] + beta;
            float y1 = (a.get(Layouts.FLOAT, secondOffset + i * 4L) - mean1) * inverse1 * scale[i] + beta;
            out.set(Layouts.FLOAT, outOffset + i * 4L, y0);
            out.set(Layouts.FLOAT, secondOutOffset + i * 4L, y1);
        }
        statistics[0] = mean0;
        statistics[1] = inverse0;
        statistics[2] = mean1;
        statistics[3] = inverse1;
    }

    /** A thread's vector of partial sums, laid out for {@link #sumLanes}. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[SPECIES.length()]);

    /**
     * The lanes' sum in an order fixed here: lane i plus lane i + half, for halves of the lanes, a
     * quarter, and so on. reduceLanes(ADD) leaves the order to the implementation, and the compiled
     * intrinsic adds in another order than the interpreter, so results would change in the last bits
     * once the JIT warms up. The lanes come in an array ({@link #LANES}): as a helper taking a vector
     * this was not always inlined, and the vector was then boxed and added outside compiled code
     * (2% of a JFR profile of the int8 MiniLM).
     */
    private static float sumLanes(float[] values) {
        for (int half = values.length / 2; half > 0; half /= 2) {
            for (int i = 0; i < half; i++) {
                values[i] += values[i + half];
            }
        }
        return values[0];
    }

    /** {@code out[i] = a[i] op scalar} for {@code i < length}; offsets in bytes. */
    public static void binaryScalar(Op op, MemorySegment a, long aOffset, float scalar, MemorySegment out, long outOffset,
            long length) {
        binary(op, a, aOffset, false, 0f, a, aOffset, true, scalar, out, outOffset, length);
    }

    /** {@code out[i] = fma(a[i], scale, shift)}, one rounding, over a contiguous row; offsets in bytes. */
    public static void affine(MemorySegment a, long aOffset, float scale, float shift, MemorySegment out, long outOffset,
            long length) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        int step = SPECIES.length();
        long vectorEnd = length - length % step;
        FloatVector scales = FloatVector.broadcast(SPECIES, scale);
        FloatVector shifts = FloatVector.broadcast(SPECIES, shift);
        long i = 0;
        for (; i < vectorEnd; i += step) {
            FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER).fma(scales, shifts)
                    .intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
        }
        for (; i < length; i++) {
            out.set(Layouts.FLOAT, outOffset + i * 4, Math.fma(a.get(Layouts.FLOAT, aOffset + i * 4), scale, shift));
        }
    }

    /** Sum of a contiguous row, in float, by vector lanes; offsets in bytes. */
    public static float sum(MemorySegment a, long aOffset, long length) {
        a = Segments.exact(a);
        int step = SPECIES.length();
        long vectorEnd = length - length % step;
        FloatVector sums = FloatVector.zero(SPECIES);
        long i = 0;
        for (; i < vectorEnd; i += step) {
            sums = sums.add(FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER));
        }
        float sum = sums.reduceLanes(VectorOperators.ADD);
        for (; i < length; i++) {
            sum += a.get(Layouts.FLOAT, aOffset + i * 4);
        }
        return sum;
    }

    /**
     * Sum of a contiguous row (offsets in bytes): each block of {@link #MOMENT_BLOCK} floats by float
     * lanes, the blocks' sums added in double.
     */
    public static double blockSum(MemorySegment a, long aOffset, long length) {
        double sum = 0;
        for (long block = 0; block < length; block += MOMENT_BLOCK) {
            sum += sum(a, aOffset + block * 4, Math.min(MOMENT_BLOCK, length - block));
        }
        return sum;
    }

    /** Floats a block of {@link #blockSum} sums in float lanes before adding the block's sum in double. */
    private static final int MOMENT_BLOCK = 1024;

    /**
     * {mean, population variance} of a contiguous row (offsets in bytes), in two passes, each as
     * {@link #blockSum}, so that a plane of a million values keeps the precision of a short row
     * (instance normalization).
     */
    public static double[] moments(MemorySegment a, long aOffset, long length) {
        a = Segments.exact(a);
        double mean = length == 0 ? Double.NaN : blockSum(a, aOffset, length) / length;
        FloatVector center = FloatVector.broadcast(SPECIES, (float) mean);
        int step = SPECIES.length();
        double squares = 0;
        for (long block = 0; block < length; block += MOMENT_BLOCK) {
            long end = Math.min(length, block + MOMENT_BLOCK);
            long vectorEnd = end - (end - block) % step;
            FloatVector lanes = FloatVector.zero(SPECIES);
            long i = block;
            for (; i < vectorEnd; i += step) {
                FloatVector deviation = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER).sub(center);
                lanes = deviation.fma(deviation, lanes);
            }
            double blockSquares = lanes.reduceLanes(VectorOperators.ADD);
            for (; i < end; i++) {
                double deviation = a.get(Layouts.FLOAT, aOffset + i * 4) - (float) mean;
                blockSquares += deviation * deviation;
            }
            squares += blockSquares;
        }
        return new double[] {mean, length == 0 ? Double.NaN : squares / length};
    }

    /** Largest value of a contiguous row (Math.max's: NaN if any is, −∞ for none); offsets in bytes. */
    public static float max(MemorySegment a, long aOffset, long length) {
        a = Segments.exact(a);
        int step = SPECIES.length();
        long vectorEnd = length - length % step;
        FloatVector maxes = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        long i = 0;
        for (; i < vectorEnd; i += step) {
            maxes = maxes.max(FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER));
        }
        float max = maxes.reduceLanes(VectorOperators.MAX);
        for (; i < length; i++) {
            max = Math.max(max, a.get(Layouts.FLOAT, aOffset + i * 4));
        }
        return max;
    }

    /** The unary functions with a vector form; exponentials through {@link #exp}, deterministic. */
    public enum Function {
        EXP, SQRT, NEG, ABS, RELU, SIGMOID, TANH, ERF, GELU,
        /** x·min(max(x + 3, 0), 6)/6, rounded after each step as the Add, Clip, Mul and Div it replaces. */
        HARD_SWISH_CHAIN,
        /** x below 0 times alpha. */
        LEAKY_RELU,
        /** max(0, min(1, alpha·x + beta)), rounded after the product and the sum. */
        HARD_SIGMOID,
        /** x·max(0, min(1, x·(1/6) + 1/2)), each step rounded to float. */
        HARD_SWISH,
        /** x above alpha, else 0. */
        THRESHOLDED_RELU,
        /** The natural logarithm, the Vector API's (within an ulp or two of Math.log's). */
        LOG,
        /** 1/x. */
        RECIPROCAL,
        /** The Vector API's sine. */
        SIN,
        /** The Vector API's cosine. */
        COS,
        /** x below 0 as alpha·(e^x − 1) (the Vector API's expm1), else x. */
        ELU,
        /** log(1 + e^x) by {@link #exp} and the Vector API's log1p; x itself past 30. */
        SOFTPLUS,
        /** x·tanh(softplus(x)). */
        MISH
    }

    /** sums[from + i] += x[i]² for {@code count} floats of x from byte {@code at}: a channel's share of LRN's window. */
    public static void addSquares(MemorySegment x, long at, float[] sums, int from, int count) {
        x = Segments.exact(x);
        int step = SPECIES.length();
        int i = 0;
        for (; i + step <= count; i += step) {
            FloatVector value = FloatVector.fromMemorySegment(SPECIES, x, at + i * 4L, Layouts.ORDER);
            value.fma(value, FloatVector.fromArray(SPECIES, sums, from + i)).intoArray(sums, from + i);
        }
        for (; i < count; i++) {
            float value = x.get(Layouts.FLOAT, at + i * 4L);
            sums[from + i] = Math.fma(value, value, sums[from + i]);
        }
    }

    /**
     * out[i] = x[i] / (bias + scale·squares[i])^beta for {@code count} floats from byte {@code xAt} of
     * x and {@code outAt} of out: local response normalization once its window's squares are summed.
     * The power goes through the Vector API's pow in the row's tail too, so that no row mixes two.
     */
    public static void localResponse(MemorySegment x, long xAt, float[] squares, MemorySegment out, long outAt, int count,
            float bias, float scale, float beta) {
        x = Segments.exact(x);
        out = Segments.exact(out);
        int step = SPECIES.length();
        int i = 0;
        for (; i + step <= count; i += step) {
            FloatVector denominator = FloatVector.fromArray(SPECIES, squares, i).fma(scale, bias)
                    .lanewise(VectorOperators.POW, beta);
            FloatVector.fromMemorySegment(SPECIES, x, xAt + i * 4L, Layouts.ORDER).div(denominator)
                    .intoMemorySegment(out, outAt + i * 4L, Layouts.ORDER);
        }
        for (; i < count; i++) {
            float denominator = FloatVector.broadcast(SPECIES, Math.fma(squares[i], scale, bias))
                    .lanewise(VectorOperators.POW, beta).lane(0);
            out.set(Layouts.FLOAT, outAt + i * 4L, x.get(Layouts.FLOAT, xAt + i * 4L) / denominator);
        }
    }

    /** out[i] = f(a[i]) over a contiguous row, for the functions without parameters. */
    public static void unary(Function function, MemorySegment a, long aOffset, MemorySegment out, long outOffset,
            long length) {
        unary(function, 0, 0, a, aOffset, out, outOffset, length);
    }

    /** out[i] = f(a[i]) over a contiguous row, {@code alpha} and {@code beta} the parameters of those that take them. */
    public static void unary(Function function, float alpha, float beta, MemorySegment a, long aOffset, MemorySegment out,
            long outOffset, long length) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        // The functions built on exp each have a loop of their own: in one loop that switched between
        // them, a JVM running sigmoid and tanh in turn (a recurrent cell's gates) took 2–7 ns an
        // element where each alone takes 0.55 and 0.98 (a throwaway loop over rows of 1,024).
        switch (function) {
            case ERF, GELU -> erf(a, aOffset, out, outOffset, length, function == Function.GELU);
            case EXP -> exponentials(a, aOffset, out, outOffset, length);
            case SIGMOID -> sigmoids(a, aOffset, out, outOffset, length);
            case TANH -> tanhs(a, aOffset, out, outOffset, length);
            case SOFTPLUS, MISH -> softpluses(a, aOffset, out, outOffset, length, function == Function.MISH);
            case LOG, SIN, COS -> transcendentals(function, a, aOffset, out, outOffset, length);
            case ELU -> elus(alpha, a, aOffset, out, outOffset, length);
            default -> simple(function, alpha, beta, a, aOffset, out, outOffset, length);
        }
    }

    /**
     * The functions of a few vector operations, over a row, each written out in the loop; the tail
     * by their scalar definitions, which take the same IEEE steps. Through a method taking and
     * returning the vector (called on broadcast values for the tail), C2 compiled that method on
     * its own once the tail had made it hot, then refused to inline it into the loop ("already
     * compiled into a big method"): the vectors were boxed, and PP-OCRv4's recognizer spent 30% of
     * its run in 28 hard-swish nodes (JFR). A last vector masked instead took twice the time of
     * the scalar tail over rows of 61,440 (Relu, 0.22 against 0.11 ns an element).
     */
    private static void simple(Function function, float alpha, float beta, MemorySegment a, long aOffset, MemorySegment out,
            long outOffset, long length) {
        int step = SPECIES.length();
        long vectorEnd = length - length % step;
        long i = 0;
        for (; i < vectorEnd; i += step) {
            FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
            FloatVector y = switch (function) {
                case SQRT -> x.lanewise(VectorOperators.SQRT);
                case NEG -> x.neg();
                case ABS -> x.abs();
                case RELU -> x.max(0f);
                case HARD_SWISH_CHAIN -> x.add(3f).max(0f).min(6f).mul(x).div(6f);
                case LEAKY_RELU -> x.blend(x.mul(alpha), x.lt(0f));
                case HARD_SIGMOID -> x.mul(alpha).add(beta).min(1f).max(0f);
                case HARD_SWISH -> x.mul(1f / 6).add(0.5f).min(1f).max(0f).mul(x);
                case THRESHOLDED_RELU -> FloatVector.zero(SPECIES).blend(x, x.compare(VectorOperators.GT, alpha));
                case RECIPROCAL -> FloatVector.broadcast(SPECIES, 1f).div(x);
                default -> throw new AssertionError(function + " has a loop of its own");
            };
            y.intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
        }
        for (; i < length; i++) {
            out.set(Layouts.FLOAT, outOffset + i * 4, FloatRowsReference.apply(function, alpha, beta, a.get(Layouts.FLOAT, aOffset + i * 4)));
        }
    }

    /** ELU over a row, its last vector masked: the Vector API's expm1 is not the scalar one, and a row takes one of them. */
    private static void elus(float alpha, MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length) {
        int step = SPECIES.length();
        for (long i = 0; i < length; i += step) {
            VectorMask<Float> inRow = SPECIES.indexInRange(i, length);
            FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER, inRow);
            x.blend(x.lanewise(VectorOperators.EXPM1).mul(alpha), x.lt(0f))
                    .intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER, inRow);
        }
    }

    /** Log, sine and cosine (the Vector API's own approximations) over a row; the tail by the same vectors. */
    private static void transcendentals(Function function, MemorySegment a, long aOffset, MemorySegment out, long outOffset,
            long length) {
        int step = SPECIES.length();
        long i = 0;
        for (; i + step <= length; i += step) {
            transcendental(function, FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER))
                    .intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
        }
        for (; i < length; i++) {
            out.set(Layouts.FLOAT, outOffset + i * 4,
                    transcendental(function, FloatVector.broadcast(SPECIES, a.get(Layouts.FLOAT, aOffset + i * 4))).lane(0));
        }
    }

    /** The operators are constants in each case: C2 compiles a lanewise operation only for a constant one. */
    private static FloatVector transcendental(Function function, FloatVector x) {
        return switch (function) {
            case LOG -> x.lanewise(VectorOperators.LOG);
            case SIN -> x.lanewise(VectorOperators.SIN);
            case COS -> x.lanewise(VectorOperators.COS);
            default -> throw new AssertionError(function + " is no transcendental of the Vector API");
        };
    }

    // The tails use the same exponential as the vectors, so that a row never mixes two.

    private static void exponentials(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length) {
        int step = SPECIES.length();
        long i = 0;
        for (; i + step <= length; i += step) {
            exp(FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER))
                    .intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
        }
        for (; i < length; i++) {
            out.set(Layouts.FLOAT, outOffset + i * 4, expTail(a.get(Layouts.FLOAT, aOffset + i * 4)));
        }
    }

    private static void sigmoids(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length) {
        int step = SPECIES.length();
        long i = 0;
        for (; i + step <= length; i += step) {
            FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
            FloatVector.broadcast(SPECIES, 1f).div(exp(x.neg()).add(1f)).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
        }
        for (; i < length; i++) {
            out.set(Layouts.FLOAT, outOffset + i * 4, 1f / (expTail(-a.get(Layouts.FLOAT, aOffset + i * 4)) + 1f));
        }
    }

    /** Past this, softplus(x) is x in float (e^−30 is below half an ulp of 30). */
    private static final float SOFTPLUS_LINEAR = 30f;

    /** Softplus, or with {@code mish} x·tanh(softplus(x)) (YOLOv4's activation), over a row; the tail by the same vectors. */
    private static void softpluses(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length, boolean mish) {
        int step = SPECIES.length();
        long i = 0;
        for (; i + step <= length; i += step) {
            softplus(FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER), mish)
                    .intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
        }
        for (; i < length; i++) {
            out.set(Layouts.FLOAT, outOffset + i * 4,
                    softplus(FloatVector.broadcast(SPECIES, a.get(Layouts.FLOAT, aOffset + i * 4)), mish).lane(0));
        }
    }

    private static FloatVector softplus(FloatVector x, boolean mish) {
        FloatVector softplus = exp(x).lanewise(VectorOperators.LOG1P).blend(x, x.compare(VectorOperators.GT, SOFTPLUS_LINEAR));
        return mish ? tanh(softplus).mul(x) : softplus;
    }

    private static void tanhs(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length) {
        int step = SPECIES.length();
        long i = 0;
        for (; i + step <= length; i += step) {
            tanh(FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER))
                    .intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
        }
        for (; i < length; i++) {
            out.set(Layouts.FLOAT, outOffset + i * 4, tanh(FloatVector.broadcast(SPECIES, a.get(Layouts.FLOAT, aOffset + i * 4))).lane(0));
        }
    }

    /**
     * Copies {@code length} bytes by vectors between off-heap segments that do not overlap, a row of a
     * vector or more ending with a vector that overlaps the one before: for rows of a few dozen,
     * MemorySegment.copy's checks cost more than the copy. The int8 convolution's patch rows (54–56
     * bytes at 56×56) go in vectors of at most 32 bytes so that such a row takes two: a 3×3 QLinearConv of 64
     * channels at 56×56 took 2.64–2.87 ms on one thread against 2.80–3.09 with MemorySegment.copy
     * (medians of JVMs, bench/RESULTS.md, twelfth session).
     */
    public static void copy8(MemorySegment from, long fromOffset, MemorySegment to, long toOffset, long length) {
        from = Segments.exact(from);
        to = Segments.exact(to);
        int step = ROW_BYTES.length();
        long i = 0;
        for (; i + step <= length; i += step) {
            ByteVector.fromMemorySegment(ROW_BYTES, from, fromOffset + i, Layouts.ORDER)
                    .intoMemorySegment(to, toOffset + i, Layouts.ORDER);
        }
        if (i < length && length >= step) {
            i = length - step;
            ByteVector.fromMemorySegment(ROW_BYTES, from, fromOffset + i, Layouts.ORDER)
                    .intoMemorySegment(to, toOffset + i, Layouts.ORDER);
            return;
        }
        for (; i < length; i++) {
            to.set(ValueLayout.JAVA_BYTE, toOffset + i, from.get(ValueLayout.JAVA_BYTE, fromOffset + i));
        }
    }

    /**
     * {@code count} floats from byte {@code at} into {@code to[from..]}, by vectors: attention's rows
     * are 32 floats, where MemorySegment.copy's checks cost more than the copy (its overlap test alone
     * took 2.5% of a JFR profile of the int8 MiniLM). A row of a vector or more ends with a vector
     * that overlaps the one before: its last values one at a time took half the time of a depthwise
     * convolution's padded copy of a 56×56 plane (1.10–1.14 µs, 0.56 so; one thread).
     */
    public static void copyToArray(MemorySegment segment, long at, float[] to, int from, int count) {
        segment = Segments.exact(segment);
        int step = SPECIES.length();
        int i = 0;
        for (; i + step <= count; i += step) {
            FloatVector.fromMemorySegment(SPECIES, segment, at + i * 4L, Layouts.ORDER).intoArray(to, from + i);
        }
        if (i < count && count >= step) {
            i = count - step;
            FloatVector.fromMemorySegment(SPECIES, segment, at + i * 4L, Layouts.ORDER).intoArray(to, from + i);
        } else if (i < count) {
            VectorMask<Float> inRow = SPECIES.indexInRange(0, count);
            FloatVector.fromMemorySegment(SPECIES, segment, at, Layouts.ORDER, inRow).intoArray(to, from, inRow);
        }
    }

    /**
     * The columns of a bilinear resize, for {@link #bilinearRow}: output column j reads input columns
     * {@code left[j]} and {@code right[j]}, weighed {@code leftWeight[j]} and {@code rightWeight[j]}.
     * A vector of outputs whose inputs lie within two vectors of its row, from the block's first
     * input column on (every block of an upsampling, but the row's last ones), picks them from those
     * two by lane; the others gather them.
     */
    public static final class BilinearColumns {
        private final int[] left;
        private final int[] right;
        private final float[] leftWeight;
        private final float[] rightWeight;
        /** Per output column: its inputs' lanes in the two vectors from its block's first input column. */
        private final float[] leftLane;
        private final float[] rightLane;
        /** Per block of a vector of outputs: its first input column, or −1 where it gathers. */
        private final int[] first;

        public BilinearColumns(int[] left, int[] right, float[] leftWeight, float[] rightWeight, int inWidth) {
            this.left = left;
            this.right = right;
            this.leftWeight = leftWeight;
            this.rightWeight = rightWeight;
            int count = left.length;
            int lanes = SPECIES.length();
            leftLane = new float[count];
            rightLane = new float[count];
            first = new int[count / lanes];
            for (int block = 0; block < first.length; block++) {
                int from = left[block * lanes];
                boolean near = from + 2 * lanes <= inWidth;
                for (int j = block * lanes; j < (block + 1) * lanes; j++) {
                    leftLane[j] = left[j] - from;
                    rightLane[j] = right[j] - from;
                    near &= left[j] >= from && right[j] >= from && right[j] - from < 2 * lanes
                            && left[j] - from < 2 * lanes;
                }
                first[block] = near ? from : -1;
            }
        }
    }

    /**
     * One output row of a bilinear resize to byte {@code at} of {@code out}: output j weighs the
     * values of {@code columns}' input columns in the input rows from {@code upper} and {@code lower}
     * (offsets into {@code in}) as ONNX Runtime does and sums them in its order, {@code
     * leftWeight[j]·upperWeight·in[upper + left[j]] + rightWeight[j]·upperWeight·in[upper + right[j]]
     * + …} left to right in float, so its bits.
     */
    public static void bilinearRow(float[] in, int upper, int lower, float upperWeight, float lowerWeight,
            BilinearColumns columns, MemorySegment out, long at) {
        out = Segments.exact(out);
        int step = SPECIES.length();
        int[] left = columns.left;
        int[] right = columns.right;
        int j = 0;
        for (int block = 0; block < columns.first.length; block++, j += step) {
            FloatVector a, b, c, d;
            int from = columns.first[block];
            if (from >= 0) {
                FloatVector leftLanes = FloatVector.fromArray(SPECIES, columns.leftLane, j);
                FloatVector rightLanes = FloatVector.fromArray(SPECIES, columns.rightLane, j);
                FloatVector upperLow = FloatVector.fromArray(SPECIES, in, upper + from);
                FloatVector upperHigh = FloatVector.fromArray(SPECIES, in, upper + from + step);
                FloatVector lowerLow = FloatVector.fromArray(SPECIES, in, lower + from);
                FloatVector lowerHigh = FloatVector.fromArray(SPECIES, in, lower + from + step);
                a = leftLanes.selectFrom(upperLow, upperHigh);
                b = rightLanes.selectFrom(upperLow, upperHigh);
                c = leftLanes.selectFrom(lowerLow, lowerHigh);
                d = rightLanes.selectFrom(lowerLow, lowerHigh);
            } else {
                a = FloatVector.fromArray(SPECIES, in, upper, left, j);
                b = FloatVector.fromArray(SPECIES, in, upper, right, j);
                c = FloatVector.fromArray(SPECIES, in, lower, left, j);
                d = FloatVector.fromArray(SPECIES, in, lower, right, j);
            }
            FloatVector lw = FloatVector.fromArray(SPECIES, columns.leftWeight, j);
            FloatVector rw = FloatVector.fromArray(SPECIES, columns.rightWeight, j);
            lw.mul(upperWeight).mul(a).add(rw.mul(upperWeight).mul(b)).add(lw.mul(lowerWeight).mul(c))
                    .add(rw.mul(lowerWeight).mul(d)).intoMemorySegment(out, at + j * 4L, Layouts.ORDER);
        }
        for (; j < left.length; j++) {
            float lw = columns.leftWeight[j];
            float rw = columns.rightWeight[j];
            out.set(Layouts.FLOAT, at + j * 4L, lw * upperWeight * in[upper + left[j]] + rw * upperWeight * in[upper + right[j]]
                    + lw * lowerWeight * in[lower + left[j]] + rw * lowerWeight * in[lower + right[j]]);
        }
    }

    /** out[i] = (int) a[i] over contiguous float32 in and int32 out (in place allowed), for floats holding integers. */
    public static void toInts(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        int step = SPECIES.length();
        long vectorEnd = length - length % step;
        long i = 0;
        for (; i < vectorEnd; i += step) {
            FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER)
                    .convert(VectorOperators.F2I, 0).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
        }
        for (; i < length; i++) {
            out.set(Layouts.INT32, outOffset + i * 4, (int) a.get(Layouts.FLOAT, aOffset + i * 4));
        }
    }

    /** out[i] = (float) a[i] over contiguous int32 in and float32 out, rounded to nearest as Java's cast does. */
    public static void fromInts(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        int step = SPECIES.length();
        long vectorEnd = length - length % step;
        long i = 0;
        for (; i < vectorEnd; i += step) {
            IntVector.fromMemorySegment(IntVector.SPECIES_PREFERRED, a, aOffset + i * 4, Layouts.ORDER)
                    .convert(VectorOperators.I2F, 0).intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
        }
        for (; i < length; i++) {
            out.set(Layouts.FLOAT, outOffset + i * 4, (float) a.get(Layouts.INT32, aOffset + i * 4));
        }
    }

    /** out[i] = a[i] over contiguous float16 (IEEE binary16) in and float32 out: exact. */
    public static void fromFloat16(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        for (long i = 0; i < length; i++) {
            out.set(Layouts.FLOAT, outOffset + i * 4, Float.float16ToFloat(a.get(Layouts.INT16, aOffset + i * 2)));
        }
    }

    /** out[i] = a[i] over contiguous float32 in and float16 out, rounded to nearest even (overflow to infinity). */
    public static void toFloat16(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        for (long i = 0; i < length; i++) {
            out.set(Layouts.INT16, outOffset + i * 2, Float.floatToFloat16(a.get(Layouts.FLOAT, aOffset + i * 4)));
        }
    }

    /** out[i] = a[i] over contiguous bfloat16 in and float32 out: exact (a bfloat16 is a float32's high half). */
    public static void fromBfloat16(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        for (long i = 0; i < length; i++) {
            out.set(Layouts.INT32, outOffset + i * 4, a.get(Layouts.INT16, aOffset + i * 2) << 16);
        }
    }

    /**
     * out[i] = a[i] over contiguous float32 in and bfloat16 out, rounded to nearest even; a NaN
     * keeps its sign and payload's high bits and is made quiet.
     */
    public static void toBfloat16(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        for (long i = 0; i < length; i++) {
            int bits = a.get(Layouts.INT32, aOffset + i * 4);
            boolean nan = (bits & 0x7FFFFFFF) > 0x7F800000;
            int rounded = nan ? bits >>> 16 | 0x40 : bits + 0x7FFF + (bits >>> 16 & 1) >>> 16;
            out.set(Layouts.INT16, outOffset + i * 2, (short) rounded);
        }
    }

    /**
     * erf(x)/x = P(x²) below |x| = 1, P fitted by weighted least squares (relative error) on
     * Chebyshev nodes; the highest power first.
     */
    private static final float[] ERF_SMALL = {7.847259e-5f, -8.008189e-4f, 0.005188099f, -0.026853692f, 0.112835824f,
            -0.37612626f, 1.1283791f};
    /** ln erfc(x) = H(x) from 1 to {@link #ERF_ONE_FROM}, fitted as P but weighted by erfc (absolute error in erf). */
    private static final float[] ERFC_LOG = {-2.801337e-7f, 6.0137654e-6f, -5.5554585e-5f, 2.7095815e-4f, -5.363183e-4f,
            -0.0020333885f, 0.021954186f, -0.10516201f, -0.6353061f, -1.1288047f, 6.1726634e-5f};
    /** From here on erf rounds to 1 in float (erfc < 2^-25). */
    private static final float ERF_ONE_FROM = 3.925f;

    /**
     * erf in float arithmetic over a row: x·P(x²) below 1, ±(1 − e^H(|x|)) from 1 on, ±1 from
     * {@link #ERF_ONE_FROM}, the sign of x's. Within 2.48 ulps of the double-precision
     * {@link Erf#erf} for every float (checked over all of them once; the tests check every
     * 997th). With {@code gelu}, x·(erf(x/√2) + 1)·0.5, each step rounded as the exported nodes
     * round it. The tail goes through the same loop, padded to two vectors, so every element gets
     * the same bits wherever it lies.
     */
    private static void erf(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length, boolean gelu) {
        int pair = 2 * SPECIES.length();
        long pairsEnd = length - length % pair;
        erfPairs(a, aOffset, out, outOffset, pairsEnd, gelu);
        if (pairsEnd < length) {
            MemorySegment tail = TAIL.get().fill((byte) 0);
            long bytes = (length - pairsEnd) * 4;
            MemorySegment.copy(a, aOffset + pairsEnd * 4, tail, 0, bytes);
            erfPairs(tail, 0, tail, 0, pair, gelu);
            MemorySegment.copy(tail, 0, out, outOffset + pairsEnd * 4, bytes);
        }
    }

    /** Two vectors' room for the row tails of {@link #erf}, off-heap as the kernels' operands are (see {@link Segments}). */
    private static final ThreadLocal<MemorySegment> TAIL = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate(2L * SPECIES.vectorByteSize(), 64));

    /**
     * {@link #erf} over pairs of vectors. All of it stays in this loop's body: C2 compiles a helper
     * taking vectors apart once the interpreter has called it often, then may find it too big to
     * inline, and every call boxes its vectors (three times slower, measured). Each vector's
     * polynomials are chains of dependent multiply-adds, so a loop of one vector an iteration waited
     * on their latency: two side by side ran 1.8 times faster (four, no faster again).
     */
    private static void erfPairs(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length,
            boolean gelu) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        int step = SPECIES.length();
        for (long i = 0; i < length; i += 2L * step) {
            FloatVector input0 = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
            FloatVector input1 = FloatVector.fromMemorySegment(SPECIES, a, aOffset + (i + step) * 4, Layouts.ORDER);
            FloatVector x0 = gelu ? input0.div(Erf.SQRT2) : input0;
            FloatVector x1 = gelu ? input1.div(Erf.SQRT2) : input1;
            FloatVector square0 = x0.mul(x0);
            FloatVector square1 = x1.mul(x1);
            FloatVector result0 = FloatVector.broadcast(SPECIES, ERF_SMALL[0]);
            FloatVector result1 = result0;
            for (int c = 1; c < ERF_SMALL.length; c++) {
                FloatVector coefficient = FloatVector.broadcast(SPECIES, ERF_SMALL[c]);
                result0 = result0.fma(square0, coefficient);
                result1 = result1.fma(square1, coefficient);
            }
            result0 = result0.mul(x0);
            result1 = result1.mul(x1);
            FloatVector magnitude0 = x0.abs();
            FloatVector magnitude1 = x1.abs();
            VectorMask<Float> large0 = magnitude0.compare(VectorOperators.GE, 1f);
            VectorMask<Float> large1 = magnitude1.compare(VectorOperators.GE, 1f);
            if (large0.or(large1).anyTrue()) {
                VectorMask<Float> one0 = magnitude0.compare(VectorOperators.GE, ERF_ONE_FROM);
                VectorMask<Float> one1 = magnitude1.compare(VectorOperators.GE, ERF_ONE_FROM);
                FloatVector clamped0 = magnitude0.blend(ERF_ONE_FROM, one0);
                FloatVector clamped1 = magnitude1.blend(ERF_ONE_FROM, one1);
                FloatVector logTail0 = FloatVector.broadcast(SPECIES, ERFC_LOG[0]);
                FloatVector logTail1 = logTail0;
                for (int c = 1; c < ERFC_LOG.length; c++) {
                    FloatVector coefficient = FloatVector.broadcast(SPECIES, ERFC_LOG[c]);
                    logTail0 = logTail0.fma(clamped0, coefficient);
                    logTail1 = logTail1.fma(clamped1, coefficient);
                }
                FloatVector log2e = FloatVector.broadcast(SPECIES, LOG2E);
                FloatVector rounding = FloatVector.broadcast(SPECIES, ROUNDING);
                FloatVector t0 = logTail0.fma(log2e, rounding);
                FloatVector t1 = logTail1.fma(log2e, rounding);
                FloatVector kf0 = t0.sub(ROUNDING);
                FloatVector kf1 = t1.sub(ROUNDING);
                FloatVector r0 = kf0.fma(FloatVector.broadcast(SPECIES, -LN2_HIGH), logTail0);
                FloatVector r1 = kf1.fma(FloatVector.broadcast(SPECIES, -LN2_HIGH), logTail1);
                r0 = kf0.fma(FloatVector.broadcast(SPECIES, -LN2_LOW), r0);
                r1 = kf1.fma(FloatVector.broadcast(SPECIES, -LN2_LOW), r1);
                FloatVector power0 = FloatVector.broadcast(SPECIES, EXP_TAYLOR[0]);
                FloatVector power1 = power0;
                for (int c = 1; c < EXP_TAYLOR.length; c++) {
                    FloatVector coefficient = FloatVector.broadcast(SPECIES, EXP_TAYLOR[c]);
                    power0 = power0.fma(r0, coefficient);
                    power1 = power1.fma(r1, coefficient);
                }
                IntVector scale0 = t0.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).add(127 << 23);
                IntVector scale1 = t1.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).add(127 << 23);
                FloatVector tail0 = FloatVector.broadcast(SPECIES, 1f).sub(power0.mul(scale0.reinterpretAsFloats()))
                        .blend(1f, one0);
                FloatVector tail1 = FloatVector.broadcast(SPECIES, 1f).sub(power1.mul(scale1.reinterpretAsFloats()))
                        .blend(1f, one1);
                FloatVector signed0 = tail0.reinterpretAsInts().or(x0.reinterpretAsInts().and(Integer.MIN_VALUE))
                        .reinterpretAsFloats();
                FloatVector signed1 = tail1.reinterpretAsInts().or(x1.reinterpretAsInts().and(Integer.MIN_VALUE))
                        .reinterpretAsFloats();
                result0 = result0.blend(signed0, large0);
                result1 = result1.blend(signed1, large1);
            }
            if (gelu) {
                result0 = input0.mul(result0.add(1f)).mul(0.5f);
                result1 = input1.mul(result1.add(1f)).mul(0.5f);
            }
            result0.intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
            result1.intoMemorySegment(out, outOffset + (i + step) * 4, Layouts.ORDER);
        }
    }

    /**
     * out[i] = (a[i] − zeroPoint)·scale over contiguous int8 or uint8 in and float32 out: the
     * difference is exact in float, the product rounded once, as the scalar arithmetic does.
     */
    public static void dequantizeBytes(MemorySegment a, long aOffset, boolean unsigned, float zeroPoint, float scale,
            MemorySegment out, long outOffset, long length) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        int step = SPECIES.length();
        long vectorEnd = length - length % step;
        FloatVector zero = FloatVector.broadcast(SPECIES, zeroPoint);
        FloatVector factor = FloatVector.broadcast(SPECIES, scale);
        long i = 0;
        for (; i < vectorEnd; i += step) {
            ByteVector bytes = BYTES_FILL_A_VECTOR ? ByteVector.fromMemorySegment(BYTES, a, aOffset + i, Layouts.ORDER)
                    : ByteVector.fromMemorySegment(BYTES, a, aOffset + i, Layouts.ORDER, BYTE_LANES);
            // Each conversion a constant in its branch, as C2 needs to intrinsify it.
            Vector<Integer> values = unsigned ? bytes.convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_PREFERRED, 0)
                    : bytes.convertShape(VectorOperators.B2I, IntVector.SPECIES_PREFERRED, 0);
            ((FloatVector) values.convert(VectorOperators.I2F, 0)).sub(zero).mul(factor)
                    .intoMemorySegment(out, outOffset + i * 4, Layouts.ORDER);
        }
        for (; i < length; i++) {
            byte value = a.get(ValueLayout.JAVA_BYTE, aOffset + i);
            out.set(Layouts.FLOAT, outOffset + i * 4, ((unsigned ? value & 0xFF : value) - zeroPoint) * scale);
        }
    }

    /**
     * to[from + i] = a[i] − zeroPoint for {@code count} int8 or uint8 bytes from byte {@code at}:
     * exact, small integers, for the products that pack them as floats into heap arrays (vector
     * stores through a segment over the array took 3.6% of a JFR profile of the int8 MiniLM).
     */
    public static void bytesToArray(MemorySegment a, long at, boolean unsigned, float zeroPoint, float[] to, int from,
            int count) {
        a = Segments.exact(a);
        int step = SPECIES.length();
        int i = 0;
        for (; i + step <= count; i += step) {
            bytesToVector(a, at + i, unsigned, zeroPoint, to, from + i);
        }
        // As copyToArray: a last vector overlapping the one before, not the values one at a time.
        if (i < count && count >= step) {
            bytesToVector(a, at + count - step, unsigned, zeroPoint, to, from + count - step);
            return;
        }
        for (; i < count; i++) {
            byte value = a.get(ValueLayout.JAVA_BYTE, at + i);
            to[from + i] = (unsigned ? value & 0xFF : value) - zeroPoint;
        }
    }

    /**
     * A vector's worth of bytes from {@code at}, less the zero point, as floats into {@code to[from..]}.
     * No vector goes in or out: were C2 not to inline it, none would be boxed.
     */
    private static void bytesToVector(MemorySegment a, long at, boolean unsigned, float zeroPoint, float[] to, int from) {
        ByteVector bytes = BYTES_FILL_A_VECTOR ? ByteVector.fromMemorySegment(BYTES, a, at, Layouts.ORDER)
                : ByteVector.fromMemorySegment(BYTES, a, at, Layouts.ORDER, BYTE_LANES);
        Vector<Integer> values = unsigned ? bytes.convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_PREFERRED, 0)
                : bytes.convertShape(VectorOperators.B2I, IntVector.SPECIES_PREFERRED, 0);
        ((FloatVector) values.convert(VectorOperators.I2F, 0)).sub(zeroPoint).intoArray(to, from);
    }

    /**
     * QLinearMatMul's and QLinearConv's requantization of a row of int32 sums: out[i] =
     * clamp(rint(float(sums[i] + bias) · ((rowScale·columnScales[i]) / outScale)) + zeroPoint, low,
     * high) as bytes, each step rounded in float as ONNX's reference takes them (the bias added in
     * int32, wrapping); {@code [low, high]} is the output type's range (a Relu before the
     * quantization raises low to the zero point). {@code columnScales} holds one value for all, or
     * one per element. NaN becomes 0.
     */
    public static void requantize(MemorySegment sums, long sumsOffset, MemorySegment out, long outOffset, long length,
            int bias, float rowScale, float[] columnScales, float outScale, int zeroPoint, int low, int high) {
        requantize(sums, sumsOffset, false, out, outOffset, length, bias, rowScale, columnScales, outScale, zeroPoint, low,
                high);
    }

    /**
     * As {@link #requantize(MemorySegment, long, MemorySegment, long, long, int, float, float[], float, int, int, int)}
     * over sums held as floats, integers whose sum with the bias stays below 2^24 in magnitude, so
     * that adding the bias in float is as exact as in int32: a depthwise convolution's float sums
     * need no pass into int32 first (that pass and the requantization after it took 40% of a
     * 144-channel 3×3 QLinearConv over 56×56 on one thread).
     */
    public static void requantizeFloatSums(MemorySegment sums, long sumsOffset, MemorySegment out, long outOffset,
            long length, int bias, float rowScale, float[] columnScales, float outScale, int zeroPoint, int low, int high) {
        requantize(sums, sumsOffset, true, out, outOffset, length, bias, rowScale, columnScales, outScale, zeroPoint, low,
                high);
    }

    private static void requantize(MemorySegment sums, long sumsOffset, boolean floatSums, MemorySegment out, long outOffset,
            long length, int bias, float rowScale, float[] columnScales, float outScale, int zeroPoint, int low, int high) {
        sums = Segments.exact(sums);
        out = Segments.exact(out);
        boolean perColumn = columnScales.length > 1;
        FloatVector oneScale = FloatVector.broadcast(SPECIES, columnScales[0]);
        int step = SPECIES.length();
        long vectorEnd = length - length % step;
        long i = 0;
        for (; i < vectorEnd; i += step) {
            FloatVector columns = perColumn ? FloatVector.fromArray(SPECIES, columnScales, (int) i) : oneScale;
            FloatVector multiplier = columns.mul(rowScale).div(outScale);
            FloatVector biased = floatSums
                    ? FloatVector.fromMemorySegment(SPECIES, sums, sumsOffset + i * 4, Layouts.ORDER).add(bias)
                    : (FloatVector) IntVector.fromMemorySegment(IntVector.SPECIES_PREFERRED, sums, sumsOffset + i * 4,
                            Layouts.ORDER).add(bias).convert(VectorOperators.I2F, 0);
            FloatVector scaled = biased.mul(multiplier);
            // As quantizeToBytes quantizes its quotients.
            FloatVector clamped = scaled.blend(-512f, scaled.lt(-512f)).blend(512f, scaled.compare(VectorOperators.GT, 512f));
            IntVector value = clamped.add(ROUNDING).reinterpretAsInts().sub(Float.floatToRawIntBits(ROUNDING) - zeroPoint)
                    .max(low).min(high);
            ByteVector bytes = (ByteVector) value.blend(0, scaled.compare(VectorOperators.NE, scaled)
                    .cast(IntVector.SPECIES_PREFERRED)).convertShape(VectorOperators.I2B, BYTES, 0);
            if (BYTES_FILL_A_VECTOR) {
                bytes.intoMemorySegment(out, outOffset + i, Layouts.ORDER);
            } else {
                bytes.intoMemorySegment(out, outOffset + i, Layouts.ORDER, BYTE_LANES);
            }
        }
        for (; i < length; i++) {
            float multiplier = columnScales[perColumn ? (int) i : 0] * rowScale / outScale;
            float biased = floatSums ? sums.get(Layouts.FLOAT, sumsOffset + i * 4) + bias
                    : sums.get(Layouts.INT32, sumsOffset + i * 4) + bias;
            float scaled = biased * multiplier;
            float value = Math.max(low, Math.min(high, (float) Math.rint(scaled) + zeroPoint));
            out.set(ValueLayout.JAVA_BYTE, outOffset + i, (byte) (int) value);
        }
    }

    /**
     * {min, max} of a contiguous row, NaN if it holds one; {+∞, −∞} when empty; a zero extreme may
     * come with either sign. By comparisons and a mask of NaN lanes: the Vector API's min and max
     * take several instructions each on AVX2 (for NaN and −0).
     */
    public static float[] minMax(MemorySegment a, long aOffset, long length) {
        a = Segments.exact(a);
        int step = SPECIES.length();
        long vectorEnd = length - length % step;
        FloatVector min = FloatVector.broadcast(SPECIES, Float.POSITIVE_INFINITY);
        FloatVector max = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        VectorMask<Float> nan = SPECIES.maskAll(false);
        long i = 0;
        for (; i < vectorEnd; i += step) {
            FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER);
            min = min.blend(x, x.lt(min));
            max = max.blend(x, x.compare(VectorOperators.GT, max));
            nan = nan.or(x.compare(VectorOperators.NE, x));
        }
        if (nan.anyTrue()) {
            return new float[] {Float.NaN, Float.NaN};
        }
        float low = min.reduceLanes(VectorOperators.MIN);
        float high = max.reduceLanes(VectorOperators.MAX);
        for (; i < length; i++) {
            float x = a.get(Layouts.FLOAT, aOffset + i * 4);
            low = Math.min(low, x);
            high = Math.max(high, x);
        }
        return new float[] {low, high};
    }

    /**
     * out[i] = saturate(rint(a[i] / scale) + zeroPoint) as uint8, or int8 when {@code signed}: the
     * quotient divided and rounded in float, half to even, as QuantizeLinear and DynamicQuantizeLinear
     * compute it, for a zero point within the type; NaN becomes 0.
     */
    public static void quantizeToBytes(MemorySegment a, long aOffset, MemorySegment out, long outOffset, long length,
            float scale, int zeroPoint, boolean signed) {
        a = Segments.exact(a);
        out = Segments.exact(out);
        float low = signed ? -128 : 0;
        float high = signed ? 127 : 255;
        int step = SPECIES.length();
        long vectorEnd = length - length % step;
        long i = 0;
        for (; i < vectorEnd; i += step) {
            FloatVector quotient = FloatVector.fromMemorySegment(SPECIES, a, aOffset + i * 4, Layouts.ORDER).div(scale);
            // Past ±512 every quotient saturates, so it is clamped there first, and adding 1.5·2^23
            // then rounds it half to even and leaves the integer in the low bits; the rest is in
            // integer lanes, NaN becoming 0. The clamps are comparisons: the Vector API's float min
            // and max (several instructions each on AVX2, for NaN and −0) and the conversion to
            // int made this loop 1.7 times slower. No helper: C2 may compile one apart, then not
            // inline it, and box every vector it takes (measured: 35 times slower).
            FloatVector clamped = quotient.blend(-512f, quotient.lt(-512f))
                    .blend(512f, quotient.compare(VectorOperators.GT, 512f));
            IntVector value = clamped.add(ROUNDING).reinterpretAsInts().sub(Float.floatToRawIntBits(ROUNDING) - zeroPoint)
                    .max((int) low).min((int) high);
            ByteVector bytes = (ByteVector) value.blend(0, quotient.compare(VectorOperators.NE, quotient)
                    .cast(IntVector.SPECIES_PREFERRED)).convertShape(VectorOperators.I2B, BYTES, 0);
            if (BYTES_FILL_A_VECTOR) {
                bytes.intoMemorySegment(out, outOffset + i, Layouts.ORDER);
            } else {
                bytes.intoMemorySegment(out, outOffset + i, Layouts.ORDER, BYTE_LANES);
            }
        }
        for (; i < length; i++) {
            float quotient = a.get(Layouts.FLOAT, aOffset + i * 4) / scale;
            float value = Math.max(low, Math.min(high, (float) Math.rint(quotient) + zeroPoint));
            out.set(ValueLayout.JAVA_BYTE, outOffset + i, (byte) (int) value);
        }
    }

    /**
     * A row of int32 sums from byte {@code fromOffset} of {@code from} become floats at byte {@code
     * toOffset} of {@code to} (the same place, or one that does not overlap it), times {@code scale},
     * plus {@code bias} when {@code biased}; the product and the sum each rounded, as separate
     * DequantizeLinear and Add nodes round them.
     */
    public static void dequantizeRow(MemorySegment from, long fromOffset, MemorySegment to, long toOffset, long length,
            float scale, float bias, boolean biased) {
        from = Segments.exact(from);
        to = Segments.exact(to);
        int step = SPECIES.length();
        long vectorEnd = length - length % step;
        long j = 0;
        for (; j < vectorEnd; j += step) {
            FloatVector value = ((FloatVector) IntVector.fromMemorySegment(IntVector.SPECIES_PREFERRED, from,
                    fromOffset + j * 4, Layouts.ORDER).convert(VectorOperators.I2F, 0)).mul(scale);
            (biased ? value.add(bias) : value).intoMemorySegment(to, toOffset + j * 4, Layouts.ORDER);
        }
        for (; j < length; j++) {
            float value = from.get(Layouts.INT32, fromOffset + j * 4) * scale;
            to.set(Layouts.FLOAT, toOffset + j * 4, biased ? value + bias : value);
        }
    }

    /**
     * In place over a block of rows: int32 sums become floats, times {@code scale} (one value, or
     * one per column) plus {@code bias} (one per column, or null); the product and the sum are
     * each rounded, as separate Cast, Mul and Add nodes round them. {@code firstColumn} places the
     * block's columns in {@code scale} and {@code bias}; the row stride is in elements.
     */
    public static void dequantize(MemorySegment c, long byteOffset, long rowStride, long rows, long columns,
            float[] scale, float[] bias, int firstColumn) {
        c = Segments.exact(c);
        int step = SPECIES.length();
        long vectorEnd = columns - columns % step;
        boolean perColumn = scale.length > 1;
        FloatVector oneScale = FloatVector.broadcast(SPECIES, scale[0]);
        for (long r = 0; r < rows; r++) {
            long row = byteOffset + r * rowStride * 4;
            int j = 0;
            for (; j < vectorEnd; j += step) {
                FloatVector value = (FloatVector) IntVector.fromMemorySegment(IntVector.SPECIES_PREFERRED, c, row + j * 4L,
                        Layouts.ORDER).convert(VectorOperators.I2F, 0);
                value = value.mul(perColumn ? FloatVector.fromArray(SPECIES, scale, firstColumn + j) : oneScale);
                if (bias != null) {
                    value = value.add(FloatVector.fromArray(SPECIES, bias, firstColumn + j));
                }
                value.intoMemorySegment(c, row + j * 4L, Layouts.ORDER);
            }
            for (; j < columns; j++) {
                float value = c.get(Layouts.INT32, row + j * 4L) * scale[perColumn ? firstColumn + j : 0];
                if (bias != null) {
                    value += bias[firstColumn + j];
                }
                c.set(Layouts.FLOAT, row + j * 4L, value);
            }
        }
    }
}
