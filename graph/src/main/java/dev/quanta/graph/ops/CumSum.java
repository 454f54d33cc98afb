package dev.quanta.graph.ops;

/** Inputs (x, axis): running sums along the axis, optionally exclusive of the current element and from the end. */
public record CumSum(boolean exclusive, boolean reverse) implements CoreOp {
}
