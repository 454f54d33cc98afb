package dev.quanta.graph.ops;

/**
 * Inputs (x [N, C, ...], scale [C], bias [C], mean [C]?, variance [C]?). With mean and variance:
 * batch normalization, in inference with them, or in training with the batch's own statistics
 * (then also outputs the running mean and variance, blended by {@code momentum}). Without them:
 * instance normalization over each (n, c).
 */
public record ChannelNormalize(double epsilon, boolean training, double momentum) implements CoreOp {
}
