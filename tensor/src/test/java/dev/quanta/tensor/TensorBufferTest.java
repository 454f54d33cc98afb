package dev.quanta.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TensorBufferTest {

    private final TensorArena arena = TensorArena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void typedBuffersOfEitherOrderHeapOrDirectGiveTheirElements() {
        float[] values = {1.5f, -2, 3.25f, Float.NaN, Float.NEGATIVE_INFINITY, 0};
        for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
            FloatBuffer direct = ByteBuffer.allocateDirect(4 * values.length).order(order).asFloatBuffer().put(values).flip();
            Tensor tensor = arena.fromBuffer(direct, 2, 3);
            assertThat(tensor.dtype()).isEqualTo(DType.FLOAT);
            assertThat(tensor.toFloatArray()).containsExactly(values);
            assertThat(direct.position()).isZero();
        }
        assertThat(arena.fromBuffer(FloatBuffer.wrap(values, 2, 3), 3).toFloatArray()).containsExactly(3.25f, Float.NaN,
                Float.NEGATIVE_INFINITY);
        assertThat(arena.fromBuffer(DoubleBuffer.wrap(new double[] {1e300, -0.0}), 2).toDoubleArray()).containsExactly(1e300, -0.0);
        assertThat(arena.fromBuffer(LongBuffer.wrap(new long[] {Long.MIN_VALUE, 7}), 2).toLongArray()).containsExactly(Long.MIN_VALUE, 7);
        assertThat(arena.fromBuffer(IntBuffer.wrap(new int[] {-1, 2}), 1, 2).dtype()).isEqualTo(DType.INT32);
        assertThat(arena.fromBuffer(ShortBuffer.wrap(new short[] {-3}), 1).toLongArray()).containsExactly(-3);
        ByteBuffer storage = ByteBuffer.wrap(new byte[] {(byte) 0xFF, 1, 0x7F});
        assertThat(arena.fromBuffer(DType.UINT8, storage, 3).toLongArray()).containsExactly(255, 1, 127);
        assertThat(arena.fromBuffer(DType.INT8, storage, 3).toLongArray()).containsExactly(-1, 1, 127);
    }

    @Test
    void tensorsAndTheirViewsCopyIntoBuffersAndAdvanceThem() {
        Tensor matrix = arena.fromFloats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        FloatBuffer target = ByteBuffer.allocateDirect(4 * 8).order(ByteOrder.BIG_ENDIAN).asFloatBuffer();
        target.put(-1);
        matrix.copyTo(target);
        assertThat(target.position()).isEqualTo(7);
        float[] copied = new float[7];
        target.flip().get(copied);
        assertThat(copied).containsExactly(-1, 1, 2, 3, 4, 5, 6);
        FloatBuffer transposed = FloatBuffer.allocate(6);
        matrix.permute(1, 0).copyTo(transposed);
        assertThat(transposed.array()).containsExactly(1, 4, 2, 5, 3, 6);
        IntBuffer ints = IntBuffer.allocate(4);
        arena.fromInts(new int[] {1, 2, 3, 4}, 2, 2).permute(1, 0).copyTo(ints);
        assertThat(ints.array()).containsExactly(1, 3, 2, 4);
    }

    @Test
    void mismatchedOrShortOrReadOnlyBuffersAreRefused() {
        Tensor matrix = arena.fromFloats(new float[] {1, 2, 3, 4}, 2, 2);
        assertThatThrownBy(() -> matrix.copyTo(DoubleBuffer.allocate(4))).isInstanceOf(QuantaException.class)
                .hasMessageContaining("float32").hasMessageContaining("float64");
        assertThatThrownBy(() -> matrix.copyTo(FloatBuffer.allocate(3))).isInstanceOf(QuantaException.class)
                .hasMessageContaining("room for 3");
        assertThatThrownBy(() -> matrix.copyTo(FloatBuffer.allocate(4).asReadOnlyBuffer()))
                .isInstanceOf(QuantaException.class).hasMessageContaining("read-only");
        assertThatThrownBy(() -> arena.fromBuffer(ByteBuffer.allocate(4), 4)).isInstanceOf(QuantaException.class)
                .hasMessageContaining("ByteBuffer");
        assertThatThrownBy(() -> arena.fromBuffer(FloatBuffer.allocate(5), 2, 3)).isInstanceOf(QuantaException.class);
        assertThatThrownBy(() -> arena.fromBuffer(DType.INT8, ByteBuffer.allocate(5), 2, 3))
                .isInstanceOf(QuantaException.class).hasMessageContaining("6 storage bytes");
    }
}
