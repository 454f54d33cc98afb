package dev.quanta.tensor;

/** An allocation refused because it would take an arena past its memory limit, or the machine past its own. */
public class MemoryLimitExceededException extends QuantaException {
    public MemoryLimitExceededException(String message) {
        super(message);
    }

    public MemoryLimitExceededException(String message, Throwable cause) {
        super(message, cause);
    }
}
