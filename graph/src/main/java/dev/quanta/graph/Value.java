package dev.quanta.graph;

/** A named edge of the graph: a graph input, a constant, or the output of one node. */
public final class Value {
    private final String name;
    private final ValueType type;

    public Value(String name, ValueType type) {
        this.name = name;
        this.type = type;
    }

    public String name() {
        return name;
    }

    /** The declared type, or null where the model declares none. */
    public ValueType type() {
        return type;
    }

    @Override
    public String toString() {
        return name + (type == null ? "" : ": " + type);
    }
}
