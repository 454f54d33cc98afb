package dev.quanta.tensor;

/**
 * float8e8m0: an unsigned power of two, 2^(bits - 127), used as a block scale (OCP MX).
 * It has no zero, no sign and no infinity; 0xFF is NaN.
 */
public final class Float8E8M0 {

    /** How a value between two powers of two is rounded (the {@code round_mode} of ONNX Cast). */
    public enum RoundMode {
        /** To the power of two above, unless the value is one already (the ONNX default). */
        UP,
        /** To the power of two below. */
        DOWN,
        /** To the nearer power of two, halfway (1.5 × 2^k) going up. */
        NEAREST
    }

    public static final int NAN = 0xFF;
    private static final int MAX_FINITE = 0xFE;
    private static final int BIAS = 127;

    private Float8E8M0() {
    }

    public static float decode(int bits) {
        bits &= 0xFF;
        if (bits == NAN) {
            return Float.NaN;
        }
        // 2^(bits - 127): a normal float32 for bits >= 1, the subnormal 2^-127 for bits == 0.
        return bits == 0 ? Float.intBitsToFloat(0x0040_0000) : Float.intBitsToFloat(bits << 23);
    }

    /** Encodes with the ONNX defaults: saturating, rounding up. */
    public static int encode(float value) {
        return encode(value, true, RoundMode.UP);
    }

    /**
     * Encodes the magnitude of {@code value} (the sign is dropped). Below 2^-127, including
     * zero, gives the smallest code; above 2^127 gives 2^127 when saturating, NaN otherwise.
     */
    public static int encode(float value, boolean saturate, RoundMode mode) {
        if (Float.isNaN(value)) {
            return NAN;
        }
        double magnitude = Math.abs((double) value);
        if (Double.isInfinite(magnitude)) {
            return saturate ? MAX_FINITE : NAN;
        }
        if (magnitude == 0) {
            return 0;
        }
        int exponent = Math.getExponent(magnitude);
        double power = Math.scalb(1.0, exponent);
        if (magnitude != power) {
            exponent += switch (mode) {
                case UP -> 1;
                case DOWN -> 0;
                case NEAREST -> magnitude >= 1.5 * power ? 1 : 0;
            };
        }
        int biased = exponent + BIAS;
        if (biased < 0) {
            return 0;
        }
        if (biased > MAX_FINITE) {
            return saturate ? MAX_FINITE : NAN;
        }
        return biased;
    }
}
