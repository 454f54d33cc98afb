package dev.quanta.graph.passes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Identity;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.MatMulTransposedB;
import dev.quanta.graph.ops.Transpose;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * MatMul(x, Transpose(W)) over a 2-D float constant W becomes x·Wᵀ reading W as it lies, with the
 * outputs of the pair; a transpose read elsewhere, a fed W, one of another type or rank, or a
 * permutation that is not the swap of two axes, stays as it is.
 */
class TransposedWeightsTest {

    private final TensorArena arena = TensorArena.ofShared();
    private final SplittableRandom random = new SplittableRandom(0x7EA5L);

    @AfterEach
    void close() {
        arena.close();
    }

    /** x [3, 5] · Transpose(w [4, 5]); {@code alsoRead}: the transpose is an output too; {@code fed}: w is an input too. */
    private Graph graph(Tensor w, int[] perm, boolean alsoRead, boolean fed) {
        Value x = new Value("x", null);
        Value weights = new Value("w", null);
        Value transposed = new Value("transposed", null);
        Value y = new Value("y", null);
        Graph.Builder builder = Graph.builder("linear").input(x).constant(weights, w);
        if (fed) {
            builder.input(weights);
        }
        builder.node(new Node("transpose", new Transpose(perm), List.of(weights), List.of(transposed), "test transpose"))
                .node(new Node("matmul", new MatMul(), List.of(x, transposed), List.of(y), "test matmul")).output(y);
        if (alsoRead) {
            Value copy = new Value("copy", null);
            builder.node(new Node("copy", new Identity(), List.of(transposed), List.of(copy), "test copy")).output(copy);
        }
        return builder.build();
    }

    private Tensor floats(long... sizes) {
        int count = Math.toIntExact(java.util.Arrays.stream(sizes).reduce(1, Math::multiplyExact));
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return arena.fromFloats(values, sizes);
    }

    @Test
    void theTransposeOfConstantWeightsIsReadWhereTheyLie() {
        Tensor x = floats(3, 5);
        for (int[] perm : new int[][] {null, {1, 0}}) {
            Graph graph = graph(floats(4, 5), perm, false, false);
            Graph rewritten = TransposedWeights.apply(graph);
            assertThat(rewritten.nodes()).singleElement().satisfies(node -> {
                assertThat(node.op()).isInstanceOf(MatMulTransposedB.class);
                assertThat(node.name()).isEqualTo("matmul");
                assertThat(node.inputs()).extracting(Value::name).containsExactly("x", "w");
                assertThat(node.outputs()).extracting(Value::name).containsExactly("y");
            });
            float[] expected = run(graph, x);
            float[] actual = run(rewritten, x);
            for (int i = 0; i < expected.length; i++) {
                assertThat(actual[i]).as("y[%d]", i).isCloseTo(expected[i], Offset.offset(1e-5f * (1 + Math.abs(expected[i]))));
            }
        }
    }

    @Test
    void otherTransposesStayAsTheyAre() {
        List<Graph> untouched = List.of(graph(floats(4, 5), null, true, false), graph(floats(4, 5), null, false, true),
                graph(arena.fromDoubles(new double[20], 4, 5), null, false, false),
                graph(floats(1, 4, 5), new int[] {0, 2, 1}, false, false), graph(floats(4, 5), new int[] {0, 1}, false, false));
        for (Graph graph : untouched) {
            assertThat(TransposedWeights.apply(graph)).isSameAs(graph);
        }
    }

    private static float[] run(Graph graph, Tensor x) {
        try (Session session = new Session(graph, new SessionOptions(1, false)); Outputs outputs = session.run(Map.of("x", x))) {
            return outputs.get("y").toFloatArray();
        }
    }
}
