package dev.quanta.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DTypeTest {

    @Test
    void everyOnnxCodeFrom1To26MapsToItsType() {
        for (int code = 1; code <= 26; code++) {
            assertThat(DType.fromOnnx(code).onnxCode()).isEqualTo(code);
        }
        assertThat(DType.values()).hasSize(26);
        assertThat(DType.fromOnnx(1)).isEqualTo(DType.FLOAT);
        assertThat(DType.fromOnnx(17)).isEqualTo(DType.FLOAT8E4M3FN);
        assertThat(DType.fromOnnx(24)).isEqualTo(DType.FLOAT8E8M0);
        assertThat(DType.fromOnnx(26)).isEqualTo(DType.INT2);
    }

    @Test
    void unknownCodesAreRefusedByName() {
        assertThatThrownBy(() -> DType.fromOnnx(0)).isInstanceOf(QuantaException.class).hasMessageContaining("UNDEFINED");
        assertThatThrownBy(() -> DType.fromOnnx(27)).isInstanceOf(QuantaException.class).hasMessageContaining("27");
        assertThatThrownBy(() -> DType.fromOnnx(-1)).isInstanceOf(QuantaException.class);
    }

    @Test
    void namesResolveBothWays() {
        for (DType type : DType.values()) {
            assertThat(DType.fromName(type.toString())).isEqualTo(type);
            assertThat(DType.fromName(type.onnxName())).isEqualTo(type);
        }
        assertThatThrownBy(() -> DType.fromName("float31")).isInstanceOf(QuantaException.class);
    }

    @Test
    void storageRoundsPackedTypesUpToWholeBytes() {
        assertThat(DType.INT4.storageBytes(3)).isEqualTo(2);
        assertThat(DType.FLOAT4E2M1.storageBytes(4)).isEqualTo(2);
        assertThat(DType.UINT2.storageBytes(7)).isEqualTo(2);
        assertThat(DType.INT2.storageBytes(8)).isEqualTo(2);
        assertThat(DType.COMPLEX128.storageBytes(3)).isEqualTo(48);
        assertThat(DType.FLOAT.storageBytes(0)).isZero();
        assertThat(DType.INT4.isPacked()).isTrue();
        assertThat(DType.INT8.isPacked()).isFalse();
        assertThatThrownBy(() -> DType.INT64.storageBytes(Long.MAX_VALUE / 4)).isInstanceOf(ShapeException.class);
        assertThatThrownBy(() -> DType.STRING.storageBytes(1)).isInstanceOf(QuantaException.class);
        assertThatThrownBy(() -> DType.INT4.byteSize()).isInstanceOf(QuantaException.class);
    }

    @Test
    void integerRangesFollowTheWidth() {
        assertThat(DType.INT4.minValue()).isEqualTo(-8);
        assertThat(DType.INT4.maxValue()).isEqualTo(7);
        assertThat(DType.UINT2.maxValue()).isEqualTo(3);
        assertThat(DType.INT2.minValue()).isEqualTo(-2);
        assertThat(DType.UINT8.maxValue()).isEqualTo(255);
        assertThat(DType.INT64.minValue()).isEqualTo(Long.MIN_VALUE);
        assertThat(DType.UINT64.maxValue()).isEqualTo(-1L);
        assertThatThrownBy(DType.FLOAT::maxValue).isInstanceOf(QuantaException.class);
    }

    @Test
    void categoriesAreDisjoint() {
        for (DType type : DType.values()) {
            int categories = (type.isFloatingPoint() ? 1 : 0) + (type.isInteger() ? 1 : 0) + (type.isBool() ? 1 : 0)
                    + (type.isComplex() ? 1 : 0) + (type.isString() ? 1 : 0);
            assertThat(categories).as(type.toString()).isEqualTo(1);
        }
        assertThat(DType.FLOAT8E8M0.isSigned()).isFalse();
        assertThat(DType.FLOAT8E5M2.isSigned()).isTrue();
        assertThat(DType.UINT4.isSigned()).isFalse();
    }
}
