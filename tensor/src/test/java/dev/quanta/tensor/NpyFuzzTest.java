package dev.quanta.tensor;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzz target: whatever a {@code .npy} file holds, reading it gives a tensor or a typed Quanta
 * exception, and allocates nothing it did not check against the file first. A plain test run replays
 * the committed corpus; {@code JAZZER_FUZZ=1} fuzzes (see SECURITY.md).
 */
class NpyFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void npyFile(byte[] bytes) throws IOException {
        Path file = Files.createTempFile("fuzzed", ".npy");
        try (TensorArena arena = TensorArena.ofConfined()) {
            Files.write(file, bytes);
            Tensor tensor = Npy.read(file, arena);
            // A Fortran-order or big-endian file may take one converted copy besides its own bytes.
            if (arena.allocatedBytes() > 2L * (bytes.length + TensorArena.ALIGNMENT)) {
                throw new AssertionError("read " + bytes.length + " bytes into " + arena.allocatedBytes() + " bytes: "
                        + tensor);
            }
        } catch (QuantaException expected) {
            // A typed refusal.
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
