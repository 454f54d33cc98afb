package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.ops.GridSample;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;

/**
 * ONNX's GridSample over any number of spatial axes: each output point's coordinates are
 * denormalized, brought inside X by the padding mode when they fall outside, and X is read there
 * (nearest, halves to even) or interpolated separably over 2 (linear) or 4 (cubic, Keys with
 * a = −0.75) neighbours per axis, each neighbour index itself padded.
 */
final class GridSampleKernel {

    private static final double CUBIC_ALPHA = -0.75;

    private GridSampleKernel() {
    }

    static Kernel of(GridSample op) {
        return (context, inputs) -> {
            Tensor x = inputs[0].contiguous();
            Tensor grid = inputs[1].contiguous();
            int axes = x.rank() - 2;
            if (axes < 1 || grid.rank() != axes + 2 || grid.size(0) != x.size(0) || grid.size(grid.rank() - 1) != axes) {
                throw context.error("X " + x.shape() + " and grid " + grid.shape()
                        + " must be [N, C, D1 … Dr] and [N, O1 … Or, r]");
            }
            long[] dims = new long[axes];
            for (int i = 0; i < axes; i++) {
                dims[i] = x.size(2 + i);
            }
            long[] outSizes = new long[axes + 2];
            outSizes[0] = x.size(0);
            outSizes[1] = x.size(1);
            for (int i = 0; i < axes; i++) {
                outSizes[2 + i] = grid.size(1 + i);
            }
            Tensor out = context.allocateForOverwrite(x.dtype(), Shape.of(outSizes));
            long points = Shape.of(outSizes).elementCount() / Math.max(1, outSizes[0] * outSizes[1]);
            long plane = Shape.of(dims).elementCount();
            long[] strides = new long[axes];
            for (int i = axes - 1, stride = 1; i >= 0; i--) {
                strides[i] = stride;
                stride *= (int) dims[i];
            }
            double[] min = new double[axes];
            double[] max = new double[axes];
            for (int i = 0; i < axes; i++) {
                min[i] = op.alignCorners() ? 0 : -0.5;
                max[i] = op.alignCorners() ? dims[i] - 1 : dims[i] - 0.5;
            }
            double[] coordinate = new double[axes];
            for (long n = 0; n < outSizes[0]; n++) {
                for (long p = 0; p < points; p++) {
                    long gridAt = grid.offset() + (n * points + p) * axes;
                    for (int i = 0; i < axes; i++) {
                        // The grid lists the last spatial axis first.
                        double normalized = grid.loadDouble(gridAt + axes - 1 - i);
                        double v = op.alignCorners() ? (normalized + 1) / 2 * (dims[i] - 1)
                                : ((normalized + 1) * dims[i] - 1) / 2;
                        if (op.mode() == GridSample.Mode.NEAREST) {
                            v = Math.rint(v);
                        }
                        if (v < min[i] || v > max[i]) {
                            if (op.padding() == GridSample.Padding.BORDER) {
                                v = Math.clamp(v, 0, dims[i] - 1);
                            } else if (op.padding() == GridSample.Padding.REFLECTION) {
                                v = reflect(v, min[i], max[i]);
                            }
                        }
                        coordinate[i] = v;
                    }
                    for (long c = 0; c < outSizes[1]; c++) {
                        long base = x.offset() + (n * outSizes[1] + c) * plane;
                        double value = sample(op, x, base, dims, strides, min, max, coordinate, 0, 0);
                        out.storeDouble(out.offset() + (n * outSizes[1] + c) * points + p, value);
                    }
                }
            }
            return new Tensor[] {out};
        };
    }

    /** The value at {@code coordinate} over axes {@code axis} on, {@code at} the position reached so far. */
    private static double sample(GridSample op, Tensor x, long base, long[] dims, long[] strides, double[] min, double[] max,
            double[] coordinate, int axis, long at) {
        if (axis == dims.length) {
            return x.loadDouble(base + at);
        }
        double v = coordinate[axis];
        if (op.mode() == GridSample.Mode.NEAREST) {
            long index = padded(op, (long) v, dims[axis], min[axis], max[axis]);
            return index < 0 ? 0 : sample(op, x, base, dims, strides, min, max, coordinate, axis + 1,
                    at + index * strides[axis]);
        }
        long first = (long) Math.floor(v);
        double t = v - first;
        double[] weights = op.mode() == GridSample.Mode.LINEAR ? new double[] {1 - t, t} : cubic(t);
        long start = op.mode() == GridSample.Mode.LINEAR ? first : first - 1;
        double sum = 0;
        for (int k = 0; k < weights.length; k++) {
            long index = padded(op, start + k, dims[axis], min[axis], max[axis]);
            if (index >= 0) {
                sum += weights[k] * sample(op, x, base, dims, strides, min, max, coordinate, axis + 1,
                        at + index * strides[axis]);
            }
        }
        return sum;
    }

    /** The index read for {@code index} on an axis of {@code size}, or −1 where zeros padding reads 0. */
    private static long padded(GridSample op, long index, long size, double min, double max) {
        return switch (op.padding()) {
            case ZEROS -> index >= 0 && index < size ? index : -1;
            case BORDER -> Math.clamp(index, 0, size - 1);
            case REFLECTION -> (long) reflect(index, min, max);
        };
    }

    /** Reflected off the nearer border, again and again, until it lies within [min, max]. */
    private static double reflect(double v, double min, double max) {
        double range = max - min;
        if (v < min) {
            double distance = min - v;
            long flips = (long) (distance / range);
            double rest = distance - flips * range;
            return flips % 2 == 0 ? min + rest : max - rest;
        }
        if (v > max) {
            double distance = v - max;
            long flips = (long) (distance / range);
            double rest = distance - flips * range;
            return flips % 2 == 0 ? max - rest : min + rest;
        }
        return v;
    }

    /** Keys' cubic convolution weights of the four neighbours at −1, 0, 1, 2 from a point t past the first. */
    private static double[] cubic(double t) {
        double a = CUBIC_ALPHA;
        return new double[] {
            ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
            ((a + 2) * t - (a + 3)) * t * t + 1,
            ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
            ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a};
    }
}
