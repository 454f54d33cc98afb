package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.ops.Dropout;
import dev.quanta.graph.ops.Resize;
import dev.quanta.graph.ops.Conv;
import dev.quanta.graph.ops.ConvTranspose;
import dev.quanta.graph.ops.GlobalPool;
import dev.quanta.graph.ops.Pool;
import dev.quanta.graph.ops.CumSum;
import dev.quanta.graph.ops.DepthToSpace;
import dev.quanta.graph.ops.Einsum;
import dev.quanta.graph.ops.EyeLike;
import dev.quanta.graph.ops.GatherElements;
import dev.quanta.graph.ops.GatherND;
import dev.quanta.graph.ops.Hardmax;
import dev.quanta.graph.ops.NonZero;
import dev.quanta.graph.ops.OneHot;
import dev.quanta.graph.ops.Pad;
import dev.quanta.graph.ops.Scatter;
import dev.quanta.graph.ops.Tile;
import dev.quanta.graph.ops.TopK;
import dev.quanta.graph.ops.Trilu;
import dev.quanta.graph.ops.ChannelNormalize;
import dev.quanta.graph.ops.Dequantize;
import dev.quanta.graph.ops.DynamicQuantize;
import dev.quanta.graph.ops.LocalResponseNorm;
import dev.quanta.graph.ops.MatMulInteger;
import dev.quanta.graph.ops.Normalize;
import dev.quanta.graph.ops.Quantize;
import dev.quanta.graph.ops.ArgReduce;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.Cast;
import dev.quanta.graph.ops.CastLike;
import dev.quanta.graph.ops.Concat;
import dev.quanta.graph.ops.ConstantOfShape;
import dev.quanta.graph.ops.CoreOp;
import dev.quanta.graph.ops.Expand;
import dev.quanta.graph.ops.Flatten;
import dev.quanta.graph.ops.Gather;
import dev.quanta.graph.ops.Identity;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.Range;
import dev.quanta.graph.ops.Reduce;
import dev.quanta.graph.ops.Reshape;
import dev.quanta.graph.ops.ShapeOf;
import dev.quanta.graph.ops.Size;
import dev.quanta.graph.ops.Slice;
import dev.quanta.graph.ops.Softmax;
import dev.quanta.graph.ops.Split;
import dev.quanta.graph.ops.Squeeze;
import dev.quanta.graph.ops.Transpose;
import dev.quanta.graph.ops.Unary;
import dev.quanta.graph.ops.Unsqueeze;
import dev.quanta.graph.ops.Where;

/**
 * The CPU backend: a kernel for every core op (the switch is exhaustive, so a core op without
 * a CPU kernel does not compile). Kernels run on kernels-simd where a vector form exists.
 */
public final class CpuBackend {

    private CpuBackend() {
    }

    public static Kernel kernel(CoreOp op) {
        return switch (op) {
            case Unary unary -> ElementwiseKernels.unary(unary);
            case Binary binary -> ElementwiseKernels.binary(binary);
            case Where ignored -> ElementwiseKernels.where();
            case Cast cast -> ElementwiseKernels.cast(cast);
            case CastLike cast -> ElementwiseKernels.castLike(cast);
            case MatMul ignored -> MathKernels.matMul();
            case Reduce reduce -> MathKernels.reduce(reduce);
            case ArgReduce argReduce -> MathKernels.argReduce(argReduce);
            case Softmax softmax -> MathKernels.softmax(softmax);
            case Reshape reshape -> ShapeKernels.reshape(reshape);
            case Transpose transpose -> ShapeKernels.transpose(transpose);
            case Squeeze ignored -> ShapeKernels.squeeze();
            case Unsqueeze ignored -> ShapeKernels.unsqueeze();
            case Flatten flatten -> ShapeKernels.flatten(flatten);
            case Concat concat -> ShapeKernels.concat(concat);
            case Split split -> ShapeKernels.split(split);
            case Slice ignored -> ShapeKernels.slice();
            case Gather gather -> ShapeKernels.gather(gather);
            case ShapeOf shapeOf -> ShapeKernels.shapeOf(shapeOf);
            case Size ignored -> ShapeKernels.size();
            case Expand ignored -> ShapeKernels.expand();
            case ConstantOfShape constant -> ShapeKernels.constantOfShape(constant);
            case Identity ignored -> ShapeKernels.identity();
            case Range ignored -> ShapeKernels.range();
            case Normalize normalize -> NormalizationKernels.normalize(normalize);
            case ChannelNormalize normalize -> NormalizationKernels.channelNormalize(normalize);
            case LocalResponseNorm lrn -> NormalizationKernels.localResponseNorm(lrn);
            case Quantize quantize -> QuantizationKernels.quantize(quantize);
            case Dequantize dequantize -> QuantizationKernels.dequantize(dequantize);
            case DynamicQuantize ignored -> QuantizationKernels.dynamicQuantize();
            case MatMulInteger ignored -> MathKernels.matMulInteger();
            case GatherElements gather -> IndexingKernels.gatherElements(gather);
            case GatherND gather -> IndexingKernels.gatherND(gather);
            case Scatter scatter -> IndexingKernels.scatter(scatter);
            case Tile ignored -> IndexingKernels.tile();
            case Trilu trilu -> IndexingKernels.trilu(trilu);
            case CumSum cumSum -> IndexingKernels.cumSum(cumSum);
            case TopK topK -> IndexingKernels.topK(topK);
            case OneHot oneHot -> IndexingKernels.oneHot(oneHot);
            case EyeLike eyeLike -> IndexingKernels.eyeLike(eyeLike);
            case NonZero ignored -> IndexingKernels.nonZero();
            case Pad pad -> IndexingKernels.pad(pad);
            case DepthToSpace depthToSpace -> IndexingKernels.depthToSpace(depthToSpace);
            case Hardmax hardmax -> IndexingKernels.hardmax(hardmax);
            case Einsum einsum -> EinsumKernel.of(einsum);
            case Conv conv -> ConvKernels.conv(conv);
            case ConvTranspose conv -> ConvKernels.convTranspose(conv);
            case Pool pool -> ConvKernels.pool(pool);
            case GlobalPool pool -> ConvKernels.globalPool(pool);
            case Resize resize -> ResizeKernel.of(resize);
            case Dropout dropout -> ElementwiseKernels.dropout(dropout);
        };
    }
}
