package dev.quanta.graph.ops;

/** The int64 element count of the input, as a scalar. */
public record Size() implements CoreOp {
}
