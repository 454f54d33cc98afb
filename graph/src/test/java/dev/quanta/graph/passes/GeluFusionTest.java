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

/** GELU as exporters write it (five nodes), fused and not: the same bits. */
class GeluFusionTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    /** y = (x · (erf(x / √2) + 1)) · 0.5, with {@code divisor} for √2. */
    private Graph gelu(float divisor) {
        Value x = new Value("x", ValueType.of(DType.FLOAT, Shape.of(Dim.symbol("rows"), Dim.of(1001))));
        Value root = new Value("root", null);
        Value one = new Value("one", null);
        Value half = new Value("half", null);
        Value[] v = new Value[5];
        for (int i = 0; i < v.length; i++) {
            v[i] = new Value("v" + i, null);
        }
        return Graph.builder("gelu").input(x)
                .constant(root, arena.fromFloats(new float[] {divisor}))
                .constant(one, arena.fromFloats(new float[] {1}))
                .constant(half, arena.fromFloats(new float[] {0.5f}))
                .node(node("div", new Binary(Binary.Kind.DIV), List.of(x, root), v[0]))
                .node(node("erf", Unary.of(Unary.Kind.ERF), List.of(v[0]), v[1]))
                .node(node("plus_one", new Binary(Binary.Kind.ADD), List.of(v[1], one), v[2]))
                .node(node("times_x", new Binary(Binary.Kind.MUL), List.of(x, v[2]), v[3]))
                .node(node("half", new Binary(Binary.Kind.MUL), List.of(v[3], half), v[4]))
                .output(v[4]).build();
    }

    @Test
    void theFiveNodesBecomeOneGeluWithTheSameBits() {
        Graph graph = gelu((float) Math.sqrt(2));
        Graph fused = GeluFusion.apply(graph, TypeCheck.apply(graph));
        assertThat(fused.nodes()).extracting(node -> node.op().name()).containsExactly("GELU");
        SplittableRandom random = new SplittableRandom(0x6E1);
        float[] values = new float[7 * 1001];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * 3);
        }
        Tensor x = arena.fromFloats(values, 7, 1001);
        assertThat(run(fused, x)).isEqualTo(run(graph, x));
    }

    @Test
    void anotherDivisorIsNotGelu() {
        Graph graph = gelu(1.5f);
        assertThat(GeluFusion.apply(graph, TypeCheck.apply(graph))).isSameAs(graph);
    }

    private float[] run(Graph graph, Tensor x) {
        try (Session session = new Session(graph, new SessionOptions(2, false)); Outputs outputs = session.run(Map.of("x", x))) {
            return outputs.get("v4").toFloatArray();
        }
    }

    private static Node node(String name, CoreOp op, List<Value> inputs, Value output) {
        return new Node(name, op, inputs, List.of(output), "test");
    }
}
