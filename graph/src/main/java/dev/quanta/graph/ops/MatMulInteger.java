package dev.quanta.graph.ops;

/**
 * Inputs (a, b, aZeroPoint?, bZeroPoint?), a and b int8 or uint8: the numpy matmul of
 * (a − aZeroPoint) and (b − bZeroPoint), exact, in int32. A's zero point is per tensor or per row
 * ([M]), B's per tensor or per column ([N]), each of its operand's type.
 */
public record MatMulInteger() implements CoreOp {
}
