package dev.quanta.graph.ops;

/**
 * Inputs (a, b): float32 operands holding integers of magnitude at most 255 ({@link ZeroPointShift}
 * outputs); their numpy matmul, exact, in int32.
 */
public record MatMulInteger() implements CoreOp {
}
