package dev.quanta.graph.ops;

import java.util.Set;

/**
 * Inputs (a, w, bias): A·W of float32 A and a constant 2-D W (A·Wᵀ reading W [N, K] as it lies when
 * {@code transposedB}), plus a 1-D bias [N] along the last axis, then {@code activation} when it is
 * not null: a Linear layer's MatMul, Add and activation nodes (a Gemm's, once lowered), fused by
 * LinearLayerFusion into one node that adds and activates each row of the product as it stands.
 */
public record LinearLayer(boolean transposedB, Unary activation) implements CoreOp {

    /** The activations a Linear layer takes in: each has a vector kernel of its own. */
    public static final Set<Unary.Kind> ACTIVATIONS = Set.of(Unary.Kind.RELU, Unary.Kind.LEAKY_RELU, Unary.Kind.SIGMOID,
            Unary.Kind.TANH);
}
