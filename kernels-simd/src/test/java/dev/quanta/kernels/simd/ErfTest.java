package dev.quanta.kernels.simd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ErfTest {

    /** Values from C's libm erf (through Python's math.erf), to the last digit. */
    @Test
    void matchesTabulatedValues() {
        double[][] table = {{0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149}, {1.5, 0.9661051464753108}, {2, 0.9953222650189527}, {2.5, 0.999593047982555}, {2.99, 0.9999764743969194}, {3, 0.9999779095030014}, {3.01, 0.9999792610363629}, {3.5, 0.9999992569016276}, {4, 0.9999999845827421}, {5, 0.9999999999984626}, {5.9, 0.9999999999999999}};
        for (double[] row : table) {
            assertThat(Erf.erf(row[0])).as("erf(%s)", row[0]).isCloseTo(row[1], within(1e-13));
            assertThat(Erf.erf(-row[0])).as("erf(-%s)", row[0]).isCloseTo(-row[1], within(1e-13));
        }
        assertThat(Erf.erf(0)).isZero();
        assertThat(Erf.erf(7)).isEqualTo(1);
        assertThat(Erf.erf(Double.NEGATIVE_INFINITY)).isEqualTo(-1);
        assertThat(Erf.erf(Double.NaN)).isNaN();
    }

    @Test
    void isMonotonicAcrossTheSeamAtThree() {
        double previous = Erf.erf(2.9);
        for (double x = 2.9; x < 3.1; x += 1e-4) {
            double value = Erf.erf(x);
            assertThat(value).as("erf(%s)", x).isGreaterThanOrEqualTo(previous - 1e-15);
            previous = value;
        }
    }
}
