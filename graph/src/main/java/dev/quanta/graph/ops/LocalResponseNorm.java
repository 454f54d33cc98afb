package dev.quanta.graph.ops;

/** LRN across channels: x / (bias + alpha/size · Σ x² over a window of {@code size} channels)^beta. */
public record LocalResponseNorm(double alpha, double beta, double bias, int size) implements CoreOp {
}
