package dev.quanta.graph.ops;

/**
 * Inputs (x [batch, sequence, ..], mask_index int32?): the additive float32 mask [batch, 1,
 * sequence, sequence] that ONNX Runtime's com.microsoft Attention makes of its mask_index, in
 * whichever form it comes: key lengths [batch]; end and start positions [2·batch]; a raw 0/1 mask
 * [batch, sequence] (or [batch|1, 1], which masks nothing) or [batch, sequence, sequence]. A key
 * masked off, or (unidirectional) after the query, adds {@code filter}; both add it twice.
 */
public record AttentionMask(float filter, boolean unidirectional) implements CoreOp {
}
