package dev.quanta.graph.ops;

/** numpy matmul: 1-D operands promoted and demoted, leading dimensions broadcast. */
public record MatMul() implements CoreOp {
}
