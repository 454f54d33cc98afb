package dev.quanta.graph.ops;

/** Einstein summation over any number of inputs, as numpy.einsum, with ellipses. */
public record Einsum(String equation) implements CoreOp {
}
