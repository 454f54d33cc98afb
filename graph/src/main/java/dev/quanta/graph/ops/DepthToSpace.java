package dev.quanta.graph.ops;

/** [N, C, H, W] to [N, C/b², H·b, W·b] (DCR order, or CRD with {@code columnRowDepth}); or the inverse, space to depth. */
public record DepthToSpace(int blockSize, boolean toSpace, boolean columnRowDepth) implements CoreOp {
}
