package dev.quanta.graph.ops;

/** The int64 index of the largest (or smallest) element along an axis; ties go to the first or last. */
public record ArgReduce(boolean max, int axis, boolean keepDims, boolean selectLastIndex) implements CoreOp {
}
