package dev.quanta.graph.ops;

/** 1 at the first largest element along {@code axis} (with {@code coerceTo2d}, over all dimensions from it on), 0 elsewhere. */
public record Hardmax(int axis, boolean coerceTo2d) implements CoreOp {
}
