package dev.quanta.graph.ops;

/**
 * ONNX's Unique: the distinct elements of the flattened input (no {@code axis}) or its distinct
 * slices along the axis, sorted (ascending, slices compared element by element) or in the order
 * they first appear; outputs those, the index of each one's first occurrence, the index in them of
 * every input element or slice, and how often each occurs (the last three int64).
 */
public record Unique(Integer axis, boolean sorted) implements CoreOp {
}
