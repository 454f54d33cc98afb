package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Conv;
import dev.quanta.graph.ops.Window;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Float convolutions with fewer output positions than two tasks of the GEMM take, which multiply
 * rows of patches by the transposed filters (or, depthwise, sum by plain loops), 1-D convolutions
 * of any length, which run as 2-D ones of height 1, and 3-D ones, which run as sums of 2-D ones
 * over the kernel's depth: against the definition, summed in double, over random 1-D, 2-D
 * and 3-D shapes with strides, dilations, uneven padding, batches, with and without a bias, with
 * constant filters (transposed once) and filters fed at each run; one thread's bits equal two's.
 */
// A kernel that loops forever fails here (a thread of its own: a busy loop ignores interrupts), not the whole build.
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FewPositionsConvTest {

    /** Output positions below which a convolution multiplies rows of patches by Wᵀ: two tasks' blocks. */
    private static final int FEW_POSITIONS = 128;

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void oneDimensionalFramesMatchTheDefinition() {
        // silero VAD's STFT: one channel, 258 filters of 256 taps, stride 128, three positions.
        check(new Case(1, 1, 258, new long[] {576}, new long[] {256}, new long[] {128}, new long[] {1},
                new long[] {0, 0}, false, true));
        // Its encoder: kernel 3, padding 1, stride 1 and 2.
        check(new Case(2, 129, 128, new long[] {3}, new long[] {3}, new long[] {1}, new long[] {1},
                new long[] {1, 1}, true, true));
        check(new Case(3, 128, 64, new long[] {3}, new long[] {3}, new long[] {2}, new long[] {1},
                new long[] {1, 1}, true, false));
        // Its last encoder layer sees one position: the kernel's last tap lies wholly in the padding.
        check(new Case(1, 64, 128, new long[] {1}, new long[] {3}, new long[] {1}, new long[] {1},
                new long[] {1, 1}, true, true));
    }

    /** A column of taps wholly in the padding (width 1, 3×3, padding 1): the planar im2col once looped forever on it. */
    @Test
    void tapsWhollyInThePaddingAreZeros() {
        check(new Case(1, 3, 4, new long[] {40, 1}, new long[] {3, 3}, new long[] {1, 1}, new long[] {1, 1},
                new long[] {1, 1, 1, 1}, true, true));
        check(new Case(2, 3, 4, new long[] {1, 1}, new long[] {3, 3}, new long[] {1, 1}, new long[] {1, 1},
                new long[] {1, 1, 1, 1}, false, true));
    }

    @Test
    void depthwiseConvolutionsOfFewPositionsMatchTheDefinition() {
        // silero VAD (legacy): 258 one-channel groups of five taps over six positions.
        check(new Case(1, 258, 258, 258, new long[] {6}, new long[] {5}, new long[] {1}, new long[] {1},
                new long[] {2, 2}, true, true));
        // Two filters a channel, strided and dilated, in 1-D and 2-D.
        check(new Case(2, 7, 14, 7, new long[] {9}, new long[] {3}, new long[] {2}, new long[] {2},
                new long[] {1, 0}, false, false));
        check(new Case(3, 5, 10, 5, new long[] {4, 5}, new long[] {3, 2}, new long[] {1, 2}, new long[] {2, 1},
                new long[] {1, 0, 2, 1}, true, true));
    }

    /** 1-D convolutions of any length run as 2-D ones of height 1: the GEMM's planar path and the depthwise kernel. */
    @Test
    void longOneDimensionalConvolutionsMatchTheDefinition() {
        check(new Case(2, 6, 9, new long[] {200}, new long[] {5}, new long[] {1}, new long[] {2}, new long[] {4, 3},
                true, true));
        check(new Case(1, 8, 8, 8, new long[] {150}, new long[] {7}, new long[] {2}, new long[] {1},
                new long[] {3, 3}, true, false));
    }

    @Test
    void randomShapesMatchTheDefinition() {
        SplittableRandom random = new SplittableRandom(0x5EA_F1L);
        for (int trial = 0; trial < 40; trial++) {
            int rank = 1 + trial % 3;
            long[] input = new long[rank];
            long[] kernel = new long[rank];
            long[] strides = new long[rank];
            long[] dilations = new long[rank];
            long[] pads = new long[2 * rank];
            for (int d = 0; d < rank; d++) {
                kernel[d] = 1 + random.nextInt(rank == 1 ? 9 : 4);
                dilations[d] = 1 + random.nextInt(3) / 2;
                strides[d] = 1 + random.nextInt(3);
                pads[d] = random.nextInt(3);
                pads[rank + d] = random.nextInt(3);
                input[d] = Math.max(1, (kernel[d] - 1) * dilations[d] + 1 - pads[d] - pads[rank + d] + random.nextInt(rank == 1 ? 20 : 5));
            }
            Case c = new Case(1 + random.nextInt(3), 1 + random.nextInt(9), 1 + random.nextInt(40), input, kernel, strides,
                    dilations, pads, random.nextBoolean(), random.nextBoolean());
            if (c.positions() > 0 && c.positions() < FEW_POSITIONS) {
                check(c);
            }
        }
    }

    /**
     * 3-D convolutions of many positions, as sums over the kernel's depth of 2-D ones: strided,
     * dilated and padded in depth (a depth tap that reaches no input for some outputs), grouped,
     * batched, with few input channels and with more.
     */
    @Test
    void threeDimensionalConvolutionsMatchTheDefinition() {
        check(new Case(2, 3, 8, new long[] {6, 12, 13}, new long[] {3, 3, 3}, new long[] {1, 1, 1}, new long[] {1, 1, 1},
                new long[] {1, 1, 1, 1, 1, 1}, true, true));
        check(new Case(1, 6, 5, new long[] {9, 10, 11}, new long[] {3, 2, 3}, new long[] {2, 1, 2}, new long[] {2, 1, 1},
                new long[] {2, 0, 1, 0, 1, 2}, false, false));
        check(new Case(1, 8, 8, 4, new long[] {5, 9, 9}, new long[] {3, 3, 3}, new long[] {1, 1, 1}, new long[] {1, 1, 1},
                new long[] {1, 1, 1, 1, 1, 1}, true, true));
        check(new Case(2, 5, 4, new long[] {2, 14, 12}, new long[] {3, 1, 3}, new long[] {3, 1, 1}, new long[] {1, 1, 1},
                new long[] {2, 0, 1, 2, 0, 1}, true, false));
    }

    /** A CNN's last stages: 3×3 over 7×7 and 10×10 positions, stride 1 and 2, batches of one and three. */
    @Test
    void lastStagesOfNetworksMatchTheDefinition() {
        check(new Case(1, 48, 40, new long[] {7, 7}, new long[] {3, 3}, new long[] {1, 1}, new long[] {1, 1},
                new long[] {1, 1, 1, 1}, true, true));
        check(new Case(3, 24, 70, new long[] {19, 20}, new long[] {3, 3}, new long[] {2, 2}, new long[] {1, 1},
                new long[] {1, 1, 1, 1}, false, false));
        check(new Case(2, 32, 16, new long[] {11, 11}, new long[] {1, 1}, new long[] {1, 1}, new long[] {1, 1},
                new long[] {0, 0, 0, 0}, true, true));
    }

    @Test
    void extremeValuesMatchTheDefinition() {
        Case c = new Case(2, 5, 33, new long[] {7}, new long[] {3}, new long[] {2}, new long[] {1}, new long[] {2, 0}, true, true);
        SplittableRandom random = new SplittableRandom(7);
        float[] x = new float[(int) c.inputElements()];
        float[] w = new float[(int) c.filterElements()];
        float[] extremes = {0f, -0f, 65504f, -65504f, 1e30f, -1e30f, 1e-38f, Float.MIN_VALUE, Float.NaN,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (int i = 0; i < x.length; i++) {
            x[i] = extremes[random.nextInt(extremes.length)];
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        compare(c, x, w, random);
    }

    @Test
    void filtersFedAtEachRunAreReadAtEachRun() {
        Value xValue = new Value("x", null);
        Value wValue = new Value("w", null);
        Value y = new Value("y", null);
        Window window = new Window(new long[] {2}, new long[] {2}, new long[] {1}, new long[] {0, 0}, Window.AutoPad.NOTSET, false);
        Graph graph = Graph.builder("conv").input(xValue).input(wValue)
                .node(new Node("conv", new Conv(window, 1), List.of(xValue, wValue), List.of(y), "test")).output(y).build();
        Tensor filters = arena.fromFloats(new float[] {1, 2, 3, 4}, 2, 1, 2);
        Map<String, Tensor> feeds = Map.of("x", arena.fromFloats(new float[] {1, 10, 100, 1000}, 1, 1, 4), "w", filters);
        try (Session session = new Session(graph, new SessionOptions(1, false))) {
            try (Outputs outputs = session.run(feeds)) {
                assertThat(outputs.get("y").toFloatArray()).containsExactly(21, 2100, 43, 4300);
            }
            // The same tensor, rewritten in place: its new values count.
            filters.storeDouble(0, -1);
            try (Outputs outputs = session.run(feeds)) {
                assertThat(outputs.get("y").toFloatArray()).containsExactly(19, 1900, 43, 4300);
            }
        }
    }

    /** A convolution's sizes; {@code pads} as ONNX orders them (all the starts, then the ends). */
    private record Case(int batch, int channels, int filters, int group, long[] input, long[] kernel, long[] strides,
            long[] dilations, long[] pads, boolean bias, boolean constantFilters) {

        Case(int batch, int channels, int filters, long[] input, long[] kernel, long[] strides, long[] dilations,
                long[] pads, boolean bias, boolean constantFilters) {
            this(batch, channels, filters, 1, input, kernel, strides, dilations, pads, bias, constantFilters);
        }

        long outSize(int d) {
            return Math.floorDiv(input[d] + pads[d] + pads[input.length + d] - (kernel[d] - 1) * dilations[d] - 1, strides[d]) + 1;
        }

        long positions() {
            long positions = 1;
            for (int d = 0; d < input.length; d++) {
                positions *= Math.max(0, outSize(d));
            }
            return positions;
        }

        long inputElements() {
            long elements = (long) batch * channels;
            for (long size : input) {
                elements *= size;
            }
            return elements;
        }

        long filterElements() {
            long elements = (long) filters * (channels / group);
            for (long size : kernel) {
                elements *= size;
            }
            return elements;
        }
    }

    private void check(Case c) {
        SplittableRandom random = new SplittableRandom(c.inputElements() * 31 + c.filters());
        float[] x = new float[(int) c.inputElements()];
        float[] w = new float[(int) c.filterElements()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        compare(c, x, w, random);
    }

    private void compare(Case c, float[] x, float[] w, SplittableRandom random) {
        int rank = c.input().length;
        float[] bias = new float[c.filters()];
        for (int f = 0; f < bias.length && c.bias(); f++) {
            bias[f] = (float) random.nextGaussian();
        }
        long[] xShape = new long[rank + 2];
        long[] wShape = new long[rank + 2];
        xShape[0] = c.batch();
        xShape[1] = c.channels();
        wShape[0] = c.filters();
        wShape[1] = c.channels() / c.group();
        System.arraycopy(c.input(), 0, xShape, 2, rank);
        System.arraycopy(c.kernel(), 0, wShape, 2, rank);
        Value xValue = new Value("x", null);
        Value wValue = new Value("w", null);
        Value biasValue = new Value("bias", null);
        Value y = new Value("y", null);
        Window window = new Window(c.kernel(), c.strides(), c.dilations(), c.pads(), Window.AutoPad.NOTSET, false);
        Tensor filters = arena.fromFloats(w, wShape);
        Graph.Builder builder = Graph.builder("conv").input(xValue);
        Map<String, Tensor> feeds = new HashMap<>();
        feeds.put("x", arena.fromFloats(x, xShape));
        if (c.constantFilters()) {
            builder.constant(wValue, filters);
        } else {
            builder.input(wValue);
            feeds.put("w", filters);
        }
        List<Value> inputs = new ArrayList<>(List.of(xValue, wValue));
        if (c.bias()) {
            builder.constant(biasValue, arena.fromFloats(bias, c.filters()));
            inputs.add(biasValue);
        }
        Graph graph = builder.node(new Node("conv", new Conv(window, c.group()), inputs, List.of(y), "test")).output(y).build();
        float[] single = run(graph, feeds, 1);
        float[] twice = run(graph, feeds, 1);
        assertThat(twice).as("a second run, %s", c).isEqualTo(single);
        assertThat(run(graph, feeds, 2)).as("two threads, %s", c).isEqualTo(single);
        double[][] expected = definition(c, x, w, bias);
        assertThat(single).hasSize(expected[0].length);
        for (int i = 0; i < single.length; i++) {
            // NaN where a tap reads one or infinities of both signs meet.
            double value = expected[0][i];
            if (Double.isNaN(value)) {
                assertThat(single[i]).as("y[%d] of %s", i, c).isNaN();
            } else if (Double.isInfinite(value)) {
                assertThat(single[i]).as("y[%d] of %s", i, c).isEqualTo((float) value);
            } else {
                assertThat((double) single[i]).as("y[%d] of %s", i, c)
                        .isCloseTo(value, Offset.offset(1e-6 * (1 + expected[1][i])));
            }
        }
    }

    /**
     * y[n, f, o...] = bias[f] + Σ x[n, c, o·s − pad + k·d] · w[f, c, k], in double; and beside it the
     * sum of its terms' magnitudes, which bounds a float sum's rounding in any order.
     */
    private static double[][] definition(Case c, float[] x, float[] w, float[] bias) {
        int rank = c.input().length;
        long positions = c.positions();
        int groupChannels = c.channels() / c.group();
        int groupFilters = c.filters() / c.group();
        long taps = c.filterElements() / ((long) c.filters() * groupChannels);
        double[] y = new double[(int) (c.batch() * c.filters() * positions)];
        double[] magnitude = new double[y.length];
        long[] out = new long[rank];
        long[] tap = new long[rank];
        for (int n = 0; n < c.batch(); n++) {
            for (int f = 0; f < c.filters(); f++) {
                for (long o = 0; o < positions; o++) {
                    long rest = o;
                    for (int d = rank - 1; d >= 0; d--) {
                        out[d] = rest % c.outSize(d);
                        rest /= c.outSize(d);
                    }
                    double sum = bias[f];
                    double sumOfMagnitudes = Math.abs(bias[f]);
                    for (int ch = 0; ch < groupChannels; ch++) {
                        int channel = f / groupFilters * groupChannels + ch;
                        for (long t = 0; t < taps; t++) {
                            long restTap = t;
                            for (int d = rank - 1; d >= 0; d--) {
                                tap[d] = restTap % c.kernel()[d];
                                restTap /= c.kernel()[d];
                            }
                            long position = 0;
                            boolean inside = true;
                            for (int d = 0; d < rank; d++) {
                                long coordinate = out[d] * c.strides()[d] - c.pads()[d] + tap[d] * c.dilations()[d];
                                inside &= coordinate >= 0 && coordinate < c.input()[d];
                                position = position * c.input()[d] + coordinate;
                            }
                            if (inside) {
                                long inputPlane = position + ((long) n * c.channels() + channel) * (c.inputElements() / ((long) c.batch() * c.channels()));
                                double term = (double) x[(int) inputPlane] * w[(int) ((f * (long) groupChannels + ch) * taps + t)];
                                sum += term;
                                sumOfMagnitudes += Math.abs(term);
                            }
                        }
                    }
                    y[(int) ((n * (long) c.filters() + f) * positions + o)] = sum;
                    magnitude[(int) ((n * (long) c.filters() + f) * positions + o)] = sumOfMagnitudes;
                }
            }
        }
        return new double[][] {y, magnitude};
    }

    /** y from three runs of one session, which must agree: what a kernel keeps from run to run (packed filters, a 3-D convolution's 2-D kernel) must not change it. */
    private static float[] run(Graph graph, Map<String, Tensor> feeds, int threads) {
        try (Session session = new Session(graph, new SessionOptions(threads, false))) {
            float[] first = null;
            for (int run = 0; run < 3; run++) {
                try (Outputs outputs = session.run(feeds)) {
                    float[] y = outputs.get("y").toFloatArray();
                    if (first == null) {
                        first = y;
                    } else {
                        assertThat(y).as("run %d of one session", run + 1).isEqualTo(first);
                    }
                }
            }
            return first;
        }
    }
}
