package dev.quanta.graph.ops;

/** Inputs (x, k): the k largest (or smallest) elements along an axis, sorted, ties to the lower index; outputs values and int64 indices. */
public record TopK(int axis, boolean largest) implements CoreOp {
}
