package dev.quanta.conformance;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the ONNX backend test data is: {@code shared/onnx-tests} beside the repository, or -Dquanta.onnx.tests. */
public final class OnnxTestData {

    private OnnxTestData() {}

    /** The folder holding {@code node/} and {@code simple/}, found from the working folder upwards. */
    public static Path locate() {
        String configured = System.getProperty("quanta.onnx.tests");
        if (configured != null) {
            return Path.of(configured);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve("onnx-tests");
            if (Files.isDirectory(candidate.resolve("node"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("the ONNX backend test data (shared/onnx-tests beside the repository) was not"
                + " found; set -Dquanta.onnx.tests=DIR");
    }
}
