package dev.quanta.graph.ops;

/** Inputs (start, limit, delta) scalars: start, start + delta, ... before limit. */
public record Range() implements CoreOp {
}
