package dev.quanta.graph.ops;

/** Inputs (data, shape int64): data broadcast together with the shape. */
public record Expand() implements CoreOp {
}
