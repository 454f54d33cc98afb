package dev.quanta.graph;

import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.function.LongConsumer;

/**
 * What a kernel may use while it runs: the run's arena, the node it runs for, the session's
 * intra-op threads (none when the session runs single-threaded), which of the node's inputs
 * are the graph's constants (bit i for input i), the same tensors in every run, and the run's
 * profile (null when the run is not profiled), where subgraphs the kernel runs add their nodes'
 * times ({@link Session#runWithin}).
 */
public record KernelContext(TensorArena arena, Node node, IntraOpPool pool, BufferPool buffers, long constantInputs,
        RunProfile profile) {

    /** A context outside a run (constant folding): plain allocations, one thread. */
    public KernelContext(TensorArena arena, Node node) {
        this(arena, node, null, null, 0, null);
    }

    /** Whether input {@code index} is one of the graph's constants: the same tensor, unchanged, in every run. */
    public boolean isConstant(int index) {
        return index < Long.SIZE && (constantInputs >>> index & 1) != 0;
    }

    /** A zeroed tensor for an output or scratch; within a run, on a buffer freed by an earlier node when one fits. */
    public Tensor allocate(DType dtype, Shape shape) {
        return buffers == null ? arena.allocate(dtype, shape) : buffers.allocate(dtype, shape, true);
    }

    /**
     * As {@link #allocate}, for a kernel that writes every element: its contents are unspecified.
     * Zeroing them had cost 17 MB of writes a run of the int8 MiniLM at batch 1 (0.4–2 ms of 26–30 ms
     * runs on two threads without any zeroing, one JVM switching). Types that pack elements into
     * shared bytes, or hold strings, come zeroed.
     */
    public Tensor allocateForOverwrite(DType dtype, Shape shape) {
        return buffers == null || dtype.isPacked() || dtype.isString() ? allocate(dtype, shape)
                : buffers.allocate(dtype, shape, false);
    }

    /**
     * The tensor itself when contiguous, else a contiguous copy in this run's memory. A kernel's view
     * of its input (a permutation, a slice, a broadcast) takes this, not {@link Tensor#contiguous()},
     * which copies into the source's arena: for a constant that is the model's, which lives as long
     * as the model, and R3D-18's runs had each left 68 MiB of copied filters there.
     */
    public Tensor contiguous(Tensor tensor) {
        if (tensor.isContiguous()) {
            return tensor;
        }
        Tensor copy = allocateForOverwrite(tensor.dtype(), tensor.shape());
        tensor.copyTo(copy);
        return copy;
    }

    /**
     * An output for an element-wise kernel that reads each input position once, before writing
     * the same position: the input's own buffer when it is free to take (see the buffer pool),
     * otherwise a new tensor for overwriting.
     */
    public Tensor allocateOver(Tensor input, DType dtype, Shape shape) {
        Tensor reused = buffers == null ? null : buffers.reuse(input, dtype, shape);
        return reused != null ? reused : allocateForOverwrite(dtype, shape);
    }

    /**
     * Runs {@code task} for 0 to {@code tasks} − 1, on the calling thread and the intra-op threads
     * together: each takes the next index until none is left. The caller starts at once, so a
     * helper that is slow to wake costs nothing but its share; returns when every task is done.
     */
    public void parallel(long tasks, LongConsumer task) {
        if (pool == null) {
            for (long i = 0; i < tasks; i++) {
                task.accept(i);
            }
        } else {
            pool.run(tasks, task);
        }
    }

    /** The number of threads kernels may split work across: the caller and the intra-op threads. */
    public int threads() {
        return pool == null ? 1 : pool.helpers() + 1;
    }

    /** An error naming the node. */
    public GraphException error(String message) {
        return new GraphException(node + ": " + message);
    }
}
