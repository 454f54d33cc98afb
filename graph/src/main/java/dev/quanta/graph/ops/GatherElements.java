package dev.quanta.graph.ops;

/** Inputs (data, indices): out[i] = data[i with the coordinate on {@code axis} replaced by indices[i]]. */
public record GatherElements(int axis) implements CoreOp {
}
