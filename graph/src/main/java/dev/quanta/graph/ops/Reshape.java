package dev.quanta.graph.ops;

/** Inputs (data, shape int64): a 0 in the shape copies the input dimension unless allowZero; one −1 is inferred. */
public record Reshape(boolean allowZero) implements CoreOp {
}
