package dev.quanta.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class SegmentPoolTest {

    @Test
    void sizeClassesRoundUpByAtMostAQuarter() {
        assertThat(SegmentPool.sizeClass(0)).isEqualTo(64);
        assertThat(SegmentPool.sizeClass(65)).isEqualTo(128);
        assertThat(SegmentPool.sizeClass(4096)).isEqualTo(4096);
        assertThat(SegmentPool.sizeClass(4097)).isEqualTo(5120);
        assertThat(SegmentPool.sizeClass(1L << 20)).isEqualTo(1L << 20);
        for (long bytes = 1; bytes < 1L << 40; bytes = bytes * 3 + 7) {
            long size = SegmentPool.sizeClass(bytes);
            assertThat(size).as("%d bytes", bytes).isGreaterThanOrEqualTo(bytes).isLessThanOrEqualTo(Math.max(64, bytes + bytes / 4));
            assertThat(size % 64).isZero();
        }
    }

    @Test
    void aClosedPooledArenaGivesItsMemoryBackZeroedForTheNextOne() {
        try (SegmentPool pool = new SegmentPool(1 << 20)) {
            TensorArena first = TensorArena.pooled(pool, TensorArena.NO_LIMIT);
            Tensor tensor = first.allocate(DType.FLOAT, 10, 10);
            tensor.storeDouble(3, 7.5);
            long address = tensor.segment().address();
            first.close();
            assertThat(pool.idleBytes()).isEqualTo(448);
            assertThatThrownBy(() -> tensor.loadDouble(3)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(tensor::segment).isInstanceOf(IllegalStateException.class);

            try (TensorArena second = TensorArena.pooled(pool, TensorArena.NO_LIMIT)) {
                Tensor reused = second.allocate(DType.FLOAT, 100);
                assertThat(reused.segment().address()).isEqualTo(address);
                assertThat(reused.toFloatArray()).containsOnly(0f);
                assertThat(pool.idleBytes()).isZero();
            }
        }
    }

    @Test
    void poolKeepsNoMoreIdleMemoryThanItsLimitAndNoneOnceClosed() {
        SegmentPool pool = new SegmentPool(1000);
        TensorArena arena = TensorArena.pooled(pool, 4096);
        MemorySegment small = arena.allocateSegment(640);
        MemorySegment large = arena.allocateSegment(960);
        assertThatThrownBy(() -> arena.allocateSegment(4096)).isInstanceOf(MemoryLimitExceededException.class);
        assertThat(arena.wrap(small, DType.UINT8, Shape.of(640)).elementCount()).isEqualTo(640);
        assertThat(large.byteSize()).isEqualTo(960);
        arena.close();
        assertThat(pool.idleBytes()).isEqualTo(640); // the 960-byte block would pass the limit
        pool.close();
        assertThat(pool.idleBytes()).isZero();
        TensorArena later = TensorArena.pooled(pool, TensorArena.NO_LIMIT);
        later.allocateSegment(640);
        later.close();
        assertThat(pool.idleBytes()).isZero();
    }
}
