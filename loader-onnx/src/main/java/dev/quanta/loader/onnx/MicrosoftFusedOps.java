package dev.quanta.loader.onnx;

import dev.quanta.graph.Value;
import dev.quanta.graph.ValueType;
import dev.quanta.graph.ops.Attention;
import dev.quanta.graph.ops.AttentionMask;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.Cast;
import dev.quanta.graph.ops.Concat;
import dev.quanta.graph.ops.DequantizeBlocks;
import dev.quanta.graph.ops.ConstantOfShape;
import dev.quanta.graph.ops.Conv;
import dev.quanta.graph.ops.Gather;
import dev.quanta.graph.ops.Identity;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.MatMulIntegerToFloat;
import dev.quanta.graph.ops.Normalize;
import dev.quanta.graph.ops.Reduce;
import dev.quanta.graph.ops.Reshape;
import dev.quanta.graph.ops.ShapeOf;
import dev.quanta.graph.ops.Slice;
import dev.quanta.graph.ops.Split;
import dev.quanta.graph.ops.Squeeze;
import dev.quanta.graph.ops.Transpose;
import dev.quanta.graph.ops.Unary;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Float8E8M0;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The com.microsoft ops that ONNX Runtime's optimizers and weight-only quantizer write into the
 * models they save, translated onto Quanta's core ops with the semantics of ONNX Runtime's CPU
 * kernels: the transformer optimizer's fused BERT layers (Attention, which its quantizers turn into
 * QAttention, MultiHeadAttention, EmbedLayerNormalization and its quantized form, the skip
 * normalizations and the GELU family), without past state or rotary embeddings; the graph
 * optimizer's FusedConv, FusedGemm and FusedMatMul; and MatMulNBits's block-quantized weights.
 */
final class MicrosoftFusedOps {

    /** ONNX Runtime's epsilon for its fused layer normalizations when the attribute is absent. */
    private static final float FUSED_NORM_EPSILON = 1e-12f;

    private MicrosoftFusedOps() {
    }

    static void register(Map<String, OnnxOps.Translator> domain) {
        domain.put("Gelu", node -> node.emitTo(0, Unary.of(Unary.Kind.GELU), node.requiredInput(0)));
        domain.put("BiasGelu", node -> node.emitTo(0, Unary.of(Unary.Kind.GELU),
                node.emit(new Binary(Binary.Kind.ADD), node.requiredInput(0), node.requiredInput(1))));
        // The tanh approximation, of X + bias when a bias is given.
        domain.put("FastGelu", node -> {
            Value x = node.input(1) == null ? node.requiredInput(0)
                    : node.emit(new Binary(Binary.Kind.ADD), node.requiredInput(0), node.input(1));
            node.emitTo(0, new Unary(Unary.Kind.GELU, 1, 0), x);
        });
        // X·sigmoid(alpha·X).
        domain.put("QuickGelu", node -> {
            Value x = node.requiredInput(0);
            Value alpha = node.floatScalar(node.floatAttr("alpha", 1.702f));
            node.emitTo(0, new Binary(Binary.Kind.MUL), x,
                    node.emit(Unary.of(Unary.Kind.SIGMOID), node.emit(new Binary(Binary.Kind.MUL), x, alpha)));
        });
        // Conv (+ Z), then the activation its attributes name.
        domain.put("FusedConv", node -> {
            Value y = node.temporary();
            node.emit(new Conv(OnnxOps.window(node, false), (int) node.intAttr("group", 1)),
                    Arrays.asList(node.requiredInput(0), node.requiredInput(1), node.input(2)), List.of(y));
            if (node.input(3) != null) {
                y = node.emit(new Binary(Binary.Kind.ADD), y, node.input(3));
            }
            float[] params = node.floatsAttr("activation_params");
            activate(node, y, params == null ? new float[0] : params);
        });
        domain.put("FusedGemm", node -> {
            Value y = node.temporary();
            OnnxOps.gemm(node, y);
            activate(node, y, new float[] {node.floatAttr("activation_alpha", Float.NaN),
                node.floatAttr("activation_beta", Float.NaN), node.floatAttr("activation_gamma", Float.NaN)});
        });
        // alpha·A'·B', A' and B' with their last two axes swapped where asked.
        domain.put("FusedMatMul", node -> {
            if (node.intAttr("transBatchA", 0) != 0 || node.intAttr("transBatchB", 0) != 0) {
                throw node.unsupported("transBatchA and transBatchB");
            }
            Value a = swappedIf(node, 0, node.intAttr("transA", 0) != 0);
            Value b = swappedIf(node, 1, node.intAttr("transB", 0) != 0);
            float alpha = node.floatAttr("alpha", 1f);
            if (alpha == 1) {
                node.emitTo(0, new MatMul(), a, b);
            } else {
                node.emitTo(0, new Binary(Binary.Kind.MUL), node.emit(new MatMul(), a, b),
                        node.floatScalar(alpha));
            }
        });
        // Inputs (A, B, scales, zero_points?, g_idx?, bias?): A·dequantized B (+ bias), B dequantized
        // to float32 once at load (it is constant), so the product runs on the float GEMM.
        domain.put("MatMulNBits", node -> {
            long k = node.requiredInt("K");
            long n = node.requiredInt("N");
            long bits = node.intAttr("bits", 4);
            long blockSize = node.requiredInt("block_size");
            if (bits != 2 && bits != 4 && bits != 8) {
                throw node.unsupported(bits + "-bit weights (2, 4 and 8 are)");
            }
            if (k <= 0 || n <= 0 || k * n > Integer.MAX_VALUE || blockSize < 16 || Long.bitCount(blockSize) != 1) {
                throw node.error("has K " + k + ", N " + n + " and block_size " + blockSize
                        + "; expected positive sizes and a block size that is a power of two, 16 or more");
            }
            if (node.input(4) != null) {
                throw node.unsupported("g_idx (act-order group indices)");
            }
            Value weights = node.emit(new DequantizeBlocks((int) k, (int) n, (int) bits, (int) blockSize),
                    node.requiredInput(1), node.requiredInput(2), node.input(3));
            if (node.input(5) == null) {
                node.emitTo(0, new MatMul(), node.requiredInput(0), weights);
            } else {
                node.emitTo(0, new Binary(Binary.Kind.ADD), node.emit(new MatMul(), node.requiredInput(0), weights), node.input(5));
            }
        });
        domain.put("SkipLayerNormalization", node -> skipNormalization(node, false));
        domain.put("SkipSimplifiedLayerNormalization", node -> skipNormalization(node, true));
        domain.put("EmbedLayerNormalization", MicrosoftFusedOps::embedLayerNormalization);
        domain.put("QEmbedLayerNormalization", MicrosoftFusedOps::quantizedEmbedLayerNormalization);
        domain.put("MultiHeadAttention", MicrosoftFusedOps::multiHeadAttention);
        domain.put("Attention", node -> {
            refuseState(node, 4, 6);
            Value projected = node.emit(new MatMul(), node.requiredInput(0), node.requiredInput(1));
            if (node.input(2) != null) {
                projected = node.emit(new Binary(Binary.Kind.ADD), projected, node.input(2));
            }
            attention(node, projected, hiddenSizes(node, node.intsAttr("qkv_hidden_sizes")), node.input(3), node.input(5));
        });
        // Inputs (input, weight, bias, input_scale, weight_scale, mask_index?, input_zero_point?,
        // weight_zero_point?, past?): the projection as MatMulIntegerToFloat, then as Attention.
        domain.put("QAttention", node -> {
            refuseState(node, 8, -1);
            Value scale = node.emit(new Binary(Binary.Kind.MUL), node.requiredInput(3), node.requiredInput(4));
            Value projected = node.temporary();
            node.emit(new MatMulIntegerToFloat(), Arrays.asList(node.requiredInput(0), node.requiredInput(1), node.input(6),
                    node.input(7), scale, node.requiredInput(2)), List.of(projected));
            attention(node, projected, hiddenSizes(node, null), node.input(5), null);
        });
    }

    /**
     * ONNX Runtime's fused activation named by the node's 'activation' attribute, of x into the
     * node's output; {@code params} its alpha, beta… (NaN or absent: the activation's default).
     */
    private static void activate(OnnxNode node, Value x, float[] params) {
        String name = node.stringAttr("activation", "");
        switch (name) {
            case "Relu" -> node.emitTo(0, Unary.of(Unary.Kind.RELU), x);
            case "Tanh" -> node.emitTo(0, Unary.of(Unary.Kind.TANH), x);
            case "Sigmoid" -> node.emitTo(0, Unary.of(Unary.Kind.SIGMOID), x);
            case "LeakyRelu" -> node.emitTo(0, new Unary(Unary.Kind.LEAKY_RELU, param(params, 0, 0.01f), 0), x);
            case "HardSigmoid" -> node.emitTo(0, new Unary(Unary.Kind.HARD_SIGMOID, param(params, 0, 0.2f),
                    param(params, 1, 0.5f)), x);
            case "Clip" -> {
                Value low = node.floatScalar(param(params, 0, -Float.MAX_VALUE));
                Value high = node.floatScalar(param(params, 1, Float.MAX_VALUE));
                node.emitTo(0, new Binary(Binary.Kind.MIN), node.emit(new Binary(Binary.Kind.MAX), x, low), high);
            }
            case "", "Identity" -> node.emitTo(0, new Identity(), x);
            default -> throw node.unsupported("the fused activation '" + name + "'");
        }
    }

    private static float param(float[] params, int i, float fallback) {
        return i < params.length && !Float.isNaN(params[i]) ? params[i] : fallback;
    }

    /** Input i, its last two axes swapped when {@code swap} (its rank must be known at load). */
    private static Value swappedIf(OnnxNode node, int i, boolean swap) {
        Value x = node.requiredInput(i);
        if (!swap) {
            return x;
        }
        ValueType type = x.type();
        if (type == null || type.shape() == null || type.shape().rank() < 2) {
            throw node.unsupported("a transposed operand of unknown rank (input " + i + ")");
        }
        int rank = type.shape().rank();
        int[] perm = java.util.stream.IntStream.range(0, rank).toArray();
        perm[rank - 2] = rank - 1;
        perm[rank - 1] = rank - 2;
        return node.emit(new Transpose(perm), x);
    }

    /**
     * sum = input + skip (+ bias), then layer (or RMS) normalization over the last axis; the
     * optional outputs are the mean, 1/σ and the sum itself.
     */
    private static void skipNormalization(OnnxNode node, boolean rms) {
        Value sum = node.emit(new Binary(Binary.Kind.ADD), node.requiredInput(0), node.requiredInput(1));
        Value bias = node.input(rms ? 3 : 4);
        if (bias != null) {
            sum = node.emit(new Binary(Binary.Kind.ADD), sum, bias);
        }
        Value sumOutput = node.output(3);
        if (sumOutput != null) {
            node.emit(new Identity(), List.of(sum), List.of(sumOutput));
        }
        node.emit(new Normalize(-1, node.floatAttr("epsilon", FUSED_NORM_EPSILON), rms),
                Arrays.asList(sum, node.requiredInput(2), rms ? null : node.input(3)),
                List.of(node.requiredOutput(0), OnnxOps.outputOrTemporary(node, 1), OnnxOps.outputOrTemporary(node, 2)));
    }

    /**
     * Inputs (input_ids, segment_ids?, word_embedding, position_embedding, segment_embedding?, gamma,
     * beta, mask?, position_ids?): the embeddings' sum, layer-normalized; outputs that, mask_index
     * (the mask's ones counted per sequence, 0 without a mask) and the sum.
     */
    private static void embedLayerNormalization(OnnxNode node) {
        embed(node, node.input(1), node.requiredInput(2), node.requiredInput(3), node.input(4), node.requiredInput(5),
                node.requiredInput(6), node.input(7), node.input(8));
    }

    /**
     * Inputs (input_ids, segment_ids?, then word, position and segment embeddings, gamma and beta as
     * int8/uint8, mask?, then their scales, then their zero points): EmbedLayerNormalization of the
     * dequantized tables, each gathered before it is dequantized.
     */
    private static void quantizedEmbedLayerNormalization(OnnxNode node) {
        Value[] tables = new Value[5];
        for (int i = 0; i < 5; i++) {
            Value quantized = node.input(2 + i);
            if (quantized != null) {
                tables[i] = OnnxOps.dequantized(node, quantized, node.requiredInput(8 + i), node.input(13 + i));
            }
        }
        if (tables[0] == null || tables[1] == null || tables[3] == null || tables[4] == null) {
            throw node.error("lacks one of its word, position, gamma and beta tables");
        }
        embed(node, node.input(1), tables[0], tables[1], tables[2], tables[3], tables[4], node.input(7), null);
    }

    private static void embed(OnnxNode node, Value segmentIds, Value words, Value positionTable, Value segments, Value gamma,
            Value beta, Value mask, Value positionIds) {
        Value ids = node.requiredInput(0);
        Value sum = node.emit(new Gather(0), words, ids);
        Value positions = positionIds != null ? node.emit(new Gather(0), positionTable, positionIds)
                : node.emit(new Slice(), positionTable, node.longs(0), node.emit(new ShapeOf(1, 2L), ids), node.longs(0));
        sum = node.emit(new Binary(Binary.Kind.ADD), sum, positions);
        if (segmentIds != null && segments != null) {
            sum = node.emit(new Binary(Binary.Kind.ADD), sum, node.emit(new Gather(0), segments, segmentIds));
        }
        node.emit(new Normalize(-1, node.floatAttr("epsilon", FUSED_NORM_EPSILON), false), Arrays.asList(sum, gamma, beta),
                List.of(node.requiredOutput(0), node.temporary(), node.temporary()));
        Value maskIndex = node.output(1);
        if (maskIndex != null) {
            if (mask == null) {
                node.emit(new ConstantOfShape(node.graph().arena().fromInts(new int[] {0})),
                        List.of(node.emit(new ShapeOf(0, 1L), ids)), List.of(maskIndex));
            } else {
                Value ones = node.emit(new Cast(DType.INT32, true, Float8E8M0.RoundMode.UP), node.emit(
                        new Binary(Binary.Kind.EQUAL), mask, node.constant(node.graph().arena().fromInts(new int[] {1}))));
                node.emit(new Reduce(Reduce.Kind.SUM, false, false), List.of(ones, node.longs(1)), List.of(maskIndex));
            }
        }
        Value sumOutput = node.output(2);
        if (sumOutput != null) {
            node.emit(new Identity(), List.of(sum), List.of(sumOutput));
        }
    }

    /** Past state, present state and rotary embeddings are not implemented: refused at load, by name. */
    private static void refuseState(OnnxNode node, int pastInput, int pastLengthInput) {
        if (node.input(pastInput) != null || pastLengthInput >= 0 && node.input(pastLengthInput) != null) {
            throw node.unsupported("a past key/value state");
        }
        if (node.outputCount() > 1 && !node.outputName(1).isEmpty()) {
            throw node.unsupported("the present key/value state output");
        }
        if (node.intAttr("do_rotary", 0) != 0) {
            throw node.unsupported("rotary embeddings (do_rotary)");
        }
    }

    /** The widths of q, k and v: qkv_hidden_sizes, else the weights' columns in three. */
    private static long[] hiddenSizes(OnnxNode node, long[] declared) {
        if (declared != null) {
            if (declared.length != 3 || Arrays.stream(declared).anyMatch(size -> size <= 0)) {
                throw node.error("has qkv_hidden_sizes " + Arrays.toString(declared) + "; expected three positive sizes");
            }
            return declared;
        }
        ValueType weights = node.requiredInput(1).type();
        if (weights == null || weights.shape() == null || weights.shape().rank() != 2 || !weights.shape().isStatic(1)) {
            throw node.unsupported("weights of unknown width without qkv_hidden_sizes");
        }
        long columns = weights.shape().size(1);
        if (columns % 3 != 0) {
            throw node.error("has weights of " + columns + " columns, which do not split into q, k and v");
        }
        return new long[] {columns / 3, columns / 3, columns / 3};
    }

    /**
     * Multi-head attention of the projected [batch, sequence, q | k | v]: softmax(scale·q·kᵀ +
     * mask (+ attention_bias))·v, heads joined again into [batch, sequence, v width].
     */
    private static void attention(OnnxNode node, Value projected, long[] widths, Value maskIndex, Value bias) {
        long heads = node.requiredInt("num_heads");
        if (heads <= 0 || Arrays.stream(widths).anyMatch(width -> width % heads != 0) || widths[0] != widths[1]) {
            throw node.error("has num_heads " + heads + " for q, k and v of " + Arrays.toString(widths)
                    + "; q and k must be as wide, and each a multiple of the heads");
        }
        if (node.intAttr("past_present_share_buffer", 0) != 0) {
            throw node.unsupported("past_present_share_buffer");
        }
        Value[] qkv = new Value[] {node.temporary(), node.temporary(), node.temporary()};
        node.emit(new Split(-1, 3), List.of(projected, node.longs(widths)), List.of(qkv));
        Value q = heads(node, qkv[0], heads, new int[] {0, 2, 1, 3});
        Value keys = heads(node, qkv[1], heads, new int[] {0, 2, 3, 1});
        Value v = heads(node, qkv[2], heads, new int[] {0, 2, 1, 3});
        float scale = node.floatAttr("scale", 0f);
        attend(node, q, keys, v, scale == 0 ? Math.sqrt(widths[0] / heads) : 1 / (double) scale, node.requiredInput(0),
                maskIndex, null, bias);
    }

    /**
     * Inputs (query, key?, value?, bias?, key_padding_mask?, attention_bias?, then past state):
     * query, key and value [batch, length, hidden] (each less its third of the bias), or q, k and v
     * packed [batch, length, heads, 3, head size] in the query, or k and v [.., 2, ..] in the key.
     */
    private static void multiHeadAttention(OnnxNode node) {
        for (int i = 6; i < node.inputCount(); i++) {
            if (node.input(i) != null) {
                throw node.unsupported("a past key/value state or a cache indirection");
            }
        }
        for (int i = 1; i < node.outputCount(); i++) {
            if (!node.outputName(i).isEmpty()) {
                throw node.unsupported("the present key/value and qk outputs");
            }
        }
        long heads = node.requiredInt("num_heads");
        if (heads <= 0) {
            throw node.error("has num_heads " + heads);
        }
        Value query = node.requiredInput(0);
        Value key = node.input(1);
        Value value = node.input(2);
        Value bias = node.input(3);
        Value q;
        Value k;
        Value v;
        if (key == null || value == null) {
            if (value != null || bias != null) {
                throw node.unsupported("a bias or a value beside packed q, k and v");
            }
            Value packed = key == null ? query : key;
            Value[] parts = unpacked(node, packed, key == null ? 3 : 2);
            q = key == null ? parts[0] : node.emit(new Reshape(false), query, node.longs(0, 0, heads, -1));
            k = parts[key == null ? 1 : 0];
            v = parts[key == null ? 2 : 1];
        } else {
            ValueType keyType = key.type();
            if (keyType != null && keyType.shape() != null && keyType.shape().rank() != 3) {
                throw node.unsupported("keys and values other than [batch, length, hidden] (a cross-attention cache)");
            }
            if (bias != null) {
                // The bias is q | k | v: its thirds are as wide as the inputs, known when the node runs.
                Value widths = node.emit(new Concat(0), node.emit(new ShapeOf(2, 3L), query),
                        node.emit(new ShapeOf(2, 3L), key), node.emit(new ShapeOf(2, 3L), value));
                Value[] thirds = new Value[] {node.temporary(), node.temporary(), node.temporary()};
                node.emit(new Split(0, 3), List.of(bias, widths), List.of(thirds));
                query = node.emit(new Binary(Binary.Kind.ADD), query, thirds[0]);
                key = node.emit(new Binary(Binary.Kind.ADD), key, thirds[1]);
                value = node.emit(new Binary(Binary.Kind.ADD), value, thirds[2]);
            }
            q = node.emit(new Reshape(false), query, node.longs(0, 0, heads, -1));
            k = node.emit(new Reshape(false), key, node.longs(0, 0, heads, -1));
            v = node.emit(new Reshape(false), value, node.longs(0, 0, heads, -1));
        }
        Value qHeads = node.emit(new Transpose(new int[] {0, 2, 1, 3}), q);
        float scale = node.floatAttr("scale", 0f);
        if (scale == 0) {
            // The head size is known only when the node runs: q is scaled by 1/√size before its product.
            Value size = node.emit(new Cast(DType.FLOAT, true, Float8E8M0.RoundMode.UP), node.emit(new ShapeOf(3, 4L), qHeads));
            qHeads = node.emit(new Binary(Binary.Kind.MUL), qHeads,
                    node.emit(Unary.of(Unary.Kind.RECIPROCAL), node.emit(Unary.of(Unary.Kind.SQRT), size)));
        }
        attend(node, qHeads, node.emit(new Transpose(new int[] {0, 2, 3, 1}), k),
                node.emit(new Transpose(new int[] {0, 2, 1, 3}), v), scale == 0 ? 1 : 1 / (double) scale,
                node.requiredInput(0), node.input(4), node.input(1), node.input(5));
    }

    /** [batch, length, heads, parts, head size] as its parts, each [batch, length, heads, head size]. */
    private static Value[] unpacked(OnnxNode node, Value packed, int count) {
        Value[] parts = new Value[count];
        for (int i = 0; i < count; i++) {
            parts[i] = node.temporary();
        }
        node.emit(new Split(3, count), List.of(packed), List.of(parts));
        for (int i = 0; i < count; i++) {
            parts[i] = node.emit(new Squeeze(), parts[i], node.longs(3));
        }
        return parts;
    }

    /**
     * softmax(q·keys / divisor + mask)·v of q [batch, heads, length, size], keys [.., size, key
     * length] and v [.., key length, v size], into the node's output as [batch, length, heads·v
     * size]; the mask from the mask index of {@code queries} and {@code keys} (the queries when
     * null), plus the attention bias.
     */
    private static void attend(OnnxNode node, Value q, Value keys, Value v, double divisor, Value queries, Value maskIndex,
            Value keysLike, Value attentionBias) {
        float filter = node.floatAttr("mask_filter_value", -10000f);
        boolean unidirectional = node.intAttr("unidirectional", 0) != 0;
        // Separate keys always take the mask, whose kernel checks that they have the queries' batch.
        Value mask = maskIndex == null && !unidirectional && keysLike == null
                ? node.floatScalar(0)
                : node.emit(new AttentionMask(filter, unidirectional), queries, maskIndex, keysLike);
        if (attentionBias != null) {
            mask = node.emit(new Binary(Binary.Kind.ADD), mask, attentionBias);
        }
        Value weighted = node.emit(new Attention((float) divisor), q, keys, mask, v);
        node.emitTo(0, new Reshape(false), node.emit(new Transpose(new int[] {0, 2, 1, 3}), weighted), node.longs(0, 0, -1));
    }

    /** [batch, sequence, width] as [batch, heads, .., ..] in the order {@code perm} gives [batch, sequence, heads, width / heads]. */
    private static Value heads(OnnxNode node, Value x, long heads, int[] perm) {
        return node.emit(new Transpose(perm), node.emit(new Reshape(false), x, node.longs(0, 0, heads, -1)));
    }
}
