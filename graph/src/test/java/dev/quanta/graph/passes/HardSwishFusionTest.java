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

/**
 * Hard-swish as paddle2onnx writes it (Add 3, Clip as Max 0 and Min 6, Mul x, Div 6), fused and
 * not: the same bits, NaN, infinities, signed zeros and the clip's corners included; other
 * constants, or a value of the chain read elsewhere, leave it alone.
 */
class HardSwishFusionTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    /** y = x · min(max(x + addend, 0), 6) / 6, the Add's operands in either order; {@code sideOutput}: the Max is an output too. */
    private Graph chain(float addend, boolean constantFirst, boolean sideOutput) {
        Value x = new Value("x", ValueType.of(DType.FLOAT, Shape.of(Dim.symbol("rows"), Dim.of(1001))));
        Value three = new Value("three", null);
        Value zero = new Value("zero", null);
        Value six = new Value("six", null);
        Value[] v = new Value[5];
        for (int i = 0; i < v.length; i++) {
            v[i] = new Value("v" + i, null);
        }
        Graph.Builder builder = Graph.builder("hard_swish").input(x)
                .constant(three, arena.fromFloats(new float[] {addend}))
                .constant(zero, arena.fromFloats(new float[] {0}))
                .constant(six, arena.fromFloats(new float[] {6}))
                .node(node("add", new Binary(Binary.Kind.ADD), constantFirst ? List.of(three, x) : List.of(x, three), v[0]))
                .node(node("max", new Binary(Binary.Kind.MAX), List.of(v[0], zero), v[1]))
                .node(node("min", new Binary(Binary.Kind.MIN), List.of(v[1], six), v[2]))
                .node(node("mul", new Binary(Binary.Kind.MUL), List.of(x, v[2]), v[3]))
                .node(node("div", new Binary(Binary.Kind.DIV), List.of(v[3], six), v[4]))
                .output(v[4]);
        return (sideOutput ? builder.output(v[1]) : builder).build();
    }

    @Test
    void theFiveNodesBecomeOneWithTheSameBits() {
        for (boolean constantFirst : new boolean[] {false, true}) {
            Graph graph = chain(3, constantFirst, false);
            Graph fused = HardSwishFusion.apply(graph, TypeCheck.apply(graph));
            assertThat(fused.nodes()).extracting(node -> node.op().name()).containsExactly("HARD_SWISH_CHAIN");
            SplittableRandom random = new SplittableRandom(0x5A1);
            float[] values = new float[7 * 1001];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (random.nextGaussian() * 4);
            }
            float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, -3f, 3f, -3.0000002f,
                2.9999998f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, 1e-40f};
            System.arraycopy(special, 0, values, 0, special.length);
            System.arraycopy(special, 0, values, values.length - special.length, special.length);
            Tensor x = arena.fromFloats(values, 7, 1001);
            assertThat(run(fused, x)).isEqualTo(run(graph, x));
        }
    }

    @Test
    void otherConstantsOrAnIntermediateReadElsewhereAreLeftAlone() {
        Graph otherAddend = chain(2.5f, false, false);
        assertThat(HardSwishFusion.apply(otherAddend, TypeCheck.apply(otherAddend))).isSameAs(otherAddend);
        Graph sideOutput = chain(3, false, true);
        assertThat(HardSwishFusion.apply(sideOutput, TypeCheck.apply(sideOutput))).isSameAs(sideOutput);
    }

    /** The output's bits. */
    private int[] run(Graph graph, Tensor x) {
        try (Session session = new Session(graph, new SessionOptions(2, false)); Outputs outputs = session.run(Map.of("x", x))) {
            float[] values = outputs.get("v4").toFloatArray();
            int[] bits = new int[values.length];
            for (int i = 0; i < values.length; i++) {
                bits[i] = Float.floatToRawIntBits(values[i]);
            }
            return bits;
        }
    }

    private static Node node(String name, CoreOp op, List<Value> inputs, Value output) {
        return new Node(name, op, inputs, List.of(output), "test");
    }
}
