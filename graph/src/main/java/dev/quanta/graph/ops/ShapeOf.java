package dev.quanta.graph.ops;

/** The int64 shape of the input, dimensions {@code start} to {@code end} (Python slice rules; null end = rank). */
public record ShapeOf(long start, Long end) implements CoreOp {
}
