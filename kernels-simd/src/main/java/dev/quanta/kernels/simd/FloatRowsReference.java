package dev.quanta.kernels.simd;

/** Scalar definitions of the {@link FloatRows} operations, used for row tails and as the tests' reference. */
public final class FloatRowsReference {
    private FloatRowsReference() {
    }

    public static float apply(FloatRows.Op op, float x, float y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAX -> Float.isNaN(x) || Float.isNaN(y) ? Float.NaN : Math.max(x, y);
            case MIN -> Float.isNaN(x) || Float.isNaN(y) ? Float.NaN : Math.min(x, y);
        };
    }

    public static float apply(FloatRows.Function function, float x) {
        return switch (function) {
            case EXP -> (float) Math.exp(x);
            case LOG -> (float) Math.log(x);
            case TANH -> (float) Math.tanh(x);
            case SQRT -> (float) Math.sqrt(x);
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case RELU -> Math.max(x, 0f);
            case SIGMOID -> (float) (1 / (1 + Math.exp(-x)));
            case ERF_GELU -> (float) (0.5 * x * (1 + Erf.erf(x / Math.sqrt(2))));
        };
    }
}
