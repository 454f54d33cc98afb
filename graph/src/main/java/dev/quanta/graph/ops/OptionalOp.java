package dev.quanta.graph.ops;

/** WRAP (value?): an optional, empty without input; HAS_ELEMENT (value?): bool; GET_ELEMENT (value): its content. */
public record OptionalOp(Kind kind) implements CoreOp {

    /** Wrap a value, ask whether one is present, or take it out. */
    public enum Kind { WRAP, HAS_ELEMENT, GET_ELEMENT }

    @Override
    public String name() {
        return "Optional" + kind;
    }
}
