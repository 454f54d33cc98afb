package dev.quanta.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class MiniFloatTest {

    private static final long SEED = 0x5EED_F10A7L;

    // ---------------------------------------------------------------- float16 against the JDK

    @Test
    void float16DecodesAll65536PatternsLikeTheJdk() {
        for (int bits = 0; bits <= 0xFFFF; bits++) {
            float expected = Float.float16ToFloat((short) bits);
            assertSameFloat(MiniFloat.FLOAT16.decode(bits), expected, "fast decode of 0x%04x", bits);
            assertSameFloat(MiniFloat.FLOAT16.decodeGeneric(bits), expected, "generic decode of 0x%04x", bits);
        }
    }

    @Test
    void float16GenericEncodingMatchesTheJdkAtEveryRoundingBoundary() {
        for (float x : boundaries(MiniFloat.FLOAT16)) {
            assertSameEncoding(MiniFloat.FLOAT16.encodeGeneric(x, false), Float.floatToFloat16(x) & 0xFFFF,
                    MiniFloat.FLOAT16, x);
        }
    }

    @Test
    void float16GenericEncodingMatchesTheJdkOnRandomFloats() {
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < 2_000_000; i++) {
            float x = Float.intBitsToFloat(random.nextInt());
            assertSameEncoding(MiniFloat.FLOAT16.encodeGeneric(x, false), Float.floatToFloat16(x) & 0xFFFF,
                    MiniFloat.FLOAT16, x);
        }
    }

    // ---------------------------------------------------------------- bfloat16

    @Test
    void bfloat16DecodesAll65536PatternsAsTheHighHalfOfAFloat() {
        for (int bits = 0; bits <= 0xFFFF; bits++) {
            float expected = Float.intBitsToFloat(bits << 16);
            assertSameFloat(MiniFloat.BFLOAT16.decode(bits), expected, "fast decode of 0x%04x", bits);
            assertSameFloat(MiniFloat.BFLOAT16.decodeGeneric(bits), expected, "generic decode of 0x%04x", bits);
        }
    }

    @Test
    void bfloat16FastEncodingMatchesTheDefinitionAtEveryBoundaryAndOnRandomFloats() {
        List<Float> inputs = boundaries(MiniFloat.BFLOAT16);
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < 2_000_000; i++) {
            inputs.add(Float.intBitsToFloat(random.nextInt()));
        }
        for (float x : inputs) {
            assertSameEncoding(MiniFloat.BFLOAT16.encode(x), MiniFloat.BFLOAT16.encodeGeneric(x, false),
                    MiniFloat.BFLOAT16, x);
        }
    }

    @Test
    void bfloat16RoundsHalfToEvenAndOverflowsToInfinity() {
        assertThat(MiniFloat.BFLOAT16.encode(Float.intBitsToFloat(0x3F80_8000))).isEqualTo(0x3F80); // tie, even below
        assertThat(MiniFloat.BFLOAT16.encode(Float.intBitsToFloat(0x3F81_8000))).isEqualTo(0x3F82); // tie, even above
        assertThat(MiniFloat.BFLOAT16.encode(Float.intBitsToFloat(0x3F80_8001))).isEqualTo(0x3F81);
        assertThat(MiniFloat.BFLOAT16.encode(Float.MAX_VALUE)).isEqualTo(0x7F80);
        assertThat(MiniFloat.BFLOAT16.encode(-Float.MAX_VALUE)).isEqualTo(0xFF80);
    }

    /** ONNX's test_cast_FLOAT_to_BFLOAT16 data, input bits and expected output. */
    @Test
    void bfloat16MatchesTheOnnxConformanceData() {
        int[] inputs = {0x3ef535b8, 0x3ef5eeb0, 0x3effd6b2, 0x3f51b0e5, 0x3ef0cccc, 0x3f51040c, 0x3e57eed1,
            0x3f391039, 0x7fc00000, 0x7f800000, 0x7f800000, 0xff800000};
        int[] expected = {0x3ef5, 0x3ef6, 0x3f00, 0x3f52, 0x3ef1, 0x3f51, 0x3e58, 0x3f39, 0x7fc0, 0x7f80, 0x7f80, 0xff80};
        for (int i = 0; i < inputs.length; i++) {
            assertThat(MiniFloat.BFLOAT16.encode(Float.intBitsToFloat(inputs[i]))).as("input %d", i).isEqualTo(expected[i]);
        }
    }

    // ---------------------------------------------------------------- float8 and float4

    enum Small {
        E4M3FN(MiniFloat.FLOAT8E4M3FN, 448f, 0x1p-9f),
        E4M3FNUZ(MiniFloat.FLOAT8E4M3FNUZ, 240f, 0x1p-10f),
        E5M2(MiniFloat.FLOAT8E5M2, 57344f, 0x1p-16f),
        E5M2FNUZ(MiniFloat.FLOAT8E5M2FNUZ, 57344f, 0x1p-17f),
        E2M1(MiniFloat.FLOAT4E2M1, 6f, 0.5f);

        final MiniFloat format;
        final float max;
        final float minSubnormal;

        Small(MiniFloat format, float max, float minSubnormal) {
            this.format = format;
            this.max = max;
            this.minSubnormal = minSubnormal;
        }
    }

    @ParameterizedTest
    @EnumSource(Small.class)
    void decodingKnowsTheLimitsOfEachFormat(Small small) {
        MiniFloat format = small.format;
        assertThat(format.maxFinite()).isEqualTo(small.max);
        assertThat(format.decode(1)).isEqualTo(small.minSubnormal);
        int patterns = 1 << format.bitWidth();
        float largest = 0;
        int nans = 0;
        for (int bits = 0; bits < patterns; bits++) {
            float value = format.decode(bits);
            assertSameFloat(value, format.decodeGeneric(bits), "table against definition at 0x%02x", bits);
            if (Float.isNaN(value)) {
                nans++;
            } else if (!Float.isInfinite(value)) {
                largest = Math.max(largest, Math.abs(value));
            }
        }
        assertThat(largest).isEqualTo(small.max);
        int expectedNans = switch (small) {
            case E4M3FN -> 2; // S.1111.111
            case E4M3FNUZ, E5M2FNUZ -> 1; // 0x80
            case E5M2 -> 6; // S.11111.{01,10,11}
            case E2M1 -> 0;
        };
        assertThat(nans).isEqualTo(expectedNans);
        if (small == Small.E5M2) {
            assertThat(format.decode(0x7C)).isEqualTo(Float.POSITIVE_INFINITY);
            assertThat(format.decode(0xFC)).isEqualTo(Float.NEGATIVE_INFINITY);
        }
    }

    @Test
    void float4DecodesTheValuesOnnxLists() {
        float[] expected = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
        for (int bits = 0; bits < 8; bits++) {
            assertThat(MiniFloat.FLOAT4E2M1.decode(bits)).isEqualTo(expected[bits]);
            assertThat(MiniFloat.FLOAT4E2M1.decode(bits | 8)).isEqualTo(-expected[bits]);
        }
    }

    @ParameterizedTest
    @EnumSource(Small.class)
    void everyValueEncodesBackToItsOwnPattern(Small small) {
        MiniFloat format = small.format;
        for (int bits = 0; bits < 1 << format.bitWidth(); bits++) {
            float value = format.decode(bits);
            if (!Float.isNaN(value)) {
                // saturate=false, so that float8e5m2's infinities encode as themselves too
                assertThat(format.encode(value, false)).as("%s 0x%02x = %s", format, bits, value).isEqualTo(bits);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Small.class)
    void encodingMatchesANearestValueSearchAtEveryBoundary(Small small) {
        for (float x : boundaries(small.format)) {
            for (boolean saturate : new boolean[] {true, false}) {
                assertThat(small.format.encode(x, saturate))
                        .as("%s of %s (0x%08x), saturate=%s", small.format, x, Float.floatToRawIntBits(x), saturate)
                        .isEqualTo(nearest(small, x, saturate));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Small.class)
    void encodingMatchesANearestValueSearchOnRandomFloats(Small small) {
        SplittableRandom random = new SplittableRandom(SEED + small.ordinal());
        for (int i = 0; i < 200_000; i++) {
            // Magnitudes spread evenly over the exponents from well below the subnormals to well above max.
            float x = (float) Math.scalb(random.nextDouble(1, 2), random.nextInt(-30, 20)) * (random.nextBoolean() ? 1 : -1);
            boolean saturate = random.nextBoolean();
            assertThat(small.format.encode(x, saturate))
                    .as("%s of %s (0x%08x), saturate=%s, seed %x", small.format, x, Float.floatToRawIntBits(x), saturate, SEED)
                    .isEqualTo(nearest(small, x, saturate));
        }
    }

    private static final int[] ONNX_FLOAT8_INPUTS = {0x3ef535b8, 0x3ef5eeb0, 0x3effd6b2, 0x3f51b0e5, 0x3ef0cccc,
        0x3f391039, 0x49742400, 0x33d6bf95, 0x7fc00000, 0x7f800000, 0x7f800000, 0xff800000, 0xb3d6bf95, 0x33d6bf95,
        0xc9742400};

    /** ONNX's test_cast_[no_saturate_]FLOAT_to_FLOAT8* data: one input list, eight expected outputs. */
    @Test
    void float8MatchesTheOnnxConformanceData() {
        checkOnnx(MiniFloat.FLOAT8E4M3FN, true, 0x2f, 0x2f, 0x30, 0x35, 0x2f, 0x34, 0x7e, 0x00, 0x7f, 0x7e, 0x7e, 0xfe, 0x80, 0x00, 0xfe);
        checkOnnx(MiniFloat.FLOAT8E4M3FN, false, 0x2f, 0x2f, 0x30, 0x35, 0x2f, 0x34, 0x7f, 0x00, 0x7f, 0x7f, 0x7f, 0xff, 0x80, 0x00, 0xff);
        checkOnnx(MiniFloat.FLOAT8E4M3FNUZ, true, 0x37, 0x37, 0x38, 0x3d, 0x37, 0x3c, 0x7f, 0x00, 0x80, 0x7f, 0x7f, 0xff, 0x00, 0x00, 0xff);
        checkOnnx(MiniFloat.FLOAT8E4M3FNUZ, false, 0x37, 0x37, 0x38, 0x3d, 0x37, 0x3c, 0x80, 0x00, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00, 0x80);
        checkOnnx(MiniFloat.FLOAT8E5M2, true, 0x38, 0x38, 0x38, 0x3b, 0x38, 0x3a, 0x7b, 0x00, 0x7e, 0x7b, 0x7b, 0xfb, 0x80, 0x00, 0xfb);
        checkOnnx(MiniFloat.FLOAT8E5M2, false, 0x38, 0x38, 0x38, 0x3b, 0x38, 0x3a, 0x7c, 0x00, 0x7e, 0x7c, 0x7c, 0xfc, 0x80, 0x00, 0xfc);
        checkOnnx(MiniFloat.FLOAT8E5M2FNUZ, true, 0x3c, 0x3c, 0x3c, 0x3f, 0x3c, 0x3e, 0x7f, 0x00, 0x80, 0x7f, 0x7f, 0xff, 0x00, 0x00, 0xff);
        checkOnnx(MiniFloat.FLOAT8E5M2FNUZ, false, 0x3c, 0x3c, 0x3c, 0x3f, 0x3c, 0x3e, 0x80, 0x00, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00, 0x80);
    }

    /** ONNX's test_cast_FLOAT_to_FLOAT4E2M1 data. */
    @Test
    void float4MatchesTheOnnxConformanceData() {
        int[] inputs = {0x3ef5c28f, 0x3e800000, 0x3f866666, 0xc0600000, 0xc1000000, 0x41100000, 0x49742400, 0x33d6bf95,
            0x7fc00000, 0x7f800000, 0x7f800000, 0xff800000, 0xc0800000, 0x3c23d70a, 0x80000000};
        int[] expected = {0x1, 0x0, 0x2, 0xe, 0xf, 0x7, 0x7, 0x0, 0x8, 0x7, 0x7, 0xf, 0xe, 0x0, 0x8};
        for (int i = 0; i < inputs.length; i++) {
            assertThat(MiniFloat.FLOAT4E2M1.encode(Float.intBitsToFloat(inputs[i]))).as("input %d", i).isEqualTo(expected[i]);
        }
    }

    private static void checkOnnx(MiniFloat format, boolean saturate, int... expected) {
        for (int i = 0; i < ONNX_FLOAT8_INPUTS.length; i++) {
            assertThat(format.encode(Float.intBitsToFloat(ONNX_FLOAT8_INPUTS[i]), saturate))
                    .as("%s saturate=%s input %d", format, saturate, i).isEqualTo(expected[i]);
        }
    }

    // ---------------------------------------------------------------- oracles and helpers

    /**
     * The slow, obvious definition: the nearest of all finite encodings, ties to the even
     * pattern, where one step past the largest value means overflow. Written from the ONNX
     * tables, independently of {@link MiniFloat#encodeGeneric}.
     */
    private static int nearest(Small small, float x, boolean saturate) {
        MiniFloat format = small.format;
        int signBit = 1 << (format.bitWidth() - 1);
        boolean negative = Float.floatToRawIntBits(x) < 0;
        int sign = negative ? signBit : 0;
        boolean unsignedZero = small == Small.E4M3FNUZ || small == Small.E5M2FNUZ;
        if (Float.isNaN(x)) {
            return switch (small) {
                case E4M3FN -> sign | 0x7F;
                case E5M2 -> sign | 0x7E;
                case E4M3FNUZ, E5M2FNUZ -> 0x80;
                case E2M1 -> 0x8;
            };
        }
        double magnitude = Math.abs((double) x);
        int maxBits = format.encode(small.max);
        int best = -1;
        double bestDistance = Double.POSITIVE_INFINITY;
        for (int bits = 0; bits <= maxBits; bits++) {
            double distance = Math.abs(format.decode(bits) - magnitude);
            if (distance < bestDistance || (distance == bestDistance && (bits & 1) == 0)) {
                best = bits;
                bestDistance = distance;
            }
        }
        double step = small.max - format.decode(maxBits - 1);
        double overflowDistance = Math.abs(small.max + step - magnitude);
        boolean overflows = magnitude > small.max + step || overflowDistance < bestDistance
                || (overflowDistance == bestDistance && ((maxBits + 1) & 1) == 0);
        if (overflows) {
            if (saturate || small == Small.E2M1) {
                return sign | maxBits;
            }
            return switch (small) {
                case E5M2 -> sign | 0x7C;
                case E4M3FN -> sign | 0x7F;
                default -> 0x80;
            };
        }
        return best == 0 && unsignedZero ? 0 : sign | best;
    }

    /** Every value of a format, the midpoints between neighbours and the floats just beside them, both signs. */
    private static List<Float> boundaries(MiniFloat format) {
        List<Float> values = new ArrayList<>();
        int patterns = 1 << format.bitWidth();
        for (int bits = 0; bits < patterns / 2; bits++) {
            float value = format.decode(bits);
            float next = format.decode(bits + 1);
            if (Float.isNaN(value) || Float.isInfinite(value)) {
                continue;
            }
            float midpoint = Float.isInfinite(next) || Float.isNaN(next) || bits + 1 == patterns / 2
                    ? (float) (value + (value - format.decode(bits - 1)) / 2) // half a step past the largest
                    : (float) (((double) value + next) / 2);
            for (float x : new float[] {value, Math.nextUp(value), Math.nextDown(value), midpoint,
                Math.nextUp(midpoint), Math.nextDown(midpoint)}) {
                values.add(x);
                values.add(-x);
            }
        }
        for (float special : new float[] {0f, Float.NaN, Float.POSITIVE_INFINITY, Float.MAX_VALUE, Float.MIN_VALUE,
            Float.MIN_NORMAL, 1e-30f}) {
            values.add(special);
            values.add(-special);
        }
        return values;
    }

    private static void assertSameEncoding(int actual, int expected, MiniFloat format, float x) {
        if (Float.isNaN(format.decode(expected))) {
            assertThat(format.decode(actual)).as("%s of NaN 0x%08x (seed %x)", format, Float.floatToRawIntBits(x), SEED).isNaN();
            assertThat(actual & (1 << (format.bitWidth() - 1))).isEqualTo(expected & (1 << (format.bitWidth() - 1)));
        } else {
            assertThat(actual).as("%s of %s (0x%08x, seed %x)", format, x, Float.floatToRawIntBits(x), SEED)
                    .isEqualTo(expected);
        }
    }

    static void assertSameFloat(float actual, float expected, String what, Object... args) {
        if (Float.isNaN(expected)) {
            assertThat(actual).as(what, args).isNaN();
        } else {
            assertThat(Float.floatToRawIntBits(actual)).as(what + ": %s against %s", concat(args, actual, expected))
                    .isEqualTo(Float.floatToRawIntBits(expected));
        }
    }

    private static Object[] concat(Object[] args, Object... more) {
        Object[] all = new Object[args.length + more.length];
        System.arraycopy(args, 0, all, 0, args.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return all;
    }
}
