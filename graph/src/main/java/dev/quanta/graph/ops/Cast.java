package dev.quanta.graph.ops;

import dev.quanta.tensor.DType;
import dev.quanta.tensor.Float8E8M0;

/** Element type conversion with ONNX's rules (see {@code MiniFloat} for the small float types). */
public record Cast(DType to, boolean saturate, Float8E8M0.RoundMode roundMode) implements CoreOp {
}
