package dev.quanta.kernels.simd;

import dev.quanta.tensor.Layouts;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A 2-D convolution of one float32 plane by one filter (the product of a depthwise convolution's
 * group), over a copy of the plane inside its padding, so that every tap reads inside it. Where the
 * stride along a row is 1, outputs go a vector at a time, each tap one load and one fused
 * multiply-add into the sums held in a register (the last vector of a row overlapping the one
 * before); otherwise one by one. Each output adds its taps in row-major kernel order from +0, as
 * the lowered product adds them (a padding tap adds +0, which leaves a sum begun at +0 unchanged).
 * The lowered form gathered the patches and multiplied them by a one-row matrix: 1–4 GOP/s.
 */
public final class Depthwise {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private Depthwise() {
    }

    /** The kernel's sizes and how it moves (strides, dilations), and the output's sizes. */
    public record Shape(int kernelHeight, int kernelWidth, int strideHeight, int strideWidth, int dilationHeight,
            int dilationWidth, int outHeight, int outWidth) {
    }

    /**
     * Copies the float plane x (height × width, dense, offset in bytes) into a padded plane (rows of
     * {@code paddedWidth}, its padding already zero) from row {@code padTop}, column {@code padLeft}.
     */
    public static void pad(MemorySegment x, long xOffset, int height, int width, float[] padded, int paddedWidth,
            int padTop, int padLeft) {
        int lanes = SPECIES.length();
        for (int h = 0; h < height; h++) {
            long from = xOffset + (long) h * width * 4;
            int to = (h + padTop) * paddedWidth + padLeft;
            int v = 0;
            for (; v + lanes <= width; v += lanes) {
                FloatVector.fromMemorySegment(SPECIES, x, from + v * 4L, Layouts.ORDER).intoArray(padded, to + v);
            }
            for (; v < width; v++) {
                padded[to + v] = x.get(Layouts.FLOAT, from + v * 4L);
            }
        }
    }

    /**
     * y[oh, ow] = Σ w[wFrom + i·kw + j]·x[oh·sh + i·dh, ow·sw + j·dw], x a padded plane with rows of
     * {@code paddedWidth}, y dense (offset in bytes).
     */
    public static void plane(float[] x, int paddedWidth, float[] w, int wFrom, Shape s, MemorySegment y, long yOffset) {
        int lanes = SPECIES.length();
        boolean vectors = s.strideWidth() == 1 && s.outWidth() >= lanes;
        for (int oh = 0; oh < s.outHeight(); oh++) {
            int top = oh * s.strideHeight() * paddedWidth;
            long row = yOffset + (long) oh * s.outWidth() * 4;
            if (vectors) {
                for (int ow = 0; ow < s.outWidth(); ow += lanes) {
                    ow = Math.min(ow, s.outWidth() - lanes);
                    FloatVector sum = FloatVector.zero(SPECIES);
                    for (int i = 0; i < s.kernelHeight(); i++) {
                        int at = top + i * s.dilationHeight() * paddedWidth + ow;
                        for (int j = 0; j < s.kernelWidth(); j++) {
                            sum = FloatVector.fromArray(SPECIES, x, at + j * s.dilationWidth())
                                    .fma(FloatVector.broadcast(SPECIES, w[wFrom + i * s.kernelWidth() + j]), sum);
                        }
                    }
                    sum.intoMemorySegment(y, row + ow * 4L, Layouts.ORDER);
                }
                continue;
            }
            for (int ow = 0; ow < s.outWidth(); ow++) {
                float sum = 0;
                for (int i = 0; i < s.kernelHeight(); i++) {
                    int at = top + i * s.dilationHeight() * paddedWidth + ow * s.strideWidth();
                    for (int j = 0; j < s.kernelWidth(); j++) {
                        sum = Math.fma(x[at + j * s.dilationWidth()], w[wFrom + i * s.kernelWidth() + j], sum);
                    }
                }
                y.set(Layouts.FLOAT, row + ow * 4L, sum);
            }
        }
    }
}
