package dev.quanta.graph.passes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.ChannelNormalize;
import dev.quanta.graph.ops.Conv;
import dev.quanta.graph.ops.Identity;
import dev.quanta.graph.ops.Window;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Conv → BatchNormalization folded into one Conv: the same outputs up to float rounding, with and
 * without the convolution's bias; left alone where the convolution's output is read elsewhere, the
 * normalization trains, or a weight can be fed.
 */
class ConvBatchNormFusionTest {

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

    private float[] run(Graph graph, Tensor x) {
        try (Session session = new Session(graph, new SessionOptions(1, false)); Outputs outputs = session.run(Map.of("x", x))) {
            return outputs.get("y").toFloatArray();
        }
    }

    @Test
    void theFoldedConvolutionGivesTheNormalizedOutputs() {
        Tensor x = arena.fromFloats(gaussians(2 * CHANNELS * 6 * 7, 0, 1), 2, CHANNELS, 6, 7);
        for (boolean withBias : new boolean[] {true, false}) {
            Graph graph = graph(withBias, false, false, false);
            Graph fused = ConvBatchNormFusion.apply(graph, arena);
            assertThat(fused.nodes()).extracting(Node::name).containsExactly("conv");
            assertThat(fused.nodes().get(0).outputs()).extracting(Value::name).containsExactly("y");
            float[] expected = run(graph, x);
            float[] actual = run(fused, x);
            for (int i = 0; i < expected.length; i++) {
                assertThat(actual[i]).as("y[%d], bias %s", i, withBias)
                        .isCloseTo(expected[i], Offset.offset(2e-5f * (1 + Math.abs(expected[i]))));
            }
        }
    }

    @Test
    void convolutionsReadElsewhereTrainingNormsAndFedWeightsStayAsTheyAre() {
        for (Graph graph : List.of(graph(true, false, true, false), graph(true, true, false, false), graph(false, false, false, true))) {
            assertThat(ConvBatchNormFusion.apply(graph, arena)).isSameAs(graph);
        }
    }
}
