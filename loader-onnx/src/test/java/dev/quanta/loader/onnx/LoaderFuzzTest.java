package dev.quanta.loader.onnx;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.quanta.tensor.QuantaException;
import dev.quanta.tensor.TensorArena;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzz targets: whatever the bytes, loading gives a model or a typed Quanta exception, never another
 * exception, a crash or a hang. A plain test run replays the committed corpus
 * ({@code src/test/resources/.../LoaderFuzzTestInputs}); {@code JAZZER_FUZZ=1} fuzzes (see SECURITY.md).
 */
class LoaderFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void modelBytes(byte[] bytes) {
        try (OnnxModel ignored = OnnxModel.load(bytes, "fuzzed.onnx")) {
            // Loaded: translated, type-checked, shape-inferred, fused and folded without a stray exception.
        } catch (QuantaException refusal) {
            // A typed refusal naming what is wrong; one wrapping a defect (an internal error) is a finding.
            if (refusal instanceof OnnxModel.LoadDefect) {
                throw new AssertionError("a defect behind a typed error", refusal);
            }
        }
    }

    @FuzzTest(maxDuration = "5m")
    void tensorProtoFile(byte[] bytes) throws IOException {
        Path file = Files.createTempFile("fuzzed", ".pb");
        try (TensorArena arena = TensorArena.ofConfined()) {
            Files.write(file, bytes);
            OnnxTensors.readFile(file, arena);
        } catch (QuantaException expected) {
            // A typed refusal.
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
