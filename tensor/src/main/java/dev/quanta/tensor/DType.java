package dev.quanta.tensor;

/**
 * Every ONNX {@code TensorProto} element type, with its ONNX code and storage width.
 *
 * <p>Sub-byte types (4-bit and 2-bit) are packed the ONNX way: the first element in the
 * low bits of a byte. Complex types are storage only: pairs of real and imaginary parts.
 * Strings live on the Java heap, never in a memory segment.
 */
public enum DType {
    FLOAT(1, "float32", 32, Kind.FLOAT),
    UINT8(2, "uint8", 8, Kind.UNSIGNED),
    INT8(3, "int8", 8, Kind.SIGNED),
    UINT16(4, "uint16", 16, Kind.UNSIGNED),
    INT16(5, "int16", 16, Kind.SIGNED),
    INT32(6, "int32", 32, Kind.SIGNED),
    INT64(7, "int64", 64, Kind.SIGNED),
    STRING(8, "string", 0, Kind.STRING),
    BOOL(9, "bool", 8, Kind.BOOL),
    FLOAT16(10, "float16", 16, Kind.FLOAT),
    DOUBLE(11, "float64", 64, Kind.FLOAT),
    UINT32(12, "uint32", 32, Kind.UNSIGNED),
    UINT64(13, "uint64", 64, Kind.UNSIGNED),
    COMPLEX64(14, "complex64", 64, Kind.COMPLEX),
    COMPLEX128(15, "complex128", 128, Kind.COMPLEX),
    BFLOAT16(16, "bfloat16", 16, Kind.FLOAT),
    FLOAT8E4M3FN(17, "float8e4m3fn", 8, Kind.FLOAT),
    FLOAT8E4M3FNUZ(18, "float8e4m3fnuz", 8, Kind.FLOAT),
    FLOAT8E5M2(19, "float8e5m2", 8, Kind.FLOAT),
    FLOAT8E5M2FNUZ(20, "float8e5m2fnuz", 8, Kind.FLOAT),
    UINT4(21, "uint4", 4, Kind.UNSIGNED),
    INT4(22, "int4", 4, Kind.SIGNED),
    FLOAT4E2M1(23, "float4e2m1", 4, Kind.FLOAT),
    FLOAT8E8M0(24, "float8e8m0", 8, Kind.FLOAT),
    UINT2(25, "uint2", 2, Kind.UNSIGNED),
    INT2(26, "int2", 2, Kind.SIGNED);

    private enum Kind { FLOAT, SIGNED, UNSIGNED, BOOL, COMPLEX, STRING }

    private static final DType[] BY_ONNX_CODE = new DType[27];

    static {
        for (DType type : values()) {
            BY_ONNX_CODE[type.onnxCode] = type;
        }
    }

    private final int onnxCode;
    private final String displayName;
    private final int bits;
    private final Kind kind;

    DType(int onnxCode, String displayName, int bits, Kind kind) {
        this.onnxCode = onnxCode;
        this.displayName = displayName;
        this.bits = bits;
        this.kind = kind;
    }

    /** The type with this {@code TensorProto.DataType} code. */
    public static DType fromOnnx(int code) {
        DType type = code >= 0 && code < BY_ONNX_CODE.length ? BY_ONNX_CODE[code] : null;
        if (type == null) {
            throw new QuantaException("unknown ONNX element type code " + code
                    + (code == 0 ? " (UNDEFINED)" : "") + "; known codes are 1 to " + (BY_ONNX_CODE.length - 1));
        }
        return type;
    }

    /** The type with this name, as {@link #toString()} prints it or as ONNX spells it ({@code "FLOAT"}). */
    public static DType fromName(String name) {
        for (DType type : values()) {
            if (type.displayName.equals(name) || type.name().equalsIgnoreCase(name)) {
                return type;
            }
        }
        throw new QuantaException("unknown element type '" + name + "'");
    }

    public int onnxCode() {
        return onnxCode;
    }

    /** Storage bits of one element: 2, 4, 8, 16, 32, 64 or 128; 0 for strings. */
    public int bitWidth() {
        return bits;
    }

    /** Bytes of one element, for types at least a byte wide. */
    public int byteSize() {
        if (bits < 8) {
            throw new QuantaException(this + " elements are " + (bits == 0 ? "heap objects" : bits + " bits") + ", not whole bytes");
        }
        return bits / 8;
    }

    /** Whether several elements share one byte (the 4-bit and 2-bit types). */
    public boolean isPacked() {
        return bits > 0 && bits < 8;
    }

    /** Bytes needed to store {@code elements} elements, packed types rounded up to whole bytes. */
    public long storageBytes(long elements) {
        if (elements < 0) {
            throw new ShapeException("negative element count " + elements);
        }
        if (kind == Kind.STRING) {
            throw new QuantaException("string tensors live on the heap and have no byte size");
        }
        try {
            return Math.ceilDiv(Math.multiplyExact(elements, (long) bits), 8L);
        } catch (ArithmeticException e) {
            throw new ShapeException(elements + " elements of " + this + " overflow a 64-bit byte count");
        }
    }

    public boolean isFloatingPoint() {
        return kind == Kind.FLOAT;
    }

    public boolean isInteger() {
        return kind == Kind.SIGNED || kind == Kind.UNSIGNED;
    }

    /** Whether the type holds negative values: signed integers and every floating-point type but float8e8m0. */
    public boolean isSigned() {
        return kind == Kind.SIGNED || (kind == Kind.FLOAT && this != FLOAT8E8M0);
    }

    public boolean isBool() {
        return kind == Kind.BOOL;
    }

    public boolean isComplex() {
        return kind == Kind.COMPLEX;
    }

    public boolean isString() {
        return kind == Kind.STRING;
    }

    /** The smallest value of an integer type. */
    public long minValue() {
        requireInteger();
        return kind == Kind.UNSIGNED ? 0 : -(1L << (bits - 1));
    }

    /** The largest value of an integer type; for uint64 it is -1, the bit pattern of 2^64 - 1. */
    public long maxValue() {
        requireInteger();
        if (bits == 64) {
            return kind == Kind.UNSIGNED ? -1L : Long.MAX_VALUE;
        }
        return kind == Kind.UNSIGNED ? (1L << bits) - 1 : (1L << (bits - 1)) - 1;
    }

    private void requireInteger() {
        if (!isInteger()) {
            throw new QuantaException(this + " is not an integer type");
        }
    }

    /** The small float format of float16, bfloat16, the float8 types (but e8m0) and float4e2m1; null for others. */
    public MiniFloat miniFloat() {
        return switch (this) {
            case FLOAT16 -> MiniFloat.FLOAT16;
            case BFLOAT16 -> MiniFloat.BFLOAT16;
            case FLOAT8E4M3FN -> MiniFloat.FLOAT8E4M3FN;
            case FLOAT8E4M3FNUZ -> MiniFloat.FLOAT8E4M3FNUZ;
            case FLOAT8E5M2 -> MiniFloat.FLOAT8E5M2;
            case FLOAT8E5M2FNUZ -> MiniFloat.FLOAT8E5M2FNUZ;
            case FLOAT4E2M1 -> MiniFloat.FLOAT4E2M1;
            default -> null;
        };
    }

    /** The numpy-style name: {@code float32}, {@code int8}, {@code float8e4m3fn}. */
    @Override
    public String toString() {
        return displayName;
    }

    /** The name as ONNX spells it: {@code FLOAT}, {@code INT8}, {@code FLOAT8E4M3FN}. */
    public String onnxName() {
        return name();
    }
}
