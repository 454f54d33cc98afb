package dev.quanta.graph.ops;

/**
 * Inputs (X [N, C, D1 … Dr], grid [N, O1 … Ok, r]): X sampled at the grid's normalized coordinates
 * (−1 … 1, the last spatial axis first), by {@code mode}, reading outside X as {@code padding}
 * says; output [N, C, O1 … Ok]. With {@code alignCorners} −1 and 1 are the corner pixels' centres,
 * else their outer edges.
 */
public record GridSample(Mode mode, Padding padding, boolean alignCorners) implements CoreOp {

    /** How a sample is interpolated. */
    public enum Mode { NEAREST, LINEAR, CUBIC }

    /** What a read outside X gives. */
    public enum Padding { ZEROS, BORDER, REFLECTION }
}
