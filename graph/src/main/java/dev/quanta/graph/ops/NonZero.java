package dev.quanta.graph.ops;

/** Input x: the int64 coordinates [rank, count] of its non-zero elements in row-major order. */
public record NonZero() implements CoreOp {
}
