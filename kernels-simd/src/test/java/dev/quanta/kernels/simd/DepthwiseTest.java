package dev.quanta.kernels.simd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.tensor.Layouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The plane kernel, over its padded copies of one to three planes, against the definition in the same tap order: the same bits. */
class DepthwiseTest {

    @Test
    void matchesTheDefinitionBitForBit() {
        SplittableRandom random = new SplittableRandom(0xDE_9711L);
        for (int trial = 0; trial < 300; trial++) {
            // Strides past 1 along rows read other phases; wide rows in some trials, so whole vectors
            // run; one to three channels summed into the plane, as a convolution of an RGB image is.
            check(random, trial, random.nextInt(1, 6), random.nextInt(1, 6), random.nextInt(1, 4),
                    trial % 3 == 0 ? random.nextInt(2, 4) : 1, random.nextInt(1, 3), random.nextInt(1, 3),
                    random.nextInt(1, 20), trial % 4 == 0 ? random.nextInt(30, 70) : random.nextInt(1, 20),
                    1 + trial % 3);
        }
    }

    /**
     * One plane's 3×3 (its weights held in registers at strides 1 and 2 down the plane), at strides
     * 1 to 3 down and 1 or 2 along, dilations 1 or 2 each way, rows and columns of every count.
     */
    @Test
    void threeByThreeMatchesTheDefinitionBitForBit() {
        SplittableRandom random = new SplittableRandom(0x3B3L);
        for (int trial = 0; trial < 300; trial++) {
            int width = trial % 5 == 0 ? random.nextInt(1, 16) : random.nextInt(16, 80);
            check(random, trial, 3, 3, 1 + trial % 3, trial % 4 < 2 ? 1 : 2, trial % 7 == 3 ? 2 : 1,
                    trial % 6 == 1 ? 2 : 1, random.nextInt(1, 30), width, 1);
        }
    }

    /**
     * A plane (and the same filter among four) of a random image against the definition, then its
     * bias: the image ±3e38 in every seventh trial, pads up to past the kernel's reach.
     */
    private static void check(SplittableRandom random, int trial, int kernelHeight, int kernelWidth, int strideHeight,
            int strideWidth, int dilationHeight, int dilationWidth, int height, int width, int channels) {
        int padTop = random.nextInt(0, 4);
        int padLeft = random.nextInt(0, 4);
        int padBottom = random.nextInt(0, 4);
        int padRight = random.nextInt(0, 4);
        int outHeight = Math.floorDiv(height + padTop + padBottom - (kernelHeight - 1) * dilationHeight - 1, strideHeight) + 1;
        int outWidth = Math.floorDiv(width + padLeft + padRight - (kernelWidth - 1) * dilationWidth - 1, strideWidth) + 1;
        if (outHeight <= 0 || outWidth <= 0) {
            return;
        }
        Depthwise.Shape shape = new Depthwise.Shape(height, width, kernelHeight, kernelWidth, strideHeight, strideWidth,
                dilationHeight, dilationWidth, padTop, padLeft, padBottom, padRight, outHeight, outWidth);
        float[] x = new float[channels * height * width];
        for (int i = 0; i < x.length; i++) {
            x[i] = trial % 7 == 0 ? (random.nextBoolean() ? 3e38f : -3e38f) : (float) random.nextGaussian();
        }
        // Weights after a few unused ones, as a filter inside a larger weight tensor.
        int taps = kernelHeight * kernelWidth;
        float[] w = new float[3 + channels * taps];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        Arena arena = Arena.ofAuto();
        MemorySegment in = arena.allocate(8 + x.length * 4L);
        MemorySegment.copy(x, 0, in, Layouts.FLOAT, 8, x.length);
        // A reused copy: its earlier contents must not leak into this plane.
        float[] padded = new float[channels * shape.paddedSize() + 5];
        Arrays.fill(padded, Float.NaN);
        for (int c = 0; c < channels; c++) {
            Depthwise.pad(in, 8 + c * height * width * 4L, shape, 0f, padded, c * shape.paddedSize());
        }
        MemorySegment out = arena.allocate(4 + (long) outHeight * outWidth * 4);
        // A bias in most trials, none (0) in every fifth, whose sums must keep their bits.
        float bias = trial % 5 == 0 ? 0f : (float) random.nextGaussian();
        Depthwise.plane(padded, 0, channels, w, 3, bias, shape, out, 4);
        for (int oh = 0; oh < outHeight; oh++) {
            for (int ow = 0; ow < outWidth; ow++) {
                float sum = 0;
                for (int c = 0; c < channels; c++) {
                    for (int i = 0; i < kernelHeight; i++) {
                        for (int j = 0; j < kernelWidth; j++) {
                            int h = oh * strideHeight - padTop + i * dilationHeight;
                            int v = ow * strideWidth - padLeft + j * dilationWidth;
                            if (h >= 0 && h < height && v >= 0 && v < width) {
                                sum = Math.fma(x[(c * height + h) * width + v], w[3 + (c * kernelHeight + i) * kernelWidth + j], sum);
                            }
                        }
                    }
                }
                assertThat(out.get(Layouts.FLOAT, 4 + (long) (oh * outWidth + ow) * 4))
                        .as("trial %d: %s, y[%d, %d]", trial, shape, oh, ow).isEqualTo(sum + bias);
            }
        }
        // Four filters at once, this one among them: each plane the bits of that filter alone.
        float[] four = new float[3 + 4 * channels * taps];
        for (int i = 0; i < four.length; i++) {
            four[i] = (float) random.nextGaussian();
        }
        long planeBytes = 4L * outHeight * outWidth;
        MemorySegment planes = arena.allocate(4 + 4 * planeBytes);
        Depthwise.planes4(padded, 0, channels, four, 3, channels * taps, shape, planes, 4, planeBytes);
        for (int j = 0; j < 4; j++) {
            MemorySegment alone = arena.allocate(4 + planeBytes);
            Depthwise.plane(padded, 0, channels, four, 3 + j * channels * taps, 0f, shape, alone, 4);
            for (long i = 0; i < outHeight * outWidth; i++) {
                assertThat(planes.get(Layouts.FLOAT, 4 + j * planeBytes + i * 4))
                        .as("trial %d: %s, filter %d of four, output %d", trial, shape, j, i)
                        .isEqualTo(alone.get(Layouts.FLOAT, 4 + i * 4));
            }
        }
    }
}
