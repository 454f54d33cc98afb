package dev.quanta.graph.ops;

/**
 * Inputs (a: float32, b, bScale, bZeroPoint?, bias?): a quantized to uint8 as {@link
 * DynamicQuantize} does, then {@link MatMulIntegerToFloat} with a's zero point and the scale
 * a_scale·bScale (bScale one value, or one per column), rounded as those nodes round: ONNX
 * Runtime's com.microsoft DynamicQuantizeMatMul, and what a DynamicQuantizeLinear read by one
 * product fuses into.
 */
public record DynamicQuantizeMatMul() implements CoreOp {
}
