package dev.quanta.tensor;

/** A shape that is invalid on its own (negative or overflowing sizes) or incompatible with another. */
public class ShapeException extends QuantaException {
    public ShapeException(String message) {
        super(message);
    }
}
