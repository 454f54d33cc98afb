package dev.quanta.kernels.simd;

import dev.quanta.tensor.Layouts;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The vector row kernels against their scalar references, on odd lengths, scalars and extreme values. */
class FloatRowsTest {

    private static final long SEED = 0xF10A_7005L;
    private static final float[] EXTREMES = {0f, -0f, 1f, -1f, Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 88.7f, -103.9f, 1e-30f};

    /**
     * float16 and bfloat16 to float32 and back, in bulk at odd offsets: every half pattern decodes as
     * the JDK's conversion and a bfloat16's definition (a float's high half) give it; floats encode to
     * float16 as the JDK does, and to bfloat16 as the nearest value, ties to even (its definition,
     * worked out in double), NaNs staying NaN with their sign.
     */
    @Test
    void halfPrecisionConvertsInBulkAsItsDefinition() {
        int patterns = 1 << 16;
        SplittableRandom random = new SplittableRandom(SEED);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment halves = arena.allocate(2L * patterns + 2);
            MemorySegment floats = arena.allocate(4L * patterns + 4);
            for (int bits = 0; bits < patterns; bits++) {
                halves.set(Layouts.INT16, 2 + 2L * bits, (short) bits);
            }
            FloatRows.fromFloat16(halves, 2, floats, 4, patterns);
            for (int bits = 0; bits < patterns; bits++) {
                assertThat(Float.floatToRawIntBits(floats.get(Layouts.FLOAT, 4 + 4L * bits))).as("float16 %04x", bits)
                        .isEqualTo(Float.floatToRawIntBits(Float.float16ToFloat((short) bits)));
            }
            FloatRows.fromBfloat16(halves, 2, floats, 4, patterns);
            for (int bits = 0; bits < patterns; bits++) {
                assertThat(floats.get(Layouts.INT32, 4 + 4L * bits)).as("bfloat16 %04x", bits).isEqualTo(bits << 16);
            }
            float[] values = new float[patterns];
            for (int i = 0; i < values.length; i++) {
                values[i] = switch (i % 4) {
                    case 0 -> EXTREMES[i / 4 % EXTREMES.length];
                    case 1 -> Float.intBitsToFloat(random.nextInt() & 0xFFFF_0000 | 0x8000); // a tie for bfloat16
                    case 2 -> (float) (random.nextGaussian() * Math.pow(2, random.nextInt(-30, 30)));
                    default -> Float.intBitsToFloat(random.nextInt());
                };
                floats.set(Layouts.FLOAT, 4 + 4L * i, values[i]);
            }
            FloatRows.toFloat16(floats, 4, halves, 2, patterns);
            for (int i = 0; i < values.length; i++) {
                short expected = Float.floatToFloat16(values[i]);
                short actual = halves.get(Layouts.INT16, 2 + 2L * i);
                assertThat(Float.isNaN(values[i]) ? Float.isNaN(Float.float16ToFloat(actual)) : actual == expected)
                        .as("%s to float16", values[i]).isTrue();
            }
            FloatRows.toBfloat16(floats, 4, halves, 2, patterns);
            for (int i = 0; i < values.length; i++) {
                int actual = halves.get(Layouts.INT16, 2 + 2L * i) & 0xFFFF;
                float decoded = Float.intBitsToFloat(actual << 16);
                if (Float.isNaN(values[i])) {
                    assertThat(Float.isNaN(decoded) && (actual & 0x8000) == (Float.floatToRawIntBits(values[i]) >>> 16 & 0x8000))
                            .as("%08x to bfloat16", Float.floatToRawIntBits(values[i])).isTrue();
                } else {
                    assertThat(actual).as("%s to bfloat16", values[i]).isEqualTo(nearestBfloat16(values[i]));
                }
            }
        }
    }

    /** The bfloat16 nearest a finite or infinite float, ties to the even encoding, by comparing distances in double. */
    private static int nearestBfloat16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int below = bits >>> 16;
        if (Float.isInfinite(value) || (bits & 0xFFFF) == 0) {
            return below;
        }
        int above = below + 1; // the next encoding away from zero: past the largest, infinity, which stands at 2^128
        double low = Float.intBitsToFloat(below << 16);
        double high = (above & 0x7FFF) == 0x7F80 ? Math.copySign(0x1p128, value) : Float.intBitsToFloat(above << 16);
        double toLow = Math.abs(value - low);
        double toHigh = Math.abs(high - value);
        return toLow < toHigh || toLow == toHigh && (below & 1) == 0 ? below : above;
    }

    @Test
    void intsBecomeTheNearestFloatsAsJavasCastDoes() {
        int[] values = {0, 1, -1, 16_777_217, -16_777_219, Integer.MAX_VALUE, Integer.MIN_VALUE, 123_456_789, 7, -8, 9};
        try (Arena arena = Arena.ofConfined()) {
            // Every length up to the array's, so the vector part and the tail both take each value.
            for (int length = 0; length <= values.length; length++) {
                MemorySegment in = arena.allocate(4L * length + 4);
                MemorySegment out = arena.allocate(4L * length + 8);
                for (int i = 0; i < length; i++) {
                    in.set(Layouts.INT32, 4 + 4L * i, values[i]);
                }
                FloatRows.fromInts(in, 4, out, 8, length);
                for (int i = 0; i < length; i++) {
                    assertThat(out.get(Layouts.FLOAT, 8 + 4L * i)).as("length %d, %d", length, values[i]).isEqualTo((float) values[i]);
                }
            }
        }
    }

    @Test
    void copiesMoveExactlyTheirRowAtEveryLength() {
        SplittableRandom random = new SplittableRandom(SEED);
        try (Arena arena = Arena.ofConfined()) {
            // Lengths below, at and past one and two vectors (the last vector overlapping), between
            // guards that must stay as they were.
            for (int length = 0; length <= 150; length++) {
                MemorySegment source = arena.allocate(4L * length + 12);
                for (long i = 0; i < source.byteSize(); i++) {
                    source.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
                }
                MemorySegment bytes = arena.allocate(length + 16).fill((byte) 0x5A);
                FloatRows.copy8(source, 3, bytes, 7, length);
                float[] array = new float[length + 4];
                Arrays.fill(array, 7f);
                FloatRows.copyToArray(source, 4, array, 2, length);
                for (int i = 0; i < length + 16; i++) {
                    byte expected = i >= 7 && i < 7 + length ? source.get(ValueLayout.JAVA_BYTE, 3 + i - 7) : 0x5A;
                    assertThat(bytes.get(ValueLayout.JAVA_BYTE, i)).as("copy8 of %d, byte %d", length, i)
                            .isEqualTo(expected);
                }
                for (int i = 0; i < length + 4; i++) {
                    float value = i >= 2 && i < 2 + length ? source.get(Layouts.FLOAT, 4 + 4L * (i - 2)) : 7f;
                    assertThat(Float.floatToRawIntBits(array[i])).as("copyToArray of %d, float %d", length, i)
                            .isEqualTo(Float.floatToRawIntBits(value));
                }
            }
        }
    }

    /**
     * Bilinear rows give the scalar formula's bits, ONNX Runtime's order of operations, whether a
     * vector of outputs picks its inputs from two loaded vectors or gathers them: upsampling by
     * several factors (every block near, but the row's last ones), an axis left alone, downsampling
     * (every block gathers), columns that repeat at the row's end, and widths around a vector.
     */
    @Test
    void bilinearRowsGiveTheScalarFormulasBits() {
        SplittableRandom random = new SplittableRandom(SEED + 9);
        double[] factors = {1, 1.5, 2, 3, 4, 0.5, 0.3, 1.07};
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 200; trial++) {
                int inWidth = 1 + random.nextInt(trial % 3 == 0 ? 8 : 90);
                double factor = factors[trial % factors.length];
                int outWidth = Math.max(1, (int) Math.round(inWidth * factor));
                int[] left = new int[outWidth];
                int[] right = new int[outWidth];
                float[] leftWeight = new float[outWidth];
                float[] rightWeight = new float[outWidth];
                for (int j = 0; j < outWidth; j++) {
                    float at = Math.max(0, Math.min((float) ((j + 0.5) / factor - 0.5), inWidth - 1));
                    left[j] = (int) at;
                    right[j] = Math.min(left[j] + 1, inWidth - 1);
                    leftWeight[j] = right[j] - at;
                    rightWeight[j] = 1 - leftWeight[j];
                }
                int rows = 3;
                float[] in = new float[rows * inWidth];
                for (int i = 0; i < in.length; i++) {
                    in[i] = trial % 10 == 9 ? EXTREMES[random.nextInt(EXTREMES.length)] : (float) random.nextGaussian();
                }
                int upper = random.nextInt(rows) * inWidth;
                int lower = random.nextInt(rows) * inWidth;
                float upperWeight = random.nextFloat();
                float lowerWeight = 1 - upperWeight;
                MemorySegment out = arena.allocate(4L * outWidth + 8);
                FloatRows.bilinearRow(in, upper, lower, upperWeight, lowerWeight,
                        new FloatRows.BilinearColumns(left, right, leftWeight, rightWeight, inWidth), out, 4);
                for (int j = 0; j < outWidth; j++) {
                    float lw = leftWeight[j];
                    float rw = rightWeight[j];
                    float expected = lw * upperWeight * in[upper + left[j]] + rw * upperWeight * in[upper + right[j]]
                            + lw * lowerWeight * in[lower + left[j]] + rw * lowerWeight * in[lower + right[j]];
                    // Any NaN for a NaN: x86 gives its own sign to the NaN of ∞ − ∞.
                    assertThat(Float.floatToIntBits(out.get(Layouts.FLOAT, 4 + 4L * j)))
                            .as("trial %d, %d → %d columns, column %d", trial, inWidth, outWidth, j)
                            .isEqualTo(Float.floatToIntBits(expected));
                }
                assertThat(out.get(ValueLayout.JAVA_INT, 0)).as("before the row").isZero();
                assertThat(out.get(ValueLayout.JAVA_INT, 4 + 4L * outWidth)).as("after the row").isZero();
            }
        }
    }

    @Test
    void binaryRowsMatchTheReferenceExactly() {
        SplittableRandom random = new SplittableRandom(SEED);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 500; trial++) {
                int length = random.nextInt(0, 100);
                MemorySegment a = values(arena, random, length);
                MemorySegment b = values(arena, random, length);
                MemorySegment out = arena.allocate(Math.max(4L * length, 4), 64);
                FloatRows.Op op = FloatRows.Op.values()[random.nextInt(FloatRows.Op.values().length)];
                boolean aScalar = random.nextInt(4) == 0;
                boolean bScalar = random.nextInt(4) == 0; // both at times: each form of operands has loops of its own
                FloatRows.binary(op, a, 0, aScalar, b, 0, bScalar, out, 0, length);
                for (int i = 0; i < length; i++) {
                    float x = a.get(Layouts.FLOAT, aScalar ? 0 : i * 4L);
                    float y = b.get(Layouts.FLOAT, bScalar ? 0 : i * 4L);
                    float expected = FloatRowsReference.apply(op, x, y);
                    float actual = out.get(Layouts.FLOAT, i * 4L);
                    if (op == FloatRows.Op.MAX || op == FloatRows.Op.MIN) {
                        if (Float.isNaN(expected)) {
                            assertThat(actual).as("seed %x trial %d %s(%s, %s)", SEED, trial, op, x, y).isNaN();
                        } else {
                            assertThat(actual).as("seed %x trial %d %s(%s, %s)", SEED, trial, op, x, y).isEqualTo(expected);
                        }
                    } else {
                        assertThat(Float.floatToIntBits(actual)).as("seed %x trial %d %s(%s, %s)", SEED, trial, op, x, y)
                                .isEqualTo(Float.floatToIntBits(expected));
                    }
                }
            }
        }
    }

    @Test
    void affineRowsRoundOnceAndReductionsMatchTheScalarLoops() {
        SplittableRandom random = new SplittableRandom(SEED + 7);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 300; trial++) {
                int length = random.nextInt(0, 90);
                MemorySegment a = values(arena, random, length);
                MemorySegment out = arena.allocate(Math.max(4L * length, 4), 64);
                float scale = (float) random.nextGaussian();
                float shift = trial % 7 == 0 ? EXTREMES[random.nextInt(EXTREMES.length)] : (float) random.nextGaussian();
                FloatRows.affine(a, 0, scale, shift, out, 0, length);
                double sum = 0;
                double magnitude = 0;
                float max = Float.NEGATIVE_INFINITY;
                boolean nan = false;
                for (int i = 0; i < length; i++) {
                    float x = a.get(Layouts.FLOAT, i * 4L);
                    assertThat(Float.floatToIntBits(out.get(Layouts.FLOAT, i * 4L))).as("trial %d fma(%s, %s, %s)", trial,
                            x, scale, shift).isEqualTo(Float.floatToIntBits(Math.fma(x, scale, shift)));
                    sum += x;
                    magnitude += Math.abs(x);
                    nan |= Float.isNaN(x);
                    max = Math.max(max, x);
                }
                float sumOfRow = FloatRows.sum(a, 0, length);
                if (nan || Double.isInfinite(magnitude) || Double.isNaN(sum)) {
                    assertThat(Float.isNaN(sumOfRow) || Float.isInfinite(sumOfRow)).as("trial %d sum %s", trial, sumOfRow).isTrue();
                } else if (magnitude < Float.MAX_VALUE / 2) {
                    // Float sums in another order: within the rounding of the magnitudes' sum.
                    assertThat((double) sumOfRow).as("trial %d sum", trial).isCloseTo(sum,
                            org.assertj.core.data.Offset.offset(length * 0x1p-23 * magnitude + Float.MIN_VALUE));
                }
                float maxOfRow = FloatRows.max(a, 0, length);
                if (nan) {
                    assertThat(maxOfRow).as("trial %d max", trial).isNaN();
                } else {
                    assertThat(Float.floatToIntBits(maxOfRow)).as("trial %d max", trial).isEqualTo(Float.floatToIntBits(max));
                }
            }
        }
    }

    @Test
    void unaryRowsMatchTheReferenceWithinAFewUlps() {
        SplittableRandom random = new SplittableRandom(SEED + 1);
        try (Arena arena = Arena.ofConfined()) {
            for (FloatRows.Function function : FloatRows.Function.values()) {
                for (int trial = 0; trial < 50; trial++) {
                    int length = random.nextInt(0, 70);
                    MemorySegment a = values(arena, random, length);
                    MemorySegment out = arena.allocate(Math.max(4L * length, 4), 64);
                    // At times one of the row's values, so that a threshold meets its equal.
                    float alpha = length > 0 && random.nextBoolean() ? a.get(Layouts.FLOAT, 4L * random.nextInt(length))
                            : (float) random.nextDouble(-2, 2);
                    float beta = (float) random.nextDouble(-2, 2);
                    FloatRows.unary(function, alpha, beta, a, 0, out, 0, length);
                    for (int i = 0; i < length; i++) {
                        float x = a.get(Layouts.FLOAT, i * 4L);
                        float expected = FloatRowsReference.apply(function, alpha, beta, x);
                        float actual = out.get(Layouts.FLOAT, i * 4L);
                        String what = String.format("seed %x %s(%s), alpha %s, beta %s", SEED + 1, function, x, alpha, beta);
                        if (Float.isNaN(expected)) {
                            assertThat(actual).as(what).isNaN();
                        } else if (Float.isInfinite(expected) || expected == 0) {
                            assertThat(actual).as(what).isEqualTo(expected);
                        } else {
                            // GELU's 1 + erf cancels as x goes negative, and keeps erf's absolute error. The
                            // vector exp flushes results below float's normal range (Mish far below 0).
                            float geluSlack = function == FloatRows.Function.GELU ? 0x1p-23f * Math.abs(x) : 0;
                            float subnormalSlack = Math.abs(expected) < Float.MIN_NORMAL ? Float.MIN_NORMAL : 0;
                            assertThat(Math.abs(actual - expected)).as(what)
                                    .isLessThanOrEqualTo(4 * Math.ulp(expected) + geluSlack + subnormalSlack);
                        }
                    }
                }
            }
        }
    }

    /** Into a heap array at an offset, the elements around the written ones untouched. */
    @Test
    void bytesLessTheirZeroPointGoIntoArrays() {
        SplittableRandom random = new SplittableRandom(SEED + 8);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 60; trial++) {
                int count = random.nextInt(0, 100);
                int from = random.nextInt(0, 9);
                boolean unsigned = random.nextBoolean();
                float zeroPoint = unsigned ? random.nextInt(0, 256) : random.nextInt(-128, 128);
                byte[] bytes = new byte[count + 3];
                random.nextBytes(bytes);
                MemorySegment in = arena.allocateFrom(ValueLayout.JAVA_BYTE, bytes);
                float[] to = new float[from + count + 2];
                Arrays.fill(to, -7f);
                FloatRows.bytesToArray(in, 3, unsigned, zeroPoint, to, from, count);
                for (int i = 0; i < to.length; i++) {
                    byte value = i >= from && i < from + count ? bytes[3 + i - from] : 0;
                    float expected = i >= from && i < from + count ? (unsigned ? value & 0xFF : value) - zeroPoint : -7f;
                    assertThat(to[i]).as("trial %d element %d", trial, i).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void bytesDequantizeWithTheScalarBits() {
        SplittableRandom random = new SplittableRandom(SEED + 7);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 60; trial++) {
                int length = random.nextInt(0, 100);
                boolean unsigned = random.nextBoolean();
                float zeroPoint = unsigned ? random.nextInt(0, 256) : random.nextInt(-128, 128);
                float scale = trial % 10 == 0 ? Float.MIN_VALUE : (float) Math.scalb(random.nextDouble(0.5, 1), random.nextInt(-40, 40));
                byte[] bytes = new byte[length];
                for (int i = 0; i < length; i++) {
                    bytes[i] = i % 5 == 0 ? (byte) (unsigned ? 255 : 127) : i % 7 == 0 ? (byte) (unsigned ? 0 : -128)
                            : (byte) random.nextInt();
                }
                MemorySegment in = arena.allocateFrom(ValueLayout.JAVA_BYTE, bytes);
                MemorySegment out = arena.allocate(Math.max(4L * length, 4));
                FloatRows.dequantizeBytes(in, 0, unsigned, zeroPoint, scale, out, 0, length);
                for (int i = 0; i < length; i++) {
                    float expected = ((unsigned ? bytes[i] & 0xFF : bytes[i]) - zeroPoint) * scale;
                    assertThat(out.get(Layouts.INT32, 4L * i)).as("trial %d byte %d", trial, bytes[i])
                            .isEqualTo(Float.floatToRawIntBits(expected));
                }
            }
        }
    }

    /** Every 997th float from 0 to past the point where erf rounds to 1, both signs, and the special values. */
    private static float[] erfArguments() {
        int last = Float.floatToIntBits(4.5f);
        float[] values = new float[2 * (last / 997 + 1) + 6];
        int count = 0;
        for (int bits = 0; bits <= last; bits += 997) {
            values[count++] = Float.intBitsToFloat(bits);
            values[count++] = -Float.intBitsToFloat(bits);
        }
        for (float special : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 1f, 100f}) {
            values[count++] = special;
        }
        return Arrays.copyOf(values, count);
    }

    @Test
    void erfIsWithinTwoAndAHalfUlpsOfTheDoublePrecisionFunction() {
        assertWithinUlps(FloatRows.Function.ERF, Erf::erf, erfArguments(), 2.5);
    }

    /** Recurrent cells' tanh: its series below 0.55 and its exponential form above, both signs, to where it rounds to 1. */
    @Test
    void tanhIsWithinTwoUlpsOfTheDoublePrecisionFunction() {
        float[] x = Arrays.copyOf(erfArguments(), erfArguments().length + 4);
        System.arraycopy(new float[] {9.01f, -9.5f, 40f, -88.8f}, 0, x, x.length - 4, 4);
        assertWithinUlps(FloatRows.Function.TANH, Math::tanh, x, 2);
    }

    /**
     * Each value of {@code function} over x within {@code ulps} of the double-precision {@code
     * reference}; NaN for NaN, and exact at 0 and the infinities.
     */
    private static void assertWithinUlps(FloatRows.Function function, java.util.function.DoubleUnaryOperator reference, float[] x,
            double ulps) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocateFrom(Layouts.FLOAT, x);
            MemorySegment out = arena.allocate(4L * x.length);
            FloatRows.unary(function, in, 0, out, 0, x.length);
            for (int i = 0; i < x.length; i++) {
                double exact = reference.applyAsDouble(x[i]);
                float expected = (float) exact;
                float actual = out.get(Layouts.FLOAT, 4L * i);
                if (Float.isNaN(expected)) {
                    assertThat(actual).as("%s(%s)", function, x[i]).isNaN();
                } else if (Float.isInfinite(x[i]) || x[i] == 0) {
                    assertThat(actual).as("%s(%s)", function, x[i]).isEqualTo(expected);
                } else {
                    assertThat(Math.abs(actual - exact)).as("%s(%s) = %s", function, x[i], actual)
                            .isLessThanOrEqualTo(ulps * Math.ulp(expected));
                }
            }
        }
    }

    @Test
    void erfAndGeluRowsGiveEachElementsOwnBitsWhereverItLies() {
        float[] x = erfArguments();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocateFrom(Layouts.FLOAT, x);
            MemorySegment out = arena.allocate(4L * x.length);
            MemorySegment alone = arena.allocate(4);
            for (FloatRows.Function function : List.of(FloatRows.Function.ERF, FloatRows.Function.GELU)) {
                // Offset by one element so that every value meets both the vector loop and the tail.
                for (int shift = 0; shift < 2; shift++) {
                    FloatRows.unary(function, in, 4L * shift, out, 0, x.length - shift);
                    for (int i = shift; i < x.length; i += 101) {
                        FloatRows.unary(function, in, 4L * i, alone, 0, 1);
                        assertThat(out.get(Layouts.INT32, 4L * (i - shift))).as("%s(%s)", function, x[i])
                                .isEqualTo(alone.get(Layouts.INT32, 0));
                    }
                }
            }
        }
    }

    @Test
    void geluRoundsEachStepAsTheExportedNodesDo() {
        float[] x = erfArguments();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocateFrom(Layouts.FLOAT, x);
            MemorySegment gelu = arena.allocate(4L * x.length);
            MemorySegment erf = arena.allocate(4L * x.length);
            FloatRows.unary(FloatRows.Function.GELU, in, 0, gelu, 0, x.length);
            for (int i = 0; i < x.length; i++) {
                erf.set(Layouts.FLOAT, 4L * i, x[i] / Erf.SQRT2);
            }
            FloatRows.unary(FloatRows.Function.ERF, erf, 0, erf, 0, x.length);
            for (int i = 0; i < x.length; i++) {
                float expected = x[i] * (erf.get(Layouts.FLOAT, 4L * i) + 1f) * 0.5f;
                float actual = gelu.get(Layouts.FLOAT, 4L * i);
                if (Float.isNaN(expected)) {
                    assertThat(actual).as("gelu(%s)", x[i]).isNaN();
                } else {
                    assertThat(actual).as("gelu(%s)", x[i]).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void quantizesToBytesRoundingHalfToEvenAndSaturating() {
        SplittableRandom random = new SplittableRandom(SEED + 5);
        float scale = 0.05f;
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 80; trial++) {
                // uint8 and int8, zero points inside each range and at its ends.
                boolean signed = trial % 2 == 1;
                int lowest = signed ? -128 : 0;
                int zeroPoint = switch (trial % 8 / 2) {
                    case 0 -> lowest;
                    case 1 -> lowest + 255;
                    default -> lowest + random.nextInt(256);
                };
                int length = random.nextInt(0, 90);
                float[] x = new float[length];
                for (int i = 0; i < length; i++) {
                    x[i] = switch (random.nextInt(5)) {
                        case 0 -> EXTREMES[random.nextInt(EXTREMES.length)];
                        case 1 -> (random.nextInt(-300, 300) + 0.5f) * scale; // ties, as near as float holds them
                        default -> (float) random.nextGaussian() * 10;
                    };
                }
                MemorySegment in = arena.allocate(4L * length + 4);
                MemorySegment.copy(x, 0, in, Layouts.FLOAT, 0, length);
                MemorySegment out = arena.allocate(length + 1);
                FloatRows.quantizeToBytes(in, 0, out, 0, length, scale, zeroPoint, signed);
                float[] range = FloatRows.minMax(in, 0, length);
                float low = Float.POSITIVE_INFINITY;
                float high = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < length; i++) {
                    float quotient = x[i] / scale;
                    int expected = (int) Math.max(lowest, Math.min(lowest + 255, Math.rint(quotient) + zeroPoint));
                    byte actual = out.get(ValueLayout.JAVA_BYTE, i);
                    assertThat(signed ? actual : actual & 0xFF).as("trial %d quantize %s", trial, x[i]).isEqualTo(expected);
                    low = Math.min(low, x[i]);
                    high = Math.max(high, x[i]);
                }
                assertThat(range).as("trial %d", trial).containsExactly(low, high);
            }
        }
    }

    /** The deterministic exponential over its whole range: within 2 ulps of Math.exp, and exact at the edges. */
    @Test
    void expIsWithinTwoUlpsAcrossItsRange() {
        int count = 200_000;
        float[] x = new float[count + 7];
        // From where results are normal to the largest x whose e^x is finite: the top hundredth once
        // came out as e^88.7, 2% low, from a clamp short of the range.
        for (int i = 0; i < count; i++) {
            x[i] = i == count - 1 ? 88.72283f : -87.3f + i * (176.02283f / (count - 1));
        }
        float[] edges = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -100f, 100f, 0f, -0f};
        System.arraycopy(edges, 0, x, count, edges.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(4L * x.length, 64);
            MemorySegment out = arena.allocate(4L * x.length, 64);
            MemorySegment.copy(x, 0, in, Layouts.FLOAT, 0, x.length);
            FloatRows.unary(FloatRows.Function.EXP, in, 0, out, 0, x.length);
            for (int i = 0; i < count; i++) {
                float expected = (float) Math.exp(x[i]);
                float actual = out.get(Layouts.FLOAT, 4L * i);
                assertThat(Math.abs(actual - expected)).as("exp(%s)", x[i]).isLessThanOrEqualTo(2 * Math.ulp(expected));
            }
            assertThat(out.get(Layouts.FLOAT, 4L * count)).isNaN();
            assertThat(out.get(Layouts.FLOAT, 4L * (count + 1))).isEqualTo(Float.POSITIVE_INFINITY);
            assertThat(out.get(Layouts.FLOAT, 4L * (count + 2))).isZero();
            assertThat(out.get(Layouts.FLOAT, 4L * (count + 3))).isZero();
            assertThat(out.get(Layouts.FLOAT, 4L * (count + 4))).isEqualTo(Float.POSITIVE_INFINITY);
            assertThat(out.get(Layouts.FLOAT, 4L * (count + 5))).isEqualTo(1f);
            assertThat(out.get(Layouts.FLOAT, 4L * (count + 6))).isEqualTo(1f);
        }
    }

    @Test
    void softmaxRowsMatchTheDoublePrecisionReference() {
        SplittableRandom random = new SplittableRandom(SEED + 2);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 300; trial++) {
                int length = random.nextInt(1, 600);
                boolean log = random.nextBoolean();
                float[] x = new float[length];
                for (int i = 0; i < length; i++) {
                    x[i] = (float) (random.nextGaussian() * (trial % 3 == 0 ? 30 : 3));
                }
                float[] actual = softmax(arena, x, log);
                float[] expected = new float[length];
                FloatRowsReference.softmax(x, expected, log);
                for (int i = 0; i < length; i++) {
                    assertThat(actual[i]).as("seed %x trial %d element %d", SEED + 2, trial, i)
                            .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(2e-6f + 1e-5f * Math.abs(expected[i])));
                }
            }
        }
    }

    /** FloatRows.softmax of {@code x} (log-softmax with {@code log}), through off-heap rows as the kernels get them. */
    private static float[] softmax(Arena arena, float[] x, boolean log) {
        MemorySegment in = arena.allocate(4L * x.length, 64);
        MemorySegment out = arena.allocate(4L * x.length, 64);
        MemorySegment.copy(x, 0, in, Layouts.FLOAT, 0, x.length);
        FloatRows.softmax(in, 0, out, 0, x.length, log);
        return out.toArray(Layouts.FLOAT);
    }

    /** NaN, infinities and rows masked throughout, anywhere in the row (vector lanes and tail): as the reference. */
    @Test
    void softmaxRowsWithSpecialValuesFollowTheReference() {
        SplittableRandom random = new SplittableRandom(SEED + 5);
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -Float.MAX_VALUE, -1e4f};
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 400; trial++) {
                int length = random.nextInt(1, 40);
                boolean log = random.nextBoolean();
                float[] x = new float[length];
                boolean maskedThroughout = trial % 5 == 0;
                for (int i = 0; i < length; i++) {
                    x[i] = maskedThroughout ? Float.NEGATIVE_INFINITY : (float) (random.nextGaussian() * 3);
                }
                if (!maskedThroughout) {
                    x[random.nextInt(length)] = specials[random.nextInt(specials.length)];
                }
                float[] softmax = softmax(arena, x, log);
                float[] expected = new float[length];
                FloatRowsReference.softmax(x, expected, log);
                for (int i = 0; i < length; i++) {
                    float actual = softmax[i];
                    String what = String.format("trial %d %s element %d of %s", trial, log ? "log-softmax" : "softmax", i,
                            java.util.Arrays.toString(x));
                    if (Float.isNaN(expected[i])) {
                        assertThat(actual).as(what).isNaN();
                    } else if (Float.isInfinite(expected[i])) {
                        assertThat(actual).as(what).isEqualTo(expected[i]);
                    } else {
                        assertThat(actual).as(what).isCloseTo(expected[i],
                                org.assertj.core.data.Offset.offset(2e-6f + 1e-5f * Math.abs(expected[i])));
                    }
                }
            }
        }
    }

    @Test
    void normalizedRowsMatchTheDoublePrecisionReference() {
        SplittableRandom random = new SplittableRandom(SEED + 3);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 300; trial++) {
                int length = random.nextInt(1, 800);
                boolean rms = trial % 2 == 0;
                float[] x = new float[length];
                float[] scale = new float[length];
                float[] bias = trial % 3 == 0 ? null : new float[length];
                for (int i = 0; i < length; i++) {
                    x[i] = (float) (random.nextGaussian() * 4 + 2);
                    scale[i] = (float) random.nextGaussian();
                    if (bias != null) {
                        bias[i] = (float) random.nextGaussian();
                    }
                }
                MemorySegment in = arena.allocate(4L * length, 64);
                MemorySegment out = arena.allocate(4L * length, 64);
                MemorySegment.copy(x, 0, in, Layouts.FLOAT, 0, length);
                FloatRows.normalize(in, 0, out, 0, length, scale, bias, 1e-5f, rms);
                float[] expected = new float[length];
                FloatRowsReference.normalize(x, expected, scale, bias, 1e-5f, rms);
                for (int i = 0; i < length; i++) {
                    assertThat(out.get(Layouts.FLOAT, 4L * i)).as("seed %x trial %d element %d", SEED + 3, trial, i)
                            .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-4f * (1 + Math.abs(expected[i]))));
                }
            }
        }
    }

    /** A row's bits do not depend on the row normalized beside it (here: itself, or another). */
    @Test
    void twoRowsAtOnceGiveEachRowsBitsAlone() {
        SplittableRandom random = new SplittableRandom(SEED + 5);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 200; trial++) {
                int length = trial % 10 == 0 ? 384 : random.nextInt(1, 300);
                boolean rms = trial % 2 == 0;
                float[] scale = new float[length];
                float[] bias = trial % 3 == 0 ? null : new float[length];
                for (int i = 0; i < length; i++) {
                    scale[i] = (float) random.nextGaussian();
                    if (bias != null) {
                        bias[i] = (float) random.nextGaussian();
                    }
                }
                // A constant row (no variance) every fifth trial, else values of any scale, in rows that
                // lie apart by a gap, as a view's rows may.
                long stride = 4L * (length + 3);
                MemorySegment in = arena.allocate(2 * stride, 64);
                for (int row = 0; row < 2; row++) {
                    double magnitude = Math.pow(10, random.nextInt(-3, 4));
                    for (int i = 0; i < length; i++) {
                        float value = trial % 5 == 0 && row == 1 ? 7.25f : (float) (random.nextGaussian() * magnitude);
                        in.set(Layouts.FLOAT, row * stride + 4L * i, value);
                    }
                }
                MemorySegment alone = arena.allocate(2 * stride, 64);
                MemorySegment paired = arena.allocate(2 * stride, 64);
                float[] statistics = new float[4];
                FloatRows.normalizePair(in, 0, stride, paired, 0, stride, length, scale, bias, 1e-5f, rms, statistics);
                for (int row = 0; row < 2; row++) {
                    float[] single = FloatRows.normalize(in, row * stride, alone, row * stride, length, scale, bias, 1e-5f, rms);
                    assertThat(new float[] {statistics[2 * row], statistics[2 * row + 1]})
                            .as("seed %x trial %d row %d statistics", SEED + 5, trial, row).containsExactly(single);
                    assertThat(paired.asSlice(row * stride, 4L * length).mismatch(alone.asSlice(row * stride, 4L * length)))
                            .as("seed %x trial %d row %d first differing byte", SEED + 5, trial, row).isEqualTo(-1);
                }
                // In place, one row at a time, gives the same bits too.
                FloatRows.normalize(in, stride, in, stride, length, scale, bias, 1e-5f, rms);
                assertThat(in.asSlice(stride, 4L * length).mismatch(alone.asSlice(stride, 4L * length)))
                        .as("seed %x trial %d in place, first differing byte", SEED + 5, trial).isEqualTo(-1);
            }
        }
    }

    /**
     * A model's outputs must not change once the JIT has compiled the kernels: the first pass runs
     * interpreted or in C1, the last after hundreds of passes in C2.
     */
    @Test
    void rowsGiveTheSameBitsBeforeAndAfterWarmUp() {
        SplittableRandom random = new SplittableRandom(SEED + 4);
        int rows = 400;
        int length = 2 * FloatRows.SPECIES.length() + 5;
        float[] scale = new float[length];
        java.util.Arrays.fill(scale, 1.5f);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(4L * rows * length, 64);
            for (int i = 0; i < rows * length; i++) {
                in.set(Layouts.FLOAT, 4L * i, (float) (random.nextGaussian() * 3));
            }
            MemorySegment first = arena.allocate(8L * rows * length, 64);
            MemorySegment last = arena.allocate(8L * rows * length, 64);
            for (int pass = 0; pass < 300; pass++) {
                MemorySegment out = pass == 0 ? first : last;
                for (int row = 0; row < rows; row++) {
                    long offset = 4L * row * length;
                    FloatRows.softmax(in, offset, out, offset, length, false);
                    FloatRows.normalize(in, offset, out, offset + 4L * rows * length, length, scale, null, 1e-5f, false);
                }
            }
            assertThat(last.mismatch(first)).as("first differing byte").isEqualTo(-1);
        }
    }

    /** Random values, a third of them extreme. */
    private static MemorySegment values(Arena arena, SplittableRandom random, int length) {
        MemorySegment segment = arena.allocate(Math.max(4L * length, 4), 64);
        for (int i = 0; i < Math.max(length, 1); i++) {
            float value = random.nextInt(3) == 0 ? EXTREMES[random.nextInt(EXTREMES.length)]
                    : (float) (random.nextGaussian() * 10);
            segment.set(Layouts.FLOAT, i * 4L, value);
        }
        return segment;
    }
}
