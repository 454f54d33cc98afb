package dev.quanta.graph.ops;

/** Axis permutation; a null {@code perm} reverses the axes. */
public record Transpose(int[] perm) implements CoreOp {
}
