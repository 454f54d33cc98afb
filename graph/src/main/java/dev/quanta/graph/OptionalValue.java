package dev.quanta.graph;

/** An ONNX optional: a tensor or sequence, or nothing ({@code value} null). */
public record OptionalValue(Object value) {

    public static final OptionalValue EMPTY = new OptionalValue(null);

    public OptionalValue {
        if (value != null && !(value instanceof dev.quanta.tensor.Tensor) && !(value instanceof TensorSequence)) {
            throw new GraphException("an optional holds a tensor or a sequence, not " + value);
        }
    }

    public boolean isPresent() {
        return value != null;
    }

    @Override
    public String toString() {
        return value == null ? "optional(empty)" : "optional(" + value + ")";
    }
}
