package dev.quanta.graph.passes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.ChannelNormalize;
import dev.quanta.graph.ops.Conv;
import dev.quanta.graph.ops.Identity;
import dev.quanta.graph.ops.Window;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Conv → BatchNormalization → Mul and Add by constants of one value or one per filter folded into one Conv: the same
 * outputs up to float rounding, with and without the convolution's bias, for the whole chain and
 * its parts; left alone where the convolution's output is read elsewhere, the normalization trains,
 * a weight can be fed, or a step is not an affine one (a product by a whole tensor).
 */
class ConvAffineFusionTest {

    private static final int CHANNELS = 3;
    private static final int FILTERS = 5;

    private final TensorArena arena = TensorArena.ofShared();
    private final SplittableRandom random = new SplittableRandom(0xB47C4L);

    @AfterEach
    void close() {
        arena.close();
    }

    private float[] gaussians(int count, double mean, double sigma) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (mean + sigma * random.nextGaussian());
        }
        return values;
    }

    /** x [2, 3, 6, 7] → Conv 3×3 (5 filters, padding 1) → BatchNormalization; {@code alsoRead}: the Conv's output is an output too. */
    private Graph graph(boolean withBias, boolean training, boolean alsoRead, boolean fedScale) {
        Value x = new Value("x", null);
        Value w = new Value("w", null);
        Value b = new Value("b", null);
        Value convolved = new Value("convolved", null);
        Value scale = new Value("scale", null);
        Value shift = new Value("shift", null);
        Value mean = new Value("mean", null);
        Value variance = new Value("variance", null);
        Value y = new Value("y", null);
        Graph.Builder builder = Graph.builder("conv_bn").input(x)
                .constant(w, arena.fromFloats(gaussians(FILTERS * CHANNELS * 9, 0, 1), FILTERS, CHANNELS, 3, 3))
                .constant(scale, arena.fromFloats(gaussians(FILTERS, 1, 0.5), FILTERS))
                .constant(shift, arena.fromFloats(gaussians(FILTERS, 0, 1), FILTERS))
                .constant(mean, arena.fromFloats(gaussians(FILTERS, 0, 2), FILTERS))
                .constant(variance, arena.fromFloats(gaussians(FILTERS, 3, 0.5), FILTERS));
        if (fedScale) {
            builder.input(scale);
        }
        List<Value> convInputs = new ArrayList<>(List.of(x, w));
        if (withBias) {
            builder.constant(b, arena.fromFloats(gaussians(FILTERS, 0, 1), FILTERS));
            convInputs.add(b);
        }
        Window window = new Window(new long[] {3, 3}, null, null, new long[] {1, 1, 1, 1}, Window.AutoPad.NOTSET, false);
        builder.node(new Node("conv", new Conv(window, 1), convInputs, List.of(convolved), "test conv"))
                .node(new Node("bn", new ChannelNormalize(0.05, training, 0.9), List.of(convolved, scale, shift, mean, variance),
                        training ? List.of(y, new Value("running_mean", null), new Value("running_variance", null)) : List.of(y),
                        "test bn"))
                .output(y);
        if (alsoRead) {
            Value copy = new Value("copy", null);
            builder.node(new Node("copy", new Identity(), List.of(convolved), List.of(copy), "test copy")).output(copy);
        }
        return builder.build();
    }

    /** The graph's first output. */
    private float[] run(Graph graph, Tensor x) {
        try (Session session = new Session(graph, new SessionOptions(1, false)); Outputs outputs = session.run(Map.of("x", x))) {
            return outputs.get(graph.outputs().get(0).name()).toFloatArray();
        }
    }

    /** The fused graph's outputs against the unfused one's, within float rounding. */
    private void assertSameUpToRounding(Graph graph, Graph fused, Tensor x, String what) {
        float[] expected = run(graph, x);
        float[] actual = run(fused, x);
        assertThat(actual).as(what).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            assertThat(actual[i]).as("%s at %d", what, i).isCloseTo(expected[i], Offset.offset(2e-5f * (1 + Math.abs(expected[i]))));
        }
    }

    @Test
    void theFoldedConvolutionGivesTheNormalizedOutputs() {
        Tensor x = arena.fromFloats(gaussians(2 * CHANNELS * 6 * 7, 0, 1), 2, CHANNELS, 6, 7);
        for (boolean withBias : new boolean[] {true, false}) {
            Graph graph = graph(withBias, false, false, false);
            Graph fused = ConvAffineFusion.apply(graph, arena);
            assertThat(fused.nodes()).extracting(Node::name).containsExactly("conv");
            assertThat(fused.nodes().get(0).outputs()).extracting(Value::name).containsExactly("y");
            assertSameUpToRounding(graph, fused, x, "bias " + withBias);
        }
    }

    /** conv → bn? → Mul(a) → Add(c), a = −1.75 and c = 0.625 one-element constants; or conv → Mul(conv, conv) when {@code squared}. */
    private Graph chain(Graph convAndNorm, boolean withNorm, boolean squared) {
        Graph.Builder builder = Graph.builder("chain");
        convAndNorm.inputs().forEach(builder::input);
        convAndNorm.constants().forEach(builder::constant);
        builder.node(convAndNorm.nodes().get(0));
        if (withNorm) {
            builder.node(convAndNorm.nodes().get(1));
        }
        Value last = convAndNorm.nodes().get(withNorm ? 1 : 0).outputs().get(0);
        Value factor = new Value("a", null);
        Value shift = new Value("c", null);
        Value scaled = new Value("scaled", null);
        Value out = new Value("out", null);
        builder.constant(factor, arena.fromFloats(new float[] {-1.75f})).constant(shift, arena.fromFloats(new float[] {0.625f}, 1));
        builder.node(new Node("mul", new Binary(Binary.Kind.MUL), List.of(squared ? last : factor, last), List.of(scaled), "test mul"))
                .node(new Node("add", new Binary(Binary.Kind.ADD), List.of(scaled, shift), List.of(out), "test add"))
                .output(out);
        return builder.build();
    }

    /** {@link #chain} without the norm, its factor of the given shape (random values). */
    private Graph withFactor(long[] shape) {
        Graph chain = chain(graph(true, false, false, false), false, false);
        Graph.Builder builder = Graph.builder("factor");
        chain.inputs().forEach(builder::input);
        int count = Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b));
        chain.constants().forEach((value, tensor) -> builder.constant(value, value.name().equals("a")
                ? arena.fromFloats(gaussians(count, 0, 1), shape) : tensor));
        chain.nodes().forEach(builder::node);
        chain.outputs().forEach(builder::output);
        return builder.build();
    }

    @Test
    void productsAndSumsByOneValueOrOnePerFilterFoldAfterTheNormToo() {
        Tensor x = arena.fromFloats(gaussians(2 * CHANNELS * 6 * 7, 0, 1), 2, CHANNELS, 6, 7);
        for (boolean withNorm : new boolean[] {true, false}) {
            Graph graph = chain(graph(true, false, false, false), withNorm, false);
            Graph fused = ConvAffineFusion.apply(graph, arena);
            assertThat(fused.nodes()).as("with norm %s", withNorm).extracting(Node::name).containsExactly("conv");
            assertSameUpToRounding(graph, fused, x, "norm " + withNorm);
        }
        // A value per filter along the channel axis folds; a shape that broadcasts otherwise, or would
        // change the output's shape, is left to run as it is.
        for (long[] shape : new long[][] {{FILTERS, 1, 1}, {1, FILTERS, 1, 1}, {1, 1, 1, 1}}) {
            Graph graph = withFactor(shape);
            Graph fused = ConvAffineFusion.apply(graph, arena);
            assertThat(fused.nodes()).as("factor %s", Arrays.toString(shape)).extracting(Node::name).containsExactly("conv");
            assertSameUpToRounding(graph, fused, x, "factor " + Arrays.toString(shape));
        }
        for (long[] shape : new long[][] {{1, 1, 7}, {FILTERS, 1}, {1, FILTERS, 1, 1, 1}, {1, 1, 1, 1, 1}, {2, FILTERS, 1, 1}}) {
            Graph graph = withFactor(shape);
            assertThat(ConvAffineFusion.apply(graph, arena)).as("factor %s", Arrays.toString(shape)).isSameAs(graph);
        }
        // A product by a whole tensor is no affine step: the chain stops before it.
        assertThat(ConvAffineFusion.apply(chain(graph(true, false, false, false), false, true), arena).nodes())
                .extracting(Node::name).containsExactly("conv", "mul", "add");
        assertThat(ConvAffineFusion.apply(chain(graph(true, false, false, false), true, true), arena).nodes())
                .extracting(Node::name).containsExactly("conv", "mul", "add");
    }

    @Test
    void convolutionsReadElsewhereTrainingNormsAndFedWeightsStayAsTheyAre() {
        for (Graph graph : List.of(graph(true, false, true, false), graph(true, true, false, false), graph(false, false, false, true))) {
            assertThat(ConvAffineFusion.apply(graph, arena)).isSameAs(graph);
        }
    }
}
