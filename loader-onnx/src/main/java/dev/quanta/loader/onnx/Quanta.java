package dev.quanta.loader.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * Quanta's entry point: loads an ONNX model, checked as a whole (every unsupported node listed at
 * once), ready for {@link OnnxModel#newSession}.
 *
 * <pre>{@code
 * try (OnnxModel model = Quanta.load(Path.of("model.onnx"));
 *      Session session = model.newSession(SessionOptions.defaults().withThreads(2));
 *      TensorArena arena = TensorArena.ofConfined();
 *      Outputs outputs = session.run(Map.of("x", arena.fromFloats(new float[] {1, 2, 3}, 1, 3)))) {
 *     float[] y = outputs.get("y").toFloatArray();
 * }
 * }</pre>
 */
public final class Quanta {

    /** Protobuf reads no message of 2 GiB or more; larger weights belong in external data files. */
    private static final int MAX_MODEL_BYTES = Integer.MAX_VALUE - 8;

    private Quanta() {}

    /** Loads a model file; its external data is read from its folder, and never from outside it. */
    public static OnnxModel load(Path file) {
        return OnnxModel.load(file);
    }

    /** Loads a model from its bytes; it may not use external data. */
    public static OnnxModel load(byte[] model, String name) {
        return OnnxModel.load(model, name);
    }

    /** Loads a model from a stream, read to its end (not closed); it may not use external data. */
    public static OnnxModel load(InputStream model, String name) {
        byte[] bytes;
        try {
            bytes = model.readNBytes(MAX_MODEL_BYTES);
            if (model.read() != -1) {
                throw new OnnxException(name + " is 2 GiB or more; an ONNX model that large keeps its weights in"
                        + " external data files, so load it from its path");
            }
        } catch (IOException e) {
            throw new OnnxException("cannot read the model " + name + ": " + e.getMessage(), e);
        }
        return OnnxModel.load(bytes, name);
    }
}
