package dev.quanta.graph.ops;

/**
 * ONNX's QLinearConv, inputs reordered as {@link ConvInteger}'s come first: (x, w, xZeroPoint,
 * wZeroPoint, xScale, wScale, yScale, yZeroPoint, bias?). The exact int32 convolution of the
 * operands less their zero points plus the int32 bias [M], requantized as ONNX's reference does it:
 * the multiplier (xScale·wScale)/yScale formed first in float (wScale one value or one per output
 * channel), the sum converted to float and multiplied by it, rounded half to even, plus
 * yZeroPoint, saturated to yZeroPoint's type; with {@code relu}, also clamped below at
 * yZeroPoint, as a Relu before the quantization would leave it (QDQ models' Conv → Relu →
 * QuantizeLinear). Each block of sums is requantized by the task that computed it, where the
 * decomposition took a bias pass, a dequantization and a quantization.
 */
public record QLinearConv(Window window, int group, boolean relu) implements CoreOp {
}
