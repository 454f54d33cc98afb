package dev.quanta.graph;

import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The memory of one run: buffers come from the run's arena and, once no live value uses them,
 * go back to a free list from which later allocations of a similar size are served. A buffer is
 * counted once per value that views it, so a reshape or slice keeps its source alive.
 */
final class BufferPool {
    private final TensorArena arena;
    private final TreeMap<Long, ArrayDeque<MemorySegment>> free = new TreeMap<>();
    /** Per buffer of this pool, how many values view it: a counter a buffer, so that each change is one lookup. */
    private final Map<MemorySegment, int[]> references = new IdentityHashMap<>();
    private final List<MemorySegment> allocatedByNode = new ArrayList<>();
    /**
     * The tensors of the values whose last reader is the node now running: a few, so a list looked
     * through by identity (clearing an identity set before each node was a fifth of a chain of
     * small nodes' run, JFR).
     */
    private final List<Tensor> dyingHere = new ArrayList<>();

    BufferPool(TensorArena arena) {
        this.arena = arena;
    }

    /**
     * A tensor on a freed buffer of up to twice its size if there is one: zeroed when {@code zeroed},
     * else holding whatever it held (filled with ones when assertions are on, so that a kernel that
     * leaves an element unwritten shows in the tests).
     */
    Tensor allocate(DType dtype, Shape shape, boolean zeroed) {
        if (dtype.isString()) {
            return arena.allocate(dtype, shape);
        }
        long bytes = Math.max(dtype.storageBytes(shape.elementCount()), 1);
        Map.Entry<Long, ArrayDeque<MemorySegment>> fit = free.ceilingEntry(bytes);
        MemorySegment segment;
        if (fit != null && fit.getKey() <= 2 * bytes) {
            segment = fit.getValue().pop();
            if (fit.getValue().isEmpty()) {
                free.remove(fit.getKey());
            }
            if (zeroed) {
                segment.asSlice(0, bytes).fill((byte) 0);
            }
        } else {
            segment = zeroed ? arena.allocateSegment(bytes) : arena.allocateSegmentForOverwrite(bytes);
        }
        assert zeroed || poison(segment.asSlice(0, bytes));
        references.put(segment, new int[1]);
        allocatedByNode.add(segment);
        return arena.wrap(segment, dtype, shape);
    }

    private static boolean poison(MemorySegment segment) {
        segment.fill((byte) -1);
        return true;
    }

    /** A value now holds these tensors (a tensor, or those in a sequence or optional): their buffers gain a reference. */
    void retain(Object value) {
        for (Tensor tensor : tensors(value)) {
            int[] views = views(tensor);
            if (views != null) {
                views[0]++;
            }
        }
    }

    /** A value died: each of its buffers goes back once nothing else views it. */
    void release(Object value) {
        for (Tensor tensor : tensors(value)) {
            int[] views = views(tensor);
            if (views != null && --views[0] == 0) {
                recycle(tensor.segment());
            }
        }
    }

    private static List<Tensor> tensors(Object value) {
        return switch (value) {
            case null -> List.of();
            case Tensor tensor -> List.of(tensor);
            case TensorSequence sequence -> sequence.tensors();
            case OptionalValue optional -> tensors(optional.value());
            default -> List.of();
        };
    }

    /** Before a node: the values it is the last to read. */
    void beginNode(List<Object> dying) {
        dyingHere.clear();
        for (Object value : dying) {
            dyingHere.addAll(tensors(value));
        }
    }

    /**
     * The buffer of {@code input} as an output of the same size, for an element-wise kernel to
     * write in place: only when the input dies at this node, no other value views its buffer,
     * and it starts at the buffer's beginning, contiguous. Null otherwise.
     */
    Tensor reuse(Tensor input, DType dtype, Shape shape) {
        int[] views = views(input);
        if (views == null || !dyingHere(input) || views[0] != 1 || input.dtype() != dtype
                || input.offset() != 0 || !input.isContiguous() || !input.shape().equals(shape)) {
            return null;
        }
        return arena.wrap(input.segment(), dtype, shape);
    }

    private boolean dyingHere(Tensor tensor) {
        for (Tensor dying : dyingHere) {
            if (dying == tensor) {
                return true;
            }
        }
        return false;
    }

    /** After a node: its scratch buffers, held by no value, go back at once. */
    void endNode() {
        for (MemorySegment segment : allocatedByNode) {
            if (references.get(segment)[0] == 0) {
                recycle(segment);
            }
        }
        allocatedByNode.clear();
    }

    private void recycle(MemorySegment segment) {
        references.remove(segment);
        free.computeIfAbsent(segment.byteSize(), size -> new ArrayDeque<>()).push(segment);
    }

    /** The count of views of the buffer under {@code tensor}; null when no buffer of this pool is. */
    private int[] views(Tensor tensor) {
        return tensor == null || tensor.dtype().isString() ? null : references.get(tensor.segment());
    }
}
