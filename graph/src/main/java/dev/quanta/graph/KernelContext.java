package dev.quanta.graph;

import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.function.LongConsumer;
import java.util.stream.LongStream;

/**
 * What a kernel may use while it runs: the run's arena, the node it runs for, and the session's
 * intra-op threads (none when the session runs single-threaded).
 */
public record KernelContext(TensorArena arena, Node node, ForkJoinPool pool, BufferPool buffers) {

    /** A context outside a run (constant folding): plain allocations, one thread. */
    public KernelContext(TensorArena arena, Node node) {
        this(arena, node, null, null);
    }

    /** A zeroed tensor for an output or scratch; within a run, on a buffer freed by an earlier node when one fits. */
    public Tensor allocate(DType dtype, Shape shape) {
        return buffers == null ? arena.allocate(dtype, shape) : buffers.allocate(dtype, shape);
    }

    /**
     * An output for an element-wise kernel that reads each input position once, before writing
     * the same position: the input's own buffer when it is free to take (see the buffer pool),
     * otherwise a new zeroed tensor.
     */
    public Tensor allocateOver(Tensor input, DType dtype, Shape shape) {
        Tensor reused = buffers == null ? null : buffers.reuse(input, dtype, shape);
        return reused != null ? reused : allocate(dtype, shape);
    }

    /** Runs {@code task} for 0 to {@code tasks} − 1, on the intra-op threads when there are any. */
    public void parallel(long tasks, LongConsumer task) {
        if (pool == null || tasks <= 1) {
            for (long i = 0; i < tasks; i++) {
                task.accept(i);
            }
            return;
        }
        try {
            // A parallel stream started inside a pool's task runs on that pool's threads.
            pool.submit(() -> LongStream.range(0, tasks).parallel().forEach(task)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw error("interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new GraphException(node + ": " + e.getCause(), e.getCause());
        }
    }

    /** The number of threads kernels may split work across. */
    public int threads() {
        return pool == null ? 1 : pool.getParallelism();
    }

    /** An error naming the node. */
    public GraphException error(String message) {
        return new GraphException(node + ": " + message);
    }
}
