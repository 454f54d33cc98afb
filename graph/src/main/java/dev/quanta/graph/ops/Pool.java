package dev.quanta.graph.ops;

/** Max, average or Lp pooling over windows of the spatial axes; max pooling also yields int64 flat indices (column-major within a plane when {@code columnMajorIndices}). */
public record Pool(Kind kind, Window window, boolean countIncludePad, double p, boolean columnMajorIndices) implements CoreOp {

    /** The pooling function. */
    public enum Kind { MAX, AVERAGE, LP }
}
