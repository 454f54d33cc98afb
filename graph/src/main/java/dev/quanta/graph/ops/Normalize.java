package dev.quanta.graph.ops;

/** Inputs (x, scale, bias?): x standardized over the axes from {@code axis} on (LayerNormalization), or only scaled by its root mean square (RMS), then scale·x + bias. Optional outputs: mean and 1/σ, with the normalized axes kept as size 1. */
public record Normalize(int axis, double epsilon, boolean rmsOnly) implements CoreOp {
}
