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

    /** Softmax in double precision. */
    public static void softmax(float[] x, float[] out, boolean log) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : x) {
            sum += Math.exp(v - max);
        }
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) (log ? x[i] - max - Math.log(sum) : Math.exp(x[i] - max) / sum);
        }
    }

    /** Layer (or RMS) normalization in double precision. */
    public static void normalize(float[] x, float[] out, float[] scale, float[] bias, float epsilon, boolean rmsOnly) {
        double mean = 0;
        double squares = 0;
        for (float v : x) {
            mean += v;
            squares += (double) v * v;
        }
        mean = rmsOnly ? 0 : mean / x.length;
        double variance = 0;
        if (rmsOnly) {
            variance = squares / x.length;
        } else {
            for (float v : x) {
                variance += (v - mean) * (v - mean);
            }
            variance /= x.length;
        }
        double inverse = 1 / Math.sqrt(variance + epsilon);
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) ((x[i] - mean) * inverse * scale[i] + (bias == null ? 0 : bias[i]));
        }
    }

    public static float apply(FloatRows.Function function, float x) {
        return apply(function, 0, 0, x);
    }

    private static double softplus(double x) {
        return x > 30 ? x : Math.log1p(Math.exp(x));
    }

    /** {@code function} of x, {@code alpha} and {@code beta} the parameters of those that take them. */
    public static float apply(FloatRows.Function function, float alpha, float beta, float x) {
        return switch (function) {
            case EXP -> (float) Math.exp(x);
            case SQRT -> (float) Math.sqrt(x);
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case RELU -> Math.max(x, 0f);
            case SIGMOID -> (float) (1 / (1 + Math.exp(-x)));
            case TANH -> (float) Math.tanh(x);
            case ERF -> (float) Erf.erf(x);
            case GELU -> Erf.gelu(x);
            case HARD_SWISH_CHAIN -> x * Math.min(Math.max(x + 3f, 0f), 6f) / 6f;
            case LEAKY_RELU -> x < 0 ? alpha * x : x;
            case HARD_SIGMOID -> Math.max(Math.min(alpha * x + beta, 1f), 0f);
            case HARD_SWISH -> Math.max(Math.min(x * (1f / 6) + 0.5f, 1f), 0f) * x;
            case THRESHOLDED_RELU -> x > alpha ? x : 0;
            case LOG -> (float) Math.log(x);
            case RECIPROCAL -> 1f / x;
            case SIN -> (float) Math.sin(x);
            case COS -> (float) Math.cos(x);
            case ELU -> x < 0 ? (float) (alpha * Math.expm1(x)) : x;
            case SOFTPLUS -> (float) softplus(x);
            case MISH -> (float) (x * Math.tanh(softplus(x)));
        };
    }
}
