package dev.quanta.graph.ops;

/** condition ? x : y, all three broadcast together. */
public record Where() implements CoreOp {
}
