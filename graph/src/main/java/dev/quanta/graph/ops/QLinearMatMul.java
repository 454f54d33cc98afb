package dev.quanta.graph.ops;

/**
 * ONNX's QLinearMatMul with float32 scales, inputs reordered as {@link MatMulInteger}'s come first:
 * (a, b, aZeroPoint, bZeroPoint, aScale, bScale, yScale, yZeroPoint). The exact int32 product of the
 * operands less their zero points, requantized as ONNX's reference does it: the multiplier
 * (aScale·bScale)/yScale formed first in float (aScale one value or one per row, bScale one or one
 * per column), the sum converted to float and multiplied by it, rounded half to even, plus
 * yZeroPoint, saturated to yZeroPoint's type. One node and one pass over the output where the
 * decomposition took a cast, a multiplication and a quantization.
 */
public record QLinearMatMul() implements CoreOp {
}
