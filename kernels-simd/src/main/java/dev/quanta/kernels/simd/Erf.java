package dev.quanta.kernels.simd;

/**
 * The error function in double precision: its Taylor series below |x| = 3, where the terms stay
 * small enough to keep about 12 correct digits, and the continued fraction of erfc above.
 */
public final class Erf {

    private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
    private static final double INVERSE_SQRT_PI = 1 / Math.sqrt(Math.PI);
    private static final int MAX_TERMS = 100;
    /** 1/n and 1/(2n + 1): the series multiplies by them, as a division costs several multiplications. */
    private static final double[] INVERSE = new double[MAX_TERMS];
    private static final double[] INVERSE_ODD = new double[MAX_TERMS];

    static {
        for (int n = 1; n < MAX_TERMS; n++) {
            INVERSE[n] = 1.0 / n;
            INVERSE_ODD[n] = 1.0 / (2 * n + 1);
        }
    }

    private Erf() {
    }

    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double ax = Math.abs(x);
        double result;
        if (ax < 3) {
            // erf x = 2/√π · Σ (−1)^n x^(2n+1) / (n! (2n+1))
            double x2 = ax * ax;
            double term = ax;
            double sum = ax;
            for (int n = 1; n < MAX_TERMS && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
                term *= -x2 * INVERSE[n];
                sum += term * INVERSE_ODD[n];
            }
            result = TWO_OVER_SQRT_PI * sum;
        } else if (ax < 6) {
            // erfc x = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
            double fraction = ax;
            for (int n = 60; n >= 1; n--) {
                fraction = ax + (n / 2.0) / fraction;
            }
            result = 1 - Math.exp(-ax * ax) * INVERSE_SQRT_PI / fraction;
        } else {
            result = 1;
        }
        return x < 0 ? -result : result;
    }
}
