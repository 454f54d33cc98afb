package dev.quanta.graph.ops;

/** Input x (float): outputs y (uint8), scale and zero point chosen so that [min(x, 0), max(x, 0)] spans 0 to 255. */
public record DynamicQuantize() implements CoreOp {
}
