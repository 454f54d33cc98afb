package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Normalize;
import dev.quanta.graph.ops.Softmax;
import dev.quanta.graph.ops.Unary;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Element-wise and row kernels split across threads give the single thread's bits, whatever the split. */
class ParallelRowsTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void unarySoftmaxAndLayerNormGiveTheSameBitsOnAnyNumberOfThreads() {
        Value x = new Value("x", null);
        Value erf = new Value("erf", null);
        Value exp = new Value("exp", null);
        Value softmax = new Value("softmax", null);
        Value scale = new Value("scale", null);
        Value bias = new Value("bias", null);
        Value normalized = new Value("normalized", null);
        SplittableRandom random = new SplittableRandom(0x9A7);
        float[] gamma = new float[517];
        float[] beta = new float[517];
        for (int i = 0; i < gamma.length; i++) {
            gamma[i] = (float) random.nextGaussian();
            beta[i] = (float) random.nextGaussian();
        }
        Graph graph = Graph.builder("rows").input(x)
                .constant(scale, arena.fromFloats(gamma, 517))
                .constant(bias, arena.fromFloats(beta, 517))
                .node(new Node("erf", Unary.of(Unary.Kind.ERF), List.of(x), List.of(erf), "test"))
                .node(new Node("exp", Unary.of(Unary.Kind.EXP), List.of(x), List.of(exp), "test"))
                .node(new Node("softmax", new Softmax(-1, false, false), List.of(x), List.of(softmax), "test"))
                .node(new Node("norm", new Normalize(-1, 1e-5, false), List.of(x, scale, bias), List.of(normalized), "test"))
                .output(erf).output(exp).output(softmax).output(normalized).build();
        // An odd size, so chunks end inside vectors' worth of elements and the tails differ by split.
        float[] values = new float[301 * 517];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * 3);
        }
        Tensor input = arena.fromFloats(values, 301, 517);
        Map<String, float[]> single = run(graph, input, 1);
        for (int threads : new int[] {2, 3, 5}) {
            Map<String, float[]> split = run(graph, input, threads);
            for (String name : single.keySet()) {
                assertThat(split.get(name)).as("%s on %d threads", name, threads).isEqualTo(single.get(name));
            }
        }
    }

    private static Map<String, float[]> run(Graph graph, Tensor input, int threads) {
        try (Session session = new Session(graph, new SessionOptions(threads, false));
                Outputs outputs = session.run(Map.of("x", input))) {
            return Map.of("erf", outputs.get("erf").toFloatArray(), "exp", outputs.get("exp").toFloatArray(),
                    "softmax", outputs.get("softmax").toFloatArray(), "normalized", outputs.get("normalized").toFloatArray());
        }
    }
}
