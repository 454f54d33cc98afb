package dev.quanta.graph.ops;

/** Inputs (x, pads int64 [2·axes], value?, axes?): borders added (or removed, where negative) by {@code mode}. */
public record Pad(Mode mode) implements CoreOp {

    /** How the padding is filled, as ONNX's Pad modes. */
    public enum Mode { CONSTANT, REFLECT, EDGE, WRAP }
}
