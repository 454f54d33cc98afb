package dev.quanta.graph.ops;

/** An element-wise function of two tensors, with numpy broadcasting. */
public record Binary(Kind kind) implements CoreOp {

    /** The element-wise operation. */
    public enum Kind {
        ADD, SUB, MUL, DIV, POW,
        /** Integer remainder with the sign of the divisor (Python's %). */
        MOD,
        /** Remainder with the sign of the dividend (C's fmod). */
        FMOD,
        MAX, MIN,
        /** {@code x < 0 ? slope·x : x}, slope broadcast against x */
        PRELU,
        EQUAL, LESS, LESS_OR_EQUAL, GREATER, GREATER_OR_EQUAL,
        AND, OR, XOR,
        BIT_SHIFT_LEFT, BIT_SHIFT_RIGHT, BIT_AND, BIT_OR, BIT_XOR;

        /** Whether the result is bool whatever the operands are. */
        public boolean isComparison() {
            return this == EQUAL || this == LESS || this == LESS_OR_EQUAL || this == GREATER || this == GREATER_OR_EQUAL;
        }
    }

    @Override
    public String name() {
        return kind.name();
    }
}
