package dev.quanta.graph.ops;

/** Inputs (x [N, C, ...], w [M, C/group, k...], bias [M]?): N-D convolution (cross-correlation) in {@code group} groups. */
public record Conv(Window window, int group) implements CoreOp {
}
