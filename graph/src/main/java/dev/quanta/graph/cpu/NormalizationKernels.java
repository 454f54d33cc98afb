package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.ops.ChannelNormalize;
import dev.quanta.graph.ops.LocalResponseNorm;
import dev.quanta.graph.ops.Normalize;
import dev.quanta.kernels.simd.FloatRows;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.util.Arrays;

/**
 * Layer, RMS, batch, instance and local response normalization; statistics in double precision, but
 * for LRN's float windows (in float, as ONNX Runtime sums them).
 */
final class NormalizationKernels {

    private NormalizationKernels() {
    }

    static Kernel normalize(Normalize op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            int axis = Shape.normalizeAxis(op.axis(), x.rank());
            long[] trailing = Arrays.copyOfRange(x.shape().sizes(), axis, x.rank());
            long inner = Shape.of(trailing).elementCount();
            long outer = inner == 0 ? 0 : x.elementCount() / inner;
            // Float rows made contiguous first: ConvNeXt normalizes its channels through a transposed
            // view, whose rows the element-by-element path below took at 18 ns a value (5.4 ms a layer).
            Tensor rows = (x.dtype() == DType.FLOAT ? x.contiguous() : x).reshape(outer, inner);
            double[] scale = along(inputs[1], trailing);
            double[] bias = inputs.length > 2 && inputs[2] != null ? along(inputs[2], trailing) : null;
            Tensor y = context.allocateForOverwrite(x.dtype(), x.shape());
            long[] statsShape = x.shape().sizes();
            Arrays.fill(statsShape, axis, statsShape.length, 1);
            Tensor means = context.allocate(DType.FLOAT, Shape.of(statsShape));
            Tensor inverseDeviations = context.allocate(DType.FLOAT, Shape.of(statsShape));
            if (x.dtype() == DType.FLOAT && rows.strides()[1] == 1) {
                float[] floatScale = toFloats(scale);
                float[] floatBias = bias == null ? null : toFloats(bias);
                // Rows are independent: threads take blocks of them.
                long blocks = ElementwiseKernels.blocks(context, outer * inner, outer);
                long rowsPerBlock = Math.ceilDiv(outer, blocks);
                // Rows go two at a time (see FloatRows.normalizePair), a block's odd last row paired with itself.
                long rowBytes = rows.strides()[0] * 4;
                context.parallel(blocks, block -> {
                    float[] statistics = new float[4];
                    long end = Math.min(outer, (block + 1) * rowsPerBlock);
                    for (long r = block * rowsPerBlock; r < end; r += 2) {
                        long second = Math.min(r + 1, end - 1);
                        FloatRows.normalizePair(rows.segment(), rows.offset() * 4 + r * rowBytes,
                                rows.offset() * 4 + second * rowBytes, y.segment(), r * inner * 4, second * inner * 4,
                                (int) inner, floatScale, floatBias, (float) op.epsilon(), op.rmsOnly(), statistics);
                        means.storeDouble(r, statistics[0]);
                        inverseDeviations.storeDouble(r, statistics[1]);
                        means.storeDouble(second, statistics[2]);
                        inverseDeviations.storeDouble(second, statistics[3]);
                    }
                });
                return new Tensor[] {y, means, inverseDeviations};
            }
            double[] row = new double[Math.toIntExact(inner)];
            for (long r = 0; r < outer; r++) {
                long base = rows.offset() + r * rows.strides()[0];
                double sum = 0;
                double squares = 0;
                for (int i = 0; i < inner; i++) {
                    row[i] = rows.loadDouble(base + i * rows.strides()[1]);
                    sum += row[i];
                    squares += row[i] * row[i];
                }
                double mean = op.rmsOnly() ? 0 : sum / inner;
                double variance = 0;
                if (op.rmsOnly()) {
                    variance = squares / inner;
                } else {
                    for (int i = 0; i < inner; i++) {
                        variance += (row[i] - mean) * (row[i] - mean);
                    }
                    variance /= inner;
                }
                double inverse = 1 / Math.sqrt(variance + op.epsilon());
                for (int i = 0; i < inner; i++) {
                    double value = (row[i] - mean) * inverse * scale[i] + (bias == null ? 0 : bias[i]);
                    y.storeDouble(r * inner + i, value);
                }
                means.storeDouble(r, mean);
                inverseDeviations.storeDouble(r, inverse);
            }
            return new Tensor[] {y, means, inverseDeviations};
        };
    }

    private static float[] toFloats(double[] values) {
        float[] floats = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            floats[i] = (float) values[i];
        }
        return floats;
    }

    /** A parameter broadcast over the normalized trailing dimensions, flattened. */
    private static double[] along(Tensor parameter, long[] trailing) {
        return parameter.broadcastTo(trailing).toDoubleArray();
    }

    static Kernel channelNormalize(ChannelNormalize op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            if (x.rank() < 2) {
                throw context.error("needs an input of rank 2 or more [N, C, ...], not " + x);
            }
            long batch = x.size(0);
            long channels = x.size(1);
            long spatial = channels == 0 || batch == 0 ? 0 : x.elementCount() / (batch * channels);
            Tensor planes = x.reshape(batch, channels, spatial);
            double[] scale = inputs[1].toDoubleArray();
            double[] bias = inputs[2].toDoubleArray();
            boolean batchNorm = inputs.length > 3 && inputs[3] != null;
            double[] means = batchNorm ? inputs[3].toDoubleArray() : null;
            double[] variances = batchNorm ? inputs[4].toDoubleArray() : null;
            if (scale.length != channels || bias.length != channels
                    || (batchNorm && (means.length != channels || variances.length != channels))) {
                throw context.error("scale, bias, mean and variance must each have " + channels + " elements");
            }
            Tensor y = context.allocate(x.dtype(), x.shape());
            long[] strides = planes.strides();
            Tensor runningMean = null;
            Tensor runningVariance = null;
            if (op.training()) {
                // Statistics of the batch per channel (population variance), blended into the running ones.
                double[] batchMeans = new double[(int) channels];
                double[] batchVariances = new double[(int) channels];
                long count = batch * spatial;
                for (int c = 0; c < channels; c++) {
                    double sum = 0;
                    for (long n = 0; n < batch; n++) {
                        for (long i = 0; i < spatial; i++) {
                            sum += planes.loadDouble(planes.offset() + n * strides[0] + c * strides[1] + i * strides[2]);
                        }
                    }
                    batchMeans[c] = sum / count;
                    double squares = 0;
                    for (long n = 0; n < batch; n++) {
                        for (long i = 0; i < spatial; i++) {
                            double d = planes.loadDouble(planes.offset() + n * strides[0] + c * strides[1] + i * strides[2])
                                    - batchMeans[c];
                            squares += d * d;
                        }
                    }
                    batchVariances[c] = squares / count;
                }
                runningMean = context.allocate(inputs[3].dtype(), inputs[3].shape());
                runningVariance = context.allocate(inputs[4].dtype(), inputs[4].shape());
                for (int c = 0; c < channels; c++) {
                    runningMean.storeDouble(c, means[c] * op.momentum() + batchMeans[c] * (1 - op.momentum()));
                    runningVariance.storeDouble(c, variances[c] * op.momentum() + batchVariances[c] * (1 - op.momentum()));
                }
                means = batchMeans;
                variances = batchVariances;
            }
            if (x.dtype() == DType.FLOAT && strides[2] == 1) {
                // Plane by plane across the threads, by vectors: x·factor + (bias − mean·factor), as ONNX
                // Runtime folds it (element by element in double, on one thread, a batch norm took up to 0.26
                // ms a layer of PaddleOCR's direction classifier; an instance norm of 32×224×224, its statistics
                // so, 10.9–11.0 ms, 0.32–0.33 now, on two threads).
                double[] planeMeans = means;
                double[] planeVariances = variances;
                context.parallel(batch * channels, task -> {
                    int c = (int) (task % channels);
                    long base = planes.offset() + task / channels * strides[0] + c * strides[1];
                    double mean = batchNorm ? planeMeans[c] : 0;
                    double variance = batchNorm ? planeVariances[c] : 0;
                    if (!batchNorm) {
                        double[] moments = FloatRows.moments(planes.segment(), base * 4, spatial);
                        mean = moments[0];
                        variance = moments[1];
                    }
                    double factor = scale[c] / Math.sqrt(variance + op.epsilon());
                    FloatRows.affine(planes.segment(), base * 4, (float) factor, (float) (bias[c] - mean * factor),
                            y.segment(), y.byteOffset() + task * spatial * 4, spatial);
                });
                return op.training() ? new Tensor[] {y, runningMean, runningVariance} : new Tensor[] {y};
            }
            for (long n = 0; n < batch; n++) {
                for (int c = 0; c < channels; c++) {
                    long base = planes.offset() + n * strides[0] + c * strides[1];
                    double mean;
                    double variance;
                    if (batchNorm) {
                        mean = means[c];
                        variance = variances[c];
                    } else {
                        double sum = 0;
                        for (long i = 0; i < spatial; i++) {
                            sum += planes.loadDouble(base + i * strides[2]);
                        }
                        mean = sum / spatial;
                        double squares = 0;
                        for (long i = 0; i < spatial; i++) {
                            double d = planes.loadDouble(base + i * strides[2]) - mean;
                            squares += d * d;
                        }
                        variance = squares / spatial;
                    }
                    double factor = scale[c] / Math.sqrt(variance + op.epsilon());
                    long out = (n * channels + c) * spatial;
                    for (long i = 0; i < spatial; i++) {
                        y.storeDouble(out + i, (planes.loadDouble(base + i * strides[2]) - mean) * factor + bias[c]);
                    }
                }
            }
            return op.training() ? new Tensor[] {y, runningMean, runningVariance} : new Tensor[] {y};
        };
    }

    /** A thread's plane of LRN's summed squares. */
    private static final ThreadLocal<float[]> SQUARES = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] planeScratch(int size) {
        float[] squares = SQUARES.get();
        if (squares.length < size) {
            squares = new float[size];
            SQUARES.set(squares);
        }
        return squares;
    }

    static Kernel localResponseNorm(LocalResponseNorm op) {
        return (context, inputs) -> {
            Tensor x = inputs[0].contiguous();
            long batch = x.size(0);
            long channels = x.size(1);
            long spatial = x.elementCount() / Math.max(1, batch * channels);
            Tensor y = context.allocate(x.dtype(), x.shape());
            int before = (op.size() - 1) / 2;
            int after = op.size() - 1 - before;
            if (x.dtype() == DType.FLOAT && spatial <= Integer.MAX_VALUE) {
                // A plane at a time, by vectors: its window's squares summed plane by plane in float, as
                // ONNX Runtime does (element by element in double, AlexNet's first LRN, 96×55×55, took
                // 11.1–11.4 ms, 0.25–0.26 so, on two threads).
                int plane = (int) spatial;
                context.parallel(batch * channels, task -> {
                    long n = task / channels;
                    long c = task % channels;
                    float[] squares = planeScratch(plane);
                    Arrays.fill(squares, 0, plane, 0f);
                    for (long k = Math.max(0, c - before); k <= Math.min(channels - 1, c + after); k++) {
                        FloatRows.addSquares(x.segment(), x.byteOffset() + (n * channels + k) * spatial * 4, squares, 0, plane);
                    }
                    FloatRows.localResponse(x.segment(), x.byteOffset() + task * spatial * 4, squares, y.segment(),
                            y.byteOffset() + task * spatial * 4, plane, (float) op.bias(), (float) (op.alpha() / op.size()),
                            (float) op.beta());
                });
                return new Tensor[] {y};
            }
            for (long n = 0; n < batch; n++) {
                for (long c = 0; c < channels; c++) {
                    for (long i = 0; i < spatial; i++) {
                        double squares = 0;
                        for (long k = Math.max(0, c - before); k <= Math.min(channels - 1, c + after); k++) {
                            double v = x.loadDouble(x.offset() + (n * channels + k) * spatial + i);
                            squares += v * v;
                        }
                        long at = (n * channels + c) * spatial + i;
                        double denominator = Math.pow(op.bias() + op.alpha() / op.size() * squares, op.beta());
                        y.storeDouble(at, x.loadDouble(x.offset() + at) / denominator);
                    }
                }
            }
            return new Tensor[] {y};
        };
    }
}
