package dev.quanta.graph.ops;

import dev.quanta.tensor.DType;

/** Input x (2-D): ones on the diagonal offset by k, zeros elsewhere, in {@code dtype} (null: x's type). */
public record EyeLike(DType dtype, long k) implements CoreOp {
}
