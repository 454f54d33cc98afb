package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.ops.Resize;
import dev.quanta.kernels.simd.FloatRows;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Layouts;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Resize, separably: each axis maps every output coordinate to input taps and weights, and an
 * output element is the weighted sum over the product of its axes' taps.
 */
final class ResizeKernel {

    private ResizeKernel() {
    }

    /** The taps of one output coordinate on one axis; {@code outside} for tf_crop_and_resize extrapolation. */
    private record Taps(long[] indices, double[] weights, boolean outside) {
    }

    static Kernel of(Resize op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            int rank = x.rank();
            Tensor roi = inputs.length > 1 ? inputs[1] : null;
            Tensor scalesInput = inputs.length > 2 ? inputs[2] : null;
            Tensor sizesInput = inputs.length > 3 ? inputs[3] : null;
            int[] axes = axes(op, rank);
            double[] scales = new double[rank];
            // The scales as ONNX Runtime takes them, in float: given, or an output size over an input size.
            float[] floatScales = new float[rank];
            long[] outSizes = x.shape().sizes();
            Arrays.fill(scales, 1);
            Arrays.fill(floatScales, 1);
            double[] roiStart = new double[rank];
            double[] roiEnd = new double[rank];
            Arrays.fill(roiEnd, 1);
            if (roi != null && roi.elementCount() > 0) {
                double[] values = roi.toDoubleArray();
                if (values.length != 2 * axes.length) {
                    throw context.error("roi must hold a start and an end per resized axis, not " + values.length + " values");
                }
                for (int i = 0; i < axes.length; i++) {
                    roiStart[axes[i]] = values[i];
                    roiEnd[axes[i]] = values[i + axes.length];
                }
            }
            if (sizesInput != null && sizesInput.elementCount() > 0) {
                long[] sizes = ShapeKernels.longs(sizesInput, context, "Resize's sizes");
                if (sizes.length != axes.length) {
                    throw context.error("sizes must have one entry per resized axis");
                }
                double common = op.aspectPolicy() == Resize.AspectPolicy.NOT_LARGER ? Double.MAX_VALUE : 0;
                for (int i = 0; i < axes.length; i++) {
                    double scale = (double) sizes[i] / x.size(axes[i]);
                    common = op.aspectPolicy() == Resize.AspectPolicy.NOT_LARGER ? Math.min(common, scale) : Math.max(common, scale);
                }
                for (int i = 0; i < axes.length; i++) {
                    int axis = axes[i];
                    if (op.aspectPolicy() == Resize.AspectPolicy.STRETCH) {
                        outSizes[axis] = sizes[i];
                        scales[axis] = (double) sizes[i] / x.size(axis);
                        floatScales[axis] = (float) sizes[i] / (float) x.size(axis);
                    } else {
                        outSizes[axis] = (long) Math.rint(common * x.size(axis));
                        scales[axis] = common;
                    }
                }
            } else if (scalesInput != null && scalesInput.elementCount() > 0) {
                double[] values = scalesInput.toDoubleArray();
                if (values.length != axes.length) {
                    throw context.error("scales must have one entry per resized axis");
                }
                for (int i = 0; i < axes.length; i++) {
                    int axis = axes[i];
                    if (values[i] <= 0) {
                        throw context.error("scale " + values[i] + " is not positive");
                    }
                    scales[axis] = values[i];
                    floatScales[axis] = (float) values[i];
                    double span = op.transform() == Resize.Transform.TF_CROP_AND_RESIZE ? roiEnd[axis] - roiStart[axis] : 1;
                    outSizes[axis] = (long) Math.floor(x.size(axis) * span * values[i]);
                }
            } else {
                throw context.error("Resize needs scales or sizes");
            }
            Taps[][] taps = new Taps[rank][];
            for (int axis = 0; axis < rank; axis++) {
                taps[axis] = new Taps[Math.toIntExact(outSizes[axis])];
                for (int o = 0; o < outSizes[axis]; o++) {
                    taps[axis][o] = taps(op, o, x.size(axis), outSizes[axis], scales[axis], roiStart[axis], roiEnd[axis]);
                }
            }
            Tensor y = context.allocateForOverwrite(x.dtype(), Shape.of(outSizes));
            if (rank > 0 && !x.dtype().isString() && !x.dtype().isPacked()
                    && Arrays.stream(taps).allMatch(axis -> Arrays.stream(axis).allMatch(ResizeKernel::copies))) {
                gather(context, x, taps, y);
                return new Tensor[] {y};
            }
            if (x.dtype() == DType.FLOAT && (rank == 2 || rank == 4) && asOnnxRuntime(op) && planar(taps)
                    && IntStream.range(0, rank - 2).allMatch(axis -> floatScales[axis] == 1)
                    && (op.transform() != Resize.Transform.ALIGN_CORNERS || IntStream.range(rank - 2, rank)
                            .allMatch(axis -> x.size(axis) * scales[axis] == outSizes[axis]))) {
                bilinear(context, x.contiguous(), op, floatScales, y);
                return new Tensor[] {y};
            }
            if (x.dtype() == DType.FLOAT && rank >= 2 && planar(taps)) {
                planes(context, x.contiguous(), taps, y);
                return new Tensor[] {y};
            }
            long[] strides = x.strides();
            long[] index = new long[rank];
            long count = y.elementCount();
            int[] tap = new int[rank];
            for (long out = 0; out < count; out++) {
                Taps[] chosen = new Taps[rank];
                boolean outside = false;
                for (int d = 0; d < rank; d++) {
                    chosen[d] = taps[d][(int) index[d]];
                    outside |= chosen[d].outside();
                }
                double value;
                if (outside) {
                    value = op.extrapolationValue();
                } else {
                    value = 0;
                    Arrays.fill(tap, 0);
                    while (true) {
                        double weight = 1;
                        long position = x.offset();
                        for (int d = 0; d < rank; d++) {
                            weight *= chosen[d].weights()[tap[d]];
                            position += chosen[d].indices()[tap[d]] * strides[d];
                        }
                        if (weight != 0) {
                            value += weight * x.loadDouble(position);
                        }
                        int d = rank - 1;
                        for (; d >= 0 && ++tap[d] == chosen[d].weights().length; d--) {
                            tap[d] = 0;
                        }
                        if (d < 0) {
                            break;
                        }
                    }
                }
                y.storeDouble(out, towardZero(y, value, op));
                for (int d = rank - 1; d >= 0 && ++index[d] == outSizes[d]; d--) {
                    index[d] = 0;
                }
            }
            return new Tensor[] {y};
        };
    }

    /**
     * Whether only the last two axes interpolate (every other output coordinate copies its input
     * one) and no output lies outside tf_crop_and_resize's region: an image's planes, resized.
     */
    private static boolean planar(Taps[][] taps) {
        for (int d = 0; d < taps.length; d++) {
            boolean inPlane = d >= taps.length - 2;
            for (Taps tap : taps[d]) {
                if (tap.outside() || !inPlane && !copies(tap)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Float planes resized on the last two axes, plane by plane over heap copies (the planes split
     * across the threads): each output the sum of its row taps times its column taps, in double and
     * in the order of the general loop, so the same bits. A bilinear 2× upsampling of 32 planes of
     * 80×80 took 50 ms a run element by element, 4.6 so (two threads).
     */
    private static void planes(KernelContext context, Tensor x, Taps[][] taps, Tensor y) {
        int rank = x.rank();
        Taps[] rows = taps[rank - 2];
        Taps[] columns = taps[rank - 1];
        int height = Math.toIntExact(x.size(rank - 2));
        int width = Math.toIntExact(x.size(rank - 1));
        int inPlane = height * width;
        int outPlane = rows.length * columns.length;
        long planes = y.elementCount() / Math.max(1, outPlane);
        long[] outer = Arrays.copyOf(y.shape().sizes(), rank - 2);
        context.parallel(planes, plane -> {
            // The input plane this output plane reads: each outer axis copies one input coordinate.
            long source = 0;
            long rest = plane;
            long stride = inPlane;
            for (int d = rank - 3; d >= 0; d--) {
                source += taps[d][(int) (rest % outer[d])].indices()[0] * stride;
                rest /= outer[d];
                stride *= x.size(d);
            }
            float[] in = new float[inPlane];
            MemorySegment.copy(x.segment(), Layouts.FLOAT, x.byteOffset() + source * 4, in, 0, inPlane);
            float[] out = new float[outPlane];
            for (int oh = 0; oh < rows.length; oh++) {
                long[] rowIndices = rows[oh].indices();
                double[] rowWeights = rows[oh].weights();
                for (int ow = 0; ow < columns.length; ow++) {
                    long[] columnIndices = columns[ow].indices();
                    double[] columnWeights = columns[ow].weights();
                    double value = 0;
                    for (int i = 0; i < rowIndices.length; i++) {
                        for (int j = 0; j < columnIndices.length; j++) {
                            double weight = rowWeights[i] * columnWeights[j];
                            if (weight != 0) {
                                value += weight * in[(int) rowIndices[i] * width + (int) columnIndices[j]];
                            }
                        }
                    }
                    out[oh * columns.length + ow] = (float) value;
                }
            }
            MemorySegment.copy(out, 0, y.segment(), Layouts.FLOAT, y.byteOffset() + plane * outPlane * 4, outPlane);
        });
    }

    /**
     * Whether ONNX Runtime's bilinear kernel computes this resize (linear, without antialiasing, in a
     * coordinate transformation it writes out in float), so that {@link #bilinear} gives its bits.
     * (Where scales shrink an axis to a fraction of a size, align_corners divides by the output size
     * in ONNX Runtime and by the fraction in ONNX's definition, which Quanta follows there.)
     */
    private static boolean asOnnxRuntime(Resize op) {
        return op.mode() == Resize.Mode.LINEAR && !op.antialias() && op.aspectPolicy() == Resize.AspectPolicy.STRETCH
                && switch (op.transform()) {
                    case HALF_PIXEL, PYTORCH_HALF_PIXEL, ASYMMETRIC, ALIGN_CORNERS -> true;
                    case HALF_PIXEL_SYMMETRIC, TF_CROP_AND_RESIZE -> false;
                };
    }

    /**
     * One axis of a bilinear resize as ONNX Runtime computes it in float: each output coordinate's
     * two input coordinates and their weights (the nearer one weighs more).
     */
    private record Lerp(int[] low, int[] high, float[] lowWeight, float[] highWeight) {

        static Lerp of(Resize op, int outSize, int inSize, float scale) {
            Lerp lerp = new Lerp(new int[outSize], new int[outSize], new float[outSize], new float[outSize]);
            for (int o = 0; o < outSize; o++) {
                float at = scale == 1 ? o : switch (op.transform()) {
                    case HALF_PIXEL -> (o + 0.5f) / scale - 0.5f;
                    case PYTORCH_HALF_PIXEL -> outSize > 1 ? (o + 0.5f) / scale - 0.5f : 0;
                    case ASYMMETRIC -> o / scale;
                    case ALIGN_CORNERS -> outSize == 1 ? 0 : o * (float) (inSize - 1) / (float) (outSize - 1);
                    case HALF_PIXEL_SYMMETRIC, TF_CROP_AND_RESIZE -> throw new IllegalStateException(op.transform().name());
                };
                at = Math.max(0, Math.min(at, inSize - 1));
                int low = Math.min((int) at, inSize - 1);
                int high = Math.min(low + 1, inSize - 1);
                lerp.low[o] = low;
                lerp.high[o] = high;
                lerp.lowWeight[o] = low == high ? 0.5f : Math.abs(at - high);
                lerp.highWeight[o] = low == high ? 0.5f : Math.abs(at - low);
            }
            return lerp;
        }
    }

    /**
     * A bilinear resize of the last two axes with ONNX Runtime's bits: its weights (float, from the
     * float scales) and its sum, the four products of weight by weight by value added left to right
     * in float. The more exact sum of {@link #planes} differs from it in the last bit, which a
     * quantized model's next DynamicQuantizeLinear can turn into a step of its scale (imgly's int8
     * ISNet: 0.3 apart at the output). The planes, or bands of their rows where planes are fewer
     * than the tasks wanted, split across the threads.
     */
    private static void bilinear(KernelContext context, Tensor x, Resize op, float[] scales, Tensor y) {
        int rank = x.rank();
        int height = Math.toIntExact(x.size(rank - 2));
        int width = Math.toIntExact(x.size(rank - 1));
        Lerp rows = Lerp.of(op, Math.toIntExact(y.size(rank - 2)), height, scales[rank - 2]);
        Lerp columns = Lerp.of(op, Math.toIntExact(y.size(rank - 1)), width, scales[rank - 1]);
        FloatRows.BilinearColumns inputColumns = new FloatRows.BilinearColumns(columns.low(), columns.high(),
                columns.lowWeight(), columns.highWeight(), width);
        int outHeight = rows.low().length;
        int outWidth = columns.low().length;
        long outPlane = (long) outHeight * outWidth;
        long planes = outPlane == 0 ? 0 : y.elementCount() / outPlane;
        int bands = (int) Math.clamp(Math.ceilDiv(4L * context.threads(), Math.max(1, planes)), 1, Math.max(1, outHeight));
        MemorySegment from = x.segment();
        MemorySegment to = y.segment();
        context.parallel(planes * bands, task -> {
            long plane = task / bands;
            int band = (int) (task % bands);
            int firstRow = (int) ((long) band * outHeight / bands);
            int endRow = (int) ((long) (band + 1) * outHeight / bands);
            if (firstRow == endRow) {
                return;
            }
            // The input rows the band reads, copied once.
            int firstIn = rows.low()[firstRow];
            int inRows = rows.high()[endRow - 1] - firstIn + 1;
            float[] in = new float[inRows * width];
            MemorySegment.copy(from, Layouts.FLOAT, x.byteOffset() + (plane * height + firstIn) * width * 4L, in, 0, in.length);
            for (int oh = firstRow; oh < endRow; oh++) {
                FloatRows.bilinearRow(in, (rows.low()[oh] - firstIn) * width, (rows.high()[oh] - firstIn) * width,
                        rows.lowWeight()[oh], rows.highWeight()[oh], inputColumns, to,
                        y.byteOffset() + (plane * outPlane + (long) oh * outWidth) * 4L);
            }
        });
    }

    /** Whether an output coordinate takes one input element as it is (nearest, or an axis left alone). */
    private static boolean copies(Taps taps) {
        return !taps.outside() && taps.indices().length == 1 && taps.weights()[0] == 1;
    }

    /**
     * A resize whose every output element is one input element: a gather, row by row (the rows
     * split across the threads), each row's source found once from its outer coordinates. Element
     * by element through the weighted sum, the six nearest upsamplings of PaddleOCR's detector took
     * 145 ms a run, now 4.6.
     */
    private static void gather(KernelContext context, Tensor x, Taps[][] taps, Tensor y) {
        int rank = x.rank();
        int last = rank - 1;
        long[] outSizes = y.shape().sizes();
        long[] strides = x.strides();
        int bytes = x.dtype().byteSize();
        long width = outSizes[last];
        long[] columns = new long[Math.toIntExact(width)];
        boolean identity = x.size(last) == width && strides[last] == 1;
        for (int j = 0; j < width; j++) {
            columns[j] = taps[last][j].indices()[0] * strides[last];
            identity &= columns[j] == j;
        }
        long rows = width == 0 ? 0 : y.elementCount() / width;
        long blocks = Math.clamp(y.elementCount() / (1 << 16), 1, 4L * context.threads());
        boolean whole = identity;
        MemorySegment from = x.segment();
        MemorySegment to = y.segment();
        context.parallel(blocks, block -> {
            long first = block * rows / blocks;
            long end = (block + 1) * rows / blocks;
            for (long row = first; row < end; row++) {
                long source = x.offset();
                long rest = row;
                for (int d = last - 1; d >= 0; d--) {
                    source += taps[d][(int) (rest % outSizes[d])].indices()[0] * strides[d];
                    rest /= outSizes[d];
                }
                long target = y.byteOffset() + row * width * bytes;
                if (whole) {
                    MemorySegment.copy(from, source * bytes, to, target, width * bytes);
                    continue;
                }
                for (int j = 0; j < width; j++) {
                    long at = (source + columns[j]) * bytes;
                    switch (bytes) {
                        case 1 -> to.set(ValueLayout.JAVA_BYTE, target + j, from.get(ValueLayout.JAVA_BYTE, at));
                        case 2 -> to.set(Layouts.INT16, target + j * 2L, from.get(Layouts.INT16, at));
                        case 4 -> to.set(Layouts.INT32, target + j * 4L, from.get(Layouts.INT32, at));
                        default -> MemorySegment.copy(from, at, to, target + (long) j * bytes, bytes);
                    }
                }
            }
        });
    }

    /**
     * Integer outputs of linear or cubic interpolation are truncated toward zero, as ONNX's
     * reference implementation (numpy's astype) and ONNX Runtime's kernels (a C++ cast) do.
     */
    private static double towardZero(Tensor y, double value, Resize op) {
        return y.dtype().isInteger() && op.mode() != Resize.Mode.NEAREST ? (long) value : value;
    }

    private static int[] axes(Resize op, int rank) {
        if (op.axes() == null) {
            int[] all = new int[rank];
            Arrays.setAll(all, d -> d);
            return all;
        }
        return Arrays.stream(op.axes()).mapToInt(axis -> Shape.normalizeAxis(axis, rank)).toArray();
    }

    private static Taps taps(Resize op, long out, long in, long outSize, double scale, double roiStart, double roiEnd) {
        if (scale == 1 && outSize == in && op.transform() != Resize.Transform.TF_CROP_AND_RESIZE) {
            return new Taps(new long[] {out}, new double[] {1}, false);
        }
        double original = switch (op.transform()) {
            case HALF_PIXEL -> (out + 0.5) / scale - 0.5;
            case HALF_PIXEL_SYMMETRIC -> {
                double adjustment = outSize / (scale * in);
                double center = in / 2.0;
                yield center * (1 - adjustment) + (out + 0.5) / scale - 0.5;
            }
            case PYTORCH_HALF_PIXEL -> outSize > 1 ? (out + 0.5) / scale - 0.5 : 0;
            // the resized length before flooring, scale × in, as ONNX's reference uses it
            case ALIGN_CORNERS -> outSize == 1 ? 0 : out * (in - 1.0) / (scale * in - 1.0);
            case ASYMMETRIC -> out / scale;
            case TF_CROP_AND_RESIZE -> outSize > 1
                    ? roiStart * (in - 1) + out * (roiEnd - roiStart) * (in - 1) / (outSize - 1)
                    : 0.5 * (roiStart + roiEnd) * (in - 1);
        };
        if (op.transform() == Resize.Transform.TF_CROP_AND_RESIZE && (original < 0 || original > in - 1)) {
            return new Taps(new long[0], new double[0], true);
        }
        if (op.mode() == Resize.Mode.NEAREST) {
            double floor = Math.floor(original);
            double fraction = original - floor;
            long nearest = switch (op.nearestMode()) {
                case ROUND_PREFER_FLOOR -> (long) (fraction <= 0.5 ? floor : floor + 1);
                case ROUND_PREFER_CEIL -> (long) (fraction < 0.5 ? floor : floor + 1);
                case FLOOR -> (long) floor;
                case CEIL -> (long) Math.ceil(original);
            };
            return new Taps(new long[] {Math.max(0, Math.min(in - 1, nearest))}, new double[] {1}, false);
        }
        // Linear (support 1) or cubic (support 2); antialiasing widens the kernel by 1/scale when shrinking.
        double support = op.mode() == Resize.Mode.LINEAR ? 1 : 2;
        double stretch = op.antialias() && scale < 1 ? scale : 1;
        long first = (long) Math.floor(original - support / stretch) + 1;
        long last = (long) Math.ceil(original + support / stretch) - 1;
        if (stretch == 1) {
            first = (long) Math.floor(original) - (long) support + 1;
            last = (long) Math.floor(original) + (long) support;
        }
        int count = (int) (last - first + 1);
        long[] indices = new long[count];
        double[] weights = new double[count];
        double total = 0;
        for (int i = 0; i < count; i++) {
            long j = first + i;
            double weight = kernel(op, (j - original) * stretch);
            if (op.excludeOutside() && (j < 0 || j >= in)) {
                weight = 0;
            }
            indices[i] = Math.max(0, Math.min(in - 1, j));
            weights[i] = weight;
            total += weight;
        }
        if (total != 0 && (op.antialias() || op.excludeOutside())) {
            for (int i = 0; i < count; i++) {
                weights[i] /= total;
            }
        }
        return new Taps(indices, weights, false);
    }

    private static double kernel(Resize op, double t) {
        double a = Math.abs(t);
        if (op.mode() == Resize.Mode.LINEAR) {
            return Math.max(0, 1 - a);
        }
        double alpha = op.cubicA();
        if (a <= 1) {
            return ((alpha + 2) * a - (alpha + 3)) * a * a + 1;
        }
        if (a < 2) {
            return ((alpha * a - 5 * alpha) * a + 8 * alpha) * a - 4 * alpha;
        }
        return 0;
    }
}
