package dev.quanta.graph.ops;

import dev.quanta.tensor.DType;

/** Inputs (x, scale, zeroPoint?): saturate(round_half_even(x / scale) + zeroPoint) into {@code outType}; scale per tensor, per {@code axis}, or per block of {@code blockSize} along it. */
public record Quantize(int axis, int blockSize, boolean saturate, DType outType) implements CoreOp {
}
