package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Normalize;
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
 * Layer normalization over the channels of a transposed view (ConvNeXt's NCHW → NHWC): the bits
 * of the same normalization over a contiguous copy, and the definition in double.
 */
class NormalizeTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void channelsOfATransposedViewAreNormalizedAsContiguousOnes() {
        int channels = 37;
        int height = 5;
        int width = 9;
        SplittableRandom random = new SplittableRandom(0x40_3A11L);
        float[] x = new float[channels * height * width];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextGaussian() * 3 + 1);
        }
        float[] scale = new float[channels];
        float[] bias = new float[channels];
        for (int c = 0; c < channels; c++) {
            scale[c] = (float) random.nextGaussian();
            bias[c] = (float) random.nextGaussian();
        }
        float[] transposed = new float[x.length];
        for (int c = 0; c < channels; c++) {
            for (int p = 0; p < height * width; p++) {
                transposed[p * channels + c] = x[c * height * width + p];
            }
        }
        float[] viaView = run(true, arena.fromFloats(x, 1, channels, height, width), scale, bias);
        float[] viaCopy = run(false, arena.fromFloats(transposed, 1, height, width, channels), scale, bias);
        assertThat(viaView).containsExactly(viaCopy);
        for (int p = 0; p < height * width; p++) {
            double mean = 0;
            for (int c = 0; c < channels; c++) {
                mean += transposed[p * channels + c];
            }
            mean /= channels;
            double variance = 0;
            for (int c = 0; c < channels; c++) {
                variance += Math.pow(transposed[p * channels + c] - mean, 2);
            }
            double deviation = Math.sqrt(variance / channels + 1e-5);
            for (int c = 0; c < channels; c++) {
                double expected = (transposed[p * channels + c] - mean) / deviation * scale[c] + bias[c];
                assertThat((double) viaView[p * channels + c]).as("position %d channel %d", p, c)
                        .isCloseTo(expected, Offset.offset(1e-5 * (1 + Math.abs(expected))));
            }
        }
    }

    /** Normalize over the last axis of x, or of x transposed from NCHW to NHWC when {@code transpose}. */
    private float[] run(boolean transpose, Tensor x, float[] scale, float[] bias) {
        Value input = new Value("x", null);
        Value normalized = new Value("y", null);
        Value scaleValue = new Value("scale", null);
        Value biasValue = new Value("bias", null);
        Value view = transpose ? new Value("nhwc", null) : input;
        Graph.Builder builder = Graph.builder("norm").input(input)
                .constant(scaleValue, arena.fromFloats(scale, scale.length)).constant(biasValue, arena.fromFloats(bias, bias.length));
        if (transpose) {
            builder.node(new Node("t", new Transpose(new int[] {0, 2, 3, 1}), List.of(input), List.of(view), "test"));
        }
        Graph graph = builder.node(new Node("n", new Normalize(-1, 1e-5, false), List.of(view, scaleValue, biasValue),
                List.of(normalized), "test")).output(normalized).build();
        try (Session session = new Session(graph, new SessionOptions(2, false)); Outputs outputs = session.run(Map.of("x", x))) {
            return outputs.get("y").toFloatArray();
        }
    }
}
