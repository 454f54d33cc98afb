package dev.quanta.graph.ops;

/**
 * Quanta's own operation set: fewer and cleaner than ONNX's, each a record of typed attributes.
 * The ONNX loader translates every ONNX op into these; each backend runs them. Inputs that are
 * runtime tensors in ONNX (a Reshape's shape, a Slice's starts) stay inputs here.
 */
public sealed interface CoreOp
        permits Unary, Binary, Where, Cast, CastLike, BitCast, MatMul, MatMulTransposedB, LinearLayer, Reduce, ArgReduce, Softmax, MaskedSoftmax, Attention, AttentionMask, LinearAttention, Reshape, Transpose, Squeeze,
                Unsqueeze, Flatten, Concat, Split, Slice, Gather, ShapeOf, Size, Expand, ConstantOfShape, Identity, Range,
                Normalize, ChannelNormalize, LocalResponseNorm, Quantize, Dequantize, DequantizeBlocks, DynamicQuantize, DynamicQuantizeMatMul, MatMulInteger,
                MatMulIntegerToFloat, QLinearMatMul, ConvInteger, ConvIntegerToFloat, QLinearConv,
                GatherElements, GatherND, Scatter, TensorScatter, Tile, Trilu, Cumulative, TopK, OneHot, EyeLike, LabelEncoder, TfIdfVectorizer, TreeEnsemble, NonZero, NonMaxSuppression, Unique, GridSample, AffineGrid, RoiAlign, Dft, MelWeightMatrix, Pad, DepthToSpace,
                Hardmax, Einsum, Determinant, Recurrent, Conv, ConvTranspose, Col2Im, DeformConv, Pool, MaxUnpool, GlobalPool, Resize, Dropout, RandomSample, OptimizerStep, ImageDecoder, SequenceOp, OptionalOp, StringOp,
                Loop, If {

    /** The name shown in errors and profiles. */
    default String name() {
        return getClass().getSimpleName();
    }
}
