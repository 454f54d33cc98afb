package dev.quanta.graph.ops;

/**
 * Inputs (x float32, mask float32 broadcasting to x): softmax along x's last axis of
 * x / {@code divisor} + mask, each step rounded as the separate Div, Add and Softmax nodes round
 * it. What a transformer's attention writes between its two products.
 */
public record MaskedSoftmax(float divisor) implements CoreOp {
}
