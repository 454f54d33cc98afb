package dev.quanta.graph.ops;

/**
 * Softmax (or log-softmax) along {@code axis}; with {@code coerceTo2d} (ONNX before opset 13)
 * over all dimensions from {@code axis} on, flattened into one.
 */
public record Softmax(int axis, boolean log, boolean coerceTo2d) implements CoreOp {
}
