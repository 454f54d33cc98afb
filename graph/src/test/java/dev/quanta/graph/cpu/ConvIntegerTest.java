package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.ConvInteger;
import dev.quanta.graph.ops.ConvIntegerToFloat;
import dev.quanta.graph.ops.Window;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * ConvInteger against a direct int64 sum: groups, strides, dilations, padding, zero points per filter, both signs,
 * weights that take their least value (the float GEMM's integer mode) and weights that do not (16-bit lanes);
 * ConvIntegerToFloat against those sums.
 */
class ConvIntegerTest {

    private static final long SEED = 0xC0_1E6E;
    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void matchesTheDefinitionExactly() {
        checkTrials(50);
    }

    /** The random trials again, every planar one gathering its patches in bands of a few rows. */
    @Test
    void matchesTheDefinitionInBandsOfOutputRows() {
        long bandBytes = ConvKernels.patchBandBytes;
        ConvKernels.patchBandBytes = 1_000;
        try {
            checkTrials(48);
        } finally {
            ConvKernels.patchBandBytes = bandBytes;
        }
    }

    /**
     * Planes wide enough for the padded image (with AVX-512), each case with weights
     * taking their least value often (the float trick), never (16-bit lanes, two channels a plane,
     * an odd channel left over) and a few times (16-bit lanes, the raised weights' products taken
     * back): at the extremes, deep (several slices of the depth), grouped, dilated, strided, padded
     * unevenly, zero points per filter, either sign.
     */
    @Test
    void paddedImagesMatchTheDefinitionExactly() {
        // group, channels, filters, height, width, kernel, dilation, pads (top, left, bottom, right), stride.
        // Five channels (the float trick's padded image only, at strides 1 and 2: four or fewer go
        // through fewChannelsMatchTheDefinitionExactly's path); on 16-bit lanes, 16 channels a group or
        // more, odd counts among them. A 7-wide plane (a fifth of its columns in the
        // padding, taken on 16-bit lanes only): one block of columns, its filters split between the
        // threads. Strides 2 and 3, one with an odd left padding (the image's first column in the odd
        // phase), one dilated.
        checkPaddedImages(new SplittableRandom(SEED + 1), new int[][] {{1, 5, 8, 5, 41, 3, 1, 1, 1, 1, 1, 1},
            {1, 5, 8, 9, 81, 3, 1, 1, 1, 1, 1, 2}, {1, 40, 12, 6, 43, 3, 1, 1, 1, 1, 1, 1}, {2, 34, 6, 7, 85, 3, 2, 2, 2, 2, 2, 1},
            {1, 21, 9, 4, 100, 5, 1, 0, 2, 3, 2, 1}, {1, 17, 24, 6, 7, 3, 1, 1, 1, 1, 1, 1}, {1, 16, 8, 9, 40, 3, 1, 1, 1, 1, 1, 2},
            {1, 17, 12, 12, 33, 3, 1, 0, 1, 2, 0, 2}, {1, 18, 4, 10, 31, 3, 1, 1, 1, 1, 1, 3}, {1, 19, 8, 11, 41, 3, 2, 2, 2, 2, 2, 2}});
    }

    /**
     * Depthwise, each channel's plane through the float kernel: at stride 2 along the rows its bytes
     * go into their two phases by vectors, so rows of 32 values and more, odd widths, either left
     * padding (the image's first column in the even or the odd phase), and a 5×5 window; rows
     * narrower than those vectors (converted as a whole plane, then placed) at strides 1, 2 and 3.
     */
    @Test
    void depthwiseMatchesTheDefinitionExactly() {
        checkPaddedImages(new SplittableRandom(SEED + 5), new int[][] {{3, 3, 3, 6, 56, 3, 1, 1, 1, 1, 1, 2},
            {4, 4, 4, 5, 45, 3, 1, 0, 0, 1, 1, 2}, {2, 2, 2, 7, 33, 3, 1, 1, 1, 1, 1, 2}, {5, 5, 5, 4, 70, 5, 1, 2, 2, 2, 2, 2},
            {3, 3, 3, 5, 40, 3, 1, 1, 1, 1, 1, 1}, {2, 2, 2, 6, 64, 3, 2, 2, 1, 2, 1, 2}, {3, 3, 3, 9, 14, 3, 1, 1, 1, 1, 1, 1},
            {2, 2, 2, 7, 7, 3, 1, 1, 1, 1, 1, 1}, {4, 4, 4, 14, 28, 3, 1, 0, 0, 1, 1, 2}, {2, 2, 2, 13, 13, 3, 1, 1, 1, 1, 1, 2},
            {2, 2, 2, 11, 15, 3, 1, 1, 1, 1, 1, 3}});
    }

    /**
     * Four input channels a group or fewer, each plane less its zero point through the float kernel:
     * ResNet's first layer (7×7 over RGB at stride 2, padded by 3), MobileNet's (3×3 at stride 2), an
     * RGBA image dilated, one channel, two groups of three, five filters (four at a time, then one),
     * padded unevenly at stride 3.
     */
    @Test
    void fewChannelsMatchTheDefinitionExactly() {
        checkPaddedImages(new SplittableRandom(SEED + 6), new int[][] {{1, 3, 8, 23, 30, 7, 1, 3, 3, 3, 3, 2},
            {1, 3, 8, 17, 40, 3, 1, 1, 1, 1, 1, 2}, {1, 4, 4, 12, 20, 3, 2, 2, 2, 2, 2, 1}, {1, 1, 4, 9, 35, 5, 1, 2, 2, 2, 2, 1},
            {2, 6, 8, 10, 19, 3, 1, 1, 1, 1, 1, 1}, {1, 2, 5, 11, 26, 4, 1, 0, 3, 2, 1, 3}});
    }

    /**
     * Planes of fewer positions than two tasks take, whose filters split across tasks in runs of
     * whole tiles (the last run shorter): pointwise, 3×3, grouped, strided.
     */
    @Test
    void fewPositionsSplitTheirFiltersExactly() {
        checkPaddedImages(new SplittableRandom(SEED + 7), new int[][] {{1, 96, 60, 7, 7, 1, 1, 0, 0, 0, 0, 1},
            {1, 24, 38, 6, 8, 3, 1, 1, 1, 1, 1, 1}, {2, 40, 34, 5, 9, 3, 1, 1, 1, 1, 1, 1}, {1, 32, 45, 9, 9, 3, 1, 1, 1, 1, 1, 2}});
    }

    /**
     * So many filters that a task's sums go through the thread's scratch a few columns at a time
     * (ConvIntegerToFloat's epilogue): pointwise, and 3×3 over a shallow patch.
     */
    @Test
    void manyFiltersTakeTheScratchInSteps() {
        checkPaddedImages(new SplittableRandom(SEED + 8), new int[][] {{1, 8, 1100, 20, 20, 1, 1, 0, 0, 0, 0, 1},
            {1, 6, 1030, 9, 30, 3, 1, 1, 1, 1, 1, 1}});
    }

    /**
     * Padded images copied a band of a few output rows at a time: bands of one row and of several,
     * the last one shorter, strided (bands start on their phase's row), dilated, paddings above and
     * below taller than a band (bands in the padding alone), more padding below than the last output
     * reads.
     */
    @Test
    void paddedImagesInBandsMatchTheDefinitionExactly() {
        long bandBytes = ConvKernels.paddedBandBytes;
        ConvKernels.paddedBandBytes = 12_000;
        try {
            checkPaddedImages(new SplittableRandom(SEED + 3), new int[][] {{1, 5, 8, 23, 41, 3, 1, 1, 1, 1, 1, 1},
                {1, 17, 12, 25, 40, 3, 1, 1, 1, 1, 1, 1}, {1, 16, 8, 31, 33, 3, 2, 2, 1, 2, 1, 1},
                {1, 19, 8, 29, 41, 3, 1, 1, 1, 1, 1, 2}, {1, 18, 4, 27, 31, 3, 1, 0, 1, 4, 1, 3},
                {1, 16, 12, 9, 30, 3, 1, 12, 1, 12, 1, 1}, {2, 34, 6, 14, 37, 5, 1, 2, 2, 2, 2, 2}});
        } finally {
            ConvKernels.paddedBandBytes = bandBytes;
        }
    }

    /**
     * Each case (as {@link #paddedImagesMatchTheDefinitionExactly} lists them) with weights taking
     * their least value often, never and a few times, against the definition.
     */
    private void checkPaddedImages(SplittableRandom random, int[][] cases) {
        for (int trial = 0; trial < 3 * cases.length; trial++) {
            int[] c = cases[trial % cases.length];
            int leastValues = trial / cases.length;
            boolean extreme = (trial + leastValues) % 2 == 1;
            boolean xUnsigned = trial % 2 == 0;
            boolean wUnsigned = trial % 3 == 0;
            int group = c[0];
            int channels = c[1];
            int filters = c[2];
            int kernel = c[5];
            long[] pads = {c[7], c[8], c[9], c[10]};
            int[] x = values(random, 2 * channels * c[3] * c[4], xUnsigned, extreme, true);
            int[] w = values(random, filters * (channels / group) * kernel * kernel, wUnsigned, extreme, false);
            int least = wUnsigned ? 0 : -128;
            for (int i = 0; i < w.length; i++) {
                w[i] = leastValues == 0 && i % 5 == 0 ? least : Math.max(w[i], least + 1);
            }
            for (int r = leastValues == 2 ? Math.max(1, w.length / 64) : 0; r > 0; r--) {
                w[random.nextInt(w.length)] = least;
            }
            int[] xZero = values(random, 1, xUnsigned, extreme, false);
            int[] wZero = values(random, trial % 2 == 0 ? 1 : filters, wUnsigned, extreme, true);
            long[] strides = {c[11], c[11]};
            long[] dilations = {c[6], c[6]};
            Window window = new Window(null, strides, dilations, pads, Window.AutoPad.NOTSET, false);
            long[] actual = run(window, group, tensor(x, xUnsigned, 2, channels, c[3], c[4]),
                    tensor(w, wUnsigned, filters, channels / group, kernel, kernel), tensor(xZero, xUnsigned),
                    tensor(wZero, wUnsigned, wZero.length));
            long[] expected = reference(x, w, xZero[0], wZero, 2, channels, c[3], c[4], filters, group, kernel, kernel, strides,
                    dilations, pads);
            assertThat(actual).as("case %d", trial).isEqualTo(expected);
        }
    }

    /**
     * Filters each within 128 values of a lowest of their own (ONNX Runtime's 7-bit weights), which
     * take their patches unsigned: pointwise, few channels (the patch matrix) and many (the padded
     * image), strided, grouped, at the ends of their ranges (a filter's lowest and lowest + 128, x's
     * least and greatest) and in between; weights given as an input, and constant (narrowed once,
     * kept for the next run).
     */
    @Test
    void sevenBitFiltersMatchTheDefinitionExactly() {
        SplittableRandom random = new SplittableRandom(SEED + 4);
        // group, channels, filters, height, width, kernel, stride, pad.
        int[][] cases = {{1, 64, 24, 9, 11, 1, 1, 0}, {1, 5, 8, 13, 17, 3, 1, 1}, {2, 6, 10, 12, 15, 3, 2, 1},
            {1, 20, 8, 7, 40, 3, 1, 1}, {1, 300, 6, 5, 6, 1, 1, 0}};
        for (int trial = 0; trial < 4 * cases.length; trial++) {
            int[] c = cases[trial % cases.length];
            boolean extreme = trial / cases.length % 2 == 1;
            boolean xUnsigned = trial % 2 == 0;
            boolean wUnsigned = trial % 3 == 0;
            int group = c[0];
            int channels = c[1];
            int filters = c[2];
            int kernel = c[5];
            int patch = channels / group * kernel * kernel;
            int wLow = wUnsigned ? 0 : -128;
            int[] w = new int[filters * patch];
            // Filter 0 from its type's least value: a few of its weights take it (the raised weights' case).
            for (int f = 0; f < filters; f++) {
                int lowest = f == 0 ? wLow : wLow + random.nextInt(128);
                for (int i = f * patch; i < (f + 1) * patch; i++) {
                    w[i] = lowest + (extreme ? (random.nextBoolean() ? 0 : 128) : random.nextInt(129));
                }
            }
            int[] x = values(random, 2 * channels * c[3] * c[4], xUnsigned, false, true);
            if (extreme) {
                for (int i = 0; i < x.length; i++) {
                    x[i] = (xUnsigned ? 0 : -128) + (random.nextBoolean() ? 0 : 255);
                }
            }
            int[] xZero = values(random, 1, xUnsigned, extreme, false);
            int[] wZero = values(random, trial % 2 == 0 ? 1 : filters, wUnsigned, extreme, true);
            long[] strides = {c[6], c[6]};
            long[] ones = {1, 1};
            long[] pads = {c[7], c[7], c[7], c[7]};
            Window window = new Window(null, strides, ones, pads, Window.AutoPad.NOTSET, false);
            long[] expected = reference(x, w, xZero[0], wZero, 2, channels, c[3], c[4], filters, group, kernel, kernel, strides,
                    ones, pads);
            Tensor[] inputs = {tensor(x, xUnsigned, 2, channels, c[3], c[4]),
                tensor(w, wUnsigned, filters, channels / group, kernel, kernel), tensor(xZero, xUnsigned),
                tensor(wZero, wUnsigned, wZero.length)};
            assertThat(run(window, group, inputs[0], inputs[1], inputs[2], inputs[3])).as("case %d", trial)
                    .containsExactly(expected);
            Value[] values = {new Value("x", null), new Value("w", null), new Value("x_zero", null), new Value("w_zero", null)};
            Value y = new Value("y", null);
            Graph graph = Graph.builder("conv").input(values[0]).constant(values[1], inputs[1]).input(values[2])
                    .input(values[3]).node(new Node("conv", new ConvInteger(window, group), List.of(values), List.of(y), "test"))
                    .output(y).build();
            try (Session session = new Session(graph, SessionOptions.defaults())) {
                for (int run = 0; run < 2; run++) {
                    try (Outputs outputs = session.run(Map.of("x", inputs[0], "x_zero", inputs[2], "w_zero", inputs[3]))) {
                        assertThat(outputs.get("y").toLongArray()).as("case %d, constant weights, run %d", trial, run)
                                .containsExactly(expected);
                    }
                }
            }
        }
    }

    /** Weights given as an input, other at each run of one session: their packing is not kept from run to run. */
    @Test
    void weightsThatAreInputsArePackedAtEachRun() {
        SplittableRandom random = new SplittableRandom(SEED + 2);
        int channels = 16;
        int filters = 8;
        int height = 5;
        int width = 44;
        long[] ones = {1, 1};
        long[] pads = {1, 1, 1, 1};
        Window window = new Window(null, ones, ones, pads, Window.AutoPad.NOTSET, false);
        Value[] inputs = {new Value("x", null), new Value("w", null), new Value("x_zero", null), new Value("w_zero", null)};
        Value y = new Value("y", null);
        Graph graph = Graph.builder("conv").input(inputs[0]).input(inputs[1]).input(inputs[2]).input(inputs[3])
                .node(new Node("conv", new ConvInteger(window, 1), List.of(inputs), List.of(y), "test")).output(y).build();
        int[] x = values(random, 2 * channels * height * width, true, false, false);
        int[] xZero = {131};
        int[] wZero = {-3};
        try (Session session = new Session(graph, SessionOptions.defaults())) {
            for (int run = 0; run < 3; run++) {
                int[] w = new int[filters * channels * 9];
                for (int i = 0; i < w.length; i++) {
                    w[i] = random.nextInt(-127, 128);
                }
                try (Outputs outputs = session.run(Map.of("x", tensor(x, true, 2, channels, height, width),
                        "w", tensor(w, false, filters, channels, 3, 3), "x_zero", tensor(xZero, true),
                        "w_zero", tensor(wZero, false, 1)))) {
                    assertThat(outputs.get("y").toLongArray()).as("run %d", run).containsExactly(reference(x, w, xZero[0],
                            wZero, 2, channels, height, width, filters, 1, 3, 3, ones, ones, pads));
                }
            }
        }
    }

    private void checkTrials(int trials) {
        SplittableRandom random = new SplittableRandom(SEED);
        for (int trial = 0; trial < trials; trial++) {
            // Trials 40–43 with planes large enough to split across threads by output positions; 44
            // with many small groups, which go to the threads whole; 45 and 46 pointwise (1×1, stride
            // 1, no padding), read where the input lies; 47 deep (9,216 taps), each task's positions
            // packed for the 16-bit lanes a hundred columns at a time; 48 and 49 over 18 MB of patches,
            // gathered in bands of output rows (48 on the float kernel's integer mode, 49 strided, on
            // the 16-bit lanes).
            boolean large = trial >= 40;
            int group = random.nextInt(1, 3);
            // Up to five channels a group: four or fewer go plane by plane, five through the patch matrix.
            int channels = group * random.nextInt(1, 6);
            int filters = group * random.nextInt(1, large ? 7 : 4);
            int height = large ? random.nextInt(30, 45) : random.nextInt(3, 9);
            int width = large ? random.nextInt(30, 45) : random.nextInt(3, 9);
            int kh = random.nextInt(1, 4);
            int kw = random.nextInt(1, 4);
            long[] strides = {random.nextInt(1, 3), random.nextInt(1, 3)};
            long[] dilations = {random.nextInt(1, 3), random.nextInt(1, 3)};
            long[] pads = {random.nextInt(0, 2), random.nextInt(0, 2), random.nextInt(0, 2), random.nextInt(0, 2)};
            // 43: certain to split (8 filters over 8 channels, 3×3 on 40×40: seven blocks of 256
            // positions); 44: eight groups of one channel and two filters, strided and dilated;
            // 45: pointwise over 30×30, split; 46: pointwise in two groups.
            int[] fixed = trial == 43 ? new int[] {1, 8, 8, 40, 40, 1, 1, 1, 1, 3, 1}
                    : trial == 44 ? new int[] {8, 8, 16, 20, 17, 2, 1, 1, 2, 3, 1}
                    : trial == 45 ? new int[] {1, 6, 10, 30, 30, 1, 1, 2, 1, 1, 0}
                    : trial == 46 ? new int[] {2, 6, 4, 7, 9, 1, 1, 1, 1, 1, 0}
                    : trial == 47 ? new int[] {1, 1024, 4, 24, 24, 1, 1, 1, 1, 3, 1}
                    : trial == 48 ? new int[] {1, 256, 4, 90, 91, 1, 1, 1, 1, 3, 1}
                    : trial == 49 ? new int[] {1, 256, 4, 181, 180, 2, 2, 1, 1, 3, 1} : null;
            if (fixed != null) {
                group = fixed[0];
                channels = fixed[1];
                filters = fixed[2];
                height = fixed[3];
                width = fixed[4];
                kh = fixed[9];
                kw = fixed[9];
                strides = new long[] {fixed[5], fixed[6]};
                dilations = new long[] {fixed[7], fixed[8]};
                pads = new long[] {fixed[10], fixed[10], fixed[10], fixed[10]};
            }
            if ((kh - 1) * dilations[0] + 1 > height + pads[0] + pads[2]
                    || (kw - 1) * dilations[1] + 1 > width + pads[1] + pads[3]) {
                continue;
            }
            boolean xUnsigned = random.nextBoolean();
            boolean wUnsigned = random.nextBoolean();
            // A third of the trials at the extremes: inputs at one end, zero points at the other.
            boolean extreme = trial % 3 == 0;
            int[] x = values(random, 2 * channels * height * width, xUnsigned, extreme, true);
            int[] w = values(random, filters * (channels / group) * kh * kw, wUnsigned, extreme, false);
            int least = wUnsigned ? 0 : -128;
            if (trial % 2 == 1 || trial % 4 == 2) {
                // Weights that never take their type's least value once signed run on 16-bit lanes; and so
                // do those that take it a few times (a quarter of the trials), their sums corrected for it.
                for (int i = 0; i < w.length; i++) {
                    w[i] = w[i] == least ? least + 1 : w[i];
                }
            }
            if (trial % 4 == 2) {
                for (int r = 1 + random.nextInt(Math.max(1, w.length / 64)); r > 0; r--) {
                    w[random.nextInt(w.length)] = least;
                }
            }
            int[] xZero = values(random, 1, xUnsigned, extreme, false);
            int[] wZero = values(random, random.nextBoolean() ? 1 : filters, wUnsigned, extreme, true);
            Window window = new Window(null, strides, dilations, pads, Window.AutoPad.NOTSET, false);
            long[] actual = run(window, group, tensor(x, xUnsigned, 2, channels, height, width),
                    tensor(w, wUnsigned, filters, channels / group, kh, kw), tensor(xZero, xUnsigned),
                    tensor(wZero, wUnsigned, wZero.length));
            long[] expected = reference(x, w, xZero[0], wZero, 2, channels, height, width, filters, group, kh, kw, strides,
                    dilations, pads);
            assertThat(actual).as("seed %x trial %d", SEED, trial).containsExactly(expected);
        }
    }

    /**
     * The convolution's output, the same with the padded-image path (where it runs) and without it,
     * and with shallow patches on 16-bit lanes too.
     */
    private long[] run(Window window, int group, Tensor x, Tensor w, Tensor xZero, Tensor wZero) {
        long[] result = runOnce(window, group, x, w, xZero, wZero);
        long shallow = ConvKernels.shallowPatch;
        ConvKernels.shallowPatch = 0;
        try {
            assertThat(runOnce(window, group, x, w, xZero, wZero)).as("shallow patches on 16-bit lanes").isEqualTo(result);
        } finally {
            ConvKernels.shallowPatch = shallow;
        }
        boolean padded = ConvKernels.readsPaddedImages;
        if (padded) {
            ConvKernels.readsPaddedImages = false;
            try {
                assertThat(runOnce(window, group, x, w, xZero, wZero)).as("without the padded image").isEqualTo(result);
            } finally {
                ConvKernels.readsPaddedImages = true;
            }
        }
        return result;
    }

    /**
     * ConvInteger's sums; beside them, in the same run, ConvIntegerToFloat's outputs are checked to
     * be each sum converted, times its filter's scale, plus its filter's bias, rounded after each step
     * (that kernel finishes each task's sums where they lie, on every path).
     */
    private long[] runOnce(Window window, int group, Tensor x, Tensor w, Tensor xZero, Tensor wZero) {
        Value[] inputs = {new Value("x", null), new Value("w", null), new Value("x_zero", null), new Value("w_zero", null)};
        Value scale = new Value("scale", null);
        Value bias = new Value("bias", null);
        Value y = new Value("y", null);
        Value dequantized = new Value("dequantized", null);
        int filters = (int) w.size(0);
        SplittableRandom random = new SplittableRandom(filters * 31L + x.elementCount());
        float[] scales = new float[filters];
        float[] biases = new float[filters];
        for (int f = 0; f < filters; f++) {
            scales[f] = (float) random.nextDouble(1e-4, 0.1);
            biases[f] = (float) random.nextGaussian();
        }
        Graph graph = Graph.builder("conv").input(inputs[0]).input(inputs[1]).input(inputs[2]).input(inputs[3])
                .constant(scale, arena.fromFloats(scales, filters)).constant(bias, arena.fromFloats(biases, filters))
                .node(new Node("conv", new ConvInteger(window, group), List.of(inputs), List.of(y), "test"))
                .node(new Node("to_float", new ConvIntegerToFloat(window, group),
                        List.of(inputs[0], inputs[1], inputs[2], inputs[3], scale, bias), List.of(dequantized), "test"))
                .output(y).output(dequantized).build();
        try (Session session = new Session(graph, SessionOptions.defaults());
                Outputs outputs = session.run(Map.of("x", x, "w", w, "x_zero", xZero, "w_zero", wZero))) {
            long[] sums = outputs.get("y").toLongArray();
            float[] expected = new float[sums.length];
            long plane = outputs.get("y").elementCount() / (outputs.get("y").size(0) * filters);
            for (int i = 0; i < sums.length; i++) {
                int f = (int) (i / plane % filters);
                float scaled = (float) sums[i] * scales[f];
                expected[i] = scaled + biases[f];
            }
            assertThat(outputs.get("dequantized").toFloatArray()).as("ConvIntegerToFloat").isEqualTo(expected);
            return sums;
        }
    }

    private static long[] reference(int[] x, int[] w, int xZero, int[] wZero, int batch, int channels, int height,
            int width, int filters, int group, int kh, int kw, long[] strides, long[] dilations, long[] pads) {
        long outH = (height + pads[0] + pads[2] - ((kh - 1) * dilations[0] + 1)) / strides[0] + 1;
        long outW = (width + pads[1] + pads[3] - ((kw - 1) * dilations[1] + 1)) / strides[1] + 1;
        int groupChannels = channels / group;
        int groupFilters = filters / group;
        long[] y = new long[(int) (batch * filters * outH * outW)];
        int at = 0;
        for (int n = 0; n < batch; n++) {
            for (int f = 0; f < filters; f++) {
                int g = f / groupFilters;
                int zero = wZero[wZero.length == 1 ? 0 : f];
                for (long oh = 0; oh < outH; oh++) {
                    for (long ow = 0; ow < outW; ow++) {
                        long sum = 0;
                        for (int c = 0; c < groupChannels; c++) {
                            for (int i = 0; i < kh; i++) {
                                for (int j = 0; j < kw; j++) {
                                    long h = oh * strides[0] - pads[0] + i * dilations[0];
                                    long v = ow * strides[1] - pads[1] + j * dilations[1];
                                    int xValue = h < 0 || h >= height || v < 0 || v >= width ? xZero
                                            : x[(int) (((n * channels + g * groupChannels + c) * height + h) * width + v)];
                                    sum += (long) (xValue - xZero) * (w[((f * groupChannels + c) * kh + i) * kw + j] - zero);
                                }
                            }
                        }
                        y[at++] = (int) sum;
                    }
                }
            }
        }
        return y;
    }

    private static int[] values(SplittableRandom random, int count, boolean unsigned, boolean extreme, boolean high) {
        int low = unsigned ? 0 : -128;
        int[] values = new int[count];
        for (int i = 0; i < count; i++) {
            values[i] = extreme ? (high ? low + 255 : low) : random.nextInt(low, low + 256);
        }
        return values;
    }

    private Tensor tensor(int[] values, boolean unsigned, long... sizes) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) values[i];
        }
        return arena.fromBytes(unsigned ? DType.UINT8 : DType.INT8, bytes, sizes);
    }
}
