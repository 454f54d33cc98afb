package dev.quanta.graph.ops;

/** The input itself. */
public record Identity() implements CoreOp {
}
