package dev.quanta.graph.ops;

/** Inputs (indices, depth, values [off, on]): a new axis of {@code depth} where on marks each index. */
public record OneHot(int axis) implements CoreOp {
}
