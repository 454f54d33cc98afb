package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
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
    void unaryBinarySoftmaxAndLayerNormGiveTheSameBitsOnAnyNumberOfThreads() {
        Value x = new Value("x", null);
        Value erf = new Value("erf", null);
        Value exp = new Value("exp", null);
        Value softmax = new Value("softmax", null);
        Value scale = new Value("scale", null);
        Value bias = new Value("bias", null);
        Value normalized = new Value("normalized", null);
        Value column = new Value("column", null);
        Value sum = new Value("sum", null);
        Value product = new Value("product", null);
        SplittableRandom random = new SplittableRandom(0x9A7);
        float[] gamma = new float[517];
        float[] beta = new float[517];
        for (int i = 0; i < gamma.length; i++) {
            gamma[i] = (float) random.nextGaussian();
            beta[i] = (float) random.nextGaussian();
        }
        float[] columnValues = new float[301];
        for (int i = 0; i < columnValues.length; i++) {
            columnValues[i] = (float) random.nextGaussian();
        }
        Graph graph = Graph.builder("rows").input(x)
                .constant(column, arena.fromFloats(columnValues, 301, 1))
                .constant(scale, arena.fromFloats(gamma, 517))
                .constant(bias, arena.fromFloats(beta, 517))
                .node(new Node("erf", Unary.of(Unary.Kind.ERF), List.of(x), List.of(erf), "test"))
                .node(new Node("exp", Unary.of(Unary.Kind.EXP), List.of(x), List.of(exp), "test"))
                .node(new Node("softmax", new Softmax(-1, false, false), List.of(x), List.of(softmax), "test"))
                .node(new Node("norm", new Normalize(-1, 1e-5, false), List.of(x, scale, bias), List.of(normalized), "test"))
                // Broadcasts along rows and along columns: blocks of rows start mid-way through both.
                .node(new Node("add", new Binary(Binary.Kind.ADD), List.of(x, scale), List.of(sum), "test"))
                .node(new Node("mul", new Binary(Binary.Kind.MUL), List.of(column, x), List.of(product), "test"))
                .output(erf).output(exp).output(softmax).output(normalized).output(sum).output(product).build();
        // An odd size, so chunks end inside vectors' worth of elements and the tails differ by split.
        float[] values = new float[301 * 517];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * 3);
        }
        Tensor input = arena.fromFloats(values, 301, 517);
        Map<String, float[]> single = run(graph, input, 1);
        // The element-wise products also against their definition: a row left out by a block
        // would otherwise go unseen where a pooled buffer still held the previous run's values.
        float[] sums = new float[values.length];
        float[] products = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            sums[i] = values[i] + gamma[i % 517];
            products[i] = columnValues[i / 517] * values[i];
        }
        assertThat(single.get("sum")).isEqualTo(sums);
        assertThat(single.get("product")).isEqualTo(products);
        for (int threads : new int[] {2, 3, 5}) {
            Map<String, float[]> split = run(graph, input, threads);
            for (String name : single.keySet()) {
                assertThat(split.get(name)).as("%s on %d threads", name, threads).isEqualTo(single.get(name));
            }
            assertThat(split.get("sum")).as("sum on %d threads", threads).isEqualTo(sums);
            assertThat(split.get("product")).as("product on %d threads", threads).isEqualTo(products);
        }
    }

    private static Map<String, float[]> run(Graph graph, Tensor input, int threads) {
        try (Session session = new Session(graph, new SessionOptions(threads, false));
                Outputs outputs = session.run(Map.of("x", input))) {
            return Map.of("erf", outputs.get("erf").toFloatArray(), "exp", outputs.get("exp").toFloatArray(),
                    "softmax", outputs.get("softmax").toFloatArray(), "normalized", outputs.get("normalized").toFloatArray(),
                    "sum", outputs.get("sum").toFloatArray(), "product", outputs.get("product").toFloatArray());
        }
    }
}
