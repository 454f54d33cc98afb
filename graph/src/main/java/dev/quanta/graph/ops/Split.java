package dev.quanta.graph.ops;

/**
 * Inputs (data, split int64?): cuts along an axis into the given sizes, or into {@code outputs}
 * parts as equal as ONNX makes them (the last one smaller).
 */
public record Split(int axis, int outputs) implements CoreOp {
}
