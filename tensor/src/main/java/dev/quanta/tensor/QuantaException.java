package dev.quanta.tensor;

/** The root of every error Quanta reports about a model, a tensor or its input. */
public class QuantaException extends RuntimeException {
    public QuantaException(String message) {
        super(message);
    }

    public QuantaException(String message, Throwable cause) {
        super(message, cause);
    }
}
