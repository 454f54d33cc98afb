package dev.quanta.graph.ops;

/**
 * Inputs (q, keys, mask, v), float32, q [.., M, D], keys [.., D, N] (usually Kᵀ, a transposed
 * view), v [.., N, E] with the same leading axes, and a mask broadcasting to the scores
 * [.., M, N]: softmax(q·keys / {@code divisor} + mask)·v, each step rounded as the separate
 * MatMul, {@link MaskedSoftmax} and MatMul nodes round it. A transformer's attention, one head at a
 * time, its scores kept in cache.
 */
public record Attention(float divisor) implements CoreOp {
}
