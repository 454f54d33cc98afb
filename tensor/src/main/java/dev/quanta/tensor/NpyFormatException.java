package dev.quanta.tensor;

/** A {@code .npy} file that is malformed, truncated or holds a type Quanta cannot represent. */
public class NpyFormatException extends QuantaException {
    public NpyFormatException(String message) {
        super(message);
    }
}
