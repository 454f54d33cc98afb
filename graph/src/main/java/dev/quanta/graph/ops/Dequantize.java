package dev.quanta.graph.ops;

import dev.quanta.tensor.DType;

/** Inputs (x, scale, zeroPoint?): (x − zeroPoint)·scale in {@code outType} (null: the scale's type); per tensor, per axis or per block. */
public record Dequantize(int axis, int blockSize, DType outType) implements CoreOp {
}
