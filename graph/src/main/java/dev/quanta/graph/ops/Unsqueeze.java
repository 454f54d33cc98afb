package dev.quanta.graph.ops;

/** Inputs (data, axes int64): inserts size-1 axes at the given positions of the result. */
public record Unsqueeze() implements CoreOp {
}
