package dev.quanta.graph.ops;

/** An element-wise function of one tensor; {@code alpha} and {@code beta} are the parameters some take. */
public record Unary(Kind kind, double alpha, double beta) implements CoreOp {

    /** The element-wise function. */
    public enum Kind {
        ABS, NEG, SIGN, FLOOR, CEIL, ROUND, SQRT, RECIPROCAL, EXP, LOG, ERF,
        SIN, COS, TAN, ASIN, ACOS, ATAN, SINH, COSH, TANH, ASINH, ACOSH, ATANH,
        RELU, SIGMOID, SOFTPLUS, SOFTSIGN, MISH,
        /** {@code x < 0 ? alpha·x : x} */
        LEAKY_RELU,
        /** {@code x < 0 ? alpha·(e^x − 1) : x} */
        ELU,
        /** max(0, x) + min(0, alpha·(e^(x/alpha) − 1)) */
        CELU,
        /** beta·(x ≤ 0 ? alpha·(e^x − 1) : x): alpha, gamma as beta */
        SELU,
        /** max(0, min(1, alpha·x + beta)) */
        HARD_SIGMOID,
        /** x·max(0, min(1, x/6 + 1/2)) */
        HARD_SWISH,
        /**
         * x·min(max(x + 3, 0), 6)/6, each step rounded to float: hard-swish as exporters spell it
         * out (Add, Clip, Mul, Div), fused by HardSwishFusion with the chain's bits.
         */
        HARD_SWISH_CHAIN,
        /** x > alpha ? x : 0 */
        THRESHOLDED_RELU,
        /** alpha·x + beta (a recurrent cell's activation) */
        AFFINE,
        /** alpha·tanh(beta·x) (a recurrent cell's activation) */
        SCALED_TANH,
        /** {@code x < −beta(lambd) ? x + alpha(bias) : x > beta ? x − alpha : 0} */
        SHRINK,
        /** 0.5·x·(1 + erf(x/√2)); alpha = 1 selects the tanh approximation */
        GELU,
        /** bool: not */
        NOT,
        /** → bool */
        IS_NAN,
        /** → bool; alpha ≠ 0 detects +inf, beta ≠ 0 detects −inf */
        IS_INF
    }

    public static Unary of(Kind kind) {
        return new Unary(kind, 0, 0);
    }

    @Override
    public String name() {
        return kind.name();
    }
}
