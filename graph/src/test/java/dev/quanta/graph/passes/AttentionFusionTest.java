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
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.Reshape;
import dev.quanta.graph.ops.Softmax;
import dev.quanta.graph.ops.Transpose;
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

/** Attention's MatMul → Div → Add(mask) → Softmax → MatMul, fused into one node and not: the same bits. */
class AttentionFusionTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    /**
     * softmax(q·Transpose(k) / √8 + mask)·v, with q [.., M, D], k [.., N, D], v [.., N, E], and the
     * probabilities also a graph output when {@code probabilitiesOut}.
     */
    private Graph attention(long[] q, long[] k, long[] v, long[] mask, boolean probabilitiesOut) {
        return attention(q, k, v, mask, probabilitiesOut, false);
    }

    /**
     * With {@code headsJoined}, q, k and v of rank 4 ([batch, heads, .., ..]), the context then
     * transposed to [batch, M, heads, E] and reshaped to [batch, M, heads·E], as exporters write it.
     */
    private Graph attention(long[] q, long[] k, long[] v, long[] mask, boolean probabilitiesOut, boolean headsJoined) {
        Value queries = new Value("q", ValueType.of(DType.FLOAT, Shape.of(q)));
        Value keys = new Value("k", ValueType.of(DType.FLOAT, Shape.of(k)));
        Value values = new Value("v", ValueType.of(DType.FLOAT, Shape.of(v)));
        Value masks = new Value("mask", ValueType.of(DType.FLOAT, Shape.of(mask)));
        Value root = new Value("root", null);
        Value transposed = new Value("transposed", null);
        Value scores = new Value("scores", null);
        Value quotient = new Value("quotient", null);
        Value sum = new Value("sum", null);
        Value probabilities = new Value("probabilities", null);
        Value out = new Value("out", null);
        int rank = k.length;
        int[] perm = new int[rank];
        Arrays.setAll(perm, i -> i);
        perm[rank - 2] = rank - 1;
        perm[rank - 1] = rank - 2;
        Graph.Builder builder = Graph.builder("attention").input(queries).input(keys).input(values).input(masks)
                .constant(root, arena.fromFloats(new float[] {(float) Math.sqrt(8)}))
                .node(new Node("transpose", new Transpose(perm), List.of(keys), List.of(transposed), "test"))
                .node(new Node("scores", new MatMul(), List.of(queries, transposed), List.of(scores), "test"))
                .node(new Node("div", new Binary(Binary.Kind.DIV), List.of(scores, root), List.of(quotient), "test"))
                .node(new Node("add", new Binary(Binary.Kind.ADD), List.of(quotient, masks), List.of(sum), "test"))
                .node(new Node("softmax", new Softmax(-1, false, false), List.of(sum), List.of(probabilities), "test"))
                .output(out);
        if (headsJoined) {
            Value context = new Value("context", null);
            Value joined = new Value("joined", null);
            Value sizes = new Value("sizes", null);
            builder.constant(sizes, arena.fromLongs(DType.INT64, new long[] {q[0], q[2], q[1] * v[3]}, 3))
                    .node(new Node("context", new MatMul(), List.of(probabilities, values), List.of(context), "test"))
                    .node(new Node("join", new Transpose(new int[] {0, 2, 1, 3}), List.of(context), List.of(joined), "test"))
                    .node(new Node("reshape", new Reshape(false), List.of(joined, sizes), List.of(out), "test"));
        } else {
            builder.node(new Node("context", new MatMul(), List.of(probabilities, values), List.of(out), "test"));
        }
        if (probabilitiesOut) {
            builder.output(probabilities);
        }
        return builder.build();
    }

    private static Graph fuse(Graph graph) {
        Map<Value, Shape> shapes = ShapeInference.apply(graph);
        Map<Value, DType> types = TypeCheck.apply(graph);
        return AttentionFusion.apply(MaskedSoftmaxFusion.apply(graph, shapes, types), shapes, types);
    }

    @Test
    void theFusedNodeGivesTheBitsOfTheSeparateOnes() {
        SplittableRandom random = new SplittableRandom(0xA77E);
        for (int trial = 0; trial < 30; trial++) {
            long batch = random.nextInt(1, 3);
            long heads = random.nextInt(1, 5);
            // Rows below the packed kernel's four too, and depths past a packed slice.
            long m = trial % 6 == 0 ? random.nextInt(1, 4) : random.nextInt(4, 40);
            // Keys past a packed slice too, the depth of the product with the values.
            long n = trial % 5 == 2 ? random.nextInt(250, 300) : random.nextInt(1, 50);
            long depth = trial % 7 == 0 ? random.nextInt(250, 300) : random.nextInt(1, 40);
            long width = random.nextInt(1, 40);
            long[][] masks = {{batch, 1, 1, n}, {m, n}, {1}, {batch, heads, m, n}, {1, heads, m, 1}};
            long[] mask = masks[trial % masks.length];
            long[] q = {batch, heads, m, depth};
            long[] k = {batch, heads, n, depth};
            long[] v = {batch, heads, n, width};
            boolean headsJoined = trial % 2 == 1;
            Graph graph = attention(q, k, v, mask, false, headsJoined);
            Graph fused = fuse(graph);
            if (headsJoined) {
                assertThat(fused.nodes()).extracting(node -> node.op().name())
                        .containsExactly("Transpose", "Attention", "Transpose", "Reshape");
            } else {
                assertThat(fused.nodes()).extracting(node -> node.op().name()).containsExactly("Transpose", "Attention");
            }
            Map<String, Tensor> feeds = Map.of("q", random(random, q), "k", random(random, k), "v", random(random, v),
                    "mask", random(random, mask));
            String label = String.format("trial %d q %s k %s v %s mask %s, heads joined %b", trial, Arrays.toString(q),
                    Arrays.toString(k), Arrays.toString(v), Arrays.toString(mask), headsJoined);
            for (int threads : new int[] {1, 2, 3}) {
                assertThat(run(fused, feeds, threads)).as("%s, %d threads", label, threads).isEqualTo(run(graph, feeds, 1));
            }
        }
    }

    /** Leading axes that broadcast instead of matching, and a mask widening the scores: the separate steps, fused or not. */
    @Test
    void operandsOutsideTheKernelsFormRunAsTheSeparateSteps() {
        SplittableRandom random = new SplittableRandom(0xA77F);
        long[][][] cases = {
            {{2, 3, 7, 8}, {1, 3, 5, 8}, {2, 3, 5, 6}, {2, 3, 7, 5}},
            {{1, 3, 7, 8}, {1, 3, 5, 8}, {1, 3, 5, 6}, {2, 3, 7, 5}},
        };
        for (long[][] shapes : cases) {
            Graph graph = attention(shapes[0], shapes[1], shapes[2], shapes[3], false);
            Graph fused = fuse(graph);
            assertThat(fused.nodes()).extracting(node -> node.op().name()).contains("Attention");
            Map<String, Tensor> feeds = Map.of("q", random(random, shapes[0]), "k", random(random, shapes[1]),
                    "v", random(random, shapes[2]), "mask", random(random, shapes[3]));
            assertThat(run(fused, feeds, 2)).as(Arrays.deepToString(shapes)).isEqualTo(run(graph, feeds, 1));
        }
    }

    @Test
    void probabilitiesReadElsewhereStayAsTheyAre() {
        Graph graph = attention(new long[] {1, 2, 6, 8}, new long[] {1, 2, 5, 8}, new long[] {1, 2, 5, 4},
                new long[] {1, 1, 1, 5}, true);
        Graph fused = fuse(graph);
        assertThat(fused.nodes()).extracting(node -> node.op().name()).doesNotContain("Attention").contains("MaskedSoftmax");
    }

    private Tensor random(SplittableRandom random, long... sizes) {
        float[] values = new float[Math.toIntExact(Shape.of(sizes).elementCount())];
        for (int i = 0; i < values.length; i++) {
            values[i] = i % 13 == 0 ? -10_000f : (float) (random.nextGaussian() * 3); // masked positions too
        }
        return arena.fromFloats(values, sizes);
    }

    private static float[] run(Graph graph, Map<String, Tensor> feeds, int threads) {
        try (Session session = new Session(graph, new SessionOptions(threads, false)); Outputs outputs = session.run(feeds)) {
            return outputs.get("out").toFloatArray();
        }
    }
}
