package dev.quanta.graph.ops;

/** Inputs (x, k?): the upper (j − i ≥ k) or lower (j − i ≤ k) triangle of the last two dimensions, zeros elsewhere. */
public record Trilu(boolean upper) implements CoreOp {
}
