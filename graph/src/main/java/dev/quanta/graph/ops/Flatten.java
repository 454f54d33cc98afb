package dev.quanta.graph.ops;

/** A 2-D view: dimensions before {@code axis} multiplied into rows, the rest into columns. */
public record Flatten(int axis) implements CoreOp {
}
