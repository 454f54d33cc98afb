package dev.quanta.graph.ops;

import dev.quanta.tensor.Tensor;

/** Input (shape int64): a tensor of that shape filled with the single element of {@code value}. */
public record ConstantOfShape(Tensor value) implements CoreOp {
}
