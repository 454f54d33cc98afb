package dev.quanta.graph.ops;

/** Inputs (x [N, C, ...], scale [C], bias [C], mean [C]?, variance [C]?): with mean and variance given, batch normalization in inference; without, instance normalization over each (n, c). */
public record ChannelNormalize(double epsilon) implements CoreOp {
}
