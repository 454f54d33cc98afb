package dev.quanta.graph.ops;

import dev.quanta.tensor.DType;

/** The input's bytes read as elements of {@code to}, which must be as wide as the input's. */
public record BitCast(DType to) implements CoreOp {
}
