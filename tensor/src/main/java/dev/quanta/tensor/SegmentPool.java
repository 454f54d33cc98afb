package dev.quanta.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Off-heap blocks kept for reuse by the {@link TensorArena#pooled pooled arenas} of one owner (a
 * session's runs), so that a run's memory is neither allocated nor freed anew each time. Closing
 * a shared {@link Arena} makes the JVM stop every thread for a handshake, measured at 150–280 µs
 * here: more than a whole small model's run. Each block has its own automatic arena; a block the
 * pool lets go of (past {@link #maxIdleBytes}, or after {@link #close()}) is freed by the garbage
 * collector. Sizes are rounded up to classes a quarter of a power of two apart, so reuse holds
 * when shapes vary a little. Thread-safe.
 */
public final class SegmentPool implements AutoCloseable {

    private final long maxIdleBytes;
    private final Map<Long, Deque<MemorySegment>> idle = new ConcurrentHashMap<>();
    private final AtomicLong idleBytes = new AtomicLong();
    private volatile boolean closed;

    /** A pool that keeps at most {@code maxIdleBytes} of blocks not in use. */
    public SegmentPool(long maxIdleBytes) {
        if (maxIdleBytes < 0) {
            throw new IllegalArgumentException("idle limit " + maxIdleBytes + " is negative");
        }
        this.maxIdleBytes = maxIdleBytes;
    }

    /**
     * A block of at least {@code bytes}, 64-byte aligned: an idle one of its size class, or a new one.
     * Zeroed when {@code zeroed}; otherwise an idle block keeps what it last held.
     */
    MemorySegment acquire(long bytes, boolean zeroed) {
        long size = sizeClass(bytes);
        Deque<MemorySegment> blocks = idle.get(size);
        MemorySegment block = blocks == null ? null : blocks.poll();
        if (block == null) {
            return Arena.ofAuto().allocate(size, TensorArena.ALIGNMENT);
        }
        idleBytes.addAndGet(-size);
        if (zeroed) {
            block.fill((byte) 0);
        }
        return block;
    }

    /** Takes back a block from {@link #acquire}, no longer used by anyone. */
    void release(MemorySegment block) {
        long size = block.byteSize();
        if (closed) {
            return;
        }
        if (idleBytes.addAndGet(size) > maxIdleBytes) {
            idleBytes.addAndGet(-size);
            return;
        }
        idle.computeIfAbsent(size, ignored -> new ConcurrentLinkedDeque<>()).push(block);
    }

    /** Bytes of idle blocks held for reuse. */
    public long idleBytes() {
        return idleBytes.get();
    }

    /** Lets go of every idle block, and of each block in use when it comes back. */
    @Override
    public void close() {
        closed = true;
        idle.clear();
        idleBytes.set(0);
    }

    /** Multiples of 64 bytes up to 4 KiB, then four classes per doubling: at most 25% rounding. */
    static long sizeClass(long bytes) {
        long size = Math.max(bytes, 1);
        long step = Math.max(TensorArena.ALIGNMENT, Long.highestOneBit(size - 1 | 1) / 4);
        if (size <= 4096) {
            step = TensorArena.ALIGNMENT;
        }
        return Math.ceilDiv(size, step) * step;
    }
}
