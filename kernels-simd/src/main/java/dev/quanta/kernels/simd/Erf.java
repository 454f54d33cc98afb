package dev.quanta.kernels.simd;

/**
 * The error function in double precision, for double tensors and as the reference of the float
 * kernel ({@link FloatRows}): its Taylor series below |x| = 3, as a polynomial in x² evaluated by
 * Horner's rule with fused multiply-adds, and the continued fraction of erfc above.
 */
public final class Erf {

    /** Below this magnitude the series; above it the continued fraction, then 1. */
    private static final double SERIES_LIMIT = 3;
    private static final double INVERSE_SQRT_PI = 1 / Math.sqrt(Math.PI);
    /** Enough terms that the first one left out is below 1e-17 of erf at |x| = 3. */
    private static final int TERMS = 52;
    /** erf x = x · Σ SERIES[n] (x²)^n, SERIES[n] = 2/√π · (−1)^n / (n! (2n + 1)). */
    private static final double[] SERIES = new double[TERMS];

    static {
        double factorial = 1;
        for (int n = 0; n < TERMS; n++) {
            factorial *= Math.max(n, 1);
            SERIES[n] = (n % 2 == 0 ? 2 : -2) / Math.sqrt(Math.PI) / (factorial * (2 * n + 1));
        }
    }

    private Erf() {
    }

    /** √2 in float, as exporters write GELU's divisor. */
    public static final float SQRT2 = (float) Math.sqrt(2);

    /** GELU in float32 arithmetic around the double erf, each step rounded as the exported graph rounds it. */
    public static float gelu(float x) {
        float erf = (float) erf(x / SQRT2);
        return x * (erf + 1f) * 0.5f;
    }

    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double ax = Math.abs(x);
        if (ax < SERIES_LIMIT) {
            double x2 = x * x;
            double sum = SERIES[TERMS - 1];
            for (int n = TERMS - 2; n >= 0; n--) {
                sum = Math.fma(sum, x2, SERIES[n]);
            }
            return x * sum;
        }
        double result = 1;
        if (ax < 6) {
            // erfc x = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
            double fraction = ax;
            for (int n = 60; n >= 1; n--) {
                fraction = ax + (n / 2.0) / fraction;
            }
            result = 1 - Math.exp(-ax * ax) * INVERSE_SQRT_PI / fraction;
        }
        return x < 0 ? -result : result;
    }
}
