package dev.quanta.runner;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The models the build unpacks beside the jar ({@code runner/target/models}), for the demo and {@code embed}. */
final class BundledModels {

    static final String INT8_MINILM = "all-minilm-l6-v2-q";
    static final String FLOAT32_MINILM = "all-minilm-l6-v2";

    private BundledModels() {}

    /** The folder of a bundled model, or an error saying how to get it. */
    static Path folder(String name) {
        Path root = root();
        Path folder = root.resolve(name);
        if (!Files.isRegularFile(folder.resolve("model.onnx"))) {
            throw new IllegalStateException("the bundled model " + name + " is not in " + root
                    + "; the build unpacks it there (./quanta build), or pass --model DIR");
        }
        return folder;
    }

    /** {@code models} beside the jar or the classes folder this class was loaded from. */
    private static Path root() {
        try {
            Path location = Path.of(BundledModels.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return location.toAbsolutePath().getParent().resolve("models");
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            throw new IllegalStateException("cannot tell where quanta.jar is, so not where its models are;"
                    + " pass --model DIR", e);
        }
    }
}
