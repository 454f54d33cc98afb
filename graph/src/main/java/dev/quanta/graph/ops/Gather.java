package dev.quanta.graph.ops;

/** Inputs (data, indices int32/int64): picks entries along an axis; negative indices count from the end. */
public record Gather(int axis) implements CoreOp {
}
