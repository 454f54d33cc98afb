package dev.quanta.graph.ops;

/** Inputs (data, indices, updates): data with updates written where indices point (element-wise along {@code axis}, or by index tuples when {@code nd}), combined by {@code reduction}. */
public record Scatter(boolean nd, int axis, Reduction reduction) implements CoreOp {

    /** How a scattered update meets the element already there. */
    public enum Reduction { NONE, ADD, MUL, MAX, MIN }
}
