package dev.quanta.tensor;

/**
 * A small binary floating-point format (sign, exponent, mantissa) and its exact conversions
 * to and from float32, with the rounding, saturation and NaN rules ONNX specifies for Cast.
 *
 * <p>Encoding rounds to nearest, ties to even, and only then checks the range ("[x] > FLT_MAX"
 * in the ONNX tables). Out of range, {@code saturate} clamps to the largest finite value;
 * otherwise the result is infinity where the format has one and NaN where it does not.
 */
public final class MiniFloat {

    /** How a format spends its special encodings. */
    enum Specials {
        /** IEEE 754: all-ones exponent is infinity (mantissa 0) or NaN. */
        IEEE,
        /** "FN": no infinity; only all-ones exponent and mantissa is NaN (float8e4m3fn). */
        NAN_ALL_ONES,
        /** "FNUZ": no infinity, no negative zero; the negative-zero pattern is the only NaN. */
        NAN_NEGATIVE_ZERO,
        /** Neither infinity nor NaN (float4e2m1); NaN encodes as {@code nanBits}. */
        NONE
    }

    public static final MiniFloat FLOAT16 = new MiniFloat("float16", 5, 10, 15, Specials.IEEE, 0x7E00, false);
    public static final MiniFloat BFLOAT16 = new MiniFloat("bfloat16", 8, 7, 127, Specials.IEEE, 0x7FC0, false);
    public static final MiniFloat FLOAT8E4M3FN = new MiniFloat("float8e4m3fn", 4, 3, 7, Specials.NAN_ALL_ONES, 0x7F, true);
    public static final MiniFloat FLOAT8E4M3FNUZ = new MiniFloat("float8e4m3fnuz", 4, 3, 8, Specials.NAN_NEGATIVE_ZERO, 0x80, true);
    public static final MiniFloat FLOAT8E5M2 = new MiniFloat("float8e5m2", 5, 2, 15, Specials.IEEE, 0x7E, true);
    public static final MiniFloat FLOAT8E5M2FNUZ = new MiniFloat("float8e5m2fnuz", 5, 2, 16, Specials.NAN_NEGATIVE_ZERO, 0x80, true);
    public static final MiniFloat FLOAT4E2M1 = new MiniFloat("float4e2m1", 2, 1, 1, Specials.NONE, 0x8, true);

    private final String name;
    private final int exponentBits;
    private final int mantissaBits;
    private final int bias;
    private final Specials specials;
    private final int nanBits;
    private final boolean honoursSaturate;
    private final int signBit;
    private final int maxFiniteBits;
    private final double maxFinite;
    private final float[] decodeTable;

    private MiniFloat(String name, int exponentBits, int mantissaBits, int bias, Specials specials, int nanBits,
            boolean honoursSaturate) {
        this.name = name;
        this.exponentBits = exponentBits;
        this.mantissaBits = mantissaBits;
        this.bias = bias;
        this.specials = specials;
        this.nanBits = nanBits;
        this.honoursSaturate = honoursSaturate;
        this.signBit = 1 << (exponentBits + mantissaBits);
        int allOnesExponent = ((1 << exponentBits) - 1) << mantissaBits;
        int allOnesMantissa = (1 << mantissaBits) - 1;
        this.maxFiniteBits = switch (specials) {
            case IEEE -> (allOnesExponent - (1 << mantissaBits)) | allOnesMantissa;
            case NAN_ALL_ONES -> allOnesExponent | (allOnesMantissa - 1);
            case NAN_NEGATIVE_ZERO, NONE -> allOnesExponent | allOnesMantissa;
        };
        this.maxFinite = decodeGeneric(maxFiniteBits);
        if (bitWidth() <= 8) {
            decodeTable = new float[1 << bitWidth()];
            for (int bits = 0; bits < decodeTable.length; bits++) {
                decodeTable[bits] = decodeGeneric(bits);
            }
        } else {
            decodeTable = null;
        }
    }

    /** Total bits: 16, 8 or 4. */
    public int bitWidth() {
        return 1 + exponentBits + mantissaBits;
    }

    /** The largest finite value. */
    public float maxFinite() {
        return (float) maxFinite;
    }

    /** The float value of an encoding (only its low {@link #bitWidth()} bits are read). */
    public float decode(int bits) {
        if (decodeTable != null) {
            return decodeTable[bits & (decodeTable.length - 1)];
        }
        if (this == FLOAT16) {
            return Float.float16ToFloat((short) bits);
        }
        return Float.intBitsToFloat(bits << 16); // bfloat16 is the high half of a float32
    }

    /** Encodes with the ONNX default, {@code saturate = true}. */
    public int encode(float value) {
        return encode(value, true);
    }

    /**
     * Encodes, rounding to nearest even. {@code saturate} is ONNX Cast's attribute: it applies to
     * the float8 formats; float16 and bfloat16 overflow to infinity and float4e2m1 always saturates.
     */
    public int encode(float value, boolean saturate) {
        if (this == FLOAT16) {
            return Float.floatToFloat16(value) & 0xFFFF;
        }
        if (this == BFLOAT16) {
            int bits = Float.floatToRawIntBits(value);
            if (Float.isNaN(value)) {
                return (bits >>> 16) | 0x40; // keep sign and payload, make it quiet
            }
            return (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16;
        }
        return encodeGeneric(value, saturate);
    }

    /** Decoding from the format's definition; the table and the fast paths are checked against it. */
    float decodeGeneric(int bits) {
        bits &= (signBit << 1) - 1;
        boolean negative = (bits & signBit) != 0;
        int magnitude = bits & (signBit - 1);
        int exponent = magnitude >>> mantissaBits;
        int mantissa = magnitude & ((1 << mantissaBits) - 1);
        int maxExponent = (1 << exponentBits) - 1;
        switch (specials) {
            case IEEE -> {
                if (exponent == maxExponent) {
                    float special = mantissa == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
                    return negative ? -special : special;
                }
            }
            case NAN_ALL_ONES -> {
                if (magnitude == signBit - 1) {
                    return negative ? -Float.NaN : Float.NaN;
                }
            }
            case NAN_NEGATIVE_ZERO -> {
                if (bits == signBit) {
                    return Float.NaN;
                }
            }
            case NONE -> { }
        }
        double value = exponent == 0
                ? Math.scalb((double) mantissa, 1 - bias - mantissaBits)
                : Math.scalb((double) ((1 << mantissaBits) | mantissa), exponent - bias - mantissaBits);
        return (float) (negative ? -value : value);
    }

    /**
     * Encoding from the format's definition: rounds in double, where scaling by powers of two
     * is exact, so {@link Math#rint} performs exactly the round-half-to-even the format needs.
     */
    int encodeGeneric(float value, boolean saturate) {
        boolean negative = Float.floatToRawIntBits(value) < 0;
        int sign = negative ? signBit : 0;
        if (Float.isNaN(value)) {
            return specials == Specials.IEEE || specials == Specials.NAN_ALL_ONES ? sign | nanBits : nanBits;
        }
        boolean unsignedZero = specials == Specials.NAN_NEGATIVE_ZERO;
        double magnitude = Math.abs((double) value);
        if (Double.isInfinite(magnitude)) {
            // The ONNX tables say NaN for FNUZ even when saturating; ONNX's own test data
            // (and ONNX Runtime) saturate, and the tests are what models are checked against.
            return overflow(sign, saturate);
        }
        int minNormalExponent = 1 - bias;
        int exponent = Math.max(Math.getExponent(magnitude), minNormalExponent);
        double ulp = Math.scalb(1.0, exponent - mantissaBits);
        double rounded = Math.rint(magnitude / ulp) * ulp;
        if (rounded > maxFinite) {
            return overflow(sign, saturate);
        }
        if (rounded == 0) {
            return unsignedZero ? 0 : sign;
        }
        int roundedExponent = Math.getExponent(rounded);
        if (roundedExponent < minNormalExponent) {
            return sign | (int) Math.scalb(rounded, mantissaBits - minNormalExponent);
        }
        int mantissa = (int) Math.scalb(rounded, mantissaBits - roundedExponent) - (1 << mantissaBits);
        return sign | ((roundedExponent + bias) << mantissaBits) | mantissa;
    }

    private int overflow(int sign, boolean saturate) {
        return switch (specials) {
            case NONE -> sign | maxFiniteBits;
            case IEEE -> saturate && honoursSaturate
                    ? sign | maxFiniteBits
                    : sign | (((1 << exponentBits) - 1) << mantissaBits);
            case NAN_ALL_ONES -> saturate ? sign | maxFiniteBits : sign | nanBits;
            case NAN_NEGATIVE_ZERO -> saturate ? sign | maxFiniteBits : nanBits;
        };
    }

    @Override
    public String toString() {
        return name;
    }
}
