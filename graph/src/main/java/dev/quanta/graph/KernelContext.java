package dev.quanta.graph;

import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;

/** What a kernel may use while it runs: the run's arena for its outputs, and the node it runs for. */
public record KernelContext(TensorArena arena, Node node) {

    public Tensor allocate(DType dtype, Shape shape) {
        return arena.allocate(dtype, shape);
    }

    /** An error naming the node. */
    public GraphException error(String message) {
        return new GraphException(node + ": " + message);
    }
}
