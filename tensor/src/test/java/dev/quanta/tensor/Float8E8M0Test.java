package dev.quanta.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.tensor.Float8E8M0.RoundMode;
import org.junit.jupiter.api.Test;

class Float8E8M0Test {

    @Test
    void decodesEveryPatternAsAPowerOfTwo() {
        for (int bits = 0; bits < 255; bits++) {
            assertThat((double) Float8E8M0.decode(bits)).isEqualTo(Math.scalb(1.0, bits - 127));
        }
        assertThat(Float8E8M0.decode(0xFF)).isNaN();
    }

    @Test
    void everyPowerOfTwoEncodesExactlyInEveryMode() {
        for (int bits = 0; bits < 255; bits++) {
            for (RoundMode mode : RoundMode.values()) {
                assertThat(Float8E8M0.encode(Float8E8M0.decode(bits), true, mode)).isEqualTo(bits);
            }
        }
    }

    /** ONNX's test_cast_e8m0_FLOAT_to_FLOAT8E8M0 data (default: saturate, round up). */
    @Test
    void matchesTheOnnxConformanceData() {
        int[] inputs = {0x00000000, 0x3dfdf3b6, 0x3e800000, 0x3f000000, 0x3f8ccccd, 0x40000000, 0x40800000, 0x41000000};
        int[] expected = {0x00, 0x7c, 0x7d, 0x7e, 0x80, 0x80, 0x81, 0x82};
        for (int i = 0; i < inputs.length; i++) {
            assertThat(Float8E8M0.encode(Float.intBitsToFloat(inputs[i]))).as("input %d", i).isEqualTo(expected[i]);
        }
    }

    @Test
    void roundsBetweenPowersOfTwoByMode() {
        assertThat(Float8E8M0.encode(1.4f, true, RoundMode.UP)).isEqualTo(128);
        assertThat(Float8E8M0.encode(1.4f, true, RoundMode.DOWN)).isEqualTo(127);
        assertThat(Float8E8M0.encode(1.4f, true, RoundMode.NEAREST)).isEqualTo(127);
        assertThat(Float8E8M0.encode(1.5f, true, RoundMode.NEAREST)).isEqualTo(128);
        assertThat(Float8E8M0.encode(-4f, true, RoundMode.UP)).isEqualTo(129); // the sign is dropped
    }

    @Test
    void saturatesOrGivesNaNOutOfRange() {
        assertThat(Float8E8M0.encode(Float.MAX_VALUE, true, RoundMode.UP)).isEqualTo(0xFE);
        assertThat(Float8E8M0.encode(Float.MAX_VALUE, false, RoundMode.UP)).isEqualTo(0xFF);
        assertThat(Float8E8M0.encode(Float.MAX_VALUE, false, RoundMode.DOWN)).isEqualTo(0xFE);
        assertThat(Float8E8M0.encode(Float.POSITIVE_INFINITY, true, RoundMode.UP)).isEqualTo(0xFE);
        assertThat(Float8E8M0.encode(Float.POSITIVE_INFINITY, false, RoundMode.UP)).isEqualTo(0xFF);
        assertThat(Float8E8M0.encode(Float.NaN)).isEqualTo(0xFF);
        assertThat(Float8E8M0.encode(Float.MIN_VALUE, true, RoundMode.DOWN)).isZero();
    }
}
