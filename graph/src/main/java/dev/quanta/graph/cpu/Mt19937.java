package dev.quanta.graph.cpu;

/**
 * The Mersenne Twister MT19937 with numpy's legacy seeding and 53-bit doubles, so that a seeded
 * Dropout draws the same mask as ONNX's reference (numpy.random.seed(s); numpy.random.uniform()).
 */
final class Mt19937 {
    private static final int N = 624;
    private static final int M = 397;
    private final int[] state = new int[N];
    private int index = N;

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
}
