package dev.quanta.graph;

import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;

/** The declared type of a value: an element type and a shape, which is null where even the rank is unknown. */
public record ValueType(DType dtype, Shape shape) {

    public static ValueType of(DType dtype, Shape shape) {
        return new ValueType(dtype, shape);
    }

    public static ValueType unknownShape(DType dtype) {
        return new ValueType(dtype, null);
    }

    public boolean hasShape() {
        return shape != null;
    }

    @Override
    public String toString() {
        return dtype + (shape == null ? "[?...]" : shape.toString());
    }
}
