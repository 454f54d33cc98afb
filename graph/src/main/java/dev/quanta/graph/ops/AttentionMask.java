package dev.quanta.graph.ops;

/**
 * Inputs (queries [batch, sequence, ..], mask_index int32?, keys [batch, key length, ..]?, the
 * queries when absent): the additive float32 mask [batch, 1, sequence, key length] that ONNX
 * Runtime's com.microsoft attention ops make of their mask index, in whichever form it comes: key
 * lengths [batch]; end and start positions [2·batch]; a raw 0/1 mask [batch, key length] (or
 * [batch|1, 1], which masks nothing) or [batch, sequence, key length]. A key masked off adds
 * {@code filter}; a key after the query (unidirectional, where queries and keys must be one
 * sequence) is left out.
 */
public record AttentionMask(float filter, boolean unidirectional) implements CoreOp {
}
