package dev.quanta.graph.ops;

/** Inputs (data, indices [..., m]): slices of data addressed by the last dimension of indices, after {@code batchDims} shared leading dimensions. */
public record GatherND(int batchDims) implements CoreOp {
}
