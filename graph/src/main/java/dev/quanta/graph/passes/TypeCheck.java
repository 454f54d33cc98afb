package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.GraphException;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.ArgReduce;
import dev.quanta.graph.ops.AttentionMask;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.BitCast;
import dev.quanta.graph.ops.Cast;
import dev.quanta.graph.ops.DequantizeBlocks;
import dev.quanta.graph.ops.CastLike;
import dev.quanta.graph.ops.Concat;
import dev.quanta.graph.ops.ConstantOfShape;
import dev.quanta.graph.ops.CoreOp;
import dev.quanta.graph.ops.Dequantize;
import dev.quanta.graph.ops.Dropout;
import dev.quanta.graph.ops.DynamicQuantize;
import dev.quanta.graph.ops.Einsum;
import dev.quanta.graph.ops.EyeLike;
import dev.quanta.graph.ops.LabelEncoder;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.MatMulTransposedB;
import dev.quanta.graph.ops.LinearLayer;
import dev.quanta.graph.ops.MelWeightMatrix;
import dev.quanta.graph.ops.ConvInteger;
import dev.quanta.graph.ops.ConvIntegerToFloat;
import dev.quanta.graph.ops.MatMulInteger;
import dev.quanta.graph.ops.DynamicQuantizeMatMul;
import dev.quanta.graph.ops.MatMulIntegerToFloat;
import dev.quanta.graph.ops.QLinearConv;
import dev.quanta.graph.ops.QLinearMatMul;
import dev.quanta.graph.ops.NonMaxSuppression;
import dev.quanta.graph.ops.NonZero;
import dev.quanta.graph.ops.Normalize;
import dev.quanta.graph.ops.If;
import dev.quanta.graph.ops.Loop;
import dev.quanta.graph.ops.OneHot;
import dev.quanta.graph.ops.OptionalOp;
import dev.quanta.graph.ops.Pool;
import dev.quanta.graph.ops.Quantize;
import dev.quanta.graph.ops.OptimizerStep;
import dev.quanta.graph.ops.RandomSample;
import dev.quanta.graph.ops.Range;
import dev.quanta.graph.ops.Recurrent;
import dev.quanta.graph.ops.SequenceOp;
import dev.quanta.graph.ops.ShapeOf;
import dev.quanta.graph.ops.Size;
import dev.quanta.graph.ops.StringOp;
import dev.quanta.graph.ops.TfIdfVectorizer;
import dev.quanta.graph.ops.TopK;
import dev.quanta.graph.ops.TreeEnsemble;
import dev.quanta.graph.ops.Unary;
import dev.quanta.graph.ops.Unique;
import dev.quanta.graph.ops.Where;
import dev.quanta.tensor.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Infers the element type of every value from the graph's inputs and constants, and reports
 * every node whose operands disagree, or whose result contradicts a declared type, in one error.
 * Unknown types (an input declared without one) propagate as unknown and are not reported.
 */
public final class TypeCheck {

    private TypeCheck() {
    }

    /** The inferred element types; throws listing every mismatch. */
    public static Map<Value, DType> apply(Graph graph) {
        Map<Value, DType> types = new IdentityHashMap<>();
        graph.inputs().forEach(input -> types.put(input, input.type() == null ? null : input.type().dtype()));
        graph.constants().forEach((value, tensor) -> types.put(value, tensor.dtype()));
        List<String> problems = new ArrayList<>();
        for (Node node : graph.nodes()) {
            DType[] in = node.inputs().stream().map(v -> v == null ? null : types.get(v)).toArray(DType[]::new);
            DType[] out = new DType[node.outputs().size()];
            String problem = infer(node.op(), in, out);
            if (problem != null) {
                problems.add(node + ": " + problem);
            }
            for (int i = 0; i < out.length; i++) {
                Value output = node.outputs().get(i);
                if (out[i] != null && output.type() != null && output.type().dtype() != out[i]) {
                    problems.add(node + ": '" + output.name() + "' is declared " + output.type().dtype() + " but is "
                            + out[i]);
                }
                types.put(output, out[i] != null ? out[i] : output.type() == null ? null : output.type().dtype());
            }
        }
        if (!problems.isEmpty()) {
            throw new GraphException(problems.size() + " type mismatch" + (problems.size() > 1 ? "es" : "") + ":\n  - "
                    + String.join("\n  - ", problems));
        }
        return types;
    }

    /** Inputs (a, b, aZeroPoint?, bZeroPoint?, ...) of the integer matmuls. */
    private static String integerOperands(DType[] in) {
        for (int i = 0; i < 2; i++) {
            if (in[i] != null && in[i] != DType.INT8 && in[i] != DType.UINT8) {
                return "needs int8 or uint8 operands, not " + in[i];
            }
            if (in[i] != null && in.length > i + 2 && in[i + 2] != null && in[i + 2] != in[i]) {
                return "a zero point of " + in[i + 2] + " for an operand of " + in[i];
            }
        }
        return null;
    }

    /** Integer products to float: the operands and their zero points, then float32 scales and biases. */
    private static String toFloat(DType[] in, DType[] out) {
        out[0] = DType.FLOAT;
        for (int i = 4; i < in.length; i++) {
            if (in[i] != null && in[i] != DType.FLOAT) {
                return "scales and biases must be float32, not " + in[i];
            }
        }
        return integerOperands(in);
    }

    /**
     * QLinearMatMul's and QLinearConv's inputs (x, w, their zero points, three float32 scales, the
     * output's zero point): the output takes the type of its zero point.
     */
    private static String requantized(DType[] in, DType[] out) {
        out[0] = in.length > 7 ? in[7] : null;
        for (int i = 4; i < 7 && i < in.length; i++) {
            if (in[i] != null && in[i] != DType.FLOAT) {
                return "its scales must be float32 here, not " + in[i];
            }
        }
        if (out[0] != null && out[0] != DType.INT8 && out[0] != DType.UINT8) {
            return "the output's zero point must be int8 or uint8, not " + out[0];
        }
        return integerOperands(in);
    }

    /** Fills the output types it can; returns what is wrong, or null. */
    private static String infer(CoreOp op, DType[] in, DType[] out) {
        DType first = in.length > 0 ? in[0] : null;
        Arrays.fill(out, first);
        switch (op) {
            case Unary unary -> {
                if (unary.kind() == Unary.Kind.IS_NAN || unary.kind() == Unary.Kind.IS_INF) {
                    out[0] = DType.BOOL;
                }
                if (unary.kind() == Unary.Kind.NOT && first != null && first != DType.BOOL) {
                    return "Not needs bool, not " + first;
                }
            }
            case Binary binary -> {
                Binary.Kind kind = binary.kind();
                if (kind != Binary.Kind.POW && in[0] != null && in[1] != null && in[0] != in[1]) {
                    return kind + " needs operands of one type, not " + in[0] + " and " + in[1];
                }
                if ((kind == Binary.Kind.AND || kind == Binary.Kind.OR || kind == Binary.Kind.XOR) && first != null
                        && first != DType.BOOL) {
                    return kind + " needs bool operands, not " + first;
                }
                if (kind.isComparison()) {
                    out[0] = DType.BOOL;
                }
            }
            case Where ignored -> {
                out[0] = in[1];
                if (in[0] != null && in[0] != DType.BOOL) {
                    return "the condition must be bool, not " + in[0];
                }
                if (in[1] != null && in[2] != null && in[1] != in[2]) {
                    return "x and y must have one type, not " + in[1] + " and " + in[2];
                }
            }
            case AttentionMask ignored -> {
                out[0] = DType.FLOAT;
                if (in.length > 1 && in[1] != null && in[1] != DType.INT32) {
                    return "the mask index must be int32, not " + in[1];
                }
            }
            case DequantizeBlocks ignored -> {
                out[0] = DType.FLOAT;
                if (in[0] != null && in[0] != DType.UINT8 || in[1] != null && in[1] != DType.FLOAT) {
                    return "the weights must be uint8 and the scales float32, not " + in[0] + " and " + in[1];
                }
                if (in.length > 2 && in[2] != null && in[2] != DType.UINT8 && in[2] != DType.FLOAT) {
                    return "the zero points must be uint8 or float32, not " + in[2];
                }
            }
            case Cast cast -> out[0] = cast.to();
            case BitCast cast -> {
                out[0] = cast.to();
                if (first != null && first.bitWidth() != cast.to().bitWidth()) {
                    return "cannot read " + first + " as " + cast.to() + ": their widths differ";
                }
            }
            case CastLike ignored -> out[0] = in[1];
            case MatMul ignored -> {
                if (in[0] != null && in[1] != null && in[0] != in[1]) {
                    return "operands must have one type, not " + in[0] + " and " + in[1];
                }
            }
            case MatMulTransposedB ignored -> {
                if (in[0] != null && in[0] != DType.FLOAT || in[1] != null && in[1] != DType.FLOAT) {
                    return "operands must be float32, not " + in[0] + " and " + in[1];
                }
            }
            case LinearLayer ignored -> {
                if (Arrays.stream(in).anyMatch(type -> type != null && type != DType.FLOAT)) {
                    return "operands and bias must be float32, not " + Arrays.toString(in);
                }
            }
            case MatMulInteger ignored -> {
                out[0] = DType.INT32;
                return integerOperands(in);
            }
            case ConvInteger ignored -> {
                out[0] = DType.INT32;
                return integerOperands(in);
            }
            case MatMulIntegerToFloat ignored -> {
                return toFloat(in, out);
            }
            case DynamicQuantizeMatMul ignored -> {
                out[0] = DType.FLOAT;
                if (in[0] != DType.FLOAT || in[2] != DType.FLOAT || in.length > 4 && in[4] != null && in[4] != DType.FLOAT) {
                    return "A, the scale and the bias must be float32, not " + Arrays.toString(in);
                }
                if (in[1] != DType.INT8 && in[1] != DType.UINT8 || in.length > 3 && in[3] != null && in[3] != in[1]) {
                    return "B must be int8 or uint8, its zero point of the same type, not " + Arrays.toString(in);
                }
                return null;
            }
            case ConvIntegerToFloat ignored -> {
                return toFloat(in, out);
            }
            case QLinearMatMul ignored -> {
                return requantized(in, out);
            }
            case QLinearConv ignored -> {
                if (in.length > 8 && in[8] != null && in[8] != DType.INT32) {
                    return "the bias must be int32, not " + in[8];
                }
                return requantized(in, out);
            }
            case Concat ignored -> {
                return sameTypes(in, "inputs");
            }
            case Einsum ignored -> {
                return sameTypes(in, "operands");
            }
            case Range ignored -> {
                return sameTypes(in, "start, limit and delta");
            }
            case ArgReduce ignored -> out[0] = DType.INT64;
            case ShapeOf ignored -> out[0] = DType.INT64;
            case Size ignored -> out[0] = DType.INT64;
            case NonZero ignored -> out[0] = DType.INT64;
            case NonMaxSuppression ignored -> out[0] = DType.INT64;
            case Unique ignored -> {
                for (int i = 1; i < out.length; i++) {
                    out[i] = DType.INT64;
                }
            }
            case Recurrent ignored -> {
                // int8 or uint8 weights come with their zero points (inputs 9 and 11), ONNX Runtime's quantized LSTM.
                boolean quantized = in[1] == DType.INT8 || in[1] == DType.UINT8;
                for (int i = 0; i < in.length; i++) {
                    boolean integer = i == 4 || quantized && (i == 1 || i == 2 || i == 9 || i == 11);
                    if (!integer && in[i] != null && in[i] != DType.FLOAT) {
                        return "computes in float32; input " + i + " is " + in[i];
                    }
                }
                if (in.length > 4 && in[4] != null && !in[4].isInteger()) {
                    return "sequence_lens must be integers, not " + in[4];
                }
            }
            case StringOp.FullMatch ignored -> out[0] = DType.BOOL;
            case TfIdfVectorizer ignored -> out[0] = DType.FLOAT;
            case TreeEnsemble trees -> {
                out[0] = trees.classLabels() == null ? DType.FLOAT : DType.INT64;
                if (out.length > 1) {
                    out[1] = DType.FLOAT;
                }
            }
            case MelWeightMatrix mel -> out[0] = mel.outType();
            case LabelEncoder encoder -> {
                out[0] = encoder.values().dtype();
                if (first != null && first != encoder.keys().dtype()) {
                    return "X is " + first + " but the keys are " + encoder.keys().dtype();
                }
            }
            case StringOp.Split ignored -> out[1] = DType.INT64;
            case TopK ignored -> out[1] = DType.INT64;
            case Pool ignored -> {
                if (out.length > 1) {
                    out[1] = DType.INT64; // MaxPool's indices, where asked for
                }
            }
            case Dropout ignored -> out[1] = DType.BOOL;
            case SequenceOp sequence -> {
                switch (sequence.kind()) {
                    case EMPTY -> out[0] = sequence.emptyType();
                    case LENGTH -> out[0] = DType.INT64;
                    case CONSTRUCT -> {
                        return sameTypes(in, "tensors");
                    }
                    case INSERT -> {
                        if (in[0] != null && in[1] != null && in[0] != in[1]) {
                            return "cannot insert " + in[1] + " into a sequence of " + in[0];
                        }
                    }
                    default -> { }
                }
            }
            case Loop ignored -> Arrays.fill(out, null); // the body's declared types
            case If ignored -> Arrays.fill(out, null);
            case OptionalOp optional -> {
                if (optional.kind() == OptionalOp.Kind.HAS_ELEMENT) {
                    out[0] = DType.BOOL;
                }
            }
            case ConstantOfShape constant -> out[0] = constant.value().dtype();
            case Normalize ignored -> {
                out[1] = DType.FLOAT;
                out[2] = DType.FLOAT;
            }
            case Quantize quantize -> out[0] = in.length > 2 && in[2] != null ? in[2]
                    : quantize.outType() != null ? quantize.outType() : DType.UINT8;
            case Dequantize dequantize -> out[0] = dequantize.outType() != null ? dequantize.outType() : in[1];
            case DynamicQuantize ignored -> {
                out[0] = DType.UINT8;
                out[1] = DType.FLOAT;
                out[2] = DType.UINT8;
            }
            case OneHot ignored -> out[0] = in[2];
            case EyeLike eyeLike -> out[0] = eyeLike.dtype() != null ? eyeLike.dtype() : first;
            case RandomSample sample -> out[0] = sample.dtype() != null ? sample.dtype() : first;
            case OptimizerStep step -> {
                // X₁…Xₙ new, then each state's n: the types of X and of each state as they came in.
                int groups = out.length / (1 + step.rule().states());
                for (int i = 0; i < out.length; i++) {
                    int kind = i / groups;
                    out[i] = in[2 + (kind == 0 ? 0 : kind + 1) * groups + i % groups];
                }
            }
            default -> { } // the rest keep their first input's type
        }
        return null;
    }

    private static String sameTypes(DType[] types, String what) {
        DType[] known = Arrays.stream(types).filter(Objects::nonNull).distinct().toArray(DType[]::new);
        return known.length > 1 ? what + " must have one type, not " + Arrays.toString(known) : null;
    }
}
