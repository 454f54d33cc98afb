package dev.quanta.graph.ops;

import dev.quanta.tensor.DType;

/**
 * The sequence operators. Inputs by kind: EMPTY (); CONSTRUCT (tensors...); INSERT (sequence,
 * tensor, position?); ERASE (sequence, position?); AT (sequence, position); LENGTH (sequence);
 * CONCAT (sequence) along {@code axis}, on a new axis when {@code flag}; SPLIT (x, split?) along
 * {@code axis}, keeping the axis when {@code flag}. Positions may be negative, from the end.
 */
public record SequenceOp(Kind kind, DType emptyType, int axis, boolean flag) implements CoreOp {

    /** The sequence operation, one per ONNX Sequence op. */
    public enum Kind { EMPTY, CONSTRUCT, INSERT, ERASE, AT, LENGTH, CONCAT, SPLIT }

    public static SequenceOp of(Kind kind) {
        return new SequenceOp(kind, null, 0, false);
    }

    @Override
    public String name() {
        return "Sequence" + kind;
    }
}
