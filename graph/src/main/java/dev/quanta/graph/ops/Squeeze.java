package dev.quanta.graph.ops;

/** Inputs (data, axes int64?): removes the given size-1 axes, or every size-1 axis when none are given. */
public record Squeeze() implements CoreOp {
}
