package dev.quanta.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void integersWrapToTheirWidthAsOnnxCastDoes() {
        Tensor int8 = arena.allocate(DType.INT8, 1);
        int8.setLong(200, 0);
        assertThat(int8.getLong(0)).isEqualTo(-56);
        Tensor uint8 = arena.allocate(DType.UINT8, 1);
        uint8.setLong(-1, 0);
        assertThat(uint8.getLong(0)).isEqualTo(255);
        Tensor uint32 = arena.allocate(DType.UINT32, 1);
        uint32.setLong(-1, 0);
        assertThat(uint32.getLong(0)).isEqualTo(0xFFFF_FFFFL);
        Tensor int16 = arena.allocate(DType.INT16, 1);
        int16.setDouble(-3.9, 0);
        assertThat(int16.getLong(0)).isEqualTo(-3); // truncation toward zero
    }

    @Test
    void uint64IsUnsignedAsADoubleAndItsBitsAsALong() {
        Tensor uint64 = arena.allocate(DType.UINT64, 2);
        uint64.setLong(-1, 0);
        uint64.setDouble(0x1p63 + 4096, 1);
        assertThat(uint64.getLong(0)).isEqualTo(-1);
        assertThat(uint64.getDouble(0)).isEqualTo(0x1p64);
        assertThat(uint64.getLong(1)).isEqualTo(Long.MIN_VALUE + 4096);
        assertThat(uint64.getDouble(1)).isEqualTo(0x1p63 + 4096);
    }

    @Test
    void boolStoresZeroOrOne() {
        Tensor bool = arena.allocate(DType.BOOL, 3);
        bool.setLong(36, 0);
        bool.setDouble(Double.NaN, 1);
        bool.setDouble(-0.0, 2);
        assertThat(bool.toLongArray()).containsExactly(1, 1, 0);
        assertThat(bool.getBoolean(0)).isTrue();
        assertThat(arena.fromFloats(new float[] {Float.NaN}, 1).getBoolean(0)).isTrue();
    }

    @Test
    void smallFloatsRoundAndSaturateOnStore() {
        Tensor half = arena.allocate(DType.FLOAT16, 2);
        half.setFloat(65520, 0);
        half.setFloat(1 + 0x1p-11f, 1); // a tie: rounds to the even 1.0
        assertThat(half.getFloat(0)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(half.getFloat(1)).isEqualTo(1);
        Tensor e4m3 = arena.allocate(DType.FLOAT8E4M3FN, 1);
        e4m3.setFloat(1e6f, 0);
        assertThat(e4m3.getFloat(0)).isEqualTo(448);
        Tensor e8m0 = arena.allocate(DType.FLOAT8E8M0, 1);
        e8m0.setFloat(3, 0);
        assertThat(e8m0.getFloat(0)).isEqualTo(4);
        Tensor bf16 = arena.allocate(DType.BFLOAT16, 1);
        bf16.setDouble(1.00390625, 0);
        assertThat(bf16.getDouble(0)).isEqualTo(1.0);
    }

    /** The storage layout of ONNX's test_cast_FLOAT_to_UINT2 and test_cast_FLOAT_to_INT4 outputs. */
    @Test
    void subByteElementsPackLowBitsFirst() {
        Tensor uint2 = arena.fromLongs(DType.UINT2, new long[] {-3, -2, -1, 0, 1, 2, 3}, 7, 1);
        assertThat(bytes(uint2)).containsExactly(0x39, 0x39);
        Tensor int4 = arena.fromLongs(DType.INT4, new long[] {-9, -8, -7, 7, 8}, 5);
        assertThat(bytes(int4)).containsExactly(0x87, 0x79, 0x08);
        assertThat(int4.toLongArray()).containsExactly(7, -8, -7, 7, -8);
        Tensor int2 = arena.fromLongs(DType.INT2, new long[] {-2, -1, 0, 1}, 4);
        assertThat(int2.toLongArray()).containsExactly(-2, -1, 0, 1);
        Tensor float4 = arena.fromBytes(DType.FLOAT4E2M1, new byte[] {(byte) 0xE2, 0x07}, 3);
        assertThat(float4.toFloatArray()).containsExactly(1, -4, 6);
        float4.setFloat(-0.5f, 1);
        assertThat(float4.toFloatArray()).containsExactly(1, -0.5f, 6);
        assertThat(bytes(float4)).containsExactly(0x92, 0x07);
    }

    @Test
    void stringsAreUtf8OnTheHeap() {
        Tensor text = arena.fromStrings(new String[] {"héllo", "日本語", "🙂", ""}, 2, 2);
        assertThat(text.getString(0, 1)).isEqualTo("日本語");
        assertThat(text.getStringBytes(1, 0)).hasSize(4);
        assertThat(text.permute(1, 0).toStringArray()).containsExactly("héllo", "🙂", "日本語", "");
        text.setStringBytes(new byte[] {(byte) 0xFF, 0x00}, 1, 1);
        assertThat(text.getStringBytes(1, 1)).containsExactly(0xFF, 0x00); // bytes are kept, not re-encoded
        assertThatThrownBy(text::segment).isInstanceOf(QuantaException.class).hasMessageContaining("heap");
        assertThatThrownBy(() -> text.getFloat(0, 0)).isInstanceOf(QuantaException.class).hasMessageContaining("string");
    }

    @Test
    void complexTensorsAreStorageOnly() {
        Tensor complex = arena.fromBytes(DType.COMPLEX64, new byte[16], 2);
        assertThatThrownBy(() -> complex.getDouble(0)).isInstanceOf(QuantaException.class).hasMessageContaining("complex64");
        Tensor copy = complex.slice(0, 1, 2).contiguous();
        assertThat(copy.data().byteSize()).isEqualTo(8);
    }

    @Test
    void indexErrorsNameTheAxisAndTheTensor() {
        Tensor tensor = arena.allocate(DType.FLOAT, 2, 3);
        assertThatThrownBy(() -> tensor.getFloat(1, 3)).isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("axis 1 of size 3").hasMessageContaining("float32[2, 3]");
        assertThatThrownBy(() -> tensor.getFloat(1)).isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("rank 2");
        assertThatThrownBy(() -> arena.fromFloats(new float[5], 2, 3)).isInstanceOf(ShapeException.class)
                .hasMessageContaining("5 values");
    }

    @Test
    void useAfterCloseIsAnExceptionNeverACrash() {
        TensorArena scoped = TensorArena.ofShared();
        Tensor numbers = scoped.fromFloats(new float[] {1, 2, 3}, 3);
        Tensor text = scoped.fromStrings(new String[] {"a"}, 1);
        var data = numbers.data();
        scoped.close();
        scoped.close(); // a second close does nothing
        assertThatThrownBy(() -> numbers.getFloat(0)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> text.getString(0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> data.get(ValueLayout.JAVA_FLOAT, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> scoped.allocate(DType.FLOAT, 1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void closedArenasReturnTheirBytesToTheProcessTally() {
        long before = TensorArena.liveBytes();
        try (TensorArena scoped = TensorArena.ofShared()) {
            scoped.allocate(DType.FLOAT, 1000);
            scoped.allocate(DType.INT4, 3);
            assertThat(scoped.allocatedBytes()).isEqualTo(4002);
            assertThat(TensorArena.liveBytes()).isGreaterThanOrEqualTo(before + 4002);
            assertThat(TensorArena.peakBytes()).isGreaterThanOrEqualTo(TensorArena.liveBytes());
        }
        assertThat(TensorArena.liveBytes()).isEqualTo(before);
    }

    @Test
    void allocationsAreAlignedAndZeroed() {
        Tensor tensor = arena.allocate(DType.INT32, 17);
        assertThat(tensor.segment().address() % TensorArena.ALIGNMENT).isZero();
        assertThat(tensor.toLongArray()).containsOnly(0L);
    }

    @Test
    void theMemoryLimitRefusesAllocationsBeforeMakingThem() {
        try (TensorArena limited = TensorArena.ofShared(1024)) {
            limited.allocate(DType.FLOAT, 200);
            assertThatThrownBy(() -> limited.allocate(DType.FLOAT, 100)).isInstanceOf(MemoryLimitExceededException.class)
                    .hasMessageContaining("float32[100]").hasMessageContaining("1.0 KiB");
            assertThat(limited.allocatedBytes()).isEqualTo(800);
            assertThatThrownBy(() -> limited.allocate(DType.FLOAT, 1L << 40, 1L << 40)).isInstanceOf(ShapeException.class);
            assertThatThrownBy(() -> limited.allocate(DType.DOUBLE, 1L << 50)).isInstanceOf(MemoryLimitExceededException.class);
            assertThat(limited.allocatedBytes()).isEqualTo(800);
        }
    }

    @Test
    void mappedTensorsAreReadOnlyViewsOfTheFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("weights.bin");
        ByteBuffer contents = ByteBuffer.allocate(7 + 4 * 6).order(ByteOrder.LITTLE_ENDIAN);
        contents.put(new byte[7]);
        for (int i = 0; i < 6; i++) {
            contents.putFloat(i * 1.5f);
        }
        Files.write(file, contents.array());
        Tensor weights = arena.map(file, 7, DType.FLOAT, Shape.of(2, 3));
        assertThat(weights.toFloatArray()).containsExactly(0, 1.5f, 3, 4.5f, 6, 7.5f);
        assertThat(weights.isReadOnly()).isTrue();
        assertThat(arena.mappedBytes()).isEqualTo(24);
        assertThatThrownBy(() -> weights.setFloat(1, 0, 0)).isInstanceOf(QuantaException.class).hasMessageContaining("read-only");
        assertThatThrownBy(() -> arena.map(file, 8, DType.FLOAT, Shape.of(2, 3))).isInstanceOf(QuantaException.class)
                .hasMessageContaining("31 bytes");
        assertThatThrownBy(() -> arena.map(dir.resolve("missing.bin"), 0, DType.FLOAT, Shape.of(1)))
                .isInstanceOf(QuantaException.class).hasMessageContaining("not found");
        Tensor copy = weights.permute(1, 0).contiguous();
        assertThat(copy.isReadOnly()).isFalse();
        assertThat(copy.toFloatArray()).containsExactly(0, 4.5f, 1.5f, 6, 3, 7.5f);
    }

    @Test
    void wrapRequiresASegmentOfThisArenaLargeEnough() {
        var segment = arena.allocateSegment(64);
        Tensor tensor = arena.wrap(segment, DType.FLOAT, Shape.of(4, 4));
        assertThat(tensor.data().byteSize()).isEqualTo(64);
        assertThatThrownBy(() -> arena.wrap(segment, DType.FLOAT, Shape.of(17))).isInstanceOf(QuantaException.class);
        try (TensorArena other = TensorArena.ofShared()) {
            assertThatThrownBy(() -> arena.wrap(other.allocateSegment(64), DType.FLOAT, Shape.of(1)))
                    .isInstanceOf(QuantaException.class).hasMessageContaining("does not belong");
        }
    }

    @Test
    void sharedArenasServeManyThreads() throws Exception {
        Tensor tensor = arena.allocate(DType.INT64, 8, 1000);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            CountDownLatch start = new CountDownLatch(1);
            Future<?>[] rows = new Future<?>[8];
            for (int row = 0; row < 8; row++) {
                int r = row;
                rows[row] = pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 1000; i++) {
                        tensor.setLong(r * 1000L + i, r, i);
                    }
                    return null;
                });
            }
            start.countDown();
            for (Future<?> row : rows) {
                row.get();
            }
        } finally {
            pool.shutdown();
        }
        long[] values = tensor.toLongArray();
        for (int i = 0; i < values.length; i++) {
            assertThat(values[i]).isEqualTo(i);
        }
    }

    private static int[] bytes(Tensor tensor) {
        byte[] raw = tensor.data().toArray(ValueLayout.JAVA_BYTE);
        int[] unsigned = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            unsigned[i] = raw[i] & 0xFF;
        }
        return unsigned;
    }
}
