package dev.quanta.graph.ops;

/** Joins any number of inputs along an axis (negative counts from the end). */
public record Concat(int axis) implements CoreOp {
}
