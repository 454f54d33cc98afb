package dev.quanta.graph;

import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;

/**
 * The declared type of a value. A tensor has an element type and a shape (null where even the
 * rank is unknown); a sequence, the type of its tensors; an optional, the type it may hold.
 */
public record ValueType(Kind kind, DType dtype, Shape shape, ValueType element) {

    /** What a value holds: a tensor, a sequence of tensors, or an optional value. */
    public enum Kind { TENSOR, SEQUENCE, OPTIONAL }

    public static ValueType of(DType dtype, Shape shape) {
        return new ValueType(Kind.TENSOR, dtype, shape, null);
    }

    public static ValueType unknownShape(DType dtype) {
        return of(dtype, null);
    }

    public static ValueType sequenceOf(ValueType tensor) {
        return new ValueType(Kind.SEQUENCE, tensor.dtype(), null, tensor);
    }

    public static ValueType optionalOf(ValueType inner) {
        return new ValueType(Kind.OPTIONAL, inner.dtype(), null, inner);
    }

    public boolean hasShape() {
        return shape != null;
    }

    @Override
    public String toString() {
        return switch (kind) {
            case TENSOR -> dtype + (shape == null ? "[?...]" : shape.toString());
            case SEQUENCE -> "sequence<" + element + ">";
            case OPTIONAL -> "optional<" + element + ">";
        };
    }
}
