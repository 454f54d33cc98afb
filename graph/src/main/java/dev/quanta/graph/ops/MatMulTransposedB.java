package dev.quanta.graph.ops;

/**
 * A·Bᵀ for a 2-D B [N, K] read as it lies: a Gemm's transB over constant weights (PyTorch's Linear
 * layers exported on 2-D inputs), whose transpose would otherwise be folded into a second copy of
 * the weights. A's leading dimensions carry through, as MatMul's do.
 */
public record MatMulTransposedB() implements CoreOp {
}
