package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.ConvTranspose;
import dev.quanta.graph.ops.Window;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Float ConvTranspose (the GEMM of tap rows and input planes, then col2im) against its definition
 * summed in double: random 1-D, 2-D and 3-D shapes with groups, strides, dilations, pads, output
 * padding and bias, constant weights or weights fed at each run; two threads give one thread's bits.
 */
class ConvTransposeTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void randomShapesMatchTheDefinition() {
        SplittableRandom random = new SplittableRandom(0xDEC0DEL);
        for (int trial = 0; trial < 60; trial++) {
            int rank = 1 + trial % 3;
            int group = 1 + random.nextInt(3);
            int groupChannels = 1 + random.nextInt(4);
            int groupFilters = 1 + random.nextInt(4);
            int batch = 1 + random.nextInt(2);
            long[] input = new long[rank];
            long[] kernel = new long[rank];
            long[] strides = new long[rank];
            long[] dilations = new long[rank];
            long[] pads = new long[2 * rank];
            long[] outputPadding = new long[rank];
            for (int d = 0; d < rank; d++) {
                input[d] = 1 + random.nextInt(rank == 1 ? 40 : 7);
                kernel[d] = 1 + random.nextInt(3);
                strides[d] = 1 + random.nextInt(3);
                dilations[d] = 1 + random.nextInt(2);
                pads[d] = random.nextInt((int) kernel[d]);
                pads[rank + d] = random.nextInt((int) kernel[d]);
                outputPadding[d] = random.nextInt((int) strides[d]);
            }
            check(batch, group, groupChannels, groupFilters, input, kernel, strides, dilations, pads, outputPadding,
                    random.nextBoolean(), random.nextBoolean(), random);
        }
    }

    @Test
    void paddleOcrsTwoByTwoUpsamplingMatchesTheDefinition() {
        check(1, 1, 24, 6, new long[] {20, 20}, new long[] {2, 2}, new long[] {2, 2}, new long[] {1, 1},
                new long[] {0, 0, 0, 0}, new long[] {0, 0}, true, true, new SplittableRandom(5));
    }

    @Test
    void noFiltersOrNoChannelsGiveEmptyOrBiasOnlyOutputs() {
        check(1, 1, 3, 0, new long[] {5, 4}, new long[] {2, 2}, new long[] {2, 2}, new long[] {1, 1},
                new long[] {0, 0, 0, 0}, new long[] {0, 0}, false, true, new SplittableRandom(6));
        check(2, 1, 0, 3, new long[] {5, 4}, new long[] {3, 2}, new long[] {2, 1}, new long[] {1, 1},
                new long[] {0, 0, 0, 0}, new long[] {0, 0}, true, false, new SplittableRandom(7));
    }

    private void check(int batch, int group, int groupChannels, int groupFilters, long[] input, long[] kernel,
            long[] strides, long[] dilations, long[] pads, long[] outputPadding, boolean bias, boolean constant,
            SplittableRandom random) {
        int rank = input.length;
        int channels = group * groupChannels;
        int filters = group * groupFilters;
        long[] outSpatial = new long[rank];
        for (int d = 0; d < rank; d++) {
            outSpatial[d] = strides[d] * (input[d] - 1) + outputPadding[d] + (kernel[d] - 1) * dilations[d] + 1 - pads[d]
                    - pads[rank + d];
        }
        long inPlane = Arrays.stream(input).reduce(1, Math::multiplyExact);
        long outPlane = Arrays.stream(outSpatial).reduce(1, Math::multiplyExact);
        long taps = Arrays.stream(kernel).reduce(1, Math::multiplyExact);
        float[] x = gaussians(random, (int) (batch * channels * inPlane));
        float[] w = gaussians(random, (int) (channels * groupFilters * taps));
        float[] b = gaussians(random, filters);
        long[] xShape = concat(new long[] {batch, channels}, input);
        long[] wShape = concat(new long[] {channels, groupFilters}, kernel);
        Value xValue = new Value("x", null);
        Value wValue = new Value("w", null);
        Value bValue = new Value("b", null);
        Value y = new Value("y", null);
        Graph.Builder builder = Graph.builder("convTranspose").input(xValue);
        Map<String, Tensor> feeds = new HashMap<>(Map.of("x", arena.fromFloats(x, xShape)));
        if (constant) {
            builder.constant(wValue, arena.fromFloats(w, wShape));
        } else {
            builder.input(wValue);
            feeds.put("w", arena.fromFloats(w, wShape));
        }
        List<Value> inputs = new ArrayList<>(List.of(xValue, wValue));
        if (bias) {
            builder.constant(bValue, arena.fromFloats(b, filters));
            inputs.add(bValue);
        }
        Window window = new Window(kernel, strides, dilations, pads, Window.AutoPad.NOTSET, false);
        Graph graph = builder.node(new Node("convTranspose", new ConvTranspose(window, group, outputPadding, null), inputs,
                List.of(y), "test")).output(y).build();
        String what = String.format("x %s w %s strides %s dilations %s pads %s output padding %s group %d",
                Arrays.toString(xShape), Arrays.toString(wShape), Arrays.toString(strides), Arrays.toString(dilations),
                Arrays.toString(pads), Arrays.toString(outputPadding), group);
        float[] single = run(graph, feeds, 1);
        assertThat(run(graph, feeds, 2)).as("two threads, %s", what).isEqualTo(single);
        assertThat(run(graph, feeds, 1)).as("a second run, %s", what).isEqualTo(single);
        double[] expected = new double[(int) (batch * filters * outPlane)];
        double[] magnitude = new double[expected.length];
        long[] in = new long[rank];
        long[] tap = new long[rank];
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                int gi = c / groupChannels;
                for (long p = 0; p < inPlane; p++) {
                    unflatten(p, input, in);
                    for (long t = 0; t < taps; t++) {
                        unflatten(t, kernel, tap);
                        long position = landing(in, tap, strides, dilations, pads, outSpatial);
                        for (int m = 0; m < groupFilters && position >= 0; m++) {
                            double term = (double) x[(int) ((n * channels + c) * inPlane + p)]
                                    * w[(int) ((c * groupFilters + m) * taps + t)];
                            int at = (int) ((n * filters + gi * groupFilters + m) * outPlane + position);
                            expected[at] += term;
                            magnitude[at] += Math.abs(term);
                        }
                    }
                }
            }
        }
        assertThat(single).as(what).hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            double withBias = expected[i] + (bias ? b[(int) (i / outPlane % filters)] : 0);
            assertThat((double) single[i]).as("y[%d] of %s", i, what)
                    .isCloseTo(withBias, Offset.offset(1e-5 * (1 + magnitude[i] + Math.abs(withBias))));
        }
    }

    /**
     * Where in an image of {@code sizes} tap {@code tap} of the block at {@code at} lands (row-major),
     * or −1 in the padding: the scatter of ConvTranspose and Col2Im, by its definition.
     */
    static long landing(long[] at, long[] tap, long[] strides, long[] dilations, long[] pads, long[] sizes) {
        long position = 0;
        for (int d = 0; d < sizes.length; d++) {
            long coordinate = at[d] * strides[d] + tap[d] * dilations[d] - pads[d];
            if (coordinate < 0 || coordinate >= sizes[d]) {
                return -1;
            }
            position = position * sizes[d] + coordinate;
        }
        return position;
    }

    static void unflatten(long flat, long[] sizes, long[] index) {
        for (int d = sizes.length - 1; d >= 0; d--) {
            index[d] = flat % sizes[d];
            flat /= sizes[d];
        }
    }

    private static long[] concat(long[] first, long[] second) {
        long[] joined = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, joined, first.length, second.length);
        return joined;
    }

    private static float[] gaussians(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    private static float[] run(Graph graph, Map<String, Tensor> feeds, int threads) {
        try (Session session = new Session(graph, new SessionOptions(threads, false));
                Outputs outputs = session.run(feeds)) {
            return outputs.get("y").toFloatArray();
        }
    }
}
