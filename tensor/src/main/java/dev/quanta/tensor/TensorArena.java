package dev.quanta.tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Owns the memory of tensors and frees all of it at once on {@link #close()}. Allocations are
 * 64-byte aligned and zeroed, counted against an optional limit and in a process-wide tally;
 * any use of a tensor after its arena is closed throws {@link IllegalStateException}.
 *
 * <p>Arenas made by {@link #ofShared()} may be used and closed from any thread; a confined
 * arena only from the thread that made it.
 */
public final class TensorArena implements AutoCloseable {

    /** Alignment of every allocation: a cache line, and the widest AVX-512 vector. */
    public static final long ALIGNMENT = 64;
    public static final long NO_LIMIT = Long.MAX_VALUE;

    private static final AtomicLong LIVE_BYTES = new AtomicLong();
    private static final AtomicLong PEAK_BYTES = new AtomicLong();

    private final Arena arena;
    /** For a pooled arena, where its blocks come from and go back to; null otherwise. */
    private final SegmentPool pool;
    /**
     * A pooled arena's blocks, whole, to give back; and the slices handed out, to recognise them by
     * identity: a segment's own hashCode boxes and hashes its address and size, 2% of a JFR profile
     * of the int8 MiniLM, where every node's output is wrapped.
     */
    private final Queue<MemorySegment> pooledBlocks = new ConcurrentLinkedQueue<>();
    private final Set<MemorySegment> handedOut = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
    private final long limitBytes;
    private final AtomicLong allocatedBytes = new AtomicLong();
    private final AtomicLong mappedBytes = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();

    private TensorArena(Arena arena, SegmentPool pool, long limitBytes) {
        if (limitBytes < 0) {
            throw new IllegalArgumentException("memory limit " + limitBytes + " is negative");
        }
        this.arena = arena;
        this.pool = pool;
        this.limitBytes = limitBytes;
    }

    /** An arena usable from any thread, without a memory limit. */
    public static TensorArena ofShared() {
        return new TensorArena(Arena.ofShared(), null, NO_LIMIT);
    }

    /**
     * An arena usable from any thread whose memory comes from {@code pool} and goes back to it on
     * {@link #close()}, which is then nearly free. Its tensors check that the arena is open on
     * every access, as reused memory would not fail by itself. It cannot map files.
     */
    public static TensorArena pooled(SegmentPool pool, long limitBytes) {
        return new TensorArena(null, pool, limitBytes);
    }

    /** An arena usable from any thread that refuses allocations past {@code limitBytes} in total. */
    public static TensorArena ofShared(long limitBytes) {
        return new TensorArena(Arena.ofShared(), null, limitBytes);
    }

    /** An arena usable only from the calling thread; cheaper to close. */
    public static TensorArena ofConfined() {
        return new TensorArena(Arena.ofConfined(), null, NO_LIMIT);
    }

    /** A zero-filled tensor. */
    public Tensor allocate(DType dtype, Shape shape) {
        long count = shape.elementCount();
        if (dtype.isString()) {
            checkOpen();
            byte[][] strings = new byte[Math.toIntExact(requireArraySize(count, dtype, shape))][];
            Arrays.fill(strings, Tensor.EMPTY_STRING);
            return new Tensor(this, dtype, shape, null, strings);
        }
        return new Tensor(this, dtype, shape, allocateSegment(dtype.storageBytes(count), dtype, shape, true), null);
    }

    public Tensor allocate(DType dtype, long... sizes) {
        return allocate(dtype, Shape.of(sizes));
    }

    /** Raw aligned, zeroed bytes owned by this arena and counted against its limit, e.g. for planned buffers. */
    public MemorySegment allocateSegment(long bytes) {
        return allocateSegment(bytes, null, null, true);
    }

    /**
     * As {@link #allocateSegment(long)}, but from a pool the bytes may hold what they last held (other
     * arenas zero them anyway): for a buffer its user overwrites whole, where zeroing it was wasted.
     */
    public MemorySegment allocateSegmentForOverwrite(long bytes) {
        return allocateSegment(bytes, null, null, false);
    }

    /** {@code dtype} and {@code shape} name what the bytes are for in an error, when given (formatted only then). */
    private MemorySegment allocateSegment(long bytes, DType dtype, Shape shape, boolean zeroed) {
        checkOpen();
        long inUse = allocatedBytes.addAndGet(bytes);
        if (inUse > limitBytes || inUse < 0) {
            allocatedBytes.addAndGet(-bytes);
            throw new MemoryLimitExceededException("allocating " + Bytes.format(bytes) + " for " + purpose(bytes, dtype, shape)
                    + " would exceed the memory limit of " + Bytes.format(limitBytes) + " ("
                    + Bytes.format(inUse - bytes) + " in use)");
        }
        try {
            MemorySegment segment;
            if (pool != null) {
                MemorySegment block = pool.acquire(bytes, zeroed);
                pooledBlocks.add(block);
                segment = block.asSlice(0, bytes);
                handedOut.add(segment);
            } else {
                segment = arena.allocate(bytes, ALIGNMENT);
            }
            PEAK_BYTES.accumulateAndGet(LIVE_BYTES.addAndGet(bytes), Math::max);
            return segment;
        } catch (OutOfMemoryError | IllegalArgumentException e) {
            allocatedBytes.addAndGet(-bytes);
            throw new MemoryLimitExceededException("could not allocate " + Bytes.format(bytes) + " for "
                    + purpose(bytes, dtype, shape) + ": " + e.getMessage(), e);
        }
    }

    private static String purpose(long bytes, DType dtype, Shape shape) {
        return dtype == null ? bytes + " bytes" : dtype + shape.toString();
    }

    /** A tensor over a segment of this arena (from {@link #allocateSegment}), which must be large enough. */
    public Tensor wrap(MemorySegment segment, DType dtype, Shape shape) {
        checkOpen();
        if (pool != null ? !handedOut.contains(segment) : !segment.scope().equals(arena.scope())) {
            throw new QuantaException("the segment does not belong to this arena, so its lifetime would not match");
        }
        long needed = dtype.storageBytes(shape.elementCount());
        if (segment.byteSize() < needed) {
            throw new QuantaException("a " + dtype + shape + " tensor needs " + needed + " bytes; the segment has "
                    + segment.byteSize());
        }
        return new Tensor(this, dtype, shape, segment, null);
    }

    public Tensor fromFloats(float[] values, long... sizes) {
        Tensor tensor = allocate(DType.FLOAT, checkedShape(values.length, sizes));
        MemorySegment.copy(values, 0, tensor.segment(), Layouts.FLOAT, 0, values.length);
        return tensor;
    }

    public Tensor fromDoubles(double[] values, long... sizes) {
        Tensor tensor = allocate(DType.DOUBLE, checkedShape(values.length, sizes));
        MemorySegment.copy(values, 0, tensor.segment(), Layouts.DOUBLE, 0, values.length);
        return tensor;
    }

    /** An integer, bool or float tensor from long values, converted as {@link Tensor#setLong} does. */
    public Tensor fromLongs(DType dtype, long[] values, long... sizes) {
        Tensor tensor = allocate(dtype, checkedShape(values.length, sizes));
        for (int i = 0; i < values.length; i++) {
            tensor.writeLong(i, values[i]);
        }
        return tensor;
    }

    public Tensor fromInts(int[] values, long... sizes) {
        Tensor tensor = allocate(DType.INT32, checkedShape(values.length, sizes));
        MemorySegment.copy(values, 0, tensor.segment(), Layouts.INT32, 0, values.length);
        return tensor;
    }

    public Tensor fromBooleans(boolean[] values, long... sizes) {
        Tensor tensor = allocate(DType.BOOL, checkedShape(values.length, sizes));
        for (int i = 0; i < values.length; i++) {
            tensor.segment().set(ValueLayout.JAVA_BYTE, i, (byte) (values[i] ? 1 : 0));
        }
        return tensor;
    }

    /** A tensor from its storage bytes: little-endian, row-major, sub-byte types packed low bits first. */
    public Tensor fromBytes(DType dtype, byte[] storage, long... sizes) {
        Shape shape = Shape.of(sizes);
        long needed = dtype.storageBytes(shape.elementCount());
        if (storage.length != needed) {
            throw new QuantaException("a " + dtype + shape + " tensor has " + needed + " storage bytes, not "
                    + storage.length);
        }
        Tensor tensor = allocate(dtype, shape);
        MemorySegment.copy(storage, 0, tensor.segment(), ValueLayout.JAVA_BYTE, 0, storage.length);
        return tensor;
    }

    /**
     * A tensor from a buffer's remaining elements, in its byte order, heap or direct: float, double,
     * long, int and short buffers give float32, float64, int64, int32 and int16 tensors. The buffer's
     * position does not move.
     */
    public Tensor fromBuffer(Buffer buffer, long... sizes) {
        BufferElements elements = BufferElements.of(buffer);
        Tensor tensor = allocate(elements.dtype(), checkedShape(buffer.remaining(), sizes));
        MemorySegment.copy(MemorySegment.ofBuffer(buffer), elements.layout(), 0, tensor.segment(),
                elements.tensorLayout(), 0, buffer.remaining());
        return tensor;
    }

    /** A tensor from the storage bytes remaining in a buffer, as {@link #fromBytes}; the position does not move. */
    public Tensor fromBuffer(DType dtype, ByteBuffer storage, long... sizes) {
        Shape shape = Shape.of(sizes);
        long needed = dtype.storageBytes(shape.elementCount());
        if (storage.remaining() != needed) {
            throw new QuantaException("a " + dtype + shape + " tensor has " + needed + " storage bytes, not "
                    + storage.remaining());
        }
        Tensor tensor = allocate(dtype, shape);
        MemorySegment.copy(MemorySegment.ofBuffer(storage), 0, tensor.segment(), 0, needed);
        return tensor;
    }

    /** A string tensor from UTF-8 text. */
    public Tensor fromStrings(String[] values, long... sizes) {
        Tensor tensor = allocate(DType.STRING, checkedShape(values.length, sizes));
        for (int i = 0; i < values.length; i++) {
            tensor.writeString(i, values[i]);
        }
        return tensor;
    }

    /** A copy of any tensor, contiguous, in this arena. */
    public Tensor copyOf(Tensor source) {
        Tensor copy = allocate(source.dtype(), source.shape());
        source.copyTo(copy);
        return copy;
    }

    /**
     * A read-only tensor over a region of a file, memory-mapped rather than read: the pages are
     * loaded on first touch and shared with the page cache. The mapping lasts as long as the arena.
     */
    public Tensor map(Path file, long offset, DType dtype, Shape shape) {
        checkOpen();
        if (arena == null) {
            throw new QuantaException("a pooled arena cannot map files (" + file + ")");
        }
        if (dtype.isString()) {
            throw new QuantaException("string tensors cannot be memory-mapped (" + file + ")");
        }
        long length = dtype.storageBytes(shape.elementCount());
        if (offset < 0) {
            throw new QuantaException("offset " + offset + " into " + file + " is negative");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (offset > size || length > size - offset) {
                throw new QuantaException("a " + dtype + shape + " tensor needs " + length + " bytes at offset " + offset
                        + " of " + file + ", which has only " + size + " bytes");
            }
            if (length == 0) {
                return new Tensor(this, dtype, shape, arena.allocate(0, ALIGNMENT).asReadOnly(), null);
            }
            MemorySegment segment = channel.map(FileChannel.MapMode.READ_ONLY, offset, length, arena);
            mappedBytes.addAndGet(length);
            return new Tensor(this, dtype, shape, segment, null);
        } catch (NoSuchFileException e) {
            throw new QuantaException("file not found: " + file, e);
        } catch (IOException e) {
            throw new QuantaException("cannot map " + file + ": " + e.getMessage(), e);
        }
    }

    /** Bytes allocated by this arena (mapped files excluded). */
    public long allocatedBytes() {
        return allocatedBytes.get();
    }

    /** Bytes of files mapped by this arena. */
    public long mappedBytes() {
        return mappedBytes.get();
    }

    public long limitBytes() {
        return limitBytes;
    }

    /** Bytes allocated by all open arenas of this process. */
    public static long liveBytes() {
        return LIVE_BYTES.get();
    }

    /** The most bytes that open arenas held at once since the process started. */
    public static long peakBytes() {
        return PEAK_BYTES.get();
    }

    public boolean isAlive() {
        return !closed.get() && (arena == null || arena.scope().isAlive());
    }

    void checkOpen() {
        if (!isAlive()) {
            throw new IllegalStateException("this TensorArena is closed; its tensors can no longer be used");
        }
    }

    /** Frees every tensor of this arena; closing again does nothing. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            if (pool != null) {
                handedOut.clear();
                for (MemorySegment block; (block = pooledBlocks.poll()) != null; ) {
                    pool.release(block);
                }
            } else {
                try {
                    arena.close();
                } catch (RuntimeException e) {
                    closed.set(false);
                    throw e;
                }
            }
            LIVE_BYTES.addAndGet(-allocatedBytes.get());
        }
    }

    private static Shape checkedShape(int valueCount, long... sizes) {
        Shape shape = Shape.of(sizes);
        if (shape.elementCount() != valueCount) {
            throw new ShapeException("shape " + shape + " holds " + shape.elementCount() + " elements, but "
                    + valueCount + " values were given");
        }
        return shape;
    }

    static long requireArraySize(long count, DType dtype, Shape shape) {
        if (count > Integer.MAX_VALUE - 8) {
            throw new QuantaException("a " + dtype + shape + " tensor has " + count
                    + " elements, more than a Java array holds");
        }
        return count;
    }
}
