package dev.quanta.graph.ops;

/** Inputs (data, repeats int64): data repeated along each axis. */
public record Tile() implements CoreOp {
}
