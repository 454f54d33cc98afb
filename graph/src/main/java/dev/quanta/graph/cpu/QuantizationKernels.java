package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.ops.Dequantize;
import dev.quanta.graph.ops.DequantizeBlocks;
import dev.quanta.graph.ops.Quantize;
import dev.quanta.kernels.simd.FloatRows;
import dev.quanta.kernels.simd.StridedLoop;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.MiniFloat;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;

/**
 * Linear quantization, correct but not yet tuned (the int8 issue makes it fast). Arithmetic is
 * float32 where ONNX's reference computes in float32, so that roundings agree exactly.
 */
final class QuantizationKernels {

    private QuantizationKernels() {
    }

    static Kernel quantize(Quantize op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            Tensor zeroPoint = inputs.length > 2 ? inputs[2] : null;
            DType outType = zeroPoint != null ? zeroPoint.dtype() : op.outType() != null ? op.outType() : DType.UINT8;
            if (op.outType() != null && zeroPoint != null && op.outType() != zeroPoint.dtype()) {
                throw context.error("output_dtype " + op.outType() + " differs from the zero point's " + zeroPoint.dtype());
            }
            if (x.dtype() == DType.FLOAT && (outType == DType.UINT8 || outType == DType.INT8)
                    && inputs[1].dtype() == DType.FLOAT && inputs[1].elementCount() == 1
                    && (zeroPoint == null || zeroPoint.elementCount() == 1)) {
                return new Tensor[] {perTensorToBytes(context, x, inputs[1], zeroPoint, outType)};
            }
            Tensor scale = expand(inputs[1], x, op.axis(), op.blockSize(), context);
            Tensor zero = zeroPoint == null ? null : expand(zeroPoint, x, op.axis(), op.blockSize(), context);
            Tensor y = context.allocate(outType, x.shape());
            MiniFloat small = outType.miniFloat();
            boolean floatOut = outType.isFloatingPoint();
            double low = floatOut ? 0 : outType.minValue();
            double high = floatOut ? 0 : outType.maxValue();
            forEach(x, scale, zero, (px, ps, pz, py) -> {
                float quotient = (float) x.loadDouble(px) / (float) scale.loadDouble(ps);
                float zeroValue = zero == null ? 0 : (float) zero.loadDouble(pz);
                if (small != null) {
                    y.storeBits(py, small.encode(quotient + zeroValue, op.saturate()));
                } else if (floatOut) {
                    y.storeDouble(py, quotient + zeroValue);
                } else {
                    double rounded = Math.rint(quotient) + zeroValue;
                    y.storeLong(py, (long) Math.max(low, Math.min(high, rounded)));
                }
            });
            return new Tensor[] {y};
        };
    }

    /**
     * float32 to int8 or uint8 with one scale and zero point, by vectors on every thread, with the
     * bits of the element loop below: the common QuantizeLinear of QDQ models, which that loop
     * took one element at a time.
     */
    private static Tensor perTensorToBytes(KernelContext context, Tensor x, Tensor scaleTensor, Tensor zeroPoint,
            DType outType) {
        Tensor dense = x.contiguous();
        float scale = (float) scaleTensor.loadDouble(scaleTensor.offset());
        int zero = zeroPoint == null ? 0 : (int) zeroPoint.loadLong(zeroPoint.offset());
        Tensor y = context.allocate(outType, x.shape());
        long count = dense.elementCount();
        long blocks = ElementwiseKernels.blocks(context, count, count);
        long perBlock = Math.ceilDiv(count, blocks);
        context.parallel(blocks, b -> FloatRows.quantizeToBytes(dense.segment(), dense.byteOffset() + b * perBlock * 4,
                y.segment(), y.byteOffset() + b * perBlock, Math.min(perBlock, count - b * perBlock), scale, zero,
                outType == DType.INT8));
        return y;
    }

    /** See {@link DequantizeBlocks}; run once at load where its inputs are constants (they are, in ONNX Runtime's models). */
    static Kernel dequantizeBlocks(DequantizeBlocks op) {
        return (context, inputs) -> {
            int k = op.k();
            int n = op.n();
            int bits = op.bits();
            int blocks = Math.ceilDiv(k, op.blockSize());
            int blob = op.blockSize() * bits / 8;
            Tensor packed = inputs[0];
            if (packed.elementCount() != (long) n * blocks * blob) {
                throw context.error("B " + packed.shape() + " must hold " + n + "·" + blocks + "·" + blob + " bytes (N, blocks of "
                        + op.blockSize() + " along K = " + k + ", " + bits + " bits each)");
            }
            float[] scales = inputs[1].toFloatArray();
            if (scales.length != n * blocks) {
                throw context.error("scales " + inputs[1].shape() + " must hold one value per column and block (" + n
                        + "·" + blocks + ")");
            }
            Tensor zeroPoints = inputs.length > 2 ? inputs[2] : null;
            int zeroBytes = Math.ceilDiv(blocks * bits, 8);
            float[] zeros = new float[n * blocks];
            if (zeroPoints == null) {
                java.util.Arrays.fill(zeros, 1 << (bits - 1));
            } else if (zeroPoints.dtype() == DType.FLOAT) {
                zeros = zeroPoints.toFloatArray();
                if (zeros.length != n * blocks) {
                    throw context.error("float zero points " + zeroPoints.shape() + " must hold " + n + "·" + blocks);
                }
            } else {
                long[] bytes = zeroPoints.toLongArray();
                if (bytes.length != n * zeroBytes) {
                    throw context.error("packed zero points " + zeroPoints.shape() + " must hold " + n + "·" + zeroBytes
                            + " bytes");
                }
                for (int j = 0; j < n; j++) {
                    for (int block = 0; block < blocks; block++) {
                        zeros[j * blocks + block] = field(bytes[j * zeroBytes + block * bits / 8], block, bits);
                    }
                }
            }
            long[] bytes = packed.toLongArray();
            float[] weights = new float[Math.multiplyExact(k, n)];
            for (int j = 0; j < n; j++) {
                for (int d = 0; d < k; d++) {
                    int block = d / op.blockSize();
                    int within = d % op.blockSize();
                    long at = ((long) j * blocks + block) * blob + (long) within * bits / 8;
                    int q = field(bytes[(int) at], within, bits);
                    weights[d * n + j] = (q - zeros[j * blocks + block]) * scales[j * blocks + block];
                }
            }
            Tensor out = context.allocateForOverwrite(DType.FLOAT, Shape.of(k, n));
            java.lang.foreign.MemorySegment.copy(weights, 0, out.segment(), dev.quanta.tensor.Layouts.FLOAT, out.byteOffset(),
                    weights.length);
            return new Tensor[] {out};
        };
    }

    /** The {@code bits}-bit field of value number {@code index} in its byte, fields packed from the low bits up. */
    private static int field(long packed, int index, int bits) {
        int shift = index % (8 / bits) * bits;
        return (int) (packed >> shift) & ((1 << bits) - 1);
    }

    static Kernel dequantize(Dequantize op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            Tensor zeroPoint = inputs.length > 2 ? inputs[2] : null;
            DType outType = op.outType() != null ? op.outType() : inputs[1].dtype();
            if (outType == DType.FLOAT && (x.dtype() == DType.UINT8 || x.dtype() == DType.INT8)
                    && isScalar(inputs[1], op.blockSize()) && (zeroPoint == null || isScalar(zeroPoint, op.blockSize()))) {
                // One scale and zero point over bytes (embeddings, weights): by vectors, with the same bits.
                Tensor bytes = x.contiguous();
                Tensor y = context.allocate(DType.FLOAT, x.shape());
                float zeroValue = zeroPoint == null ? 0 : (float) zeroPoint.loadDouble(zeroPoint.offset());
                FloatRows.dequantizeBytes(bytes.segment(), bytes.offset(), x.dtype() == DType.UINT8, zeroValue,
                        (float) inputs[1].loadDouble(inputs[1].offset()), y.segment(), y.offset() * 4, x.elementCount());
                return new Tensor[] {y};
            }
            Tensor scale = expand(inputs[1], x, op.axis(), op.blockSize(), context);
            Tensor zero = zeroPoint == null ? null : expand(zeroPoint, x, op.axis(), op.blockSize(), context);
            Tensor y = context.allocate(outType, x.shape());
            forEach(x, scale, zero, (px, ps, pz, py) -> {
                float shifted = (float) x.loadDouble(px) - (zero == null ? 0f : (float) zero.loadDouble(pz));
                y.storeDouble(py, shifted * (float) scale.loadDouble(ps));
            });
            return new Tensor[] {y};
        };
    }

    /** Whether {@link #expand} takes {@code parameter} as one value for every element. */
    private static boolean isScalar(Tensor parameter, int blockSize) {
        return parameter.elementCount() == 1 && (parameter.rank() <= 1 || blockSize == 0);
    }

    /**
     * A scale or zero point as a view of x's shape: a scalar everywhere; a 1-D tensor along
     * {@code axis}; a blocked one with each element repeated {@code blockSize} times along it.
     */
    private static Tensor expand(Tensor parameter, Tensor x, int axisAttribute, int blockSize, KernelContext context) {
        if (isScalar(parameter, blockSize)) {
            return parameter.reshape().broadcastTo(x.shape());
        }
        int axis = Shape.normalizeAxis(axisAttribute, x.rank());
        if (blockSize == 0) {
            if (parameter.rank() != 1 || parameter.size(0) != x.size(axis)) {
                throw context.error("a per-axis scale or zero point must be 1-D with " + x.size(axis) + " elements, not "
                        + parameter);
            }
            long[] sizes = new long[x.rank()];
            java.util.Arrays.fill(sizes, 1);
            sizes[axis] = x.size(axis);
            return parameter.reshape(sizes).broadcastTo(x.shape());
        }
        if (parameter.rank() != x.rank() || Math.ceilDiv(x.size(axis), blockSize) != parameter.size(axis)) {
            throw context.error("a blocked scale or zero point must have the rank of x and ceil(" + x.size(axis) + " / "
                    + blockSize + ") = " + Math.ceilDiv(x.size(axis), blockSize) + " blocks on axis " + axis + ", not "
                    + parameter);
        }
        long[] repeated = parameter.shape().sizes();
        Tensor blocks = parameter.unsqueeze(axis + 1);
        long[] spread = blocks.shape().sizes();
        spread[axis + 1] = blockSize;
        repeated[axis] *= blockSize;
        return blocks.broadcastTo(spread).reshape(repeated).slice(axis, 0, x.size(axis)).broadcastTo(x.shape());
    }

    @FunctionalInterface
    private interface Element {
        void apply(long x, long scale, long zero, long y);
    }

    private static void forEach(Tensor x, Tensor scale, Tensor zero, Element element) {
        Tensor zeroView = zero == null ? scale : zero;
        StridedLoop.Walk walk = StridedLoop.coalesce(x.shape().sizes(),
                new long[][] {x.strides(), scale.strides(), zeroView.strides(), x.shape().contiguousStrides()});
        StridedLoop.forEachRow(walk.sizes(), new long[] {x.offset(), scale.offset(), zeroView.offset(), 0}, walk.strides(),
                (p, inner, length) -> {
                    for (long i = 0; i < length; i++) {
                        element.apply(p[0] + i * inner[0], p[1] + i * inner[1], p[2] + i * inner[2], p[3] + i);
                    }
                });
    }

    /**
     * DynamicQuantizeLinear of a contiguous x into the uint8 tensor y (of x's size): the range of x
     * and 0 mapped onto 0 … 255; returns {scale, zero point}.
     */
    static float[] dynamicQuantizeInto(KernelContext context, Tensor x, Tensor y) {
        float min = 0;
        float max = 0;
        boolean floats = x.dtype() == DType.FLOAT;
        long count = x.elementCount();
        // Both passes split across the threads: min and max combine in any order, with NaN winning.
        long blocks = ElementwiseKernels.blocks(context, count, count);
        long perBlock = Math.ceilDiv(count, blocks);
        if (floats) {
            float[][] ranges = new float[(int) blocks][];
            context.parallel(blocks, b -> ranges[(int) b] = FloatRows.minMax(x.segment(), x.byteOffset() + b * perBlock * 4,
                    Math.min(perBlock, count - b * perBlock)));
            for (float[] range : ranges) {
                min = Math.min(min, range[0]);
                max = Math.max(max, range[1]);
            }
        } else {
            for (double value : x.toDoubleArray()) {
                min = Math.min(min, (float) value);
                max = Math.max(max, (float) value);
            }
        }
        // A range of zero (x all zeros, or empty) takes a scale of 1, as ONNX Runtime's kernel does
        // (ONNX's reference implementation divides that 1 by 255); y and the zero point are 0 either way.
        float scale = max == min ? 1 : (max - min) / 255f;
        float zeroPoint = scale == 0 ? 0 : (float) Math.max(0, Math.min(255, Math.rint(-min / scale)));
        if (floats && scale != 0 && Float.isFinite(scale)) {
            float quantum = scale;
            int zero = (int) zeroPoint;
            context.parallel(blocks, b -> FloatRows.quantizeToBytes(x.segment(), x.byteOffset() + b * perBlock * 4,
                    y.segment(), y.byteOffset() + b * perBlock, Math.min(perBlock, count - b * perBlock), quantum, zero,
                    false));
        } else {
            double[] values = x.toDoubleArray();
            for (int i = 0; i < values.length; i++) {
                double rounded = scale == 0 ? 0 : Math.rint((float) values[i] / scale) + zeroPoint;
                y.storeLong(y.offset() + i, (long) Math.max(0, Math.min(255, rounded)));
            }
        }
        return new float[] {scale, zeroPoint};
    }

    /** y = saturate(round(x / scale) + zeroPoint) into uint8, scale and zero point from the range of x and 0. */
    static Kernel dynamicQuantize() {
        return (context, inputs) -> {
            Tensor x = inputs[0].contiguous();
            Tensor y = context.allocateForOverwrite(DType.UINT8, x.shape());
            float[] parameters = dynamicQuantizeInto(context, x, y);
            float scale = parameters[0];
            float zeroPoint = parameters[1];
            Tensor scaleOut = context.arena().fromFloats(new float[] {scale});
            Tensor zeroOut = context.arena().fromLongs(DType.UINT8, new long[] {(long) zeroPoint});
            return new Tensor[] {y, scaleOut, zeroOut};
        };
    }
}
