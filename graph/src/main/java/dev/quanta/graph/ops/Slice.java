package dev.quanta.graph.ops;

/** Inputs (data, starts, ends, axes?, steps?), all int32/int64, clamped as ONNX Slice clamps them. */
public record Slice() implements CoreOp {
}
