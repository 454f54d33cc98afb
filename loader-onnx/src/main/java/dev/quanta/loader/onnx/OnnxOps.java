package dev.quanta.loader.onnx;

import dev.quanta.graph.Value;
import dev.quanta.graph.ValueType;
import dev.quanta.graph.ops.ArgReduce;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.BitCast;
import dev.quanta.graph.ops.Cast;
import dev.quanta.graph.ops.Cumulative;
import dev.quanta.graph.ops.DepthToSpace;
import dev.quanta.graph.ops.Dft;
import dev.quanta.graph.ops.Dropout;
import dev.quanta.graph.ops.Einsum;
import dev.quanta.graph.ops.EyeLike;
import dev.quanta.graph.ops.GatherElements;
import dev.quanta.graph.ops.GatherND;
import dev.quanta.graph.ops.Hardmax;
import dev.quanta.graph.ops.AffineGrid;
import dev.quanta.graph.ops.DeformConv;
import dev.quanta.graph.ops.Determinant;
import dev.quanta.graph.ops.MaxUnpool;
import dev.quanta.graph.ops.MelWeightMatrix;
import dev.quanta.graph.ops.NonMaxSuppression;
import dev.quanta.graph.ops.RoiAlign;
import dev.quanta.graph.ops.StringOp;
import dev.quanta.graph.ops.TensorScatter;
import dev.quanta.graph.ops.NonZero;
import dev.quanta.graph.ops.OneHot;
import dev.quanta.graph.ops.OptionalOp;
import dev.quanta.graph.ops.Pad;
import dev.quanta.graph.ops.Scatter;
import dev.quanta.graph.ops.SequenceOp;
import dev.quanta.graph.ops.Tile;
import dev.quanta.graph.ops.TopK;
import dev.quanta.graph.ops.Trilu;
import dev.quanta.graph.ops.CastLike;
import dev.quanta.graph.ops.Concat;
import dev.quanta.graph.ops.Conv;
import dev.quanta.graph.ops.ConvInteger;
import dev.quanta.graph.ops.Col2Im;
import dev.quanta.graph.ops.ImageDecoder;
import dev.quanta.graph.ops.OptimizerStep;
import dev.quanta.graph.ops.RandomSample;
import dev.quanta.graph.ops.ConvTranspose;
import dev.quanta.graph.ops.GlobalPool;
import dev.quanta.graph.ops.Pool;
import dev.quanta.graph.ops.Window;
import dev.quanta.graph.ops.ConstantOfShape;
import dev.quanta.graph.ops.ChannelNormalize;
import dev.quanta.graph.ops.Dequantize;
import dev.quanta.graph.ops.DynamicQuantize;
import dev.quanta.graph.ops.DynamicQuantizeMatMul;
import dev.quanta.graph.ops.LocalResponseNorm;
import dev.quanta.graph.ops.MatMulInteger;
import dev.quanta.graph.ops.MatMulIntegerToFloat;
import dev.quanta.graph.ops.QLinearConv;
import dev.quanta.graph.ops.QLinearMatMul;
import dev.quanta.graph.ops.Normalize;
import dev.quanta.graph.ops.Quantize;
import dev.quanta.graph.ops.Expand;
import dev.quanta.graph.ops.Flatten;
import dev.quanta.graph.ops.Gather;
import dev.quanta.graph.ops.GridSample;
import dev.quanta.graph.ops.Identity;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.Range;
import dev.quanta.graph.ops.Reduce;
import dev.quanta.graph.ops.Reshape;
import dev.quanta.graph.ops.Resize;
import dev.quanta.graph.ops.ShapeOf;
import dev.quanta.graph.ops.Size;
import dev.quanta.graph.ops.Slice;
import dev.quanta.graph.ops.Softmax;
import dev.quanta.graph.ops.Split;
import dev.quanta.graph.ops.Squeeze;
import dev.quanta.graph.ops.Transpose;
import dev.quanta.graph.ops.Unary;
import dev.quanta.graph.ops.Unique;
import dev.quanta.graph.ops.Unsqueeze;
import dev.quanta.graph.ops.Where;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Float8E8M0;
import dev.quanta.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The translation of each ONNX operator into core ops, by operator-set version: this is where
 * ONNX semantics end. One translator per (domain, op type).
 */
final class OnnxOps {

    @FunctionalInterface
    interface Translator {
        void translate(OnnxNode node);
    }

    private static final Map<String, Translator> DEFAULT_DOMAIN = new HashMap<>();
    /** The com.microsoft ops that ONNX Runtime's quantization tools write. */
    private static final Map<String, Translator> MICROSOFT_DOMAIN = new HashMap<>();
    /** ONNX-ML's ops (the classical models sklearn-onnx writes). */
    private static final Map<String, Translator> ML_DOMAIN = new HashMap<>();
    /** ONNX's preview ops. */
    private static final Map<String, Translator> PREVIEW_DOMAIN = Map.of("FlexAttention", OnnxAttention::translateFlex);
    /** ONNX's training optimizers (the Gradient op, which differentiates a graph, is not among them). */
    private static final Map<String, Translator> TRAINING_DOMAIN = Map.of(
            "Adagrad", node -> optimizerStep(node, OptimizerStep.Rule.ADAGRAD),
            "Momentum", node -> optimizerStep(node, choice(node, "mode", "",
                    Map.of("standard", OptimizerStep.Rule.MOMENTUM, "nesterov", OptimizerStep.Rule.NESTEROV))),
            "Adam", node -> optimizerStep(node, OptimizerStep.Rule.ADAM));

    static Translator find(String domain, String opType) {
        return switch (domain) {
            case "" -> DEFAULT_DOMAIN.get(opType);
            case "com.microsoft" -> MICROSOFT_DOMAIN.get(opType);
            case "ai.onnx.ml" -> ML_DOMAIN.get(opType);
            case "ai.onnx.preview" -> PREVIEW_DOMAIN.get(opType);
            case "ai.onnx.preview.training" -> TRAINING_DOMAIN.get(opType);
            default -> null;
        };
    }

    private static void register(String opType, Translator translator) {
        DEFAULT_DOMAIN.put(opType, translator);
    }

    /** A string attribute that must name one of {@code choices}; the error lists them. */
    static <E> E choice(OnnxNode node, String attribute, String fallback, Map<String, E> choices) {
        String value = node.stringAttr(attribute, fallback);
        E chosen = choices.get(value);
        if (chosen == null) {
            throw node.error("has the unknown " + attribute + " '" + value + "'; expected one of "
                    + new java.util.TreeSet<>(choices.keySet()));
        }
        return chosen;
    }

    private OnnxOps() {
    }

    static {
        registerElementwise();
        registerMath();
        registerShapes();
        registerNormalization();
        registerQuantization();
        registerMicrosoftQuantization();
        MicrosoftFusedOps.register(MICROSOFT_DOMAIN);
        OnnxRecurrent.registerMicrosoft(MICROSOFT_DOMAIN);
        ML_DOMAIN.put("LabelEncoder", OnnxOps::labelEncoder);
        ML_DOMAIN.put("TreeEnsembleRegressor", OnnxTrees::regressor);
        ML_DOMAIN.put("TreeEnsembleClassifier", OnnxTrees::classifier);
        ML_DOMAIN.put("TreeEnsemble", OnnxTrees::ensemble5);
        // 1 where X exceeds the threshold, else 0, in X's type.
        ML_DOMAIN.put("Binarizer", node -> {
            Value x = node.requiredInput(0);
            node.emitTo(0, new Where(), node.emit(new Binary(Binary.Kind.GREATER), x, like(node, node.floatAttr("threshold", 0), x)),
                    like(node, 1, x), like(node, 0, x));
        });
        // The indexed entries of X's last axis; a 1-D X gives one row, as ONNX Runtime shapes it.
        ML_DOMAIN.put("ArrayFeatureExtractor", node -> {
            Value x = node.requiredInput(0);
            Value indices = node.emit(new Reshape(false), node.requiredInput(1), node.longs(-1));
            Value picked = node.emit(new Gather(-1), x, indices);
            boolean vector = x.type() != null && x.type().shape() != null && x.type().shape().rank() == 1;
            node.emitTo(0, vector ? new Unsqueeze() : new Identity(), vector ? new Value[] {picked, node.longs(0)} : new Value[] {picked});
        });
        registerIndexing();
        registerConvolution();
        registerSequences();
        registerControlFlow();
        register("Attention", OnnxAttention::translate);
        register("LinearAttention", OnnxAttention::translateLinear);
        OnnxComposites.register(OnnxOps::register);
        OnnxRecurrent.register(OnnxOps::register);
        register("NonMaxSuppression", node -> node.emit(new NonMaxSuppression(node.intAttr("center_point_box", 0) != 0),
                Arrays.asList(node.requiredInput(0), node.requiredInput(1), node.input(2), node.input(3), node.input(4)),
                List.of(node.requiredOutput(0))));
        register("Unique", node -> node.emit(new Unique(node.has("axis") ? (int) node.intAttr("axis", 0) : null,
                node.intAttr("sorted", 1) != 0), List.of(node.requiredInput(0)), List.of(outputOrTemporary(node, 0),
                outputOrTemporary(node, 1), outputOrTemporary(node, 2), outputOrTemporary(node, 3))));
        // Opset 16 named the modes bilinear and bicubic; 20 renamed them and took any number of axes.
        register("GridSample", node -> node.emitTo(0, new GridSample(choice(node, "mode", node.opset() < 20 ? "bilinear" : "linear",
                Map.of("bilinear", GridSample.Mode.LINEAR, "linear", GridSample.Mode.LINEAR, "nearest", GridSample.Mode.NEAREST,
                        "bicubic", GridSample.Mode.CUBIC, "cubic", GridSample.Mode.CUBIC)),
                choice(node, "padding_mode", "zeros", Map.of("zeros", GridSample.Padding.ZEROS, "border",
                        GridSample.Padding.BORDER, "reflection", GridSample.Padding.REFLECTION)),
                node.intAttr("align_corners", 0) != 0), node.requiredInput(0), node.requiredInput(1)));
        register("MelWeightMatrix", node -> node.emitTo(0, new MelWeightMatrix(DType.fromOnnx((int) node.intAttr("output_datatype", 1))),
                node.requiredInput(0), node.requiredInput(1), node.requiredInput(2), node.requiredInput(3), node.requiredInput(4)));
        register("TfIdfVectorizer", OnnxOps::tfIdfVectorizer);
        register("StringConcat", node -> node.emitTo(0, new StringOp.Concat(), node.requiredInput(0), node.requiredInput(1)));
        register("RegexFullMatch", node -> node.emitTo(0, new StringOp.FullMatch(node.stringAttr("pattern", "")),
                node.requiredInput(0)));
        // No delimiter, or an empty one, splits at runs of whitespace; maxsplit absent or negative has no limit.
        register("StringSplit", node -> {
            String delimiter = node.stringAttr("delimiter", "");
            node.emit(new StringOp.Split(delimiter.isEmpty() ? null : delimiter, Math.max(-1, node.intAttr("maxsplit", -1))),
                    List.of(node.requiredInput(0)), List.of(outputOrTemporary(node, 0), outputOrTemporary(node, 1)));
        });
        register("StringNormalizer", node -> {
            List<String> stopWords = node.stringsAttr("stopwords");
            node.emitTo(0, new StringOp.Normalize(choice(node, "case_change_action", "NONE", Map.of("NONE",
                    StringOp.CaseChange.NONE, "LOWER", StringOp.CaseChange.LOWER, "UPPER", StringOp.CaseChange.UPPER)),
                    node.intAttr("is_case_sensitive", 0) != 0, stopWords == null ? List.of() : stopWords), node.requiredInput(0));
        });
        register("TensorScatter", node -> {
            long axis = node.intAttr("axis", -2);
            if (axis != (int) axis) {
                throw node.error("has axis " + axis);
            }
            node.emitTo(0, new TensorScatter((int) axis, choice(node, "mode", "linear", Map.of("linear", false, "circular", true))),
                    node.requiredInput(0), node.requiredInput(1), node.input(2));
        });
        register("Det", node -> node.emitTo(0, new Determinant(), node.requiredInput(0)));
        register("AffineGrid", node -> node.emitTo(0, new AffineGrid(node.intAttr("align_corners", 0) != 0), node.requiredInput(0),
                node.requiredInput(1)));
        // Opset 10 read regions without the half-pixel shift; 16 made it the default and named both.
        register("RoiAlign", node -> {
            long height = node.intAttr("output_height", 1);
            long width = node.intAttr("output_width", 1);
            long sampling = node.intAttr("sampling_ratio", 0);
            if (height < 1 || width < 1 || height > Integer.MAX_VALUE || width > Integer.MAX_VALUE || sampling < 0
                    || sampling > Integer.MAX_VALUE) {
                throw node.error("has output_height " + height + ", output_width " + width + " and sampling_ratio " + sampling
                        + "; the sizes must be positive and the ratio not negative");
            }
            node.emitTo(0, new RoiAlign(choice(node, "mode", "avg", Map.of("avg", false, "max", true)),
                    choice(node, "coordinate_transformation_mode", node.opset() < 16 ? "output_half_pixel" : "half_pixel",
                            Map.of("half_pixel", true, "output_half_pixel", false)), (int) height, (int) width, (int) sampling,
                    node.floatAttr("spatial_scale", 1f)), node.requiredInput(0), node.requiredInput(1), node.requiredInput(2));
        });
        // Before opset 20 the axis is an attribute (default 1) and dft_length input 1; from 20, input 2 (default −2).
        register("DFT", node -> node.emitTo(0, new Dft(node.intAttr("inverse", 0) != 0, node.intAttr("onesided", 0) != 0,
                node.opset() < 20 ? (int) node.intAttr("axis", 1) : -2), node.requiredInput(0), node.input(1),
                node.opset() < 20 ? null : node.input(2)));
        register("BitCast", node -> node.emitTo(0, new BitCast(DType.fromOnnx((int) node.requiredInt("to"))), node.requiredInput(0)));
        // NOT of each bit: XOR with all ones (−1 converted to the input's type).
        register("BitwiseNot", node -> node.emitTo(0, new Binary(Binary.Kind.BIT_XOR), node.requiredInput(0),
                node.emit(new CastLike(false, Float8E8M0.RoundMode.UP), node.longs(-1), node.requiredInput(0))));
        register("NegativeLogLikelihoodLoss", OnnxLosses::negativeLogLikelihood);
        register("SoftmaxCrossEntropyLoss", OnnxLosses::softmaxCrossEntropy);
        register("Resize", OnnxOps::resize);
        register("Upsample", OnnxOps::resize);
    }

    /**
     * ONNX-ML's LabelEncoder (opset 2 on): keys and values from their tensors (opset 4) or their
     * typed lists, the default from default_tensor or the typed default of the values' type
     * ("_Unused", −1, −0.0); from opset 4 a NaN key matches NaN, before it none does (as ONNX Runtime
     * reads opset 2).
     */
    private static void labelEncoder(OnnxNode node) {
        if (node.opset() < 2) {
            throw node.unsupported("LabelEncoder-1's classes_strings form (opset 2 on is supported)");
        }
        Tensor keys = typedList(node, "keys");
        Tensor values = typedList(node, "values");
        if (keys.rank() != 1 || values.rank() != 1 || keys.elementCount() != values.elementCount()) {
            throw node.error("needs as many keys as values, each 1-D, not " + keys.shape() + " and " + values.shape());
        }
        Tensor fallback = node.tensorAttr("default_tensor");
        if (fallback == null) {
            var arena = node.graph().arena();
            fallback = switch (values.dtype()) {
                case STRING -> arena.fromStrings(new String[] {node.stringAttr("default_string", "_Unused")}, 1);
                case INT64 -> arena.fromLongs(DType.INT64, new long[] {node.intAttr("default_int64", -1)}, 1);
                case FLOAT -> arena.fromFloats(new float[] {node.floatAttr("default_float", -0f)}, 1);
                default -> throw node.error("has values of " + values.dtype() + " without a default_tensor");
            };
        }
        if (fallback.elementCount() != 1 || fallback.dtype() != values.dtype()) {
            throw node.error("needs one default of the values' type " + values.dtype() + ", not " + fallback);
        }
        node.emitTo(0, new dev.quanta.graph.ops.LabelEncoder(keys, values, fallback.reshape(1), node.opset() >= 4),
                node.requiredInput(0));
    }

    /**
     * TfIdfVectorizer: the pool from pool_int64s or pool_strings, its n-gram starts and output
     * columns checked against each other so that the kernel can trust them.
     */
    private static void tfIdfVectorizer(OnnxNode node) {
        long minGram = node.requiredInt("min_gram_length");
        long maxGram = node.requiredInt("max_gram_length");
        long maxSkip = node.requiredInt("max_skip_count");
        long[] starts = node.intsAttr("ngram_counts");
        long[] indexes = node.intsAttr("ngram_indexes");
        List<String> strings = node.stringsAttr("pool_strings");
        long[] longs = node.intsAttr("pool_int64s");
        float[] weights = node.floatsAttr("weights");
        if (minGram < 1 || maxGram < minGram || maxGram > Integer.MAX_VALUE || maxSkip < 0 || maxSkip > Integer.MAX_VALUE
                || starts == null || indexes == null || (strings == null) == (longs == null)) {
            throw node.error("needs 1 ≤ min_gram_length ≤ max_gram_length, max_skip_count ≥ 0, ngram_counts, ngram_indexes "
                    + "and one of pool_strings and pool_int64s");
        }
        var arena = node.graph().arena();
        Tensor pool = strings != null ? arena.fromStrings(strings.toArray(String[]::new), strings.size())
                : arena.fromLongs(DType.INT64, longs, longs.length);
        long grams = 0;
        for (int i = 0; i < starts.length; i++) {
            long end = i + 1 < starts.length ? starts[i + 1] : pool.elementCount();
            if (starts[i] < 0 || end < starts[i] || end > pool.elementCount() || (end - starts[i]) % (i + 1) != 0) {
                throw node.error("has ngram_counts " + java.util.Arrays.toString(starts) + " that do not cut a pool of "
                        + pool.elementCount() + " into whole 1-grams, 2-grams, …");
            }
            grams += (end - starts[i]) / (i + 1);
        }
        if (grams != indexes.length || weights != null && weights.length != indexes.length
                || java.util.Arrays.stream(indexes).anyMatch(index -> index < 0 || index >= Integer.MAX_VALUE)) {
            throw node.error("has " + indexes.length + " ngram_indexes (and " + (weights == null ? "no" : weights.length)
                    + " weights) for the pool's " + grams + " n-grams, or a negative index");
        }
        node.emitTo(0, new dev.quanta.graph.ops.TfIdfVectorizer((int) minGram, (int) maxGram, (int) maxSkip,
                choice(node, "mode", "TF", Map.of("TF", dev.quanta.graph.ops.TfIdfVectorizer.Mode.TF, "IDF",
                        dev.quanta.graph.ops.TfIdfVectorizer.Mode.IDF, "TFIDF", dev.quanta.graph.ops.TfIdfVectorizer.Mode.TFIDF)),
                pool, starts, indexes, weights), node.requiredInput(0));
    }

    /** {@code <name>_tensor}, or the one of {@code <name>_strings}, {@code _int64s} and {@code _floats} the node has. */
    private static Tensor typedList(OnnxNode node, String name) {
        Tensor tensor = node.tensorAttr(name + "_tensor");
        var arena = node.graph().arena();
        List<String> strings = node.stringsAttr(name + "_strings");
        long[] longs = node.intsAttr(name + "_int64s");
        float[] floats = node.floatsAttr(name + "_floats");
        int given = (tensor != null ? 1 : 0) + (strings != null ? 1 : 0) + (longs != null ? 1 : 0) + (floats != null ? 1 : 0);
        if (given != 1) {
            throw node.error("needs exactly one of " + name + "_tensor, " + name + "_strings, " + name + "_int64s and "
                    + name + "_floats, not " + given);
        }
        return tensor != null ? tensor
                : strings != null ? arena.fromStrings(strings.toArray(String[]::new), strings.size())
                : longs != null ? arena.fromLongs(DType.INT64, longs, longs.length)
                : arena.fromFloats(floats, floats.length);
    }

    // ---------------------------------------------------------------- element-wise

    private static void registerElementwise() {
        Map<String, Unary.Kind> plain = Map.ofEntries(Map.entry("Abs", Unary.Kind.ABS), Map.entry("Neg", Unary.Kind.NEG),
                Map.entry("Sign", Unary.Kind.SIGN), Map.entry("Floor", Unary.Kind.FLOOR), Map.entry("Ceil", Unary.Kind.CEIL),
                Map.entry("Round", Unary.Kind.ROUND), Map.entry("Sqrt", Unary.Kind.SQRT),
                Map.entry("Reciprocal", Unary.Kind.RECIPROCAL), Map.entry("Exp", Unary.Kind.EXP),
                Map.entry("Log", Unary.Kind.LOG), Map.entry("Erf", Unary.Kind.ERF), Map.entry("Sin", Unary.Kind.SIN),
                Map.entry("Cos", Unary.Kind.COS), Map.entry("Tan", Unary.Kind.TAN), Map.entry("Asin", Unary.Kind.ASIN),
                Map.entry("Acos", Unary.Kind.ACOS), Map.entry("Atan", Unary.Kind.ATAN), Map.entry("Sinh", Unary.Kind.SINH),
                Map.entry("Cosh", Unary.Kind.COSH), Map.entry("Tanh", Unary.Kind.TANH), Map.entry("Asinh", Unary.Kind.ASINH),
                Map.entry("Acosh", Unary.Kind.ACOSH), Map.entry("Atanh", Unary.Kind.ATANH), Map.entry("Relu", Unary.Kind.RELU),
                Map.entry("Sigmoid", Unary.Kind.SIGMOID), Map.entry("Softplus", Unary.Kind.SOFTPLUS),
                Map.entry("Softsign", Unary.Kind.SOFTSIGN), Map.entry("Mish", Unary.Kind.MISH),
                Map.entry("HardSwish", Unary.Kind.HARD_SWISH), Map.entry("Not", Unary.Kind.NOT),
                Map.entry("IsNaN", Unary.Kind.IS_NAN));
        plain.forEach((name, kind) -> register(name, node -> unary(node, new Unary(kind, 0, 0))));
        register("LeakyRelu", node -> unary(node, new Unary(Unary.Kind.LEAKY_RELU, node.floatAttr("alpha", 0.01f), 0)));
        register("Elu", node -> unary(node, new Unary(Unary.Kind.ELU, node.floatAttr("alpha", 1f), 0)));
        register("Celu", node -> unary(node, new Unary(Unary.Kind.CELU, node.floatAttr("alpha", 1f), 0)));
        register("Selu", node -> unary(node, new Unary(Unary.Kind.SELU, node.floatAttr("alpha", 1.67326319217681884765625f),
                node.floatAttr("gamma", 1.05070102214813232421875f))));
        register("HardSigmoid", node -> unary(node, new Unary(Unary.Kind.HARD_SIGMOID, node.floatAttr("alpha", 0.2f),
                node.floatAttr("beta", 0.5f))));
        register("ThresholdedRelu", node -> unary(node, new Unary(Unary.Kind.THRESHOLDED_RELU, node.floatAttr("alpha", 1f), 0)));
        register("Shrink", node -> unary(node, new Unary(Unary.Kind.SHRINK, node.floatAttr("bias", 0f),
                node.floatAttr("lambd", 0.5f))));
        register("Gelu", node -> unary(node, new Unary(Unary.Kind.GELU,
                choice(node, "approximate", "none", Map.of("none", 0, "tanh", 1)), 0)));
        register("IsInf", node -> unary(node, new Unary(Unary.Kind.IS_INF, node.intAttr("detect_positive", 1),
                node.intAttr("detect_negative", 1))));

        Map<String, Binary.Kind> binary = Map.ofEntries(Map.entry("Add", Binary.Kind.ADD), Map.entry("Sub", Binary.Kind.SUB),
                Map.entry("Mul", Binary.Kind.MUL), Map.entry("Div", Binary.Kind.DIV), Map.entry("Pow", Binary.Kind.POW),
                Map.entry("Equal", Binary.Kind.EQUAL), Map.entry("Less", Binary.Kind.LESS),
                Map.entry("LessOrEqual", Binary.Kind.LESS_OR_EQUAL), Map.entry("Greater", Binary.Kind.GREATER),
                Map.entry("GreaterOrEqual", Binary.Kind.GREATER_OR_EQUAL), Map.entry("And", Binary.Kind.AND),
                Map.entry("Or", Binary.Kind.OR), Map.entry("Xor", Binary.Kind.XOR), Map.entry("PRelu", Binary.Kind.PRELU),
                Map.entry("BitwiseAnd", Binary.Kind.BIT_AND), Map.entry("BitwiseOr", Binary.Kind.BIT_OR),
                Map.entry("BitwiseXor", Binary.Kind.BIT_XOR));
        binary.forEach((name, kind) -> register(name, node -> {
            if (node.has("axis") || node.intAttr("broadcast", 0) != 0) {
                throw node.unsupported("the legacy broadcast and axis attributes (opset < 7)");
            }
            node.emitTo(0, new Binary(kind), node.requiredInput(0), node.requiredInput(1));
        }));
        register("Mod", node -> node.emitTo(0, new Binary(node.intAttr("fmod", 0) != 0 ? Binary.Kind.FMOD : Binary.Kind.MOD),
                node.requiredInput(0), node.requiredInput(1)));
        register("BitShift", node -> node.emitTo(0, new Binary(choice(node, "direction", "",
                Map.of("LEFT", Binary.Kind.BIT_SHIFT_LEFT, "RIGHT", Binary.Kind.BIT_SHIFT_RIGHT))),
                node.requiredInput(0), node.requiredInput(1)));
        register("Max", node -> variadic(node, Binary.Kind.MAX));
        register("Min", node -> variadic(node, Binary.Kind.MIN));
        register("Sum", node -> variadic(node, Binary.Kind.ADD));
        register("Mean", node -> {
            List<Value> inputs = node.inputsFrom(0);
            Value sum = chain(node, Binary.Kind.ADD, inputs);
            Value count = node.emit(new CastLike(true, Float8E8M0.RoundMode.UP),
                    node.constant(node.graph().arena().fromDoubles(new double[] {inputs.size()})), sum);
            node.emitTo(0, new Binary(Binary.Kind.DIV), sum, count);
        });
        register("Where", node -> node.emitTo(0, new Where(), node.requiredInput(0), node.requiredInput(1),
                node.requiredInput(2)));
        register("Cast", node -> node.emitTo(0, new Cast(DType.fromOnnx((int) node.requiredInt("to")),
                node.intAttr("saturate", 1) != 0, roundMode(node)), node.requiredInput(0)));
        register("CastLike", node -> node.emitTo(0, new CastLike(node.intAttr("saturate", 1) != 0, roundMode(node)),
                node.requiredInput(0), node.requiredInput(1)));
        register("Clip", OnnxOps::clip);
        register("Identity", node -> node.emitTo(0, new Identity(), node.requiredInput(0)));
        register("Dropout", OnnxOps::dropout);
    }

    private static void unary(OnnxNode node, Unary op) {
        node.emitTo(0, op, node.requiredInput(0));
    }

    private static void variadic(OnnxNode node, Binary.Kind kind) {
        List<Value> inputs = node.inputsFrom(0);
        if (inputs.isEmpty()) {
            throw node.error("has no inputs");
        }
        if (inputs.size() == 1) {
            node.emitTo(0, new Identity(), inputs.get(0));
            return;
        }
        Value result = inputs.get(0);
        for (int i = 1; i < inputs.size() - 1; i++) {
            result = node.emit(new Binary(kind), result, inputs.get(i));
        }
        node.emitTo(0, new Binary(kind), result, inputs.get(inputs.size() - 1));
    }

    private static Value chain(OnnxNode node, Binary.Kind kind, List<Value> inputs) {
        Value result = inputs.get(0);
        for (int i = 1; i < inputs.size(); i++) {
            result = node.emit(new Binary(kind), result, inputs.get(i));
        }
        return result;
    }

    private static Float8E8M0.RoundMode roundMode(OnnxNode node) {
        return choice(node, "round_mode", "up", Map.of("up", Float8E8M0.RoundMode.UP, "down", Float8E8M0.RoundMode.DOWN,
                "nearest", Float8E8M0.RoundMode.NEAREST));
    }

    /** Clip as max(x, min) then min(·, max); before opset 11 the bounds are float attributes. */
    private static void clip(OnnxNode node) {
        Value x = node.requiredInput(0);
        Value low;
        Value high;
        if (node.opset() < 11) {
            low = node.has("min") ? like(node, node.floatAttr("min", 0), x) : null;
            high = node.has("max") ? like(node, node.floatAttr("max", 0), x) : null;
        } else {
            low = node.input(1);
            high = node.input(2);
        }
        if (high == null) {
            node.emitTo(0, low == null ? new Identity() : new Binary(Binary.Kind.MAX), low == null ? new Value[] {x}
                    : new Value[] {x, low});
            return;
        }
        Value atLeastLow = low == null ? x : node.emit(new Binary(Binary.Kind.MAX), x, low);
        node.emitTo(0, new Binary(Binary.Kind.MIN), atLeastLow, high);
    }

    private static boolean isFloat32(Value value) {
        return value.type() != null && value.type().dtype() == DType.FLOAT;
    }

    /** A scalar constant converted to the element type of {@code like} (at load where that type is known: CastLikeFolding). */
    static Value like(OnnxNode node, double value, Value like) {
        return node.emit(new CastLike(true, Float8E8M0.RoundMode.UP),
                node.constant(node.graph().arena().fromDoubles(new double[] {value})), like);
    }

    /** Before opset 12 the ratio is an attribute and training is off; from 12 both are inputs. */
    private static void dropout(OnnxNode node) {
        Value ratio = node.opset() < 12 ? node.constant(node.graph().arena().fromFloats(new float[] {
            node.floatAttr("ratio", 0.5f)})) : node.input(1);
        Value training = node.opset() < 12 ? null : node.input(2);
        node.emit(new Dropout(node.has("seed") ? Long.valueOf(node.intAttr("seed", 0)) : null),
                Arrays.asList(node.requiredInput(0), ratio, training),
                List.of(outputOrTemporary(node, 0), outputOrTemporary(node, 1)));
    }

    // ---------------------------------------------------------------- math

    private static void registerMath() {
        register("MatMul", node -> node.emitTo(0, new MatMul(), node.requiredInput(0), node.requiredInput(1)));
        register("Gemm", node -> gemm(node, node.requiredOutput(0)));
        Map<String, Reduce.Kind> reductions = Map.of("ReduceSum", Reduce.Kind.SUM, "ReduceMean", Reduce.Kind.MEAN,
                "ReduceMax", Reduce.Kind.MAX, "ReduceMin", Reduce.Kind.MIN, "ReduceProd", Reduce.Kind.PROD,
                "ReduceL1", Reduce.Kind.L1, "ReduceL2", Reduce.Kind.L2, "ReduceLogSum", Reduce.Kind.LOG_SUM,
                "ReduceLogSumExp", Reduce.Kind.LOG_SUM_EXP, "ReduceSumSquare", Reduce.Kind.SUM_SQUARE);
        reductions.forEach((name, kind) -> register(name, node -> {
            int axesBecameInput = kind == Reduce.Kind.SUM ? 13 : 18;
            Value axes;
            if (node.opset() >= axesBecameInput) {
                axes = node.input(1);
            } else {
                long[] attribute = node.intsAttr("axes");
                axes = attribute == null ? null : node.longs(attribute);
            }
            node.emit(new Reduce(kind, node.intAttr("keepdims", 1) != 0, node.intAttr("noop_with_empty_axes", 0) != 0),
                    Arrays.asList(node.requiredInput(0), axes), List.of(node.requiredOutput(0)));
        }));
        register("ArgMax", node -> argReduce(node, true));
        register("ArgMin", node -> argReduce(node, false));
        register("Softmax", node -> softmax(node, false));
        register("LogSoftmax", node -> softmax(node, true));
    }

    /** Y = alpha·A'·B' + beta·C, into {@code output}. */
    static void gemm(OnnxNode node, Value output) {
        Value a = node.requiredInput(0);
        Value b = node.requiredInput(1);
        Value c = node.input(2);
        if (node.intAttr("transA", 0) != 0) {
            a = node.emit(new Transpose(null), a);
        }
        if (node.intAttr("transB", 0) != 0) {
            b = node.emit(new Transpose(null), b);
        }
        float alpha = node.floatAttr("alpha", 1f);
        float beta = node.floatAttr("beta", 1f);
        Value product = node.emit(new MatMul(), a, b);
        if (alpha != 1) {
            product = node.emit(new Binary(Binary.Kind.MUL), product, like(node, alpha, product));
        }
        if (c == null || beta == 0) {
            node.emit(new Identity(), List.of(product), List.of(output));
            return;
        }
        if (beta != 1) {
            c = node.emit(new Binary(Binary.Kind.MUL), c, like(node, beta, c));
        }
        node.emit(new Binary(Binary.Kind.ADD), List.of(product, c), List.of(output));
    }

    private static void argReduce(OnnxNode node, boolean max) {
        node.emitTo(0, new ArgReduce(max, (int) node.intAttr("axis", 0), node.intAttr("keepdims", 1) != 0,
                node.intAttr("select_last_index", 0) != 0), node.requiredInput(0));
    }

    private static void softmax(OnnxNode node, boolean log) {
        boolean legacy = node.opset() < 13;
        node.emitTo(0, new Softmax((int) node.intAttr("axis", legacy ? 1 : -1), log, legacy), node.requiredInput(0));
    }

    // ---------------------------------------------------------------- normalization

    private static void registerNormalization() {
        register("LayerNormalization", node -> normalize(node, false, 1e-5f));
        register("RMSNormalization", node -> normalize(node, true, 1e-5f));
        // ONNX Runtime's RMS normalization, which it registers in ONNX's own domain.
        register("SimplifiedLayerNormalization", node -> normalize(node, true, 1e-5f));
        register("BatchNormalization", node -> {
            boolean training = node.intAttr("training_mode", 0) != 0;
            if (node.opset() < 14 && node.outputCount() > 1) {
                throw node.unsupported("the training outputs of BatchNormalization before opset 14 (saved mean and variance)");
            }
            List<Value> outputs = training ? List.of(outputOrTemporary(node, 0), outputOrTemporary(node, 1),
                    outputOrTemporary(node, 2)) : List.of(node.requiredOutput(0));
            node.emit(new ChannelNormalize(node.floatAttr("epsilon", 1e-5f), training, node.floatAttr("momentum", 0.9f)),
                    List.of(node.requiredInput(0), node.requiredInput(1), node.requiredInput(2), node.requiredInput(3),
                            node.requiredInput(4)), outputs);
        });
        register("InstanceNormalization", node -> node.emitTo(0, new ChannelNormalize(node.floatAttr("epsilon", 1e-5f),
                false, 0), node.requiredInput(0), node.requiredInput(1), node.requiredInput(2)));
        register("LRN", node -> node.emitTo(0, new LocalResponseNorm(node.floatAttr("alpha", 1e-4f),
                node.floatAttr("beta", 0.75f), node.floatAttr("bias", 1f), (int) node.requiredInt("size")),
                node.requiredInput(0)));
    }

    /** Layer or RMS normalization; the optional mean and 1/σ outputs are produced when asked for. */
    private static void normalize(OnnxNode node, boolean rms, float defaultEpsilon) {
        if (node.intAttr("stash_type", 1) != 1) {
            throw node.unsupported("stash_type " + node.intAttr("stash_type", 1) + " (statistics in a type other than float)");
        }
        List<Value> outputs = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Value output = i < node.outputCount() ? node.output(i) : null;
            outputs.add(output != null ? output : node.temporary());
        }
        node.emit(new Normalize((int) node.intAttr("axis", -1), node.floatAttr("epsilon", defaultEpsilon), rms),
                Arrays.asList(node.requiredInput(0), node.requiredInput(1), node.input(2)), outputs);
    }

    // ---------------------------------------------------------------- quantization

    /** QuantizeLinear's and DequantizeLinear's block_size: 0 (not blocked) or a positive int. */
    private static int blockSize(OnnxNode node) {
        long size = node.intAttr("block_size", 0);
        if (size < 0 || size > Integer.MAX_VALUE) {
            throw node.error("has block_size " + size + ", which must be 0 (no blocks) or a positive int");
        }
        return (int) size;
    }

    private static void registerQuantization() {
        register("QuantizeLinear", node -> {
            long outputType = node.intAttr("output_dtype", 0);
            node.emit(new Quantize((int) node.intAttr("axis", 1), blockSize(node),
                    node.intAttr("saturate", 1) != 0, outputType == 0 ? null : DType.fromOnnx((int) outputType)),
                    Arrays.asList(node.requiredInput(0), node.requiredInput(1), node.input(2)),
                    List.of(node.requiredOutput(0)));
        });
        register("DequantizeLinear", node -> {
            long outputType = node.intAttr("output_dtype", 0);
            node.emit(new Dequantize((int) node.intAttr("axis", 1), blockSize(node),
                    outputType == 0 ? null : DType.fromOnnx((int) outputType)),
                    Arrays.asList(node.requiredInput(0), node.requiredInput(1), node.input(2)),
                    List.of(node.requiredOutput(0)));
        });
        register("DynamicQuantizeLinear", node -> node.emit(new DynamicQuantize(), List.of(node.requiredInput(0)),
                List.of(outputOrTemporary(node, 0), outputOrTemporary(node, 1), outputOrTemporary(node, 2))));
        register("MatMulInteger", node -> node.emit(new MatMulInteger(), Arrays.asList(node.requiredInput(0),
                node.requiredInput(1), node.input(2), node.input(3)), List.of(node.requiredOutput(0))));
        register("QLinearMatMul", node -> {
            // y = saturate(round((a − a0)·(b − b0) · (sa·sb / sy)) + y0), the multiplier formed first as ONNX does:
            // one node when the scales are float32, else (float16 scales round each step to half) these steps.
            if (java.util.stream.IntStream.of(1, 4, 6).allMatch(i -> isFloat32(node.requiredInput(i)))) {
                node.emit(new QLinearMatMul(), Arrays.asList(node.requiredInput(0), node.requiredInput(3),
                        node.requiredInput(2), node.requiredInput(5), node.requiredInput(1), node.requiredInput(4),
                        node.requiredInput(6), node.requiredInput(7)), List.of(node.requiredOutput(0)));
                return;
            }
            Value accumulated = node.emit(new MatMulInteger(), node.requiredInput(0), node.requiredInput(3),
                    node.requiredInput(2), node.requiredInput(5));
            Value rowScale = node.emit(new Unsqueeze(), node.requiredInput(1), node.longs(-1));
            Value multiplier = node.emit(new Binary(Binary.Kind.DIV),
                    node.emit(new Binary(Binary.Kind.MUL), rowScale, node.requiredInput(4)), node.requiredInput(6));
            Value scaled = node.emit(new Binary(Binary.Kind.MUL),
                    node.emit(new CastLike(true, Float8E8M0.RoundMode.UP), accumulated, multiplier), multiplier);
            node.emit(new Quantize(1, 0, true, null), List.of(scaled, like(node, 1, multiplier), node.requiredInput(7)),
                    List.of(node.requiredOutput(0)));
        });
    }

    // ---------------------------------------------------------------- com.microsoft quantized ops

    private static void registerMicrosoftQuantization() {
        // The QDQ pair ONNX Runtime's quantizer writes in its own domain (for 16-bit types before
        // ONNX had them, or when asked to): ONNX's per-tensor and per-axis semantics.
        MICROSOFT_DOMAIN.put("QuantizeLinear", DEFAULT_DOMAIN.get("QuantizeLinear"));
        MICROSOFT_DOMAIN.put("DequantizeLinear", DEFAULT_DOMAIN.get("DequantizeLinear"));
        // Y = (A − a0)·(B − b0) · (a_scale·b_scale) + bias; b_scale and b0 per tensor or per column.
        MICROSOFT_DOMAIN.put("MatMulIntegerToFloat", node -> {
            Value scale = node.emit(new Binary(Binary.Kind.MUL), node.requiredInput(2), node.requiredInput(3));
            integerToFloat(node, node.requiredInput(0), node.requiredInput(1), node.input(4), node.input(5), scale,
                    node.input(6));
        });
        // A quantized to uint8 as DynamicQuantizeLinear does, then as MatMulIntegerToFloat.
        MICROSOFT_DOMAIN.put("DynamicQuantizeMatMul", node -> node.emit(new DynamicQuantizeMatMul(),
                Arrays.asList(node.requiredInput(0), node.requiredInput(1), node.requiredInput(2), node.input(3),
                        node.input(4)), List.of(node.requiredOutput(0))));
        // C = quantize(dequantize(A) op dequantize(B)), in A's type.
        MICROSOFT_DOMAIN.put("QLinearAdd", node -> quantizedBinary(node, Binary.Kind.ADD));
        MICROSOFT_DOMAIN.put("QLinearMul", node -> quantizedBinary(node, Binary.Kind.MUL));
        MICROSOFT_DOMAIN.put("QLinearSigmoid", node -> quantizedUnary(node, Unary.of(Unary.Kind.SIGMOID)));
        MICROSOFT_DOMAIN.put("QLinearLeakyRelu",
                node -> quantizedUnary(node, new Unary(Unary.Kind.LEAKY_RELU, node.floatAttr("alpha", 0.01f), 0)));
        // Inputs (Y_scale, Y_zero_point, then X, X_scale, X_zero_point per tensor): each requantized to Y's.
        MICROSOFT_DOMAIN.put("QLinearConcat", node -> {
            if (node.inputCount() < 5 || (node.inputCount() - 2) % 3 != 0) {
                throw node.unsupported(node.inputCount() + " inputs (Y_scale, Y_zero_point, then triples of tensor,"
                        + " scale and zero point)");
            }
            List<Value> parts = new java.util.ArrayList<>();
            for (int i = 2; i < node.inputCount(); i += 3) {
                parts.add(dequantized(node, node.requiredInput(i), node.requiredInput(i + 1), node.input(i + 2)));
            }
            Value joined = node.emit(new Concat((int) node.requiredInt("axis")), parts.toArray(Value[]::new));
            node.emit(new Quantize(1, 0, true, null), List.of(joined, node.requiredInput(0), node.requiredInput(1)),
                    List.of(node.requiredOutput(0)));
        });
        // The mean over the spatial axes (after the channels with channels_last), requantized.
        MICROSOFT_DOMAIN.put("QLinearGlobalAveragePool", node -> {
            Value x = dequantized(node, node.requiredInput(0), node.requiredInput(1), node.input(2));
            Value mean;
            if (node.intAttr("channels_last", 0) == 0) {
                mean = node.emit(new GlobalPool(Pool.Kind.AVERAGE, 0), x);
            } else {
                long[] axes = java.util.stream.LongStream.range(1, knownRank(node, 0, "channels_last") - 1).toArray();
                mean = node.emit(new Reduce(Reduce.Kind.MEAN, true, false), x, node.longs(axes));
            }
            quantized(node, mean, node.requiredInput(3), node.input(4), node.requiredInput(0));
        });
        // AveragePool's attributes but no dilations, count_include_pad 0 by default; NHWC with channels_last.
        MICROSOFT_DOMAIN.put("QLinearAveragePool", node -> {
            Value x = dequantized(node, node.requiredInput(0), node.requiredInput(1), node.input(2));
            boolean channelsLast = node.intAttr("channels_last", 0) != 0;
            int rank = channelsLast ? knownRank(node, 0, "channels_last") : 0;
            if (channelsLast) {
                x = node.emit(new Transpose(channelsFirst(rank, true)), x);
            }
            Value mean = node.temporary();
            node.emit(new Pool(Pool.Kind.AVERAGE, window(node, true), node.intAttr("count_include_pad", 0) != 0, 0, false),
                    List.of(x), List.of(mean));
            if (channelsLast) {
                mean = node.emit(new Transpose(channelsFirst(rank, false)), mean);
            }
            quantized(node, mean, node.requiredInput(3), node.input(4), node.requiredInput(0));
        });
        MICROSOFT_DOMAIN.put("QLinearReduceMean", node -> {
            Value x = dequantized(node, node.requiredInput(0), node.requiredInput(1), node.input(2));
            long[] axes = node.intsAttr("axes");
            Value mean = node.temporary();
            node.emit(new Reduce(Reduce.Kind.MEAN, node.requiredInt("keepdims") != 0, false),
                    Arrays.asList(x, axes == null ? null : node.longs(axes)), List.of(mean));
            quantized(node, mean, node.requiredInput(3), node.input(4), node.requiredInput(0));
        });
        // The 'opset' attribute names the Softmax it stands for: before 13, the axes from 'axis' on are one row.
        MICROSOFT_DOMAIN.put("QLinearSoftmax", node -> {
            boolean legacy = node.requiredInt("opset") < 13;
            Value x = dequantized(node, node.requiredInput(0), node.requiredInput(1), node.input(2));
            Value y = node.emit(new Softmax((int) node.intAttr("axis", legacy ? 1 : -1), false, legacy), x);
            quantized(node, y, node.requiredInput(3), node.input(4), node.requiredInput(0));
        });
        // Z = quantize(condition ? dequantize(X) : dequantize(Y)) with Z's scale and zero point.
        MICROSOFT_DOMAIN.put("QLinearWhere", node -> {
            Value x = dequantized(node, node.requiredInput(1), node.requiredInput(2), node.input(3));
            Value y = dequantized(node, node.requiredInput(4), node.requiredInput(5), node.input(6));
            quantized(node, node.emit(new Where(), node.requiredInput(0), x, y), node.requiredInput(7), node.input(8),
                    node.requiredInput(1));
        });
        // Y = alpha·a_scale·b_scale·((A − a0)·(B − b0) + C), C int32; quantized when y_scale is given.
        MICROSOFT_DOMAIN.put("QGemm", node -> {
            Value a = node.intAttr("transA", 0) != 0 ? node.emit(new Transpose(new int[] {1, 0}), node.requiredInput(0))
                    : node.requiredInput(0);
            Value b = node.intAttr("transB", 0) != 0 ? node.emit(new Transpose(new int[] {1, 0}), node.requiredInput(3))
                    : node.requiredInput(3);
            Value product = node.emit(new MatMulInteger(), a, b, node.input(2), node.input(5));
            if (node.input(6) != null) {
                product = node.emit(new Binary(Binary.Kind.ADD), product, node.input(6));
            }
            Value scale = node.emit(new Binary(Binary.Kind.MUL), node.requiredInput(1), node.requiredInput(4));
            float alpha = node.floatAttr("alpha", 1f);
            if (alpha != 1f) {
                scale = node.emit(new Binary(Binary.Kind.MUL), scale,
                        node.constant(node.graph().arena().fromFloats(new float[] {alpha})));
            }
            Value asFloat = node.emit(new Cast(DType.FLOAT, true, Float8E8M0.RoundMode.UP), product);
            if (node.input(7) == null) {
                node.emit(new Binary(Binary.Kind.MUL), List.of(asFloat, scale), List.of(node.requiredOutput(0)));
            } else {
                Value y = node.emit(new Binary(Binary.Kind.MUL), asFloat, scale);
                Value zero = node.input(8) != null ? node.input(8) : like(node, 0, node.requiredInput(0));
                node.emit(new Quantize(1, 0, true, null), List.of(y, node.input(7), zero), List.of(node.requiredOutput(0)));
            }
        });
    }

    /** The rank of input {@code i}, which {@code feature} needs known when the model is loaded. */
    private static int knownRank(OnnxNode node, int i, String feature) {
        ValueType type = node.requiredInput(i).type();
        if (type == null || type.shape() == null) {
            throw node.unsupported(feature + " with an input of unknown rank");
        }
        return type.shape().rank();
    }

    /** The permutation from channels last to channels first ({@code toFirst}), or back, for a tensor of this rank. */
    private static int[] channelsFirst(int rank, boolean toFirst) {
        int[] perm = new int[rank];
        for (int axis = 1; axis < rank; axis++) {
            perm[axis] = toFirst ? (axis == 1 ? rank - 1 : axis - 1) : (axis == rank - 1 ? 1 : axis + 1);
        }
        return perm;
    }

    private static void integerToFloat(OnnxNode node, Value a, Value b, Value aZero, Value bZero, Value scale, Value bias) {
        List<Value> inputs = new java.util.ArrayList<>(Arrays.asList(a, b, aZero, bZero, scale));
        if (bias != null) {
            inputs.add(bias);
        }
        node.emit(new MatMulIntegerToFloat(), inputs, List.of(node.requiredOutput(0)));
    }

    /** x − zero point, times scale, as float; a missing zero point is 0. */
    static Value dequantized(OnnxNode node, Value x, Value scale, Value zero) {
        return node.emit(new Dequantize(1, 0, null), x, scale, zero);
    }

    /** y = saturate(round(x / scale) + zero point) in the type of {@code like} (the op's first input). */
    private static void quantized(OnnxNode node, Value x, Value scale, Value zero, Value like) {
        Value zeroPoint = zero != null ? zero : like(node, 0, like);
        node.emit(new Quantize(1, 0, true, null), List.of(x, scale, zeroPoint), List.of(node.requiredOutput(0)));
    }

    private static void quantizedBinary(OnnxNode node, Binary.Kind kind) {
        Value a = dequantized(node, node.requiredInput(0), node.requiredInput(1), node.input(2));
        Value b = dequantized(node, node.requiredInput(3), node.requiredInput(4), node.input(5));
        quantized(node, node.emit(new Binary(kind), a, b), node.requiredInput(6), node.input(7), node.requiredInput(0));
    }

    private static void quantizedUnary(OnnxNode node, Unary op) {
        Value x = dequantized(node, node.requiredInput(0), node.requiredInput(1), node.input(2));
        quantized(node, node.emit(op, x), node.requiredInput(3), node.input(4), node.requiredInput(0));
    }

    static Value outputOrTemporary(OnnxNode node, int i) {
        Value output = i < node.outputCount() ? node.output(i) : null;
        return output != null ? output : node.temporary();
    }

    // ---------------------------------------------------------------- indexing

    private static void registerIndexing() {
        register("GatherElements", node -> node.emitTo(0, new GatherElements((int) node.intAttr("axis", 0)),
                node.requiredInput(0), node.requiredInput(1)));
        register("GatherND", node -> node.emitTo(0, new GatherND((int) node.intAttr("batch_dims", 0)),
                node.requiredInput(0), node.requiredInput(1)));
        Translator scatterElements = node -> node.emitTo(0, new Scatter(false, (int) node.intAttr("axis", 0),
                reduction(node)), node.requiredInput(0), node.requiredInput(1), node.requiredInput(2));
        register("ScatterElements", scatterElements);
        register("Scatter", scatterElements);
        register("ScatterND", node -> node.emitTo(0, new Scatter(true, 0, reduction(node)), node.requiredInput(0),
                node.requiredInput(1), node.requiredInput(2)));
        register("Tile", node -> node.emitTo(0, new Tile(), node.requiredInput(0), node.requiredInput(1)));
        register("Trilu", node -> node.emit(new Trilu(node.intAttr("upper", 1) != 0),
                Arrays.asList(node.requiredInput(0), node.input(1)), List.of(node.requiredOutput(0))));
        for (String name : new String[] {"CumSum", "CumProd"}) {
            register(name, node -> node.emitTo(0, new Cumulative(name.equals("CumProd"), node.intAttr("exclusive", 0) != 0,
                    node.intAttr("reverse", 0) != 0), node.requiredInput(0), node.requiredInput(1)));
        }
        register("TopK", node -> {
            Value k = node.opset() < 10 ? node.longs(node.requiredInt("k")) : node.requiredInput(1);
            // sorted = 0 allows any order; the sorted one is among them.
            node.emit(new TopK((int) node.intAttr("axis", -1), node.intAttr("largest", 1) != 0),
                    List.of(node.requiredInput(0), k), List.of(outputOrTemporary(node, 0), outputOrTemporary(node, 1)));
        });
        register("OneHot", node -> node.emitTo(0, new OneHot((int) node.intAttr("axis", -1)), node.requiredInput(0),
                node.requiredInput(1), node.requiredInput(2)));
        register("EyeLike", node -> node.emitTo(0, new EyeLike(node.has("dtype")
                ? DType.fromOnnx((int) node.intAttr("dtype", 1)) : null, node.intAttr("k", 0)), node.requiredInput(0)));
        register("NonZero", node -> node.emitTo(0, new NonZero(), node.requiredInput(0)));
        register("Pad", OnnxOps::pad);
        register("DepthToSpace", node -> node.emitTo(0, new DepthToSpace((int) node.requiredInt("blocksize"), true,
                choice(node, "mode", "DCR", Map.of("DCR", false, "CRD", true))), node.requiredInput(0)));
        register("SpaceToDepth", node -> node.emitTo(0, new DepthToSpace((int) node.requiredInt("blocksize"), false, false),
                node.requiredInput(0)));
        register("Hardmax", node -> {
            boolean legacy = node.opset() < 13;
            node.emitTo(0, new Hardmax((int) node.intAttr("axis", legacy ? 1 : -1), legacy), node.requiredInput(0));
        });
        register("Einsum", node -> node.emit(new Einsum(node.stringAttr("equation", "")), node.inputsFrom(0),
                List.of(node.requiredOutput(0))));
    }

    private static Scatter.Reduction reduction(OnnxNode node) {
        return choice(node, "reduction", "none", Map.of("none", Scatter.Reduction.NONE, "add", Scatter.Reduction.ADD,
                "mul", Scatter.Reduction.MUL, "max", Scatter.Reduction.MAX, "min", Scatter.Reduction.MIN));
    }

    private static void pad(OnnxNode node) {
        Pad.Mode mode = choice(node, "mode", "constant", Map.of("constant", Pad.Mode.CONSTANT, "reflect", Pad.Mode.REFLECT,
                "edge", Pad.Mode.EDGE, "wrap", Pad.Mode.WRAP));
        Value x = node.requiredInput(0);
        if (node.opset() < 11) {
            long[] pads = node.intsAttr(node.opset() < 2 ? "paddings" : "pads");
            Value value = like(node, node.floatAttr("value", 0), x);
            node.emitTo(0, new Pad(mode), x, node.longs(required(node, pads, "pads")), value);
        } else {
            node.emit(new Pad(mode), Arrays.asList(x, node.requiredInput(1), node.input(2), node.input(3)),
                    List.of(node.requiredOutput(0)));
        }
    }

    // ---------------------------------------------------------------- convolution and pooling

    private static void registerConvolution() {
        register("Conv", node -> node.emit(new Conv(window(node, false), (int) node.intAttr("group", 1)),
                Arrays.asList(node.requiredInput(0), node.requiredInput(1), node.input(2)), List.of(node.requiredOutput(0))));
        register("DeformConv", node -> {
            long group = node.intAttr("group", 1);
            long offsetGroups = node.intAttr("offset_group", 1);
            if (group < 1 || offsetGroups < 1 || group > Integer.MAX_VALUE || offsetGroups > Integer.MAX_VALUE) {
                throw node.error("has group " + group + " and offset_group " + offsetGroups + "; both must be positive");
            }
            Value x = node.requiredInput(0);
            DType type = x.type() == null ? DType.FLOAT : x.type().dtype();
            List<Value> inputs = new java.util.ArrayList<>();
            for (int i = 0; i < 5; i++) {
                Value input = i < 3 ? node.requiredInput(i) : node.input(i);
                inputs.add(input == null || type == DType.FLOAT ? input
                        : node.emit(new Cast(DType.FLOAT, true, Float8E8M0.RoundMode.UP), input));
            }
            Value result = type == DType.FLOAT ? node.requiredOutput(0) : node.temporary();
            node.emit(new DeformConv(window(node, false), (int) group, (int) offsetGroups), inputs, List.of(result));
            if (type != DType.FLOAT) {
                node.emitTo(0, new Cast(type, true, Float8E8M0.RoundMode.UP), result);
            }
        });
        register("ConvInteger", node -> node.emit(new ConvInteger(window(node, false), (int) node.intAttr("group", 1)),
                Arrays.asList(node.requiredInput(0), node.requiredInput(1), node.input(2), node.input(3)),
                List.of(node.requiredOutput(0))));
        // The scales are float32 in every opset of QLinearConv, so it is always one node.
        register("QLinearConv", node -> node.emit(new QLinearConv(window(node, false), (int) node.intAttr("group", 1), false),
                Arrays.asList(node.requiredInput(0), node.requiredInput(3), node.requiredInput(2),
                        node.requiredInput(5), node.requiredInput(1), node.requiredInput(4), node.requiredInput(6),
                        node.requiredInput(7), node.input(8)), List.of(node.requiredOutput(0))));
        register("RandomUniform", node -> randomValues(node, RandomSample.Distribution.UNIFORM, "low", 0, "high", 1));
        register("RandomNormal", node -> randomValues(node, RandomSample.Distribution.NORMAL, "mean", 0, "scale", 1));
        register("RandomUniformLike", node -> randomValues(node, RandomSample.Distribution.UNIFORM, "low", 0, "high", 1));
        register("RandomNormalLike", node -> randomValues(node, RandomSample.Distribution.NORMAL, "mean", 0, "scale", 1));
        register("Bernoulli", node -> node.emitTo(0, new RandomSample(RandomSample.Distribution.BERNOULLI,
                node.has("dtype") ? DType.fromOnnx((int) node.intAttr("dtype", 1)) : null, null, 0, 1, seed(node), 1),
                node.requiredInput(0)));
        register("Multinomial", node -> {
            DType dtype = DType.fromOnnx((int) node.intAttr("dtype", DType.INT32.onnxCode()));
            if (dtype != DType.INT32 && dtype != DType.INT64) {
                throw node.error("gives class indices as int32 or int64, not " + dtype);
            }
            node.emitTo(0, new RandomSample(RandomSample.Distribution.MULTINOMIAL, dtype, null, 0, 1, seed(node),
                    node.intAttr("sample_size", 1)), node.requiredInput(0));
        });
        register("ImageDecoder", node -> node.emitTo(0, new ImageDecoder(choice(node, "pixel_format", "RGB",
                Map.of("RGB", ImageDecoder.PixelFormat.RGB, "BGR", ImageDecoder.PixelFormat.BGR, "Grayscale",
                        ImageDecoder.PixelFormat.GRAYSCALE))), node.requiredInput(0)));
        register("Col2Im", node -> node.emitTo(0, new Col2Im(node.intsAttr("dilations"), node.intsAttr("pads"),
                node.intsAttr("strides")), node.requiredInput(0), node.requiredInput(1), node.requiredInput(2)));
        register("ConvTranspose", node -> node.emit(new ConvTranspose(window(node, false), (int) node.intAttr("group", 1),
                node.intsAttr("output_padding"), node.intsAttr("output_shape")),
                Arrays.asList(node.requiredInput(0), node.requiredInput(1), node.input(2)), List.of(node.requiredOutput(0))));
        // MaxPool's indices are computed only where the node names them.
        register("MaxPool", node -> {
            Value y = outputOrTemporary(node, 0);
            Value indices = node.output(1);
            node.emit(new Pool(Pool.Kind.MAX, window(node, true), false, 0, node.intAttr("storage_order", 0) != 0),
                    List.of(node.requiredInput(0)), indices == null ? List.of(y) : List.of(y, indices));
        });
        register("AveragePool", node -> node.emit(new Pool(Pool.Kind.AVERAGE, window(node, true),
                node.intAttr("count_include_pad", 0) != 0, 0, false), List.of(node.requiredInput(0)),
                List.of(outputOrTemporary(node, 0))));
        register("LpPool", node -> node.emit(new Pool(Pool.Kind.LP, window(node, true), false, node.intAttr("p", 2), false),
                List.of(node.requiredInput(0)), List.of(outputOrTemporary(node, 0))));
        register("MaxUnpool", node -> {
            long[] kernel = node.intsAttr("kernel_shape");
            if (kernel == null) {
                throw node.error("lacks the required attribute 'kernel_shape'");
            }
            node.emitTo(0, new MaxUnpool(kernel, node.intsAttr("strides"), node.intsAttr("pads")), node.requiredInput(0),
                    node.requiredInput(1), node.input(2));
        });
        register("GlobalAveragePool", node -> node.emitTo(0, new GlobalPool(Pool.Kind.AVERAGE, 0), node.requiredInput(0)));
        register("GlobalMaxPool", node -> node.emitTo(0, new GlobalPool(Pool.Kind.MAX, 0), node.requiredInput(0)));
        register("GlobalLpPool", node -> node.emitTo(0, new GlobalPool(Pool.Kind.LP, node.intAttr("p", 2)),
                node.requiredInput(0)));
    }

    /**
     * RandomUniform and RandomNormal (a {@code shape}, float by default) or their -Like forms (an
     * input's shape, and its type without a {@code dtype}): offset + scale·draw, where a uniform
     * draw's offset is {@code low} and its scale {@code high − low}.
     */
    private static void randomValues(OnnxNode node, RandomSample.Distribution distribution, String offsetName,
            float offsetDefault, String scaleName, float scaleDefault) {
        boolean like = node.opType().endsWith("Like");
        long[] shape = like ? null : node.intsAttr("shape");
        if (!like && shape == null) {
            throw node.error("lacks the required attribute 'shape'");
        }
        DType dtype = node.has("dtype") || !like ? DType.fromOnnx((int) node.intAttr("dtype", DType.FLOAT.onnxCode())) : null;
        if (dtype != null && dtype != DType.FLOAT && dtype != DType.DOUBLE && dtype != DType.FLOAT16 && dtype != DType.BFLOAT16) {
            throw node.error("draws " + dtype + " values; it gives float16, bfloat16, float or double");
        }
        double offset = node.floatAttr(offsetName, offsetDefault);
        double scale = node.floatAttr(scaleName, scaleDefault);
        if (distribution == RandomSample.Distribution.UNIFORM) {
            scale -= offset;
        }
        RandomSample op = new RandomSample(distribution, dtype, shape, offset, scale, seed(node), 1);
        if (like) {
            node.emitTo(0, op, node.requiredInput(0));
        } else {
            node.emitTo(0, op);
        }
    }

    /**
     * Adagrad, Momentum (whose mode, alpha, beta and norm_coefficient are required) or Adam, with their
     * defaults: the inputs and outputs go through as the node lists them.
     */
    private static void optimizerStep(OnnxNode node, OptimizerStep.Rule rule) {
        boolean momentum = rule == OptimizerStep.Rule.MOMENTUM || rule == OptimizerStep.Rule.NESTEROV;
        for (String required : momentum ? List.of("alpha", "beta", "norm_coefficient") : List.<String>of()) {
            if (!node.has(required)) {
                throw node.error("lacks the required attribute '" + required + "'");
            }
        }
        OptimizerStep op = new OptimizerStep(rule, node.floatAttr("alpha", 0.9f), node.floatAttr("beta", 0.999f),
                node.floatAttr("epsilon", rule == OptimizerStep.Rule.ADAM ? 1e-6f : 0), node.floatAttr("norm_coefficient", 0),
                node.floatAttr("norm_coefficient_post", 0), node.floatAttr("decay_factor", 0));
        List<Value> inputs = new ArrayList<>();
        for (int i = 0; i < node.inputCount(); i++) {
            inputs.add(node.requiredInput(i));
        }
        List<Value> outputs = new ArrayList<>();
        for (int i = 0; i < node.outputCount(); i++) {
            outputs.add(node.requiredOutput(i));
        }
        int groups = (inputs.size() - 2) / (2 + rule.states());
        if (groups < 1 || inputs.size() != 2 + groups * (2 + rule.states()) || outputs.size() != groups * (1 + rule.states())) {
            throw node.error("has " + inputs.size() + " inputs and " + outputs.size() + " outputs; " + op.name()
                    + " takes R, T and n tensors, their n gradients and " + rule.states() + "·n states, and gives "
                    + (1 + rule.states()) + "·n outputs");
        }
        node.emit(op, inputs, outputs);
    }

    /** A random op's float {@code seed}, whole as ONNX's reference takes it; null when absent or NaN. */
    private static Long seed(OnnxNode node) {
        float seed = node.floatAttr("seed", Float.NaN);
        return Float.isNaN(seed) ? null : (long) seed;
    }

    static Window window(OnnxNode node, boolean pooling) {
        Window.AutoPad mode = choice(node, "auto_pad", "NOTSET", Map.of("NOTSET", Window.AutoPad.NOTSET,
                "", Window.AutoPad.NOTSET, "SAME_UPPER", Window.AutoPad.SAME_UPPER, "SAME_LOWER", Window.AutoPad.SAME_LOWER,
                "VALID", Window.AutoPad.VALID));
        long[] kernel = node.intsAttr("kernel_shape");
        if (pooling && kernel == null) {
            throw node.error("lacks the required attribute 'kernel_shape'");
        }
        return new Window(kernel, node.intsAttr("strides"), node.intsAttr("dilations"), node.intsAttr("pads"), mode,
                node.intAttr("ceil_mode", 0) != 0);
    }

    // ---------------------------------------------------------------- sequences and optionals

    private static void registerSequences() {
        register("SequenceEmpty", node -> node.emit(new SequenceOp(SequenceOp.Kind.EMPTY,
                DType.fromOnnx((int) node.intAttr("dtype", 1)), 0, false), List.of(), List.of(node.requiredOutput(0))));
        register("SequenceConstruct", node -> node.emit(SequenceOp.of(SequenceOp.Kind.CONSTRUCT), node.inputsFrom(0),
                List.of(node.requiredOutput(0))));
        register("SequenceInsert", node -> node.emit(SequenceOp.of(SequenceOp.Kind.INSERT),
                Arrays.asList(node.requiredInput(0), node.requiredInput(1), node.input(2)), List.of(node.requiredOutput(0))));
        register("SequenceErase", node -> node.emit(SequenceOp.of(SequenceOp.Kind.ERASE),
                Arrays.asList(node.requiredInput(0), node.input(1)), List.of(node.requiredOutput(0))));
        register("SequenceAt", node -> node.emitTo(0, SequenceOp.of(SequenceOp.Kind.AT), node.requiredInput(0),
                node.requiredInput(1)));
        register("SequenceLength", node -> node.emitTo(0, SequenceOp.of(SequenceOp.Kind.LENGTH), node.requiredInput(0)));
        register("ConcatFromSequence", node -> node.emitTo(0, new SequenceOp(SequenceOp.Kind.CONCAT, null,
                (int) node.requiredInt("axis"), node.intAttr("new_axis", 0) != 0), node.requiredInput(0)));
        register("SplitToSequence", node -> node.emit(new SequenceOp(SequenceOp.Kind.SPLIT, null,
                (int) node.intAttr("axis", 0), node.intAttr("keepdims", 1) != 0),
                Arrays.asList(node.requiredInput(0), node.input(1)), List.of(node.requiredOutput(0))));
        register("Optional", node -> node.emit(new OptionalOp(OptionalOp.Kind.WRAP),
                Arrays.asList(node.input(0)), List.of(node.requiredOutput(0))));
        register("OptionalHasElement", node -> node.emit(new OptionalOp(OptionalOp.Kind.HAS_ELEMENT),
                Arrays.asList(node.input(0)), List.of(node.requiredOutput(0))));
        register("OptionalGetElement", node -> node.emitTo(0, new OptionalOp(OptionalOp.Kind.GET_ELEMENT),
                node.requiredInput(0)));
    }

    // ---------------------------------------------------------------- control flow

    private static void registerControlFlow() {
        register("Scan", OnnxLoops::scan);
        register("SequenceMap", OnnxLoops::sequenceMap);
        register("Loop", node -> {
            GraphTranslator.Subgraph body = node.graph().subgraph(requiredGraph(node, "body"));
            int carried = node.inputCount() - 2;
            List<Value> inputs = new java.util.ArrayList<>(Arrays.asList(node.input(0), node.input(1)));
            for (int k = 0; k < carried; k++) {
                inputs.add(node.requiredInput(2 + k));
            }
            inputs.addAll(body.captured());
            node.emit(new dev.quanta.graph.ops.Loop(body.graph(), carried), inputs, allOutputs(node));
        });
        register("If", node -> {
            GraphTranslator.Subgraph then = node.graph().subgraph(requiredGraph(node, "then_branch"));
            GraphTranslator.Subgraph otherwise = node.graph().subgraph(requiredGraph(node, "else_branch"));
            List<Value> captured = new java.util.ArrayList<>(then.captured());
            otherwise.captured().stream().filter(value -> !captured.contains(value)).forEach(captured::add);
            int[] thenCaptures = then.captured().stream().mapToInt(captured::indexOf).toArray();
            int[] elseCaptures = otherwise.captured().stream().mapToInt(captured::indexOf).toArray();
            List<Value> inputs = new java.util.ArrayList<>();
            inputs.add(node.requiredInput(0));
            inputs.addAll(captured);
            node.emit(new dev.quanta.graph.ops.If(then.graph(), otherwise.graph(), thenCaptures, elseCaptures), inputs,
                    allOutputs(node));
        });
    }

    private static dev.quanta.loader.onnx.proto.Onnx.GraphProto requiredGraph(OnnxNode node, String name) {
        var graph = node.graphAttr(name);
        if (graph == null) {
            throw node.error("lacks the required graph attribute '" + name + "'");
        }
        return graph;
    }

    private static List<Value> allOutputs(OnnxNode node) {
        List<Value> outputs = new java.util.ArrayList<>();
        for (int i = 0; i < node.outputCount(); i++) {
            outputs.add(outputOrTemporary(node, i));
        }
        return outputs;
    }

    // ---------------------------------------------------------------- resize

    /** Resize from opset 11 on; Resize-10 and Upsample are its asymmetric, floor-nearest ancestors. */
    private static void resize(OnnxNode node) {
        Resize.Mode mode = choice(node, "mode", "nearest", Map.of("nearest", Resize.Mode.NEAREST,
                "linear", Resize.Mode.LINEAR, "bilinear", Resize.Mode.LINEAR, "cubic", Resize.Mode.CUBIC));
        Value x = node.requiredInput(0);
        boolean legacy = node.opType().equals("Upsample") || node.opset() < 11;
        if (legacy) {
            Value scales = node.opType().equals("Upsample") && node.opset() < 9
                    ? node.constant(node.graph().arena().fromFloats(floats(node, "scales"), floats(node, "scales").length))
                    : node.requiredInput(1);
            node.emit(new Resize(mode, Resize.Transform.ASYMMETRIC, Resize.NearestMode.FLOOR, -0.75, false, 0, false, null,
                    Resize.AspectPolicy.STRETCH), Arrays.asList(x, null, scales, null), List.of(node.requiredOutput(0)));
            return;
        }
        Resize.Transform transform = choice(node, "coordinate_transformation_mode", "half_pixel", Map.of(
                "half_pixel", Resize.Transform.HALF_PIXEL, "half_pixel_symmetric", Resize.Transform.HALF_PIXEL_SYMMETRIC,
                "pytorch_half_pixel", Resize.Transform.PYTORCH_HALF_PIXEL, "align_corners", Resize.Transform.ALIGN_CORNERS,
                "asymmetric", Resize.Transform.ASYMMETRIC, "tf_crop_and_resize", Resize.Transform.TF_CROP_AND_RESIZE));
        Resize.NearestMode nearest = choice(node, "nearest_mode", "round_prefer_floor", Map.of(
                "round_prefer_floor", Resize.NearestMode.ROUND_PREFER_FLOOR, "round_prefer_ceil",
                Resize.NearestMode.ROUND_PREFER_CEIL, "floor", Resize.NearestMode.FLOOR, "ceil", Resize.NearestMode.CEIL));
        Resize.AspectPolicy policy = choice(node, "keep_aspect_ratio_policy", "stretch", Map.of(
                "stretch", Resize.AspectPolicy.STRETCH, "not_larger", Resize.AspectPolicy.NOT_LARGER,
                "not_smaller", Resize.AspectPolicy.NOT_SMALLER));
        node.emit(new Resize(mode, transform, nearest, node.floatAttr("cubic_coeff_a", -0.75f),
                node.intAttr("exclude_outside", 0) != 0, node.floatAttr("extrapolation_value", 0f),
                node.intAttr("antialias", 0) != 0, node.intsAttr("axes"), policy),
                Arrays.asList(x, node.input(1), node.input(2), node.input(3)), List.of(node.requiredOutput(0)));
    }

    private static float[] floats(OnnxNode node, String name) {
        float[] values = node.floatsAttr(name);
        if (values == null) {
            throw node.error("lacks the required attribute '" + name + "'");
        }
        return values;
    }

    // ---------------------------------------------------------------- shapes and data movement

    private static void registerShapes() {
        register("Constant", OnnxOps::constant);
        register("Reshape", node -> {
            Value shape = node.opset() < 5 ? node.longs(required(node, node.intsAttr("shape"), "shape")) : node.requiredInput(1);
            node.emitTo(0, new Reshape(node.intAttr("allowzero", 0) != 0), node.requiredInput(0), shape);
        });
        register("Transpose", node -> {
            long[] perm = node.intsAttr("perm");
            node.emitTo(0, new Transpose(perm == null ? null : Arrays.stream(perm).mapToInt(Math::toIntExact).toArray()),
                    node.requiredInput(0));
        });
        register("Squeeze", node -> {
            Value axes = node.opset() < 13 ? optionalLongs(node, node.intsAttr("axes")) : node.input(1);
            node.emit(new Squeeze(), Arrays.asList(node.requiredInput(0), axes), List.of(node.requiredOutput(0)));
        });
        register("Unsqueeze", node -> {
            Value axes = node.opset() < 13 ? node.longs(required(node, node.intsAttr("axes"), "axes")) : node.requiredInput(1);
            node.emitTo(0, new Unsqueeze(), node.requiredInput(0), axes);
        });
        register("Flatten", node -> node.emitTo(0, new Flatten((int) node.intAttr("axis", 1)), node.requiredInput(0)));
        register("Concat", node -> {
            int axis = (int) (node.opset() < 4 ? node.intAttr("axis", 1) : node.requiredInt("axis"));
            node.emit(new Concat(axis), node.inputsFrom(0), List.of(node.requiredOutput(0)));
        });
        register("Split", OnnxOps::split);
        register("Slice", node -> {
            if (node.opset() < 10) {
                long[] starts = required(node, node.intsAttr("starts"), "starts");
                long[] ends = required(node, node.intsAttr("ends"), "ends");
                long[] axes = node.intsAttr("axes");
                node.emit(new Slice(), Arrays.asList(node.requiredInput(0), node.longs(starts), node.longs(ends),
                        axes == null ? null : node.longs(axes)), List.of(node.requiredOutput(0)));
            } else {
                node.emit(new Slice(), Arrays.asList(node.requiredInput(0), node.requiredInput(1),
                        node.requiredInput(2), node.input(3), node.input(4)), List.of(node.requiredOutput(0)));
            }
        });
        register("Gather", node -> node.emitTo(0, new Gather((int) node.intAttr("axis", 0)), node.requiredInput(0),
                node.requiredInput(1)));
        register("Shape", node -> node.emitTo(0, new ShapeOf(node.intAttr("start", 0),
                node.has("end") ? node.intAttr("end", 0) : null), node.requiredInput(0)));
        register("Size", node -> node.emitTo(0, new Size(), node.requiredInput(0)));
        register("Expand", node -> node.emitTo(0, new Expand(), node.requiredInput(0), node.requiredInput(1)));
        register("ConstantOfShape", node -> {
            Tensor value = node.tensorAttr("value");
            if (value == null) {
                value = node.graph().arena().fromFloats(new float[] {0}, 1);
            } else if (value.elementCount() != 1) {
                throw node.error("has a value of " + value.elementCount() + " elements; it must have one");
            }
            node.emitTo(0, new ConstantOfShape(value), node.requiredInput(0));
        });
        register("Range", node -> node.emitTo(0, new Range(), node.requiredInput(0), node.requiredInput(1),
                node.requiredInput(2)));
    }

    private static long[] required(OnnxNode node, long[] values, String name) {
        if (values == null) {
            throw node.error("lacks the required attribute '" + name + "'");
        }
        return values;
    }

    private static Value optionalLongs(OnnxNode node, long[] values) {
        return values == null ? null : node.longs(values);
    }

    private static void split(OnnxNode node) {
        int axis = (int) node.intAttr("axis", 0);
        Value sizes;
        if (node.opset() < 13) {
            long[] split = node.intsAttr("split");
            sizes = split == null ? (node.input(1) != null ? node.input(1) : null) : node.longs(split);
        } else {
            sizes = node.input(1);
        }
        int outputs = node.outputCount();
        if (node.opset() >= 18 && sizes == null) {
            outputs = (int) node.requiredInt("num_outputs");
        }
        List<Value> values = new java.util.ArrayList<>();
        for (int i = 0; i < node.outputCount(); i++) {
            values.add(node.output(i));
        }
        node.emit(new Split(axis, outputs), Arrays.asList(node.requiredInput(0), sizes), values);
    }

    private static void constant(OnnxNode node) {
        Tensor tensor;
        var arena = node.graph().arena();
        if (node.has("value")) {
            tensor = node.tensorAttr("value");
        } else if (node.has("value_float")) {
            tensor = arena.fromFloats(new float[] {node.floatAttr("value_float", 0)});
        } else if (node.has("value_floats")) {
            float[] values = node.floatsAttr("value_floats");
            tensor = arena.fromFloats(values, values.length);
        } else if (node.has("value_int")) {
            tensor = arena.fromLongs(DType.INT64, new long[] {node.intAttr("value_int", 0)});
        } else if (node.has("value_ints")) {
            long[] values = node.intsAttr("value_ints");
            tensor = arena.fromLongs(DType.INT64, values, values.length);
        } else if (node.has("value_string")) {
            tensor = arena.fromStrings(new String[] {node.stringAttr("value_string", "")});
        } else if (node.has("value_strings")) {
            List<String> values = node.stringsAttr("value_strings");
            tensor = arena.fromStrings(values.toArray(String[]::new), values.size());
        } else if (node.has("sparse_value")) {
            throw node.unsupported("sparse constants");
        } else {
            throw node.error("has no value attribute");
        }
        if (node.outputCount() != 1 || node.outputName(0).isEmpty()) {
            throw node.error("must have exactly one output");
        }
        node.graph().constant(node.outputName(0), tensor);
    }
}
