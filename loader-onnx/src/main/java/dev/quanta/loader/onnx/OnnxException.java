package dev.quanta.loader.onnx;

import dev.quanta.tensor.QuantaException;

/** A model file that cannot be read or run: malformed, unsupported, or asking for something unsafe. */
public class OnnxException extends QuantaException {
    public OnnxException(String message) {
        super(message);
    }

    public OnnxException(String message, Throwable cause) {
        super(message, cause);
    }
}
