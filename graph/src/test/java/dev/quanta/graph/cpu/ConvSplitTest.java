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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A float convolution with a bias split across threads by blocks of output positions, or by whole
 * groups, its patches gathered whole or in bands of output rows: the bits of one thread, and the
 * definition.
 */
class ConvSplitTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void givesTheSingleThreadedBitsAndTheDefinition() {
        check(6, 8, 1, 41, 3, 1, 1);
    }

    @Test
    void depthwiseGroupsGoToTheThreadsWholeWithTheSameBits() {
        check(12, 12, 12, 19, 3, 1, 1);
    }

    @Test
    void pointwiseConvolutionsReadTheInputWhereItLies() {
        check(6, 8, 1, 41, 1, 1, 1);
        check(10, 4, 2, 23, 1, 1, 1);
    }

    @Test
    void largePlanesGatherTheirPatchesInBandsOfRows() {
        // 64 channels by 3×3 taps over 97×97 positions: 21.7 MB of patches, in bands of 75 rows and 22.
        assertThat(64L * 9 * 97 * 97 * 4).isGreaterThan(ConvKernels.patchBandBytes);
        check(64, 8, 1, 97, 3, 1, 1);
    }

    /** Small planes in bands of a few rows, the last one short: strided, dilated, grouped, a kernel as wide as the plane. */
    @Test
    void bandsOfRowsTakeEveryGeometry() {
        long bandBytes = ConvKernels.patchBandBytes;
        ConvKernels.patchBandBytes = 10_000;
        try {
            check(6, 8, 1, 29, 3, 2, 1);
            check(10, 8, 2, 31, 3, 1, 2);
            check(5, 6, 1, 17, 5, 3, 2);
            check(5, 4, 1, 9, 9, 1, 1);
        } finally {
            ConvKernels.patchBandBytes = bandBytes;
        }
    }

    /**
     * Patches read from the image as the GEMM packs them, in wide planes (most panels one vector copy
     * of an input row, the padding and the rows' ends gathered) and, the width threshold lowered, in
     * narrow ones, where panels cross output rows and reach the padding: dilated, grouped, a kernel
     * as wide as the plane, strided down the rows.
     */
    @Test
    void patchesReadFromTheImageTakeEveryGeometry() {
        check(5, 8, 1, 130, 3, 1, 1);
        check(5, 4, 1, 133, 3, 1, 2);
        int width = ConvKernels.minImagePatchWidth;
        ConvKernels.minImagePatchWidth = 1;
        try {
            check(6, 8, 1, 29, 3, 1, 1);
            check(10, 8, 2, 31, 3, 1, 2);
            check(5, 12, 1, 17, 5, 1, 2);
            check(5, 4, 1, 9, 9, 1, 1);
            check(5, 6, 1, 40, 3, 2, 1); // strided: the patch matrix, as before
        } finally {
            ConvKernels.minImagePatchWidth = width;
        }
    }

    /**
     * Four input channels a group or fewer (a network's first layer over an RGB image), each output
     * plane summed from padded copies of them: strided, dilated, grouped, a kernel as wide as the
     * plane, padded unevenly, one channel and none (the bias alone).
     */
    @Test
    void fewInputChannelsAreSummedPlaneByPlane() {
        check(3, 16, 1, 37, 3, 2, 1);
        check(1, 8, 1, 20, 7, 2, 1);
        check(8, 8, 4, 15, 3, 1, 2);
        check(4, 6, 1, 9, 9, 1, 1);
        check(3, 5, 1, 12, 23, 5, 3, 1, new int[] {0, 2, 3, 4});
        check(0, 4, 1, 9, 3, 1, 1);
    }

    /** Oblong planes, padded unevenly (more after than the last output reads, none before), in bands and whole. */
    @Test
    void unevenPaddingAndOblongPlanes() {
        check(5, 4, 1, 11, 23, 5, 1, 1, new int[] {0, 2, 3, 4});
        check(2, 6, 2, 19, 8, 3, 2, 1, new int[] {2, 0, 1, 5});
        check(5, 4, 1, 7, 30, 3, 3, 2, new int[] {1, 3, 0, 2});
        long bandBytes = ConvKernels.patchBandBytes;
        ConvKernels.patchBandBytes = 2_000;
        try {
            check(5, 4, 1, 11, 23, 5, 1, 1, new int[] {0, 2, 3, 4});
            check(5, 4, 1, 17, 9, 3, 2, 2, new int[] {4, 1, 0, 3});
        } finally {
            ConvKernels.patchBandBytes = bandBytes;
        }
    }

    /**
     * Stride 1 read from a zero-padded copy of the image (with AVX-512, planes wide enough): output
     * rows that panels and blocks cross, deep patches (several slices of the depth), filters in part
     * of a tile, dilated, grouped, a kernel as tall as the plane, padded unevenly, oblong, one output
     * row, no bias, no filters, an empty image whose padding alone makes an output row. {@link #check} runs every other case both with and without this path.
     */
    @Test
    void paddedImagesTakeEveryGeometry() {
        check(64, 12, 1, 41, 3, 1, 1);
        check(10, 8, 2, 81, 3, 1, 2);
        check(5, 12, 1, 9, 161, 5, 1, 2, new int[] {4, 4, 4, 4});
        check(5, 4, 1, 9, 200, 9, 1, 1, new int[] {4, 4, 4, 4});
        check(5, 4, 1, 11, 90, 5, 1, 1, new int[] {0, 2, 3, 4});
        check(3, 9, 1, 1, 70, 3, 1, 1, new int[] {1, 0, 1, 2});
        biased = false;
        check(7, 16, 1, 60, 3, 1, 1);
        check(7, 0, 1, 60, 3, 1, 1);
        check(5, 4, 1, 0, 60, 3, 1, 1, new int[] {1, 1, 2, 1});
    }

    /**
     * Strides 2 and 3 read from the padded image split into phases: dilated, grouped, a left padding
     * that puts the image's first column in the odd phase, uneven, a 5×5 window.
     */
    @Test
    void paddedImagesAtStrides() {
        check(16, 8, 1, 57, 3, 2, 1);
        check(10, 12, 2, 31, 121, 3, 2, 2, new int[] {2, 2, 2, 2});
        check(8, 4, 1, 20, 199, 3, 3, 1, new int[] {1, 2, 0, 1});
        check(12, 8, 1, 15, 140, 3, 2, 1, new int[] {0, 1, 2, 3});
        check(5, 7, 1, 23, 100, 5, 2, 1, new int[] {2, 2, 2, 2});
    }

    /**
     * Padded images copied a band of a few output rows at a time: bands of one row and of several,
     * the last one shorter, dilated, strided, paddings above and below taller than a band (bands in
     * the padding alone).
     */
    @Test
    void paddedImagesInBands() {
        long bandBytes = ConvKernels.paddedBandBytes;
        ConvKernels.paddedBandBytes = 20_000;
        try {
            check(10, 8, 1, 41, 3, 1, 1);
            check(10, 8, 2, 45, 3, 1, 2);
            check(5, 4, 1, 9, 90, 5, 1, 1, new int[] {12, 2, 12, 4});
            check(40, 12, 1, 7, 70, 3, 1, 1, new int[] {1, 1, 1, 1});
            check(6, 8, 1, 41, 160, 3, 2, 1, new int[] {1, 1, 1, 1});
        } finally {
            ConvKernels.paddedBandBytes = bandBytes;
        }
    }

    /** Whether {@link #check} gives its convolution a bias. */
    private boolean biased = true;

    /** A convolution of size×size images by kernel×kernel filters, padding dilation·(kernel/2) on every side. */
    private void check(int channels, int filters, int group, int size, int kernel, int stride, int dilation) {
        int pad = dilation * (kernel / 2);
        check(channels, filters, group, size, size, kernel, stride, dilation, new int[] {pad, pad, pad, pad});
    }

    /** A convolution of height×width images by kernel×kernel filters, pads (top, left, bottom, right) as ONNX orders them. */
    private void check(int channels, int filters, int group, int height, int width, int kernel, int stride, int dilation,
            int[] pads) {
        boolean padded = ConvKernels.readsPaddedImages;
        try {
            for (boolean reads : padded ? new boolean[] {true, false} : new boolean[] {false}) {
                ConvKernels.readsPaddedImages = reads;
                check(channels, filters, group, height, width, kernel, stride, dilation, pads, reads);
            }
        } finally {
            ConvKernels.readsPaddedImages = padded;
        }
    }

    private void check(int channels, int filters, int group, int height, int width, int kernel, int stride, int dilation,
            int[] pads, boolean paddedImage) {
        SplittableRandom random = new SplittableRandom(0xC0_5917L);
        int batch = 2;
        int groupChannels = channels / group;
        int groupFilters = filters / group;
        float[] x = new float[batch * channels * height * width];
        float[] w = new float[filters * groupChannels * kernel * kernel];
        float[] bias = new float[filters];
        for (int f = 0; f < filters && biased; f++) {
            bias[f] = (float) random.nextGaussian();
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        Value xValue = new Value("x", null);
        Value wValue = new Value("w", null);
        Value biasValue = new Value("bias", null);
        Value y = new Value("y", null);
        Window window = new Window(null, new long[] {stride, stride}, new long[] {dilation, dilation},
                Arrays.stream(pads).asLongStream().toArray(), Window.AutoPad.NOTSET, false);
        int outHeight = (height + pads[0] + pads[2] - dilation * (kernel - 1) - 1) / stride + 1;
        int outWidth = (width + pads[1] + pads[3] - dilation * (kernel - 1) - 1) / stride + 1;
        Graph.Builder builder = Graph.builder("conv").input(xValue)
                .constant(wValue, arena.fromFloats(w, filters, groupChannels, kernel, kernel));
        if (biased) {
            builder.constant(biasValue, arena.fromFloats(bias, filters));
        }
        Graph graph = builder.node(new Node("conv", new Conv(window, group),
                biased ? List.of(xValue, wValue, biasValue) : List.of(xValue, wValue), List.of(y), "test")).output(y).build();
        Tensor input = arena.fromFloats(x, batch, channels, height, width);
        float[] single = run(graph, input, 1);
        for (int threads : new int[] {2, 3}) {
            assertThat(run(graph, input, threads)).as("%d threads, padded image %b", threads, paddedImage).isEqualTo(single);
        }
        int at = 0;
        for (int n = 0; n < batch; n++) {
            for (int f = 0; f < filters; f++) {
                for (int oh = 0; oh < outHeight; oh++) {
                    for (int ow = 0; ow < outWidth; ow++) {
                        double sum = bias[f];
                        for (int c = 0; c < groupChannels; c++) {
                            int channel = f / groupFilters * groupChannels + c;
                            for (int i = 0; i < kernel; i++) {
                                for (int j = 0; j < kernel; j++) {
                                    int h = oh * stride - pads[0] + i * dilation;
                                    int v = ow * stride - pads[1] + j * dilation;
                                    if (h >= 0 && h < height && v >= 0 && v < width) {
                                        sum += (double) x[((n * channels + channel) * height + h) * width + v]
                                                * w[((f * groupChannels + c) * kernel + i) * kernel + j];
                                    }
                                }
                            }
                        }
                        assertThat((double) single[at++]).as("y[%d, %d, %d, %d], padded image %b", n, f, oh, ow, paddedImage)
                                .isCloseTo(sum, org.assertj.core.data.Offset.offset(1e-4 * (1 + Math.abs(sum))));
                    }
                }
            }
        }
        assertThat(at).isEqualTo(single.length);
    }

    private static float[] run(Graph graph, Tensor input, int threads) {
        try (Session session = new Session(graph, new SessionOptions(threads, false));
                Outputs outputs = session.run(Map.of("x", input))) {
            return outputs.get("y").toFloatArray();
        }
    }
}
