package dev.quanta.kernels.simd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.tensor.Layouts;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Typing a segment for C2 changes nothing else: every kind of segment comes back as it was, and kernels run on each. */
class SegmentsTest {

    @Test
    void offHeapHeapAndMappedSegmentsComeBackThemselvesAndKernelsRunOnEach(@TempDir Path folder) throws IOException {
        Path file = folder.resolve("values");
        Files.write(file, new byte[64]);
        try (Arena arena = Arena.ofConfined();
                FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment[] segments = {arena.allocate(64, 64), MemorySegment.ofArray(new float[16]),
                channel.map(FileChannel.MapMode.READ_WRITE, 0, 64, arena)};
            for (MemorySegment segment : segments) {
                assertThat(Segments.exact(segment)).isSameAs(segment);
                for (int i = 0; i < 16; i++) {
                    segment.set(Layouts.FLOAT, 4L * i, i - 8);
                }
                FloatRows.unary(FloatRows.Function.ABS, segment, 0, segment, 0, 16);
                for (int i = 0; i < 16; i++) {
                    assertThat(segment.get(Layouts.FLOAT, 4L * i)).as("%s, element %d", segment, i).isEqualTo(Math.abs(i - 8f));
                }
            }
        }
    }
}
