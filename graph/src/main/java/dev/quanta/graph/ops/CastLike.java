package dev.quanta.graph.ops;

import dev.quanta.tensor.Float8E8M0;

/** Inputs (x, like): x converted to the element type of {@code like}, with {@link Cast}'s rules. */
public record CastLike(boolean saturate, Float8E8M0.RoundMode roundMode) implements CoreOp {
}
