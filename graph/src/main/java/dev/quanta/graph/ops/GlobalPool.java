package dev.quanta.graph.ops;

/** Max, average or Lp pooling over all spatial axes, which stay as size 1. */
public record GlobalPool(Pool.Kind kind, double p) implements CoreOp {
}
