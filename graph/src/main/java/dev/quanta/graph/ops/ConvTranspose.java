package dev.quanta.graph.ops;

/** Inputs (x [N, C, ...], w [C, M/group, k...], bias?): the transpose (gradient) of Conv; {@code outputShape} (spatial) overrides the padding when given. */
public record ConvTranspose(Window window, int group, long[] outputPadding, long[] outputShape) implements CoreOp {
}
