package dev.quanta.graph.ops;

/** Inputs (a, b, aZeroPoint?, bZeroPoint?), 8-bit integers: Σ (a − aZero)(b − bZero) in int32; zero points per tensor, per row of a or per column of b. */
public record MatMulInteger() implements CoreOp {
}
