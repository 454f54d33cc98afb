package dev.quanta.graph.passes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ValueType;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.CoreOp;
import dev.quanta.graph.ops.Reduce;
import dev.quanta.graph.ops.Unary;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Dim;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The nine-node layer norm of exported transformers, fused and not. */
class LayerNormFusionTest {

    private static final int WIDTH = 37;
    private final TensorArena arena = TensorArena.ofShared();
    private final SplittableRandom random = new SplittableRandom(0x1A7E);

    @AfterEach
    void close() {
        arena.close();
    }

    /** y = (x − mean)/sqrt(mean((x − mean)²) + ε)·γ + β over the last axis; {@code leak} also outputs x − mean. */
    private Graph layerNorm(boolean leak) {
        Value x = new Value("x", ValueType.of(DType.FLOAT, Shape.of(Dim.symbol("batch"), Dim.of(5), Dim.of(WIDTH))));
        Value axes = new Value("axes", null);
        Value two = new Value("two", null);
        Value epsilon = new Value("epsilon", null);
        Value gamma = new Value("gamma", null);
        Value beta = new Value("beta", null);
        Value[] v = new Value[9];
        for (int i = 0; i < v.length; i++) {
            v[i] = new Value("v" + i, null);
        }
        Graph.Builder builder = Graph.builder("layer_norm").input(x)
                .constant(axes, arena.fromLongs(DType.INT64, new long[] {-1}, 1))
                .constant(two, arena.fromFloats(new float[] {2}))
                .constant(epsilon, arena.fromFloats(new float[] {1e-12f}))
                .constant(gamma, floats(WIDTH, WIDTH)).constant(beta, floats(WIDTH, WIDTH))
                .node(node("mean", new Reduce(Reduce.Kind.MEAN, true, false), List.of(x, axes), v[0]))
                .node(node("sub", new Binary(Binary.Kind.SUB), List.of(x, v[0]), v[1]))
                .node(node("pow", new Binary(Binary.Kind.POW), List.of(v[1], two), v[2]))
                .node(node("variance", new Reduce(Reduce.Kind.MEAN, true, false), List.of(v[2], axes), v[3]))
                .node(node("add_epsilon", new Binary(Binary.Kind.ADD), List.of(v[3], epsilon), v[4]))
                .node(node("sqrt", Unary.of(Unary.Kind.SQRT), List.of(v[4]), v[5]))
                .node(node("div", new Binary(Binary.Kind.DIV), List.of(v[1], v[5]), v[6]))
                .node(node("scale", new Binary(Binary.Kind.MUL), List.of(v[6], gamma), v[7]))
                .node(node("shift", new Binary(Binary.Kind.ADD), List.of(beta, v[7]), v[8]))
                .output(v[8]);
        if (leak) {
            builder.output(v[1]);
        }
        return builder.build();
    }

    @Test
    void theNineNodesBecomeOneNormalizeWithTheSameOutputs() {
        Graph graph = layerNorm(false);
        Graph fused = LayerNormFusion.apply(graph, ShapeInference.apply(graph));
        assertThat(fused.nodes()).extracting(node -> node.op().name()).containsExactly("Normalize");
        Tensor x = floats(3 * 5 * WIDTH, 3, 5, WIDTH);
        float[] expected = run(graph, x);
        float[] actual = run(fused, x);
        for (int i = 0; i < expected.length; i++) {
            assertThat(actual[i]).as("output %d", i).isCloseTo(expected[i],
                    org.assertj.core.data.Offset.offset(1e-5f * (1 + Math.abs(expected[i]))));
        }
    }

    @Test
    void aValueReadOutsideTheChainKeepsItUnfused() {
        Graph graph = layerNorm(true);
        assertThat(LayerNormFusion.apply(graph, ShapeInference.apply(graph))).isSameAs(graph);
    }

    private float[] run(Graph graph, Tensor x) {
        try (Session session = new Session(graph, SessionOptions.defaults()); Outputs outputs = session.run(Map.of("x", x))) {
            return outputs.get("v8").toFloatArray();
        }
    }

    private static Node node(String name, CoreOp op, List<Value> inputs, Value output) {
        return new Node(name, op, inputs, List.of(output), "test");
    }

    private Tensor floats(int count, long... sizes) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (random.nextGaussian() * 4 + 1);
        }
        return arena.fromFloats(values, sizes);
    }
}
