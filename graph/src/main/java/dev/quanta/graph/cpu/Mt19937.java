package dev.quanta.graph.cpu;

/**
 * The Mersenne Twister MT19937 with numpy's legacy seeding, 53-bit doubles and polar Gaussians,
 * so that a seeded Dropout or random op draws what ONNX's reference draws from
 * {@code numpy.random.RandomState(seed)} (seeds 0 to 2^32 − 1).
 */
final class Mt19937 {
    private static final int N = 624;
    private static final int M = 397;
    private final int[] state = new int[N];
    private int index = N;
    /** The second value of the last polar pair, returned by the next {@link #nextGaussian()}. */
    private double gaussian;
    private boolean hasGaussian;

    Mt19937(long seed) {
        state[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            state[i] = 1812433253 * (state[i - 1] ^ (state[i - 1] >>> 30)) + i;
        }
    }

    private int next() {
        if (index >= N) {
            for (int i = 0; i < N; i++) {
                int y = (state[i] & 0x8000_0000) | (state[(i + 1) % N] & 0x7FFF_FFFF);
                state[i] = state[(i + M) % N] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908_B0DF : 0);
            }
            index = 0;
        }
        int y = state[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9D2C_5680;
        y ^= (y << 15) & 0xEFC6_0000;
        y ^= y >>> 18;
        return y;
    }

    /** Uniform in [0, 1) from two draws, 53 random bits, as numpy's random_sample. */
    double nextDouble() {
        long a = (next() & 0xFFFF_FFFFL) >>> 5;
        long b = (next() & 0xFFFF_FFFFL) >>> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /**
     * A standard normal value by the polar method, pairs of values a pair of accepted draws, as
     * numpy's legacy {@code RandomState.randn}.
     */
    double nextGaussian() {
        if (hasGaussian) {
            hasGaussian = false;
            return gaussian;
        }
        double x;
        double y;
        double radius;
        do {
            x = 2 * nextDouble() - 1;
            y = 2 * nextDouble() - 1;
            radius = x * x + y * y;
        } while (radius >= 1 || radius == 0);
        double factor = Math.sqrt(-2 * Math.log(radius) / radius);
        gaussian = factor * x;
        hasGaussian = true;
        return factor * y;
    }
}
