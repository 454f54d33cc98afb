package dev.quanta.graph.passes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.CoreOp;
import dev.quanta.graph.ops.LinearLayer;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.MatMulTransposedB;
import dev.quanta.graph.ops.Unary;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * MatMul or A·Wᵀ, Add of a bias, then an activation, fused into one LinearLayer and not: the same
 * bits for every shape class of A (one row to many, rank 1 to 3, the few-row and the GEMM paths),
 * the bias on either side of the Add, each activation and none, on one thread and two; a bias that
 * is fed, of another length or rank, a product or a sum read elsewhere, or another activation, leave
 * the chain (or its activation) alone.
 */
class LinearLayerFusionTest {

    private static final List<Unary> ACTIVATIONS = List.of(Unary.of(Unary.Kind.RELU), new Unary(Unary.Kind.LEAKY_RELU, 0.01, 0),
            Unary.of(Unary.Kind.SIGMOID), Unary.of(Unary.Kind.TANH));

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    /** The parts of a chain x → product → Add(bias) → activation (none when null) → y, and what else reads it. */
    private record Chain(boolean transposed, Tensor w, Tensor bias, boolean biasFirst, Unary activation, boolean biasFed,
            boolean productOutput, boolean sumOutput) {
    }

    private Graph graph(Chain chain) {
        Value x = new Value("x", null);
        Value w = new Value("w", null);
        Value bias = new Value("bias", null);
        Value product = new Value("product", null);
        Value sum = new Value("sum", null);
        Value y = new Value("y", null);
        Graph.Builder builder = Graph.builder("linear").input(x).constant(w, chain.w());
        builder = chain.biasFed() ? builder.input(bias) : builder.constant(bias, chain.bias());
        builder.node(node("product", chain.transposed() ? new MatMulTransposedB() : new MatMul(), List.of(x, w), product))
                .node(node("add", new Binary(Binary.Kind.ADD), chain.biasFirst() ? List.of(bias, product) : List.of(product, bias),
                        sum));
        if (chain.activation() != null) {
            builder.node(node("activation", chain.activation(), List.of(sum), y)).output(y);
        } else {
            builder.output(sum);
        }
        if (chain.productOutput()) {
            builder.output(product);
        }
        if (chain.sumOutput() && chain.activation() != null) {
            builder.output(sum);
        }
        return builder.build();
    }

    @Test
    void theChainBecomesOneLayerWithTheSameBits() {
        SplittableRandom random = new SplittableRandom(0x11AE);
        long[][] aShapes = {{7}, {1, 7}, {3, 40}, {4, 300}, {5, 33}, {2, 9, 64}, {130, 70}};
        int trial = 0;
        for (long[] aShape : aShapes) {
            for (int variant = 0; variant <= ACTIVATIONS.size(); variant++, trial++) {
                boolean transposed = trial % 2 == 0;
                int k = (int) aShape[aShape.length - 1];
                int n = 1 + random.nextInt(150);
                Tensor w = gaussians(random, transposed ? new long[] {n, k} : new long[] {k, n});
                Tensor bias = gaussians(random, n);
                Unary activation = variant < ACTIVATIONS.size() ? ACTIVATIONS.get(variant) : null;
                Chain chain = new Chain(transposed, w, bias, trial % 3 == 0, activation, false, false, false);
                Graph graph = graph(chain);
                Graph fused = LinearLayerFusion.apply(graph);
                assertThat(fused.nodes()).extracting(Node::op).singleElement().isInstanceOf(LinearLayer.class)
                        .isEqualTo(new LinearLayer(transposed, activation));
                Tensor x = gaussians(random, aShape);
                String what = String.format("A %s, %s, n %d, %s", java.util.Arrays.toString(aShape),
                        transposed ? "A·Wᵀ" : "A·W", n, activation);
                String output = activation == null ? "sum" : "y";
                for (int threads : new int[] {1, 2}) {
                    assertThat(bits(fused, x, output, threads)).as("%s, %d threads", what, threads)
                            .isEqualTo(bits(graph, x, output, threads));
                }
            }
        }
    }

    @Test
    void whatIsNotALinearLayerIsLeftAlone() {
        SplittableRandom random = new SplittableRandom(0x11AF);
        Tensor w = gaussians(random, 6, 4);
        Unary relu = Unary.of(Unary.Kind.RELU);
        List<Chain> untouched = new ArrayList<>(List.of(
                new Chain(false, w, gaussians(random, 4), false, relu, true, false, false),
                new Chain(false, w, gaussians(random, 5), false, relu, false, false, false),
                new Chain(false, w, gaussians(random, 1, 4), false, relu, false, false, false),
                new Chain(false, w, gaussians(random, 4), false, relu, false, true, false)));
        for (Chain chain : untouched) {
            Graph graph = graph(chain);
            assertThat(LinearLayerFusion.apply(graph)).as("%s", chain).isSameAs(graph);
        }
        // A sum read elsewhere, or another activation: the bias fuses, the activation stays its own node.
        Tensor bias = gaussians(random, 4);
        for (Chain chain : List.of(new Chain(true, gaussians(random, 4, 6), bias, false, relu, false, false, true),
                new Chain(false, w, bias, false, Unary.of(Unary.Kind.EXP), false, false, false))) {
            Graph fused = LinearLayerFusion.apply(graph(chain));
            assertThat(fused.nodes()).extracting(Node::op).containsExactly(new LinearLayer(chain.transposed(), null),
                    chain.activation());
            Tensor x = gaussians(random, 3, 6);
            String output = chain.sumOutput() ? "sum" : "y";
            assertThat(bits(fused, x, output, 1)).isEqualTo(bits(graph(chain), x, output, 1));
        }
    }

    private Tensor gaussians(SplittableRandom random, long... sizes) {
        float[] values = new float[(int) java.util.Arrays.stream(sizes).reduce(1, Math::multiplyExact)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return arena.fromFloats(values, sizes);
    }

    private static int[] bits(Graph graph, Tensor x, String output, int threads) {
        try (Session session = new Session(graph, new SessionOptions(threads, false)); Outputs outputs = session.run(Map.of("x", x))) {
            float[] values = outputs.get(output).toFloatArray();
            int[] bits = new int[values.length];
            for (int i = 0; i < values.length; i++) {
                bits[i] = Float.floatToIntBits(values[i]);
            }
            return bits;
        }
    }

    private static Node node(String name, CoreOp op, List<Value> inputs, Value output) {
        return new Node(name, op, inputs, List.of(output), "test");
    }
}
