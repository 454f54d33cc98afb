package dev.quanta.graph.ops;

/**
 * Inputs (a, b, aZeroPoint?, bZeroPoint?, scale, bias?): {@link MatMulInteger}'s exact int32
 * product, converted to float, times {@code scale} (one value, or one per column) and plus
 * {@code bias} (one per column), rounded after each step as the separate Cast, Mul and Add would
 * round. What dynamically quantized models compute per projection, in one pass over the output.
 */
public record MatMulIntegerToFloat() implements CoreOp {
}
