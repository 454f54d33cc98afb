package dev.quanta.graph.ops;

/**
 * Inputs (x [N, C, ...], w [M, C/group, k...], xZeroPoint?, wZeroPoint?), x and w int8 or uint8:
 * the convolution of (x − xZeroPoint) and (w − wZeroPoint), exact, in int32. x's zero point is per
 * tensor (padding reads it, so padding adds nothing); w's per tensor or per output channel ([M]).
 */
public record ConvInteger(Window window, int group) implements CoreOp {
}
