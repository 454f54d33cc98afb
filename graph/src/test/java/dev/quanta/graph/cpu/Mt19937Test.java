package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class Mt19937Test {

    /** numpy 2.4: np.random.seed(s); np.random.uniform(0, 1.0, n).tolist(). */
    @Test
    void drawsWhatNumpyDraws() {
        Mt19937 zero = new Mt19937(0);
        for (double expected : new double[] {0.5488135039273248, 0.7151893663724195, 0.6027633760716439,
            0.5448831829968969, 0.4236547993389047}) {
            assertThat(zero.nextDouble()).isEqualTo(expected);
        }
        Mt19937 other = new Mt19937(12345);
        for (double expected : new double[] {0.9296160928171479, 0.3163755545817859, 0.18391881167709445}) {
            assertThat(other.nextDouble()).isEqualTo(expected);
        }
    }

    /** The 2,000th value takes 4,000 draws, several regenerations of the state: numpy gives 0.5017731306999452. */
    @Test
    void staysWithNumpyPastManyTwists() {
        Mt19937 generator = new Mt19937(0);
        double value = 0;
        for (int i = 0; i < 2000; i++) {
            value = generator.nextDouble();
        }
        assertThat(value).isEqualTo(0.5017731306999452);
    }
}
