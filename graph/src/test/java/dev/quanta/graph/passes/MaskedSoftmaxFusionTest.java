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
import dev.quanta.graph.ops.Softmax;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Attention's Div → Add(mask) → Softmax, fused and not: the same bits. */
class MaskedSoftmaxFusionTest {

    private static final long[] SCORES = {2, 3, 7, 37};
    /** Scores enough that threads split the rows, blocks starting mid-way through the outer axes. */
    private static final long[] MANY_SCORES = {2, 3, 29, 301};
    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    /** softmax(scores / √8 + mask) along {@code axis}, the sum's operands in either order. */
    private Graph attention(long[] scoresShape, long[] maskShape, int axis, boolean maskFirst) {
        Value scores = new Value("scores", ValueType.of(DType.FLOAT, Shape.of(scoresShape)));
        Value mask = new Value("mask", ValueType.of(DType.FLOAT, Shape.of(maskShape)));
        Value root = new Value("root", null);
        Value quotient = new Value("quotient", null);
        Value sum = new Value("sum", null);
        Value probabilities = new Value("probabilities", null);
        return Graph.builder("attention").input(scores).input(mask)
                .constant(root, arena.fromFloats(new float[] {(float) Math.sqrt(8)}))
                .node(new Node("div", new Binary(Binary.Kind.DIV), List.of(scores, root), List.of(quotient), "test"))
                .node(new Node("add", new Binary(Binary.Kind.ADD), maskFirst ? List.of(mask, quotient) : List.of(quotient, mask),
                        List.of(sum), "test"))
                .node(new Node("softmax", new Softmax(axis, false, false), List.of(sum), List.of(probabilities), "test"))
                .output(probabilities).build();
    }

    private static Graph fuse(Graph graph) {
        return MaskedSoftmaxFusion.apply(graph, ShapeInference.apply(graph), TypeCheck.apply(graph));
    }

    private Tensor random(long seed, long... sizes) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[Math.toIntExact(Shape.of(sizes).elementCount())];
        for (int i = 0; i < values.length; i++) {
            values[i] = i % 11 == 0 ? -10_000f : (float) (random.nextGaussian() * 4); // masked positions too
        }
        return arena.fromFloats(values, sizes);
    }

    @Test
    void divAddAndSoftmaxBecomeOneNodeWithTheSameBits() {
        // The last mask widens the scores, as Add allows.
        for (long[] scoresShape : new long[][] {SCORES, MANY_SCORES}) {
            long rows = scoresShape[2];
            long columns = scoresShape[3];
            for (long[] maskShape : new long[][] {{2, 1, 1, columns}, {rows, columns}, {1}, scoresShape, {4, 1, 1, 1, columns},
                    {2, 3, 1, columns}, {1, 3, rows, 1}}) {
                for (boolean maskFirst : new boolean[] {false, true}) {
                    Graph graph = attention(scoresShape, maskShape, -1, maskFirst);
                    Graph fused = fuse(graph);
                    assertThat(fused.nodes()).extracting(node -> node.op().name()).containsExactly("MaskedSoftmax");
                    Map<String, Tensor> feeds = Map.of("scores", random(1, scoresShape), "mask", random(2, maskShape));
                    assertThat(run(fused, feeds)).as("scores %s, mask %s", Arrays.toString(scoresShape),
                            Arrays.toString(maskShape)).isEqualTo(run(graph, feeds));
                }
            }
        }
    }

    @Test
    void aSoftmaxAlongAnotherAxisStaysAsItIs() {
        Graph otherAxis = attention(SCORES, new long[] {2, 1, 1, 37}, 2, false);
        assertThat(fuse(otherAxis)).isSameAs(otherAxis);
    }

    private float[] run(Graph graph, Map<String, Tensor> feeds) {
        try (Session session = new Session(graph, new SessionOptions(2, false)); Outputs outputs = session.run(feeds)) {
            return outputs.get("probabilities").toFloatArray();
        }
    }
}
