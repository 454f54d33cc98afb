package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Conv;
import dev.quanta.graph.ops.Einsum;
import dev.quanta.graph.ops.Window;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Runs leave no memory behind: kernels that take a view of a constant (a 3-D convolution's filters
 * at one depth tap, an Einsum operand permuted) copy it into the run's memory, not the model's,
 * which lives as long as the model (R3D-18 had kept 68 MiB more a run).
 */
class RunMemoryTest {

    private final TensorArena arena = TensorArena.ofShared();
    private final SplittableRandom random = new SplittableRandom(0x3E3A);

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void aThreeDimensionalConvolutionKeepsNothingOfItsRuns() {
        Value x = new Value("x", null);
        Value w = new Value("w", null);
        Value y = new Value("y", null);
        Window window = new Window(null, new long[] {1, 1, 1}, new long[] {1, 1, 1}, new long[] {1, 1, 1, 1, 1, 1},
                Window.AutoPad.NOTSET, false);
        Graph graph = Graph.builder("conv3d").input(x).constant(w, floats(3, 2, 3, 3, 3))
                .node(new Node("conv", new Conv(window, 1), List.of(x, w), List.of(y), "test")).output(y).build();
        assertRunsKeepNothing(graph, Map.of("x", floats(1, 2, 4, 6, 6)));
    }

    @Test
    void anEinsumOfAConstantOperandKeepsNothingOfItsRuns() {
        Value a = new Value("a", null);
        Value b = new Value("b", null);
        Value y = new Value("y", null);
        Graph graph = Graph.builder("einsum").input(a).constant(b, floats(5, 7))
                .node(new Node("einsum", new Einsum("ij,kj->ik"), List.of(a, b), List.of(y), "test")).output(y).build();
        assertRunsKeepNothing(graph, Map.of("a", floats(4, 7)));
    }

    /** After the first run, whose kernels may keep what they pack for the next, the live off-heap bytes stay put. */
    private static void assertRunsKeepNothing(Graph graph, Map<String, Tensor> feeds) {
        try (Session session = new Session(graph, new SessionOptions(2, false))) {
            session.run(feeds).close();
            long live = TensorArena.liveBytes();
            for (int run = 0; run < 3; run++) {
                try (Outputs outputs = session.run(feeds)) {
                    assertThat(outputs.get("y").elementCount()).isPositive();
                }
                assertThat(TensorArena.liveBytes()).as("live bytes after run %d", run + 2).isEqualTo(live);
            }
        }
    }

    private Tensor floats(long... sizes) {
        float[] values = new float[Math.toIntExact(java.util.Arrays.stream(sizes).reduce(1, Math::multiplyExact))];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return arena.fromFloats(values, sizes);
    }
}
