package dev.quanta.bench;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.loader.onnx.OnnxModel;
import dev.quanta.loader.onnx.proto.Onnx;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The com.microsoft quantized ops that ONNX Runtime's quantizer writes, and ONNX's QLinearConv that
 * its QOperator format uses, Quanta against ONNX Runtime on random inputs: one single-node model per
 * case, the same inputs fed to both. MatMulInteger, QLinearMatMul and QLinearConv also on random
 * shapes, types, attributes and weight ranges (which choose Quanta's kernels), from the class's
 * fixed seed; a failure names the case's inputs.
 */
class ContribOpsTest {

    private static final int FLOAT = Onnx.TensorProto.DataType.FLOAT_VALUE;
    private static final int UINT8 = Onnx.TensorProto.DataType.UINT8_VALUE;
    private static final int INT8 = Onnx.TensorProto.DataType.INT8_VALUE;
    /** The ops tested here from ONNX's own domain; the rest are com.microsoft's. */
    private static final java.util.Set<String> ONNX_OPS = java.util.Set.of("QLinearConv", "MatMulInteger", "QLinearMatMul", "RoiAlign", "Det", "MaxUnpool", "TfIdfVectorizer", "MelWeightMatrix",
            "SimplifiedLayerNormalization", "MaxPool", "Pad", "Transpose", "DepthToSpace", "Resize");
    private static final int INT32 = Onnx.TensorProto.DataType.INT32_VALUE;
    private static final int INT64 = Onnx.TensorProto.DataType.INT64_VALUE;
    private static final int BOOL = Onnx.TensorProto.DataType.BOOL_VALUE;
    private static final int INT16 = Onnx.TensorProto.DataType.INT16_VALUE;
    private static final int UINT16 = Onnx.TensorProto.DataType.UINT16_VALUE;

    private final SplittableRandom random = new SplittableRandom(0xC0_7A1B);

    /** One input of the node: fed at run time, or an initializer; its raw little-endian bytes. */
    private record Input(String name, int type, long[] dims, byte[] raw, boolean fed) {
        Input asFed() {
            return new Input(name, type, dims, raw, true);
        }
    }

    @Test
    void matMulIntegerToFloatWithPerColumnScalesZeroPointsAndBias() throws Exception {
        // Five rows take the GEMM; one and two the few-row kernel over the weights packed as bytes,
        // across two of its strips (71 columns) and one depth short of a multiple of four.
        for (int aType : new int[] {UINT8, INT8}) {
            for (int[] shape : new int[][] {{5, 37, 19}, {1, 37, 71}, {2, 39, 71}}) {
                int m = shape[0], k = shape[1], n = shape[2];
                List<Input> inputs = List.of(
                        fed("A", aType, m, k), weights("B", k, n), scales("a_scale", 1), scales("b_scale", n, n),
                        constant("a_zero_point", aType), constant("b_zero_point", INT8, n), floats("bias", n, n));
                compareFloats("MatMulIntegerToFloat", inputs, Map.of(), Map.of(), 1e-5);
            }
        }
    }

    @Test
    void dynamicQuantizeMatMulWithPerColumnScalesAndBias() throws Exception {
        List<Input> inputs = List.of(floats("A", 3 * 4 * 45, 3, 4, 45).asFed(), weights("B", 45, 23),
                scales("b_scale", 23, 23), constant("b_zero_point", INT8, 23), floats("bias", 23, 23));
        compareFloats("DynamicQuantizeMatMul", inputs, Map.of(), Map.of(), 1e-5);
        List<Input> plain = List.of(floats("A", 7 * 16, 7, 16).asFed(), constant("B", UINT8, 16, 9), scales("b_scale", 1));
        compareFloats("DynamicQuantizeMatMul", plain, Map.of(), Map.of(), 1e-5);
        List<Input> oneRow = List.of(floats("A", 45, 1, 45).asFed(), weights("B", 45, 40), scales("b_scale", 1),
                constant("b_zero_point", INT8));
        compareFloats("DynamicQuantizeMatMul", oneRow, Map.of(), Map.of(), 1e-5);
    }

    /** ONNX Runtime's own-domain QDQ pair, as its quantizer writes it for 16-bit activations: per tensor and per axis. */
    @Test
    void microsoftQuantizeAndDequantizeLinearIn16And8Bits() throws Exception {
        for (int type : new int[] {INT16, UINT16, INT8, UINT8}) {
            int size = type == INT16 || type == UINT16 ? 2 : 1;
            for (int channels : new int[] {1, 5}) {
                long[] perAxis = channels == 1 ? new long[0] : new long[] {channels};
                Input zero = new Input("zero", type, perAxis, randomBytes((long) channels * size), false);
                Input x = gaussian("x", 400, 3, 5, 4).asFed();
                compareOutputs("QuantizeLinear", List.of(x, scales("scale", channels, perAxis), zero), Map.of(), Map.of("axis", 1L),
                        Map.of(), List.of("Y"), List.of(type), 0);
                // A constant: ONNX Runtime's Java API feeds no uint16.
                Input q = new Input("q", type, new long[] {3, 5, 4}, randomBytes(60L * size), false);
                compareOutputs("DequantizeLinear", List.of(q, scales("scale", channels, perAxis), zero), Map.of(),
                        Map.of("axis", 1L), Map.of(), List.of("Y"), List.of(FLOAT), 1e-6);
            }
        }
    }

    @Test
    void qLinearAddAndMulBroadcastAndRequantize() throws Exception {
        for (String op : new String[] {"QLinearAdd", "QLinearMul"}) {
            for (int type : new int[] {UINT8, INT8}) {
                List<Input> inputs = List.of(fed("A", type, 4, 33), scales("A_scale", 1), constant("A_zero_point", type),
                        fed("B", type, 33), scales("B_scale", 1), constant("B_zero_point", type),
                        scales("C_scale", 1), constant("C_zero_point", type));
                compareQuantized(op, inputs, Map.of(), Map.of(), type);
            }
        }
    }

    @Test
    void qLinearSigmoidAndLeakyRelu() throws Exception {
        for (int type : new int[] {UINT8, INT8}) {
            List<Input> inputs = List.of(fed("X", type, 256), scales("X_scale", 1), constant("X_zero_point", type),
                    scales("Y_scale", 1), constant("Y_zero_point", type));
            compareQuantized("QLinearSigmoid", inputs, Map.of(), Map.of(), type);
            compareQuantized("QLinearLeakyRelu", inputs, Map.of("alpha", 0.13f), Map.of(), type);
        }
    }

    @Test
    void qLinearConcatRequantizesEachInput() throws Exception {
        for (int type : new int[] {UINT8, INT8}) {
            List<Input> inputs = List.of(scales("Y_scale", 1), constant("Y_zero_point", type),
                    fed("X1", type, 2, 3, 5), scales("s1", 1), constant("z1", type),
                    fed("X2", type, 2, 4, 5), scales("s2", 1), constant("z2", type));
            compareQuantized("QLinearConcat", inputs, Map.of(), Map.of("axis", 1L), type);
        }
    }

    @Test
    void qLinearGlobalAveragePoolInBothLayouts() throws Exception {
        for (int type : new int[] {UINT8, INT8}) {
            for (long channelsLast : new long[] {0, 1}) {
                List<Input> inputs = List.of(fed("X", type, 2, 6, 7, 5), scales("x_scale", 1), constant("x_zero_point", type),
                        scales("y_scale", 1), constant("y_zero_point", type));
                compareQuantized("QLinearGlobalAveragePool", inputs, Map.of(), Map.of("channels_last", channelsLast), type);
            }
        }
    }

    @Test
    void qLinearAveragePoolWithPaddingStridesAndBothLayouts() throws Exception {
        for (int type : new int[] {UINT8, INT8}) {
            for (long countPad : new long[] {0, 1}) {
                for (long channelsLast : new long[] {0, 1}) {
                    long[] dims = channelsLast == 0 ? new long[] {2, 3, 9, 10} : new long[] {2, 9, 10, 3};
                    List<Input> inputs = List.of(fed("X", type, dims), scales("x_scale", 1), constant("x_zero_point", type),
                            scales("y_scale", 1), constant("y_zero_point", type));
                    compareQuantized("QLinearAveragePool", inputs, Map.of(),
                            Map.of("count_include_pad", countPad, "channels_last", channelsLast, "ceil_mode", countPad),
                            Map.of("kernel_shape", new long[] {3, 2}, "strides", new long[] {2, 1},
                                    "pads", new long[] {1, 0, 1, 1}), type);
                }
            }
            // count_include_pad left to its default, 0.
            List<Input> oneDimension = List.of(fed("X", type, 1, 4, 17), scales("x_scale", 1),
                    constant("x_zero_point", type), scales("y_scale", 1), constant("y_zero_point", type));
            compareQuantized("QLinearAveragePool", oneDimension, Map.of(), Map.of(),
                    Map.of("kernel_shape", new long[] {4}, "strides", new long[] {3}, "pads", new long[] {2, 1}), type);
        }
    }

    @Test
    void qLinearSoftmaxOverTheLastAxisAndOverTrailingAxesBeforeOpset13() throws Exception {
        for (int type : new int[] {UINT8, INT8}) {
            List<Input> inputs = List.of(fed("X", type, 3, 4, 37), scales("X_scale", 1), constant("x_zero_point", type),
                    new Input("y_scale", FLOAT, new long[0], bytes(new float[] {1f / 256}), false),
                    new Input("y_zero_point", type, new long[0], new byte[] {(byte) (type == UINT8 ? 0 : -128)}, false));
            compareQuantized("QLinearSoftmax", inputs, Map.of(), Map.of("opset", 13L, "axis", -1L), type);
            compareQuantized("QLinearSoftmax", inputs, Map.of(), Map.of("opset", 13L, "axis", 1L), type);
            compareQuantized("QLinearSoftmax", inputs, Map.of(), Map.of("opset", 12L, "axis", 1L), type);
        }
    }

    @Test
    void qLinearWhereRequantizesEitherSideIntoZ() throws Exception {
        byte[] condition = new byte[5 * 6];
        for (int i = 0; i < condition.length; i++) {
            condition[i] = (byte) random.nextInt(2);
        }
        for (int type : new int[] {UINT8, INT8}) {
            List<Input> inputs = List.of(new Input("condition", BOOL, new long[] {5, 6}, condition, false),
                    fed("X", type, 4, 5, 6), scales("x_scale", 1), constant("x_zero_point", type),
                    fed("X2", type, 6), scales("x2_scale", 1), constant("x2_zero_point", type),
                    scales("z_scale", 1), constant("z_zero_point", type));
            compareQuantized("QLinearWhere", inputs, Map.of(), Map.of(), type);
        }
    }

    /**
     * ONNX Runtime has no CPU kernel for QLinearReduceMean, so Quanta's is compared with what its
     * schema defines it as, run by ONNX Runtime: DequantizeLinear, ReduceMean, QuantizeLinear.
     */
    @Test
    void qLinearReduceMeanEqualsItsDefinitionOverAxesKeptOrDropped() throws Exception {
        for (int type : new int[] {UINT8, INT8}) {
            for (long keep : new long[] {0, 1}) {
                List<Input> inputs = List.of(fed("data", type, 3, 5, 7, 2), scales("data_scale", 1),
                        constant("data_zero_point", type), scales("reduced_scale", 1), constant("reduced_zero_point", type));
                long[] axes = {1, -2};
                byte[] model = model("QLinearReduceMean", inputs, Map.of(), Map.of("keepdims", keep), Map.of("axes", axes), type);
                Onnx.NodeProto.Builder mean = node("ReduceMean", "", "mean", "real")
                        .addAttribute(Onnx.AttributeProto.newBuilder().setName("axes")
                                .setType(Onnx.AttributeProto.AttributeType.INTS).addInts(axes[0]).addInts(axes[1]))
                        .addAttribute(integer("keepdims", keep));
                byte[] definition = model("definition", List.of(
                        node("DequantizeLinear", "", "real", "data", "data_scale", "data_zero_point"), mean,
                        node("QuantizeLinear", "", "Y", "mean", "reduced_scale", "reduced_zero_point")), inputs, type);
                compareQuantized("QLinearReduceMean", model, definition, inputs, type);
            }
        }
    }

    @Test
    void qGemmToFloatAndRequantizedWithTransposedBAndInt32Bias() throws Exception {
        List<Input> common = List.of(fed("A", UINT8, 6, 29), scales("a_scale", 1), constant("a_zero_point", UINT8),
                weights("B", 11, 29), scales("b_scale", 11, 11), constant("b_zero_point", INT8, 11), ints("C", 11, 11));
        compareFloats("QGemm", common, Map.of("alpha", 0.75f), Map.of("transB", 1L), 1e-5);
        List<Input> quantized = new java.util.ArrayList<>(common);
        quantized.add(new Input("y_scale", FLOAT, new long[0], bytes(new float[] {20f}), false));
        quantized.add(constant("y_zero_point", UINT8));
        compareQuantized("QGemm", quantized, Map.of(), Map.of("transB", 1L), UINT8);
    }

    @Test
    void qLinearConvGroupedStridedWithPerChannelScalesAndBias() throws Exception {
        // x and y of one type: ONNX Runtime implements uint8 → uint8 and int8 → int8.
        for (int type : new int[] {UINT8, INT8}) {
            for (int scales : new int[] {1, 6}) {
                List<Input> inputs = List.of(fed("x", type, 2, 8, 11, 9), scales("x_scale", 1),
                        constant("x_zero_point", type), weights("w", 6, 4, 3, 3), scales("w_scale", scales, scales),
                        new Input("w_zero_point", INT8, new long[] {scales}, new byte[scales], false),
                        new Input("y_scale", FLOAT, new long[0], bytes(new float[] {0.3f}), false),
                        constant("y_zero_point", type), ints("B", 6, 6));
                compareQuantized("QLinearConv", inputs, Map.of(), Map.of("group", 2L), type);
            }
        }
    }

    /** The ONNX ops a QOperator model leaves between its quantized layers run on the int8 or uint8 bytes themselves. */
    @Test
    void opsBetweenQuantizedLayersTakeTheirBytes() throws Exception {
        for (int type : new int[] {UINT8, INT8}) {
            Input x = fed("X", type, 1, 3, 7, 8);
            compareQuantized("MaxPool", List.of(x), Map.of(), Map.of("ceil_mode", 1L),
                    Map.of("kernel_shape", new long[] {3, 3}, "strides", new long[] {2, 2}, "pads", new long[] {1, 1, 1, 1}), type);
            compareQuantized("Pad", List.of(x, new Input("pads", Onnx.TensorProto.DataType.INT64_VALUE, new long[] {8},
                    longBytes(0, 0, 1, 2, 0, 0, 2, 1), false), constant("value", type)), Map.of(), Map.of(), type);
            for (String mode : new String[] {"nearest", "linear"}) {
                Onnx.NodeProto.Builder resize = node("Resize", "", "Y", "X", "", "scales").addAttribute(
                        text("mode", mode));
                List<Input> inputs = List.of(x, new Input("scales", FLOAT, new long[] {4}, bytes(new float[] {1, 1, 2, 1.5f}),
                        false));
                compareQuantized("Resize " + mode, model("resize", List.of(resize), inputs, type),
                        model("resize", List.of(resize), inputs, type), inputs, type);
            }
            compareQuantized("Transpose", List.of(x), Map.of(), Map.of(), Map.of("perm", new long[] {0, 2, 3, 1}), type);
            compareQuantized("DepthToSpace", List.of(fed("X", type, 1, 8, 3, 2)), Map.of(), Map.of("blocksize", 2L), type);
        }
    }

    // ---------------------------------------------------------------- ONNX Runtime's transformer ops

    @Test
    void geluFamilyMatchesOnnxRuntime() throws Exception {
        Input x = gaussian("X", 3, 3, 40).asFed();
        Input bias = gaussian("bias", 1, 40);
        compareFloats("Gelu", List.of(x), Map.of(), Map.of(), 1e-5);
        compareFloats("BiasGelu", List.of(x, bias), Map.of(), Map.of(), 1e-5);
        compareFloats("FastGelu", List.of(x), Map.of(), Map.of(), 1e-5);
        compareFloats("FastGelu", List.of(x, bias), Map.of(), Map.of(), 1e-5);
        compareFloats("QuickGelu", List.of(x), Map.of(), Map.of(), 1e-5);
        compareFloats("QuickGelu", List.of(x), Map.of("alpha", 1.1f), Map.of(), 1e-5);
    }

    /**
     * Linear layers as PyTorch exports them, against ONNX Runtime: Gemm with transB over constant
     * weights and bias then LeakyRelu, and MatMul then Add of a constant bias then Tanh, which Quanta
     * fuses into one LinearLayer each, at the few-row kernel's four rows, a single row, and the
     * GEMM's many.
     */
    @Test
    void linearLayersOfConstantWeightsMatchOnnxRuntime() throws Exception {
        for (int rows : new int[] {1, 4, 130}) {
            List<Input> gemm = List.of(gaussian("A", 1, rows, 37).asFed(), gaussian("B", 0.3, 45, 37), gaussian("C", 1, 45));
            Onnx.NodeProto.Builder product = node("Gemm", "", "G", "A", "B", "C").addAttribute(integer("transB", 1));
            Onnx.NodeProto.Builder leaky = node("LeakyRelu", "", "Y", "G").addAttribute(real("alpha", 0.05f));
            compareOutputs("Gemm, LeakyRelu, " + rows + " rows", model("linear", List.of(product, leaky), gemm, FLOAT), gemm,
                    List.of("Y"), List.of(FLOAT), 1e-5);
            List<Input> matMul = List.of(gaussian("A", 1, 2, rows, 37).asFed(), gaussian("B", 0.3, 37, 45), gaussian("C", 1, 45));
            List<Onnx.NodeProto.Builder> nodes = List.of(node("MatMul", "", "P", "A", "B"), node("Add", "", "S", "C", "P"),
                    node("Tanh", "", "Y", "S"));
            compareOutputs("MatMul, Add, Tanh, " + rows + " rows", model("linear", nodes, matMul, FLOAT), matMul, List.of("Y"),
                    List.of(FLOAT), 1e-5);
        }
    }

    @Test
    void fusedConvGemmAndMatMulWithEveryActivation() throws Exception {
        Map<String, float[]> activations = new java.util.LinkedHashMap<>();
        activations.put("Relu", new float[0]);
        activations.put("Tanh", new float[0]);
        activations.put("Sigmoid", new float[0]);
        activations.put("LeakyRelu", new float[] {0.3f});
        activations.put("Clip", new float[] {-0.5f, 0.75f});
        activations.put("HardSigmoid", new float[] {0.4f, 0.3f});
        List<Input> conv = List.of(gaussian("X", 1, 1, 3, 7, 6).asFed(), gaussian("W", 0.5, 4, 3, 3, 3), gaussian("B", 1, 4),
                gaussian("Z", 1, 1, 4, 7, 6).asFed());
        for (Map.Entry<String, float[]> activation : activations.entrySet()) {
            Onnx.NodeProto.Builder node = node("FusedConv", "com.microsoft", "Y", "X", "W", "B", "Z")
                    .addAttribute(text("activation", activation.getKey()))
                    .addAttribute(Onnx.AttributeProto.newBuilder().setName("activation_params")
                            .setType(Onnx.AttributeProto.AttributeType.FLOATS).addAllFloats(floatList(activation.getValue())))
                    .addAttribute(Onnx.AttributeProto.newBuilder().setName("pads")
                            .setType(Onnx.AttributeProto.AttributeType.INTS).addAllInts(List.of(1L, 1L, 1L, 1L)));
            compareOutputs("FusedConv " + activation.getKey(), model("fused_conv", List.of(node), conv, FLOAT), conv,
                    List.of("Y"), List.of(FLOAT), 1e-5);
        }
        List<Input> gemm = List.of(gaussian("A", 1, 5, 8).asFed(), gaussian("B", 1, 6, 8), gaussian("C", 1, 6));
        Onnx.NodeProto.Builder fusedGemm = node("FusedGemm", "com.microsoft", "Y", "A", "B", "C")
                .addAttribute(text("activation", "LeakyRelu"))
                .addAttribute(real("activation_alpha", 0.2f))
                .addAttribute(integer("transB", 1))
                .addAttribute(real("alpha", 0.5f));
        compareOutputs("FusedGemm", model("fused_gemm", List.of(fusedGemm), gemm, FLOAT), gemm, List.of("Y"), List.of(FLOAT), 1e-5);
        List<Input> product = List.of(gaussian("A", 1, 2, 8, 5).asFed(), gaussian("B", 1, 2, 6, 8).asFed());
        compareFloats("FusedMatMul", product, Map.of("alpha", 0.125f), Map.of("transA", 1L, "transB", 1L), 1e-5);
    }

    @Test
    void simplifiedLayerNormalizationInOnnxsDomain() throws Exception {
        List<Input> inputs = List.of(gaussian("X", 2, 3, 4, 24).asFed(), gaussian("scale", 1, 24));
        compareFloats("SimplifiedLayerNormalization", inputs, Map.of(), Map.of(), 1e-5);
        compareFloats("SimplifiedLayerNormalization", inputs, Map.of("epsilon", 0.5f), Map.of("axis", -1L), 1e-5);
    }

    /** Every bit width ONNX Runtime takes, K not a multiple of the block, zero points packed, as floats or absent. */
    @Test
    void matMulNBitsOfEachWidthAndZeroPointForm() throws Exception {
        int k = 40, n = 9, blockSize = 16, blocks = 3;
        for (int bits : new int[] {2, 4, 8}) {
            int blob = blockSize * bits / 8;
            Input b = constant("B", UINT8, n, blocks, blob);
            Input scales = gaussian("scales", 0.05, n, blocks);
            List<Input> zeroPoints = List.of(ABSENT, constant("zero_points", UINT8, n, Math.ceilDiv(blocks * bits, 8)),
                    gaussian("zero_points", 2, n, blocks));
            for (Input zeroPoint : zeroPoints) {
                if (bits == 8 && zeroPoint.type() == FLOAT && !zeroPoint.name().isEmpty()) {
                    continue; // ONNX Runtime's CPU kernel computes float zero points for 2 and 4 bits only
                }
                List<Input> inputs = List.of(gaussian("A", 1, 2, 3, k).asFed(), b, scales, zeroPoint, ABSENT,
                        gaussian("bias", 1, n));
                compareFloats("MatMulNBits", inputs, Map.of(), Map.of("K", (long) k, "N", (long) n, "bits", (long) bits,
                        "block_size", (long) blockSize), 1e-5);
            }
        }
    }

    /** Rows of tiny variance too, where the default epsilon (1e-12, not ONNX's 1e-5) shows. */
    @Test
    void skipLayerNormalizationsWithBiasBroadcastSkipsAndTheirSum() throws Exception {
        for (double spread : new double[] {3, 1e-3}) {
            for (long[] skipDims : new long[][] {{2, 5, 32}, {5, 32}}) {
                Input input = gaussian("input", spread, 2, 5, 32).asFed();
                Input skip = gaussian("skip", spread, skipDims).asFed();
                Input gamma = gaussian("gamma", 1, 32);
                Input bias = gaussian("bias", spread, 32);
                List<String> outputs = List.of("Y", "", "", "S");
                List<Integer> types = List.of(FLOAT, FLOAT, FLOAT, FLOAT);
                compareOutputs("SkipLayerNormalization", List.of(input, skip, gamma, gaussian("beta", 1, 32), bias),
                        Map.of(), Map.of(), Map.of(), outputs, types, 1e-5);
                compareOutputs("SkipSimplifiedLayerNormalization", List.of(input, skip, gamma, bias), Map.of(), Map.of(),
                        Map.of(), outputs, types, 1e-5);
            }
        }
        Input input = gaussian("input", 3, 2, 5, 32).asFed();
        compareOutputs("SkipLayerNormalization", List.of(input, gaussian("skip", 3, 2, 5, 32).asFed(), gaussian("gamma", 1, 32)),
                Map.of("epsilon", 0.25f), Map.of(), Map.of(), List.of("Y"), List.of(FLOAT), 1e-5);
    }

    @Test
    void embedLayerNormalizationWithSegmentsMaskAndPositionIds() throws Exception {
        int length = 7, vocabulary = 20;
        List<Input> tokens = tokens(length, vocabulary);
        Input ids = tokens.get(0), segments = tokens.get(1), mask = tokens.get(2);
        List<Input> inputs = List.of(ids, segments, gaussian("word", 1, vocabulary, 16), gaussian("position", 1, 10, 16),
                gaussian("segment", 1, 2, 16), gaussian("gamma", 1, 16), gaussian("beta", 1, 16), mask);
        compareOutputs("EmbedLayerNormalization", inputs, Map.of(), Map.of(), Map.of(), List.of("Y", "mask_index", "sum"),
                List.of(FLOAT, INT32, FLOAT), 1e-5);
        Input positions = intsFed("position_ids", new int[] {9, 0, 3, 3, 1, 8, 2}, 1, length);
        List<Input> plain = List.of(ids, ABSENT, gaussian("word", 1, vocabulary, 16), gaussian("position", 1, 10, 16),
                ABSENT, gaussian("gamma", 1, 16), gaussian("beta", 1, 16), ABSENT, positions);
        compareOutputs("EmbedLayerNormalization", plain, Map.of("epsilon", 1e-3f), Map.of(), Map.of(),
                List.of("Y", "mask_index"), List.of(FLOAT, INT32), 1e-5);
    }

    /** What ONNX Runtime's dynamic quantizer makes of EmbedLayerNormalization: its tables in 8 bits. */
    @Test
    void quantizedEmbedLayerNormalizationWithAndWithoutSegments() throws Exception {
        int vocabulary = 20;
        List<Input> tokens = tokens(7, vocabulary);
        Input ids = tokens.get(0), segments = tokens.get(1), mask = tokens.get(2);
        for (int type : new int[] {UINT8, INT8}) {
            List<Input> tables = List.of(constant("word", type, vocabulary, 16), constant("position", type, 10, 16),
                    constant("segment", type, 2, 16), constant("gamma", type, 16), constant("beta", type, 16));
            List<Input> inputs = new java.util.ArrayList<>(List.of(ids, segments));
            inputs.addAll(tables);
            inputs.add(mask);
            for (Input table : tables) {
                inputs.add(scales(table.name() + "_scale", 1));
            }
            for (Input table : tables) {
                inputs.add(constant(table.name() + "_zero_point", type));
            }
            compareOutputs("QEmbedLayerNormalization", inputs, Map.of(), Map.of(), Map.of(), List.of("Y", "mask_index"),
                    List.of(FLOAT, INT32), 1e-5);
            List<Input> noSegments = new java.util.ArrayList<>(inputs);
            for (int i : new int[] {1, 4, 10, 15}) {
                noSegments.set(i, ABSENT);
            }
            compareOutputs("QEmbedLayerNormalization", noSegments, Map.of("epsilon", 1e-3f), Map.of(), Map.of(),
                    List.of("Y", "mask_index"), List.of(FLOAT, INT32), 1e-5);
        }
    }

    /** Two sequences of this length: random input_ids and segment_ids, and a mask with the second's last 3 off. */
    private List<Input> tokens(int length, int vocabulary) {
        int[] mask = new int[2 * length];
        java.util.Arrays.fill(mask, 0, 2 * length - 3, 1);
        return List.of(intsFed("input_ids", random.ints(2 * length, 0, vocabulary).toArray(), 2, length),
                intsFed("segment_ids", random.ints(2 * length, 0, 2).toArray(), 2, length), intsFed("mask", mask, 2, length));
    }

    /** Every form of mask_index ONNX Runtime's CPU kernel takes, causal or not, with an attention bias and a narrower v. */
    @Test
    void attentionOverEveryMaskFormWithBiasScaleAndUnequalHeads() throws Exception {
        int batch = 2, length = 6;
        int[] raw2d = {1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0};
        int[] raw3d = random.ints(batch * length * length, 0, 2).toArray();
        raw3d[0] = 1;
        List<Input> masks = List.of(ABSENT, intsFed("mask_index", new int[] {6, 3}, batch),
                intsFed("mask_index", new int[] {6, 4, 0, 1}, 2 * batch), intsFed("mask_index", raw2d, batch, length),
                intsFed("mask_index", raw3d, batch, length, length));
        Input input = gaussian("input", 1, batch, length, 16).asFed();
        for (Input mask : masks) {
            for (long unidirectional : new long[] {0, 1}) {
                List<Input> inputs = List.of(input, gaussian("weights", 0.5, 16, 48), gaussian("bias", 0.5, 48), mask);
                compareFloats("Attention", inputs, Map.of(), Map.of("num_heads", 2L, "unidirectional", unidirectional), 1e-5);
            }
        }
        List<Input> unequal = List.of(input, gaussian("weights", 0.5, 16, 40), gaussian("bias", 0.5, 40), masks.get(1),
                ABSENT, gaussian("attention_bias", 1, 1, 2, length, length).asFed());
        compareOutputs("Attention", unequal, Map.of("scale", 0.3f, "mask_filter_value", -1.5f), Map.of("num_heads", 2L),
                Map.of("qkv_hidden_sizes", new long[] {16, 16, 8}), List.of("Y"), List.of(FLOAT), 1e-5);
    }

    /**
     * One BERT layer as ONNX Runtime's transformer optimizer fuses it (EmbedLayerNormalization's
     * mask_index into Attention, SkipLayerNormalization, FastGelu), and as its dynamic quantizer then
     * writes the embeddings and the attention (QEmbedLayerNormalization, DynamicQuantizeLinear into
     * QAttention): Quanta against ONNX Runtime.
     */
    @Test
    void aFusedBertLayerFloatAndDynamicallyQuantized() throws Exception {
        int batch = 2, length = 9, hidden = 32;
        int[] mask = new int[batch * length];
        java.util.Arrays.fill(mask, 0, length + 5, 1);
        List<Input> inputs = List.of(intsFed("ids", random.ints(batch * length, 0, 30).toArray(), batch, length),
                intsFed("segments", random.ints(batch * length, 0, 2).toArray(), batch, length),
                intsFed("mask", mask, batch, length), gaussian("word", 1, 30, hidden), gaussian("position", 1, 16, hidden),
                gaussian("segment", 1, 2, hidden), gaussian("gamma", 1, hidden), gaussian("beta", 1, hidden),
                gaussian("qkv", 0.2, hidden, 3 * hidden), gaussian("qkv_bias", 0.2, 3 * hidden),
                weights("qkv_int8", hidden, 3 * hidden), scales("qkv_scale", 1), gaussian("out", 0.2, hidden, hidden),
                gaussian("out_bias", 0.2, hidden), gaussian("up", 0.2, hidden, 4 * hidden),
                gaussian("up_bias", 0.2, 4 * hidden), gaussian("down", 0.2, 4 * hidden, hidden),
                gaussian("down_bias", 0.2, hidden));
        // The quantized layer's embedding tables in uint8, as the dynamic quantizer writes QEmbedLayerNormalization.
        List<Input> tables = List.of(constant("word8", UINT8, 30, hidden), constant("position8", UINT8, 16, hidden),
                constant("segment8", UINT8, 2, hidden), constant("gamma8", UINT8, hidden), constant("beta8", UINT8, hidden));
        List<Input> quantizedInputs = new java.util.ArrayList<>(inputs);
        quantizedInputs.addAll(tables);
        for (Input table : tables) {
            quantizedInputs.add(scales(table.name() + "_scale", 1));
            quantizedInputs.add(constant(table.name() + "_zero", UINT8));
        }
        for (boolean quantized : new boolean[] {false, true}) {
            List<Onnx.NodeProto.Builder> nodes = new java.util.ArrayList<>();
            if (quantized) {
                nodes.add(node("QEmbedLayerNormalization", "com.microsoft", "embedded", "ids", "segments", "word8", "position8",
                        "segment8", "gamma8", "beta8", "mask", "word8_scale", "position8_scale", "segment8_scale",
                        "gamma8_scale", "beta8_scale", "word8_zero", "position8_zero", "segment8_zero", "gamma8_zero",
                        "beta8_zero").addOutput("mask_index"));
            } else {
                nodes.add(node("EmbedLayerNormalization", "com.microsoft", "embedded", "ids", "segments", "word", "position",
                        "segment", "gamma", "beta", "mask").addOutput("mask_index"));
            }
            if (quantized) {
                nodes.add(node("DynamicQuantizeLinear", "", "x8", "embedded").addOutput("x_scale").addOutput("x_zero"));
                nodes.add(node("QAttention", "com.microsoft", "attended", "x8", "qkv_int8", "qkv_bias", "x_scale", "qkv_scale",
                        "mask_index", "x_zero").addAttribute(integer("num_heads", 4)));
            } else {
                nodes.add(node("Attention", "com.microsoft", "attended", "embedded", "qkv", "qkv_bias", "mask_index")
                        .addAttribute(integer("num_heads", 4)));
            }
            nodes.add(node("MatMul", "", "projected", "attended", "out"));
            nodes.add(node("SkipLayerNormalization", "com.microsoft", "normalized", "projected", "embedded", "gamma", "beta",
                    "out_bias"));
            nodes.add(node("MatMul", "", "widened", "normalized", "up"));
            nodes.add(node("FastGelu", "com.microsoft", "activated", "widened", "up_bias"));
            nodes.add(node("MatMul", "", "narrowed", "activated", "down"));
            nodes.add(node("SkipLayerNormalization", "com.microsoft", "Y", "narrowed", "normalized", "gamma", "beta",
                    "down_bias"));
            List<Input> layerInputs = quantized ? quantizedInputs : inputs;
            byte[] model = model("bert_layer", nodes, layerInputs, FLOAT);
            Tensor output = quanta("bert_layer", model, layerInputs);
            float[] expected = toFloats(onnxRuntime(model, layerInputs, output));
            float[] actual = output.toFloatArray();
            for (int i = 0; i < expected.length; i++) {
                assertThat(actual[i]).as("%s layer, output %d", quantized ? "quantized" : "float", i)
                        .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-3f));
            }
        }
    }

    /** Self and cross attention, separate with a bias or packed, over each key padding mask form, causal or not. */
    @Test
    void multiHeadAttentionSeparatePackedAndMasked() throws Exception {
        int batch = 2, length = 5, keyLength = 7;
        Input query = gaussian("query", 1, batch, length, 16).asFed();
        Input key = gaussian("key", 1, batch, keyLength, 16).asFed();
        Input value = gaussian("value", 1, batch, keyLength, 8).asFed();
        int[] raw3d = random.ints(batch * length * keyLength, 0, 2).toArray();
        List<Input> masks = List.of(ABSENT, intsFed("key_padding_mask", new int[] {7, 4}, batch),
                intsFed("key_padding_mask", random.ints(batch * keyLength, 0, 2).toArray(), batch, keyLength),
                intsFed("key_padding_mask", raw3d, batch, length, keyLength));
        for (Input mask : masks) {
            compareFloats("MultiHeadAttention", List.of(query, key, value, gaussian("bias", 0.5, 40), mask,
                    gaussian("attention_bias", 1, 1, 2, length, keyLength).asFed()), Map.of(), Map.of("num_heads", 2L), 1e-5);
        }
        // Causal with more keys than queries and no past state: refused when it runs.
        List<Input> crossCausal = List.of(query, key, value);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> quanta("MultiHeadAttention", model("MultiHeadAttention",
                crossCausal, Map.of(), Map.of("num_heads", 2L, "unidirectional", 1L), Map.of(), FLOAT), crossCausal))
                .hasMessageContaining("MultiHeadAttention").hasMessageContaining("5 queries to 7 keys");
        // Keys of another batch than the queries', refused when it runs.
        List<Input> otherBatch = List.of(gaussian("query", 1, 1, length, 16).asFed(), key, value);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> quanta("MultiHeadAttention", model("MultiHeadAttention",
                otherBatch, Map.of(), Map.of("num_heads", 2L), Map.of(), FLOAT), otherBatch))
                .hasMessageContaining("MultiHeadAttention").hasMessageContaining("of one batch");
        Input self = gaussian("self", 1, batch, length, 16).asFed();
        compareFloats("MultiHeadAttention", List.of(query, self, self, ABSENT, intsFed("key_padding_mask", new int[] {5, 3}, batch)),
                Map.of("scale", 0.2f), Map.of("num_heads", 4L, "unidirectional", 1L), 1e-5);
        // ONNX Runtime's CPU kernel takes no packed q, k and v: it runs them unpacked by Split, Squeeze and Reshape.
        Input qkv = gaussian("qkv", 1, batch, length, 2, 3, 8).asFed();
        Input kv = gaussian("kv", 1, batch, keyLength, 2, 2, 8).asFed();
        List<Input> constants = List.of(new Input("axis3", Onnx.TensorProto.DataType.INT64_VALUE, new long[] {1}, longBytes(3),
                false), new Input("merged", Onnx.TensorProto.DataType.INT64_VALUE, new long[] {3}, longBytes(0, 0, -1), false));
        List<Onnx.NodeProto.Builder> unpacking = new java.util.ArrayList<>();
        for (String packed : new String[] {"qkv", "kv"}) {
            List<String> parts = packed.equals("qkv") ? List.of("q", "k", "v") : List.of("k2", "v2");
            Onnx.NodeProto.Builder split = node("Split", "", parts.get(0) + "_5d", packed)
                    .addAttribute(integer("axis", 3));
            parts.stream().skip(1).forEach(part -> split.addOutput(part + "_5d"));
            unpacking.add(split);
            for (String part : parts) {
                unpacking.add(node("Squeeze", "", part + "_4d", part + "_5d", "axis3"));
                unpacking.add(node("Reshape", "", part, part + "_4d", "merged"));
            }
        }
        Onnx.AttributeProto heads = integer("num_heads", 2);
        Onnx.AttributeProto causal = integer("unidirectional", 1);
        List<Input> packedInputs = new java.util.ArrayList<>(List.of(qkv));
        packedInputs.addAll(constants);
        List<Onnx.NodeProto.Builder> reference = new java.util.ArrayList<>(unpacking.subList(0, 7));
        reference.add(node("MultiHeadAttention", "com.microsoft", "Y", "q", "k", "v").addAttribute(heads).addAttribute(causal));
        compareOutputs("MultiHeadAttention of packed q, k, v",
                model("packed", List.of(node("MultiHeadAttention", "com.microsoft", "Y", "qkv").addAttribute(heads)
                        .addAttribute(causal)), packedInputs, FLOAT), model("unpacked", reference, packedInputs, FLOAT),
                packedInputs, 1e-5);
        List<Input> kvInputs = new java.util.ArrayList<>(List.of(query, kv, masks.get(1)));
        kvInputs.addAll(constants);
        reference = new java.util.ArrayList<>(unpacking.subList(7, unpacking.size()));
        reference.add(node("MultiHeadAttention", "com.microsoft", "Y", "query", "k2", "v2", "", "key_padding_mask")
                .addAttribute(heads));
        compareOutputs("MultiHeadAttention of packed k, v",
                model("packed", List.of(node("MultiHeadAttention", "com.microsoft", "Y", "query", "kv", "", "", "key_padding_mask")
                        .addAttribute(heads)), kvInputs, FLOAT), model("unpacked", reference, kvInputs, FLOAT), kvInputs, 1e-5);
    }

    @Test
    void attentionRefusesWhatItDoesNotImplementAtLoadAndMisshapenMasksAtRun() throws Exception {
        Input input = gaussian("input", 1, 2, 6, 16).asFed();
        List<Input> plain = List.of(input, gaussian("weights", 0.5, 16, 48), gaussian("bias", 0.5, 48));
        List<Input> withPast = List.of(input, gaussian("weights", 0.5, 16, 48), gaussian("bias", 0.5, 48), ABSENT,
                gaussian("past", 1, 2, 2, 2, 3, 8).asFed());
        Map<String, byte[]> refused = new java.util.LinkedHashMap<>();
        refused.put("past key/value state", model("Attention", withPast, Map.of(), Map.of("num_heads", 2L), Map.of(), FLOAT));
        refused.put("rotary", model("Attention", plain, Map.of(), Map.of("num_heads", 2L, "do_rotary", 1L), Map.of(), FLOAT));
        refused.put("num_heads 5", model("Attention", plain, Map.of(), Map.of("num_heads", 5L), Map.of(), FLOAT));
        refused.put("present key/value state output", model("Attention", plain, Map.of(), Map.of("num_heads", 2L), Map.of(),
                List.of("Y", "present"), List.of(FLOAT, FLOAT)));
        for (Map.Entry<String, byte[]> model : refused.entrySet()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> OnnxModel.load(model.getValue(), "attention").close())
                    .as(model.getKey()).hasMessageContaining("com.microsoft.Attention").hasMessageContaining(model.getKey());
        }
        List<Input> misshapen = List.of(input, gaussian("weights", 0.5, 16, 48), gaussian("bias", 0.5, 48),
                intsFed("mask_index", new int[] {1, 2, 3}, 3));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> quanta("Attention",
                model("Attention", misshapen, Map.of(), Map.of("num_heads", 2L), Map.of(), FLOAT), misshapen))
                .hasMessageContaining("Attention").hasMessageContaining("mask_index [3]");
    }

    @Test
    void qAttentionWithPerTensorAndPerColumnWeightScales() throws Exception {
        int batch = 2, length = 6;
        for (int scales : new int[] {1, 48}) {
            long[] perColumn = scales == 1 ? new long[0] : new long[] {48};
            List<Input> inputs = List.of(fed("input", UINT8, batch, length, 16), weights("weight", 16, 48),
                    gaussian("bias", 0.5, 48), scales("input_scale", 1), scales("weight_scale", scales, perColumn),
                    intsFed("mask_index", new int[] {4, 6}, batch), constant("input_zero_point", UINT8),
                    constant("weight_zero_point", INT8));
            compareFloats("QAttention", inputs, Map.of(), Map.of("num_heads", 4L), 1e-5);
        }
    }

    // ---------------------------------------------------------------- random cases

    @Test
    void randomMatMulIntegerCasesEqualOnnxRuntimeExactly() throws Exception {
        for (int trial = 0; trial < 30; trial++) {
            int aType = random.nextBoolean() ? UINT8 : INT8;
            int bType = random.nextBoolean() ? UINT8 : INT8;
            long m = pick(1, 2, 5, 33);
            long k = pick(1, 7, 64, 300);
            long n = pick(1, 3, 32, 65);
            long[] aDims = random.nextInt(3) == 0 ? new long[] {2, m, k} : new long[] {m, k};
            long[] bDims = aDims.length == 3 && random.nextBoolean() ? new long[] {2, k, n} : new long[] {k, n};
            List<Input> inputs = new java.util.ArrayList<>(List.of(fed("A", aType, aDims), matrix("B", bType, bDims)));
            if (random.nextBoolean()) {
                // One zero point for A (ONNX Runtime takes no other); B's one or one per column.
                long[] columns = bDims.length == 2 && random.nextBoolean() ? new long[] {n} : new long[0];
                inputs.add(constant("a_zero_point", aType));
                inputs.add(constant("b_zero_point", bType, columns));
            }
            compareInts("MatMulInteger", inputs, "trial " + trial + ": " + describe(inputs));
        }
    }

    @Test
    void randomQLinearMatMulCasesMatchOnnxRuntime() throws Exception {
        for (int trial = 0; trial < 30; trial++) {
            int aType = random.nextBoolean() ? UINT8 : INT8;
            // ONNX Runtime has no int8 A with a uint8 B; y takes A's type.
            int bType = aType == INT8 || random.nextBoolean() ? INT8 : UINT8;
            long m = pick(1, 2, 5, 33);
            long k = pick(1, 7, 64, 300);
            long n = pick(1, 3, 32, 65);
            long[] aDims = random.nextInt(3) == 0 ? new long[] {2, m, k} : new long[] {m, k};
            int scales = random.nextBoolean() ? (int) n : 1;
            long[] perColumn = scales == 1 ? new long[0] : new long[] {n};
            List<Input> inputs = List.of(fed("A", aType, aDims), scales("a_scale", 1), constant("a_zero_point", aType),
                    matrix("B", bType, k, n), scales("b_scale", scales, perColumn),
                    bType == INT8 ? new Input("b_zero_point", INT8, perColumn, new byte[scales], false)
                            : constant("b_zero_point", UINT8, perColumn),
                    new Input("y_scale", FLOAT, new long[0], bytes(new float[] {0.05f + random.nextFloat()}), false),
                    constant("y_zero_point", aType));
            compareQuantized("QLinearMatMul", inputs, Map.of(), Map.of(), Map.of(), aType);
        }
    }

    @Test
    void randomQLinearConvCasesMatchOnnxRuntime() throws Exception {
        for (int trial = 0; trial < 30; trial++) {
            int type = random.nextBoolean() ? UINT8 : INT8;
            int group = random.nextInt(4) == 0 ? 2 : 1;
            long channels = group * (1 + random.nextInt(6));
            long filters = group * (1 + random.nextInt(8));
            long[] kernel = {1 + random.nextInt(3), 1 + random.nextInt(3)};
            long[] strides = {1 + random.nextInt(2), 1 + random.nextInt(2)};
            long[] dilations = {1 + random.nextInt(2), 1 + random.nextInt(2)};
            long[] pads = new long[4];
            for (int i = 0; i < 4; i++) {
                pads[i] = random.nextInt((int) Math.min(3, kernel[i % 2] * dilations[i % 2]));
            }
            long size = kernel[0] * dilations[0] + kernel[1] * dilations[1] + random.nextInt(14);
            int scales = random.nextBoolean() ? (int) filters : 1;
            long[] perFilter = scales == 1 ? new long[0] : new long[] {filters};
            List<Input> inputs = new java.util.ArrayList<>(List.of(fed("x", type, 1 + random.nextInt(2), channels, size, size + 3),
                    scales("x_scale", 1), constant("x_zero_point", type), matrix("w", INT8, filters, channels / group,
                            kernel[0], kernel[1]), scales("w_scale", scales, perFilter),
                    new Input("w_zero_point", INT8, perFilter, new byte[scales], false),
                    new Input("y_scale", FLOAT, new long[0], bytes(new float[] {0.1f + random.nextFloat()}), false),
                    constant("y_zero_point", type)));
            if (random.nextBoolean()) {
                inputs.add(ints("B", (int) filters, filters));
            }
            compareQuantized("QLinearConv", inputs, Map.of(), Map.of("group", (long) group),
                    Map.of("kernel_shape", kernel, "strides", strides, "dilations", dilations, "pads", pads), type);
        }
    }

    /**
     * ONNX's RNN, GRU and LSTM against ONNX Runtime on random weights and inputs: every direction
     * and layout, with and without biases, sequence lengths (0 among them), initial states and
     * peepholes, clipped, with activations that take alphas and betas, GRU's two reset orders and
     * LSTM's coupled forget gate; batches of fewer rows than the GEMM packs for and of more, and a
     * hidden size large enough for a step's product to be split across threads. Y, Y_h and Y_c.
     */
    @Test
    void recurrentCellsMatchOnnxRuntime() throws Exception {
        String[] activations = {"Sigmoid", "Tanh", "Relu", "HardSigmoid", "LeakyRelu", "Affine", "ScaledTanh", "Elu",
            "Softsign", "Softplus", "ThresholdedRelu"};
        String[] directions = {"forward", "reverse", "bidirectional"};
        for (String op : new String[] {"RNN", "GRU", "LSTM"}) {
            int gates = op.equals("RNN") ? 1 : op.equals("GRU") ? 3 : 4;
            for (int trial = 0; trial < 12; trial++) {
                String direction = directions[trial % 3];
                int count = direction.equals("bidirectional") ? 2 : 1;
                boolean large = trial == 11;
                long steps = large ? 5 : pick(1, 4, 7);
                long batch = large ? 8 : pick(1, 3, 5);
                long hidden = large ? 64 : pick(5, 16, 37);
                long inputSize = pick(3, 10);
                boolean batchFirst = trial % 4 == 1;
                List<Input> inputs = new java.util.ArrayList<>();
                inputs.add(gaussian("X", 1, batchFirst ? new long[] {batch, steps, inputSize} : new long[] {steps, batch, inputSize})
                        .asFed());
                Input w = gaussian("W", 0.4, count, gates * hidden, inputSize);
                inputs.add(trial == 5 ? w.asFed() : w);
                inputs.add(gaussian("R", 0.4, count, gates * hidden, hidden));
                inputs.add(trial % 3 == 2 ? ABSENT : gaussian("B", 0.5, count, 2 * gates * hidden));
                if (trial % 2 == 0) {
                    int[] lengths = new int[(int) batch];
                    for (int b = 0; b < batch; b++) {
                        lengths[b] = random.nextInt((int) steps + 1);
                    }
                    inputs.add(intsFed("sequence_lens", lengths, batch));
                } else {
                    inputs.add(ABSENT);
                }
                long[] state = batchFirst ? new long[] {batch, count, hidden} : new long[] {count, batch, hidden};
                inputs.add(trial % 4 == 3 ? ABSENT : gaussian("initial_h", 1, state));
                if (op.equals("LSTM")) {
                    inputs.add(trial % 5 == 4 ? ABSENT : gaussian("initial_c", 1, state));
                    inputs.add(trial % 2 == 1 ? gaussian("P", 0.5, count, 3 * hidden) : ABSENT);
                }
                Onnx.NodeProto.Builder node = node(op, "", "Y", inputs.stream().map(Input::name).toArray(String[]::new))
                        .addOutput("Y_h");
                if (op.equals("LSTM")) {
                    node.addOutput("Y_c");
                }
                node.addAttribute(integer("hidden_size", hidden));
                node.addAttribute(text("direction", direction));
                node.addAttribute(integer("layout", batchFirst ? 1 : 0));
                if (trial % 3 == 1) {
                    node.addAttribute(real("clip", 0.75f));
                }
                if (op.equals("GRU")) {
                    node.addAttribute(integer("linear_before_reset", trial % 2));
                }
                if (op.equals("LSTM") && trial % 4 == 2) {
                    node.addAttribute(integer("input_forget", 1));
                }
                if (trial >= 6 && !large) {
                    Onnx.AttributeProto.Builder names = Onnx.AttributeProto.newBuilder().setName("activations")
                            .setType(Onnx.AttributeProto.AttributeType.STRINGS);
                    for (int i = 0; i < count * (gates == 1 ? 1 : gates - 1); i++) {
                        names.addStrings(ByteString.copyFromUtf8(activations[random.nextInt(activations.length)]));
                    }
                    node.addAttribute(names);
                    node.addAttribute(Onnx.AttributeProto.newBuilder().setName("activation_alpha")
                            .setType(Onnx.AttributeProto.AttributeType.FLOATS).addAllFloats(List.of(0.3f, 0.6f, 0.2f, 1.1f)));
                    node.addAttribute(Onnx.AttributeProto.newBuilder().setName("activation_beta")
                            .setType(Onnx.AttributeProto.AttributeType.FLOATS).addAllFloats(List.of(0.4f, 0.7f, 0.1f)));
                }
                List<String> outputs = op.equals("LSTM") ? List.of("Y", "Y_h", "Y_c") : List.of("Y", "Y_h");
                List<Integer> types = outputs.stream().map(name -> FLOAT).toList();
                byte[] model = model(op, List.of(node), inputs, outputs, types);
                compareOutputs(op + " " + node.getAttributeList(), model,
                        batchFirst ? sequenceFirst(node, outputs, inputs, types) : model, inputs, outputs, types, 1e-4);
            }
        }
    }

    /**
     * ONNX Runtime's DynamicQuantizeLSTM against ONNX Runtime: int8 weights per tensor and per gate
     * column, uint8 weights with a zero point, each direction. Batches of 1, 3 and 4 (the last with
     * full-range and with symmetric weights), which take Quanta's three integer kernels; with 260
     * hidden units ONNX Runtime quantizes each step's hidden state as one tensor (with more rows and
     * fewer units it splits the batch across its threads and quantizes each part on its own).
     */
    @Test
    void dynamicQuantizeLstmMatchesOnnxRuntime() throws Exception {
        String[] directions = {"forward", "reverse", "bidirectional"};
        for (int trial = 0; trial < 6; trial++) {
            String direction = directions[trial % 3];
            long count = direction.equals("bidirectional") ? 2 : 1;
            long batch = trial < 3 ? 1 : trial == 3 ? 3 : 4;
            long hidden = trial < 3 ? 24 : 260;
            long inputSize = 17;
            long steps = 5;
            boolean perColumn = trial % 2 == 0;
            boolean unsigned = trial == 3 || trial == 4;
            int type = unsigned ? UINT8 : INT8;
            long[] scaleShape = perColumn ? new long[] {count, 4 * hidden} : new long[] {count};
            int scales = (int) (perColumn ? count * 4 * hidden : count);
            byte[] zeros = new byte[scales];
            java.util.Arrays.fill(zeros, unsigned ? (byte) 128 : 0);
            List<Input> inputs = List.of(gaussian("X", 1, steps, batch, inputSize).asFed(),
                    constant("W", type, count, inputSize, 4 * hidden), trial == 5 ? weightsBetween("R", -127, 128, count, hidden, 4 * hidden)
                            : constant("R", type, count, hidden, 4 * hidden),
                    gaussian("B", 0.5, count, 8 * hidden), ABSENT, gaussian("initial_h", 0.5, count, batch, hidden),
                    gaussian("initial_c", 0.5, count, batch, hidden), ABSENT,
                    new Input("W_scale", FLOAT, scaleShape, bytes(smallScales(scales, hidden)), false),
                    new Input("W_zero_point", type, scaleShape, zeros, false),
                    new Input("R_scale", FLOAT, scaleShape, bytes(smallScales(scales, hidden)), false),
                    new Input("R_zero_point", type, scaleShape, zeros, false));
            Onnx.NodeProto.Builder node = node("DynamicQuantizeLSTM", "com.microsoft", "Y",
                    inputs.stream().map(Input::name).toArray(String[]::new)).addOutput("Y_h").addOutput("Y_c")
                    .addAttribute(integer("hidden_size", hidden))
                    .addAttribute(text("direction", direction));
            List<String> outputs = List.of("Y", "Y_h", "Y_c");
            List<Integer> types = List.of(FLOAT, FLOAT, FLOAT);
            compareOutputs("DynamicQuantizeLSTM " + direction + " batch " + batch + (unsigned ? " uint8" : " int8")
                    + (perColumn ? " per column" : ""), model("lstm", List.of(node), inputs, outputs, types), inputs, outputs,
                    types, 1e-4);
        }
    }

    /** Weight scales that keep products of random bytes near the gates' working range (about 1/(127·√fan-in)). */
    private float[] smallScales(int count, long fanIn) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) ((0.5 + random.nextDouble()) / (127 * Math.sqrt(fanIn)));
        }
        return values;
    }

    /**
     * MaxUnpool against ONNX Runtime, which reads the indices over the output shape given (as PyTorch
     * writes them, pooling an input of that shape), not over the shape the window implies and then
     * padded, as ONNX's test data has it (so that case fails in conformance; README).
     */
    @Test
    void maxUnpoolMatchesOnnxRuntimeWithAndWithoutAnOutputShape() throws Exception {
        Input x = new Input("X", FLOAT, new long[] {1, 1, 2, 2}, bytes(new float[] {5, 6, 7, 8}), true);
        Input indices = new Input("I", Onnx.TensorProto.DataType.INT64_VALUE, new long[] {1, 1, 2, 2}, longBytes(5, 7, 13, 15), false);
        Input shape = new Input("shape", Onnx.TensorProto.DataType.INT64_VALUE, new long[] {4}, longBytes(1, 1, 5, 5), false);
        for (List<Input> inputs : List.of(List.of(x, indices), List.of(x, indices, shape))) {
            Onnx.NodeProto.Builder node = node("MaxUnpool", "", "Y", inputs.stream().map(Input::name).toArray(String[]::new))
                    .addAttribute(ConvSideBySide.ints("kernel_shape", 2, 2)).addAttribute(ConvSideBySide.ints("strides", 2, 2));
            compareOutputs("MaxUnpool", model("unpool", List.of(node), inputs, List.of("Y"), List.of(FLOAT)), inputs,
                    List.of("Y"), List.of(FLOAT), 0);
        }
    }

    /**
     * ONNX-ML's LabelEncoder (opset 2) against ONNX Runtime: float keys (NaN, which matches nothing
     * before opset 4, and −0 among them) to int64 values with a default, and int64 keys to float
     * values with the default default.
     */
    @Test
    void labelEncoderMatchesOnnxRuntime() throws Exception {
        Input floats = new Input("X", FLOAT, new long[] {7}, bytes(new float[] {1.5f, Float.NaN, 0f, -0f, 2f, 3f, 1.5f}), true);
        Onnx.NodeProto.Builder floatKeys = node("LabelEncoder", "ai.onnx.ml", "Y", "X")
                .addAttribute(Onnx.AttributeProto.newBuilder().setName("keys_floats").setType(Onnx.AttributeProto.AttributeType.FLOATS)
                        .addAllFloats(List.of(1.5f, Float.NaN, -0f, 3f)))
                .addAttribute(ConvSideBySide.ints("values_int64s", 10, 20, 30, 40))
                .addAttribute(integer("default_int64", -7));
        compareOutputs("LabelEncoder", model("labels", List.of(floatKeys), List.of(floats), List.of("Y"), List.of(INT64)),
                List.of(floats), List.of("Y"), List.of(INT64), 0);
        Input longs = new Input("X", INT64, new long[] {5}, longBytes(4, -1, 9, 4, 0), true);
        Onnx.NodeProto.Builder longKeys = node("LabelEncoder", "ai.onnx.ml", "Y", "X")
                .addAttribute(ConvSideBySide.ints("keys_int64s", 4, 0, 7))
                .addAttribute(Onnx.AttributeProto.newBuilder().setName("values_floats").setType(Onnx.AttributeProto.AttributeType.FLOATS)
                        .addAllFloats(List.of(0.25f, -2f, 8f)));
        compareOutputs("LabelEncoder", model("labels", List.of(longKeys), List.of(longs), List.of("Y"), List.of(FLOAT)),
                List.of(longs), List.of("Y"), List.of(FLOAT), 0);
    }

    /**
     * DeformConv (opset 19) against ONNX Runtime: two groups and two offset groups, strides,
     * dilations and padding, offsets that carry taps past the border, a mask and a bias.
     */
    @Test
    void deformConvMatchesOnnxRuntime() throws Exception {
        List<Input> inputs = List.of(gaussian("X", 1, 2, 4, 7, 8).asFed(), gaussian("W", 0.5, 6, 2, 3, 2),
                gaussian("offset", 1.5, 2, 2 * 2 * 6, 4, 4).asFed(), gaussian("B", 1, 6), gaussian("mask", 1, 2, 2 * 6, 4, 4).asFed());
        Onnx.NodeProto.Builder node = node("DeformConv", "", "Y", "X", "W", "offset", "B", "mask")
                .addAttribute(integer("group", 2)).addAttribute(integer("offset_group", 2))
                .addAttribute(ConvSideBySide.ints("strides", 2, 2)).addAttribute(ConvSideBySide.ints("dilations", 1, 2))
                .addAttribute(ConvSideBySide.ints("pads", 1, 1, 1, 0));
        Onnx.ModelProto model = Onnx.ModelProto.parseFrom(model("deform", List.of(node), inputs, List.of("Y"), List.of(FLOAT)));
        byte[] opset19 = model.toBuilder().setOpsetImport(0, Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(19))
                .build().toByteArray();
        compareOutputs("DeformConv", opset19, inputs, List.of("Y"), List.of(FLOAT), 1e-5);
    }

    /** TfIdfVectorizer against ONNX Runtime in each mode, with weights, 1- to 3-grams with skips, over int32 rows. */
    @Test
    void tfIdfVectorizerMatchesOnnxRuntimeInEachMode() throws Exception {
        Input x = intsFed("X", new int[] {2, 3, 5, 4, 5, 6, 7, 8, 6, 7, 2, 3, 7, 3, 2, 5, 6, 7}, 2, 9);
        for (String mode : new String[] {"TF", "IDF", "TFIDF"}) {
            Onnx.NodeProto.Builder node = node("TfIdfVectorizer", "", "Y", "X")
                    .addAttribute(integer("min_gram_length", 1)).addAttribute(integer("max_gram_length", 3))
                    .addAttribute(integer("max_skip_count", 2)).addAttribute(text("mode", mode))
                    .addAttribute(ConvSideBySide.ints("ngram_counts", 0, 4, 10))
                    .addAttribute(ConvSideBySide.ints("ngram_indexes", 3, 0, 1, 2, 7, 5, 6, 4))
                    .addAttribute(ConvSideBySide.ints("pool_int64s", 2, 3, 5, 4, 5, 6, 7, 8, 6, 7, 2, 3, 7))
                    .addAttribute(Onnx.AttributeProto.newBuilder().setName("weights").setType(Onnx.AttributeProto.AttributeType.FLOATS)
                            .addAllFloats(List.of(0.5f, 1.5f, 2f, 0.25f, 3f, 1f, 0.75f, 4f)));
            compareOutputs("TfIdfVectorizer " + mode, model("tfidf", List.of(node), List.of(x), List.of("Y"), List.of(FLOAT)),
                    List.of(x), List.of("Y"), List.of(FLOAT), 0);
        }
    }

    /**
     * ONNX-ML's Binarizer (values at and around the threshold; ONNX Runtime refuses NaN, Quanta gives
     * it 0) and ArrayFeatureExtractor (1-D and 3-D) against ONNX Runtime.
     */
    @Test
    void binarizerAndArrayFeatureExtractorMatchOnnxRuntime() throws Exception {
        Input values = new Input("X", FLOAT, new long[] {2, 3}, bytes(new float[] {0.5f, 1f, 1.5f, 1.0000001f, -2f, 1.25f}), true);
        Onnx.NodeProto.Builder binarizer = node("Binarizer", "ai.onnx.ml", "Y", "X").addAttribute(real("threshold", 1f));
        compareOutputs("Binarizer", model("binarizer", List.of(binarizer), List.of(values), List.of("Y"), List.of(FLOAT)),
                List.of(values), List.of("Y"), List.of(FLOAT), 0);
        Input indices = new Input("I", INT64, new long[] {3}, longBytes(2, 0, 2), false);
        for (Input x : List.of(gaussian("X", 1, 5).asFed(), gaussian("X", 1, 2, 3, 4).asFed())) {
            Onnx.NodeProto.Builder extractor = node("ArrayFeatureExtractor", "ai.onnx.ml", "Y", "X", "I");
            compareOutputs("ArrayFeatureExtractor", model("extract", List.of(extractor), List.of(x, indices), List.of("Y"),
                    List.of(FLOAT)), List.of(x, indices), List.of("Y"), List.of(FLOAT), 0);
        }
    }

    /** MelWeightMatrix against ONNX Runtime: a speech front end's filters, and narrow bands that fall in one bin. */
    @Test
    void melWeightMatrixMatchesOnnxRuntime() throws Exception {
        for (float[] edges : new float[][] {{100, 7000}, {0, 400}}) {
            List<Input> inputs = List.of(new Input("bins", INT32, new long[0], intBytes(10), false),
                    new Input("length", INT32, new long[0], intBytes(64), false),
                    new Input("rate", INT32, new long[0], intBytes(16000), false),
                    new Input("lower", FLOAT, new long[0], bytes(new float[] {edges[0]}), false),
                    new Input("upper", FLOAT, new long[0], bytes(new float[] {edges[1]}), false));
            Onnx.NodeProto.Builder node = node("MelWeightMatrix", "", "Y", "bins", "length", "rate", "lower", "upper");
            compareOutputs("MelWeightMatrix", model("mel", List.of(node), inputs, List.of("Y"), List.of(FLOAT)), inputs,
                    List.of("Y"), List.of(FLOAT), 1e-6);
        }
    }

    private static byte[] intBytes(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
    }

    /**
     * ONNX-ML's TreeEnsembleRegressor against ONNX Runtime: random forests of random depth, every
     * branch mode, NaN features (some nodes send them the true way), leaves with one or two targets,
     * each aggregate function and each post transform (probit over scores within 0 … 1).
     */
    @Test
    void treeEnsembleRegressorMatchesOnnxRuntime() throws Exception {
        String[] modes = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"};
        String[][] settings = {{"SUM", "NONE", "3"}, {"AVERAGE", "LOGISTIC", "3"}, {"MIN", "SOFTMAX", "3"},
            {"MAX", "SOFTMAX_ZERO", "3"}, {"AVERAGE", "PROBIT", "3"}, {"SUM", "LOGISTIC", "1"}, {"MAX", "PROBIT", "1"}};
        for (String[] setting : settings) {
            int targets = Integer.parseInt(setting[2]);
            Forest forest = new Forest(targets);
            for (int tree = 0; tree < 8; tree++) {
                forest.grow(tree, 0, new int[] {0}, 4, modes, setting[1].equals("PROBIT"));
            }
            float[] values = new float[16 * 5];
            for (int i = 0; i < values.length; i++) {
                // Many values on the thresholds' grid, so that each mode's equality case is taken.
                values[i] = random.nextInt(8) == 0 ? Float.NaN : random.nextBoolean() ? (random.nextInt(3) - 1) * 0.5f
                        : (float) random.nextGaussian();
            }
            Input x = new Input("X", FLOAT, new long[] {16, 5}, bytes(values), true);
            Onnx.NodeProto.Builder node = node("TreeEnsembleRegressor", "ai.onnx.ml", "Y", "X")
                    .addAttribute(integer("n_targets", targets)).addAttribute(text("aggregate_function", setting[0]))
                    .addAttribute(text("post_transform", setting[1]))
                    .addAttribute(Onnx.AttributeProto.newBuilder().setName("base_values").setType(Onnx.AttributeProto.AttributeType.FLOATS)
                            .addAllFloats((setting[1].equals("PROBIT") ? List.of(0.1f, 0.2f, 0.05f) : List.of(0.5f, -1f, 0f))
                                    .subList(0, targets)));
            forest.describe(node, "target");
            compareOutputs("TreeEnsembleRegressor " + String.join(" ", setting), model("trees", List.of(node), List.of(x),
                    List.of("Y"), List.of(FLOAT)), List.of(x), List.of("Y"), List.of(FLOAT), 1e-5);
        }
    }

    /**
     * ONNX-ML's TreeEnsembleClassifier against ONNX Runtime, labels and scores: three classes with and
     * without base values; two classes weighted both, or only the second (a binary gradient-boosted
     * model's form) with positive or mixed weights, each count of base values and post transform.
     */
    @Test
    void treeEnsembleClassifierMatchesOnnxRuntime() throws Exception {
        String[] modes = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT"};
        record Case(int classes, int[] only, boolean positive, List<Float> base, String transform) {
        }
        List<Case> cases = List.of(new Case(3, null, false, List.of(), "NONE"), new Case(3, null, false, List.of(0.1f, -0.2f, 0.3f), "SOFTMAX"),
                new Case(3, null, true, List.of(), "LOGISTIC"), new Case(2, null, true, List.of(), "NONE"),
                new Case(2, new int[] {1}, true, List.of(), "NONE"), new Case(2, new int[] {1}, false, List.of(), "LOGISTIC"),
                new Case(2, new int[] {1}, false, List.of(), "NONE"),
                new Case(2, new int[] {1}, false, List.of(0.25f), "NONE"), new Case(2, new int[] {1}, true, List.of(0.1f, 0.2f), "NONE"),
                new Case(2, new int[] {0}, false, List.of(), "LOGISTIC"), new Case(2, new int[] {0}, false, List.of(), "NONE"),
                new Case(2, new int[] {0}, true, List.of(), "NONE"), new Case(2, new int[] {0}, false, List.of(0.3f), "NONE"), new Case(2, null, false, List.of(0.5f, -0.5f), "SOFTMAX"));
        for (Case c : cases) {
            Forest forest = new Forest(c.classes());
            forest.only = c.only();
            for (int tree = 0; tree < 6; tree++) {
                forest.grow(tree, 0, new int[] {0}, 3, modes, c.positive());
            }
            float[] values = new float[12 * 5];
            for (int i = 0; i < values.length; i++) {
                values[i] = random.nextInt(8) == 0 ? Float.NaN : (float) random.nextGaussian();
            }
            Input x = new Input("X", FLOAT, new long[] {12, 5}, bytes(values), true);
            Onnx.NodeProto.Builder node = node("TreeEnsembleClassifier", "ai.onnx.ml", "Y", "X").addOutput("Z")
                    .addAttribute(ConvSideBySide.ints("classlabels_int64s", c.classes() == 3 ? new long[] {5, 7, 9} : new long[] {4, 6}))
                    .addAttribute(text("post_transform", c.transform()));
            forest.describe(node, "class");
            if (!c.base().isEmpty()) {
                node.addAttribute(Onnx.AttributeProto.newBuilder().setName("base_values").setType(Onnx.AttributeProto.AttributeType.FLOATS)
                        .addAllFloats(c.base()));
            }
            List<String> outputs = List.of("Y", "Z");
            List<Integer> types = List.of(INT64, FLOAT);
            compareOutputs("TreeEnsembleClassifier " + c, model("classifier", List.of(node), List.of(x), outputs, types),
                    List.of(x), outputs, types, 1e-5);
        }
    }

    /** A random forest in ONNX-ML's flattened form, grown depth first, its leaves weighting some of {@code targets} targets. */
    private final class Forest {
        final int targets;
        final List<Integer> treeIds = new java.util.ArrayList<>();
        final List<Integer> nodeIds = new java.util.ArrayList<>();
        final List<Integer> features = new java.util.ArrayList<>();
        final List<Integer> trueIds = new java.util.ArrayList<>();
        final List<Integer> falseIds = new java.util.ArrayList<>();
        final List<Integer> missing = new java.util.ArrayList<>();
        final List<String> modes = new java.util.ArrayList<>();
        final List<Float> thresholds = new java.util.ArrayList<>();
        final List<Integer> targetTrees = new java.util.ArrayList<>();
        final List<Integer> targetNodes = new java.util.ArrayList<>();
        final List<Integer> targetIds = new java.util.ArrayList<>();
        final List<Float> weights = new java.util.ArrayList<>();

        /** Leaves weight these targets only (all of them when null). */
        int[] only;

        Forest(int targets) {
            this.targets = targets;
        }

        /** Grows node {@code id} of a tree (ids from {@code next}), a branch while depth lasts (and a coin says so). */
        void grow(int tree, int id, int[] next, int depth, String[] branchModes, boolean small) {
            int at = treeIds.size();
            treeIds.add(tree);
            nodeIds.add(id);
            boolean leaf = depth == 0 || id > 0 && random.nextInt(4) == 0;
            features.add(leaf ? 0 : random.nextInt(5));
            modes.add(leaf ? "LEAF" : branchModes[random.nextInt(branchModes.length)]);
            thresholds.add(leaf ? 0f : random.nextBoolean() ? (random.nextInt(3) - 1) * 0.5f : (float) random.nextGaussian());
            missing.add(random.nextInt(2));
            trueIds.add(0);
            falseIds.add(0);
            if (leaf) {
                int[] chosen = only != null ? only
                        : random.nextBoolean() || targets == 1 ? new int[] {random.nextInt(targets)} : new int[] {0, targets - 1};
                for (int target : chosen) {
                    targetTrees.add(tree);
                    targetNodes.add(id);
                    targetIds.add(target);
                    weights.add(small ? (float) random.nextDouble() * 0.12f : (float) random.nextGaussian());
                }
                return;
            }
            int trueId = ++next[0];
            trueIds.set(at, trueId);
            grow(tree, trueId, next, depth - 1, branchModes, small);
            int falseId = ++next[0];
            falseIds.set(at, falseId);
            grow(tree, falseId, next, depth - 1, branchModes, small);
        }

        /** The forest's nodes and leaf weights as a tree ensemble's attributes, the weights under {@code prefix} (target, class). */
        void describe(Onnx.NodeProto.Builder node, String prefix) {
            node.addAttribute(ConvSideBySide.ints("nodes_treeids", longs(treeIds)))
                    .addAttribute(ConvSideBySide.ints("nodes_nodeids", longs(nodeIds)))
                    .addAttribute(ConvSideBySide.ints("nodes_featureids", longs(features)))
                    .addAttribute(ConvSideBySide.ints("nodes_truenodeids", longs(trueIds)))
                    .addAttribute(ConvSideBySide.ints("nodes_falsenodeids", longs(falseIds)))
                    .addAttribute(ConvSideBySide.ints("nodes_missing_value_tracks_true", longs(missing)))
                    .addAttribute(Onnx.AttributeProto.newBuilder().setName("nodes_modes").setType(Onnx.AttributeProto.AttributeType.STRINGS)
                            .addAllStrings(modes.stream().map(ByteString::copyFromUtf8).toList()))
                    .addAttribute(Onnx.AttributeProto.newBuilder().setName("nodes_values").setType(Onnx.AttributeProto.AttributeType.FLOATS)
                            .addAllFloats(thresholds))
                    .addAttribute(ConvSideBySide.ints(prefix + "_treeids", longs(targetTrees)))
                    .addAttribute(ConvSideBySide.ints(prefix + "_nodeids", longs(targetNodes)))
                    .addAttribute(ConvSideBySide.ints(prefix + "_ids", longs(targetIds)))
                    .addAttribute(Onnx.AttributeProto.newBuilder().setName(prefix + "_weights")
                            .setType(Onnx.AttributeProto.AttributeType.FLOATS).addAllFloats(weights));
        }

        private static long[] longs(List<Integer> values) {
            return values.stream().mapToLong(Integer::longValue).toArray();
        }
    }

    /** Det against ONNX Runtime: a batch of random 5×5 matrices, one of them singular, and one 7×7. */
    @Test
    void determinantMatchesOnnxRuntime() throws Exception {
        Input batch = gaussian("X", 1, 3, 5, 5);
        byte[] raw = batch.raw().clone();
        // The second matrix's last row repeats its first: singular.
        System.arraycopy(raw, 25 * 4, raw, (25 + 20) * 4, 5 * 4);
        List<Input> singular = List.of(new Input("X", FLOAT, batch.dims(), raw, true));
        compareFloats("Det", singular, Map.of(), Map.of(), 1e-5);
        compareFloats("Det", List.of(gaussian("X", 1, 7, 7).asFed()), Map.of(), Map.of(), 1e-5);
    }

    /**
     * RoiAlign against ONNX Runtime: both modes and coordinate modes, a fixed and an adaptive
     * sampling ratio, a spatial scale, regions inside, across the border, outside and degenerate.
     */
    @Test
    void roiAlignMatchesOnnxRuntime() throws Exception {
        float[] regions = {1, 1, 7, 5, 0, 0, 10.5f, 8.5f, -3, -2, 4, 6, 12, 9, 30, 20, 3, 3, 3.2f, 3.1f, 8, 2, 5, 7};
        for (String mode : new String[] {"avg", "max"}) {
            for (String coordinates : new String[] {"half_pixel", "output_half_pixel"}) {
                for (long sampling : new long[] {0, 2}) {
                    List<Input> inputs = List.of(gaussian("X", 1, 2, 3, 9, 11).asFed(),
                            new Input("rois", FLOAT, new long[] {6, 4}, bytes(regions), false),
                            new Input("batch_indices", Onnx.TensorProto.DataType.INT64_VALUE, new long[] {6},
                                    longBytes(0, 1, 1, 0, 1, 0), false));
                    Onnx.NodeProto.Builder node = node("RoiAlign", "", "Y", "X", "rois", "batch_indices")
                            .addAttribute(text("mode", mode))
                            .addAttribute(text("coordinate_transformation_mode", coordinates))
                            .addAttribute(integer("sampling_ratio", sampling))
                            .addAttribute(integer("output_height", 3))
                            .addAttribute(integer("output_width", 4))
                            .addAttribute(real("spatial_scale", 0.75f));
                    compareOutputs("RoiAlign " + mode + " " + coordinates + " sampling " + sampling,
                            model("roi", List.of(node), inputs, List.of("Y"), List.of(FLOAT)), inputs, List.of("Y"),
                            List.of(FLOAT), 1e-5);
                }
            }
        }
    }

    /**
     * Bilinear Resize of NCHW images and plain matrices against ONNX Runtime, bit for bit: each
     * coordinate transformation it computes in float, up- and downsampling by scales and by sizes,
     * odd sizes and single rows and columns. A last-bit difference here feeds a quantized model's
     * next DynamicQuantizeLinear, which can turn it into a step of its scale. (align_corners goes by
     * sizes: by scales that make a fraction of a size, ONNX Runtime departs from ONNX's definition,
     * which Quanta follows.)
     */
    @Test
    void bilinearResizeMatchesOnnxRuntimeBitForBit() throws Exception {
        String[] transforms = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"};
        float[] factors = {0.5f, 0.6f, 1.5f, 2, 2.7f, 1 / 3f, 4};
        for (int trial = 0; trial < 24; trial++) {
            boolean image = trial % 4 != 3;
            long height = 1 + random.nextInt(trial % 6 == 0 ? 2 : 37);
            long width = 1 + random.nextInt(trial % 6 == 1 ? 2 : 41);
            long[] dims = image ? new long[] {1 + random.nextInt(2), 1 + random.nextInt(3), height, width}
                    : new long[] {height, width};
            Input x = gaussian("X", 3, dims).asFed();
            int rank = dims.length;
            String transform = transforms[trial % transforms.length];
            boolean byScales = trial % 3 != 0 && !transform.equals("align_corners");
            Input sizesOrScales;
            if (byScales) {
                float[] scales = new float[rank];
                java.util.Arrays.fill(scales, 1);
                scales[rank - 2] = factors[random.nextInt(factors.length)];
                scales[rank - 1] = factors[random.nextInt(factors.length)];
                sizesOrScales = new Input("scales", FLOAT, new long[] {rank}, bytes(scales), false);
            } else {
                long[] sizes = dims.clone();
                sizes[rank - 2] = 1 + random.nextInt(60);
                sizes[rank - 1] = 1 + random.nextInt(60);
                sizesOrScales = new Input("sizes", INT64, new long[] {rank}, longBytes(sizes), false);
            }
            List<Input> inputs = byScales ? List.of(x, ABSENT, sizesOrScales) : List.of(x, ABSENT, ABSENT, sizesOrScales);
            Onnx.NodeProto.Builder node = node("Resize", "", "Y", inputs.stream().map(Input::name).toArray(String[]::new))
                    .addAttribute(text("mode", "linear")).addAttribute(text("coordinate_transformation_mode", transform));
            compareOutputs("Resize " + transform + " " + java.util.Arrays.toString(dims) + " " + sizesOrScales.name(),
                    model("resize", List.of(node), inputs, List.of("Y"), List.of(FLOAT)), inputs, List.of("Y"), List.of(FLOAT), 0);
        }
    }

    /**
     * A float16 model of element-wise nodes between its own casts from and to float32, as
     * onnxconverter-common writes them, against ONNX Runtime bit for bit: both run the nodes in
     * float32 without rounding between them (ONNX Runtime drops the casts it inserts around each,
     * and the model's first pair), and round once, into the graph's output.
     */
    @Test
    void float16NodesRunInFloat32BetweenTheModelsCastsAsOnnxRuntimeRunsThem() throws Exception {
        List<Input> inputs = List.of(gaussian("X", 3, 2, 3, 5, 6).asFed(), half("w", 3, 1, 1), half("b", 3, 1, 1),
                half("c", 1), half("d", 6));
        List<Onnx.NodeProto.Builder> nodes = List.of(
                node("Cast", "", "x16", "X").addAttribute(integer("to", Onnx.TensorProto.DataType.FLOAT16_VALUE)),
                node("Mul", "", "scaled", "x16", "w"), node("Add", "", "shifted", "scaled", "b"),
                node("Relu", "", "rectified", "shifted"), node("Sub", "", "lowered", "rectified", "c"),
                node("Div", "", "divided", "lowered", "d"), node("Cast", "", "Y", "divided").addAttribute(integer("to", FLOAT)));
        compareOutputs("float16 chain", model("half", nodes, inputs, List.of("Y"), List.of(FLOAT)), inputs, List.of("Y"),
                List.of(FLOAT), 0);
    }

    /**
     * Scan against ONNX Runtime: two scan inputs on different axes, one read backwards, a state
     * carried through, and two scan outputs, one reversed on a negative axis, one on axis 1.
     */
    @Test
    void scanMatchesOnnxRuntimeOnAxesAndDirections() throws Exception {
        Onnx.GraphProto.Builder body = Onnx.GraphProto.newBuilder().setName("body")
                .addInput(floatValue("state", 3, 2)).addInput(floatValue("a_slice", 3, 2)).addInput(floatValue("b_slice", 3, 2))
                .addNode(node("Mul", "", "product", "a_slice", "b_slice"))
                .addNode(node("Add", "", "next_state", "state", "product"))
                .addNode(node("Sub", "", "difference", "a_slice", "b_slice"))
                .addOutput(floatValue("next_state", 3, 2)).addOutput(floatValue("state_out", 3, 2))
                .addOutput(floatValue("difference", 3, 2));
        body.addNode(node("Identity", "", "state_out", "next_state"));
        Onnx.NodeProto.Builder scan = node("Scan", "", "final", "initial", "a", "b").addOutput("states").addOutput("differences")
                .addAttribute(Onnx.AttributeProto.newBuilder().setName("body").setType(Onnx.AttributeProto.AttributeType.GRAPH)
                        .setG(body))
                .addAttribute(integer("num_scan_inputs", 2))
                .addAttribute(ConvSideBySide.ints("scan_input_axes", 1, 0))
                .addAttribute(ConvSideBySide.ints("scan_input_directions", 1, 0))
                .addAttribute(ConvSideBySide.ints("scan_output_axes", -1, 1))
                .addAttribute(ConvSideBySide.ints("scan_output_directions", 1, 0));
        List<Input> inputs = List.of(gaussian("initial", 1, 3, 2).asFed(), gaussian("a", 1, 3, 5, 2).asFed(),
                gaussian("b", 1, 5, 3, 2).asFed());
        List<String> outputs = List.of("final", "states", "differences");
        List<Integer> types = List.of(FLOAT, FLOAT, FLOAT);
        compareOutputs("Scan", model("scan", List.of(scan), inputs, outputs, types), inputs, outputs, types, 1e-6);
    }

    private static Onnx.ValueInfoProto floatValue(String name, long... dims) {
        Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
        for (long dim : dims) {
            shape.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(dim));
        }
        return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
                .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(FLOAT).setShape(shape))).build();
    }

    /**
     * ONNX Runtime runs no batch-first (layout 1) recurrent op: the same cell sequence-first, between
     * transposes of X, the initial states and the outputs.
     */
    private static byte[] sequenceFirst(Onnx.NodeProto.Builder batchFirst, List<String> outputs, List<Input> inputs,
            List<Integer> types) {
        List<Onnx.NodeProto.Builder> nodes = new java.util.ArrayList<>();
        Onnx.NodeProto.Builder cell = batchFirst.clone().clearOutput();
        for (int i = 0; i < cell.getAttributeCount(); i++) {
            if (cell.getAttribute(i).getName().equals("layout")) {
                cell.setAttribute(i, cell.getAttribute(i).toBuilder().setI(0));
            }
        }
        for (int i = 0; i < cell.getInputCount(); i++) {
            String name = cell.getInput(i);
            if (i == 0 || name.startsWith("initial_")) {
                nodes.add(transpose(name, name + "_sequence_first", 1, 0, 2));
                cell.setInput(i, name + "_sequence_first");
            }
        }
        for (String output : outputs) {
            cell.addOutput(output + "_sequence_first");
            nodes.add(output.equals("Y") ? transpose("Y_sequence_first", "Y", 2, 0, 1, 3)
                    : transpose(output + "_sequence_first", output, 1, 0, 2));
        }
        nodes.add(0, cell);
        return model("sequence first", nodes, inputs, outputs, types);
    }

    private static Onnx.NodeProto.Builder transpose(String input, String output, long... perm) {
        return node("Transpose", "", output, input).addAttribute(ConvSideBySide.ints("perm", perm));
    }

    private long pick(long... values) {
        return values[random.nextInt(values.length)];
    }

    /** An int8 or uint8 operand, constant or fed; int8 values full range, symmetric or 7-bit, which take Quanta's different kernels. */
    private Input matrix(String name, int type, long... dims) {
        if (type == UINT8) {
            return random.nextBoolean() ? fed(name, type, dims) : constant(name, type, dims);
        }
        int least = switch (random.nextInt(3)) {
            case 0 -> Byte.MIN_VALUE;
            case 1 -> -Byte.MAX_VALUE;
            default -> -64;
        };
        byte[] values = new byte[(int) count(dims)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (byte) random.nextInt(least, -least);
        }
        return new Input(name, INT8, dims, values, random.nextBoolean());
    }

    private static String describe(List<Input> inputs) {
        StringBuilder text = new StringBuilder();
        for (Input input : inputs) {
            text.append(input.name()).append(input.type() == UINT8 ? " uint8" : input.type() == INT8 ? " int8" : "")
                    .append(java.util.Arrays.toString(input.dims())).append(input.fed() ? " fed; " : "; ");
        }
        return text.toString();
    }

    // ---------------------------------------------------------------- running both engines

    private void compareFloats(String op, List<Input> inputs, Map<String, Float> floats, Map<String, Long> ints,
            double tolerance) throws Exception {
        compareOutputs(op, inputs, floats, ints, Map.of(), List.of("Y"), List.of(FLOAT), tolerance);
    }

    /** Each named output: float32 within {@code tolerance} of the largest expected magnitude, int32 exactly. */
    private void compareOutputs(String op, List<Input> inputs, Map<String, Float> floats, Map<String, Long> ints,
            Map<String, long[]> lists, List<String> outputs, List<Integer> types, double tolerance) throws Exception {
        compareOutputs(op, model(op, inputs, floats, ints, lists, outputs, types), inputs, outputs, types, tolerance);
    }

    /** Quanta running {@code model} against ONNX Runtime running {@code reference}, one float32 output Y. */
    private static void compareOutputs(String op, byte[] model, byte[] reference, List<Input> inputs, double tolerance)
            throws Exception {
        Tensor output = quanta(op, model, inputs);
        assertClose(op + " output Y", toFloats(onnxRuntime(reference, inputs, output)), output.toFloatArray(), tolerance);
    }

    /** Each value within {@code tolerance} of the largest expected magnitude. */
    private static void assertClose(String what, float[] expected, float[] actual, double tolerance) {
        double largest = 0;
        for (float value : expected) {
            largest = Math.max(largest, Math.abs(value));
        }
        for (int i = 0; i < expected.length; i++) {
            assertThat((double) actual[i]).as("%s[%d]", what, i).isCloseTo(expected[i],
                    org.assertj.core.data.Offset.offset(tolerance * largest));
        }
    }

    private static void compareOutputs(String op, byte[] model, List<Input> inputs, List<String> outputs, List<Integer> types,
            double tolerance) throws Exception {
        compareOutputs(op, model, model, inputs, outputs, types, tolerance);
    }

    /** Quanta running {@code model} against ONNX Runtime running {@code reference}: each named output, as above. */
    private static void compareOutputs(String op, byte[] model, byte[] reference, List<Input> inputs, List<String> outputs,
            List<Integer> types, double tolerance) throws Exception {
        for (int o = 0; o < outputs.size(); o++) {
            String name = outputs.get(o);
            if (name.isEmpty()) {
                continue;
            }
            Tensor output = quanta(op, model, inputs, name);
            byte[] raw = onnxRuntime(reference, inputs, name, output);
            if (types.get(o) != FLOAT) {
                long[] expected = integers(raw, types.get(o));
                long[] actual = output.toLongArray();
                for (int i = 0; i < actual.length; i++) {
                    assertThat(actual[i]).as("%s output %s[%d], %s", op, name, i, describe(inputs)).isEqualTo(expected[i]);
                }
                continue;
            }
            assertClose(op + " output " + name + ", " + describe(inputs), toFloats(raw), output.toFloatArray(), tolerance);
        }
    }

    /** Exact int32 outputs. */
    private void compareInts(String op, List<Input> inputs, String description) throws Exception {
        byte[] model = model(op, inputs, Map.of(), Map.of(), Map.of(), INT32);
        Tensor output = quanta(op, model, inputs);
        ByteBuffer expected = ByteBuffer.wrap(onnxRuntime(model, inputs, output)).order(ByteOrder.LITTLE_ENDIAN);
        long[] actual = output.toLongArray();
        assertThat(actual.length * 4L).as(description).isEqualTo(expected.capacity());
        for (int i = 0; i < actual.length; i++) {
            assertThat(actual[i]).as("%s output %d, %s", op, i, description).isEqualTo(expected.getInt(i * 4));
        }
    }

    private void compareQuantized(String op, List<Input> inputs, Map<String, Float> floats, Map<String, Long> ints,
            int type) throws Exception {
        compareQuantized(op, inputs, floats, ints, Map.of(), type);
    }

    /** Requantized outputs: ONNX Runtime rounds its float steps in another order, so ties may land one apart. */
    private void compareQuantized(String op, List<Input> inputs, Map<String, Float> floats, Map<String, Long> ints,
            Map<String, long[]> lists, int type) throws Exception {
        byte[] model = model(op, inputs, floats, ints, lists, type);
        compareQuantized(op, model, model, inputs, type);
    }

    /** Quanta running {@code model} against ONNX Runtime running {@code reference}, of the same inputs. */
    private static void compareQuantized(String op, byte[] model, byte[] reference, List<Input> inputs, int type)
            throws Exception {
        Tensor output = quanta(op, model, inputs);
        byte[] expected = onnxRuntime(reference, inputs, output);
        long[] actual = output.toLongArray();
        int exact = 0;
        for (int i = 0; i < expected.length; i++) {
            long wanted = type == UINT8 ? expected[i] & 0xFF : expected[i];
            assertThat(actual[i]).as("%s (%s) output %d, %s", op, type == UINT8 ? "uint8" : "int8", i, describe(inputs))
                    .isBetween(wanted - 1, wanted + 1);
            exact += actual[i] == wanted ? 1 : 0;
        }
        assertThat(exact).as("%s: outputs equal to ONNX Runtime's", op).isGreaterThanOrEqualTo(expected.length * 95 / 100);
    }

    private static byte[] onnxRuntime(byte[] model, List<Input> inputs, Tensor output) throws Exception {
        return onnxRuntime(model, inputs, "Y", output);
    }

    /** ONNX Runtime's output {@code name}'s raw bytes, once its shape is found equal to Quanta's {@code output}'s. */
    private static byte[] onnxRuntime(byte[] model, List<Input> inputs, String name, Tensor output) throws Exception {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        Map<String, OnnxTensor> feeds = new HashMap<>();
        try (OrtSession session = environment.createSession(model, new OrtSession.SessionOptions())) {
            for (Input input : inputs) {
                if (input.fed()) {
                    OnnxJavaType type = switch (input.type()) {
                        case FLOAT -> OnnxJavaType.FLOAT;
                        case UINT8 -> OnnxJavaType.UINT8;
                        case INT32 -> OnnxJavaType.INT32;
                        case INT64 -> OnnxJavaType.INT64;
                        case INT16 -> OnnxJavaType.INT16;
                        default -> OnnxJavaType.INT8;
                    };
                    ByteBuffer buffer = ByteBuffer.allocateDirect(input.raw().length).order(ByteOrder.LITTLE_ENDIAN)
                            .put(input.raw()).flip();
                    feeds.put(input.name(), OnnxTensor.createTensor(environment, buffer, input.dims(), type));
                }
            }
            try (OrtSession.Result result = session.run(feeds)) {
                OnnxTensor tensor = (OnnxTensor) result.get(name).orElseThrow();
                assertThat(output.shape().sizes()).as("output %s's shape", name).containsExactly(tensor.getInfo().getShape());
                ByteBuffer bytes = tensor.getByteBuffer();
                byte[] raw = new byte[bytes.remaining()];
                bytes.get(raw);
                return raw;
            }
        } finally {
            feeds.values().forEach(OnnxTensor::close);
        }
    }

    private static Tensor quanta(String op, byte[] bytes, List<Input> inputs) throws Exception {
        return quanta(op, bytes, inputs, "Y");
    }

    private static Tensor quanta(String op, byte[] bytes, List<Input> inputs, String name) throws Exception {
        TensorArena arena = TensorArena.ofShared();
        try (OnnxModel model = OnnxModel.load(bytes, op);
                Session session = model.newSession(SessionOptions.defaults())) {
            Map<String, Tensor> feeds = new HashMap<>();
            for (Input input : inputs) {
                if (input.fed()) {
                    DType dtype = DType.fromOnnx(input.type());
                    feeds.put(input.name(), arena.fromBytes(dtype, input.raw(), input.dims()));
                }
            }
            try (Outputs outputs = session.run(feeds)) {
                return arena.copyOf(outputs.get(name));
            }
        }
    }

    private static byte[] model(String op, List<Input> inputs, Map<String, Float> floats, Map<String, Long> ints,
            Map<String, long[]> lists, int outputType) {
        return model(op, inputs, floats, ints, lists, List.of("Y"), List.of(outputType));
    }

    /** A single-node model whose node writes {@code outputs} (an empty name skips one), each of its type a graph output. */
    private static byte[] model(String op, List<Input> inputs, Map<String, Float> floats, Map<String, Long> ints,
            Map<String, long[]> lists, List<String> outputs, List<Integer> types) {
        Onnx.NodeProto.Builder node = node(op, ONNX_OPS.contains(op) ? "" : "com.microsoft", outputs.get(0),
                inputs.stream().map(Input::name).toArray(String[]::new));
        outputs.stream().skip(1).forEach(node::addOutput);
        floats.forEach((name, value) -> node.addAttribute(Onnx.AttributeProto.newBuilder().setName(name)
                .setType(Onnx.AttributeProto.AttributeType.FLOAT).setF(value)));
        ints.forEach((name, value) -> node.addAttribute(Onnx.AttributeProto.newBuilder().setName(name)
                .setType(Onnx.AttributeProto.AttributeType.INT).setI(value)));
        lists.forEach((name, values) -> node.addAttribute(Onnx.AttributeProto.newBuilder().setName(name)
                .setType(Onnx.AttributeProto.AttributeType.INTS).addAllInts(java.util.Arrays.stream(values).boxed().toList())));
        return model(op, List.of(node), inputs, outputs, types);
    }

    private static Onnx.NodeProto.Builder node(String op, String domain, String output, String... inputs) {
        return Onnx.NodeProto.newBuilder().setOpType(op).setDomain(domain).addAllInput(List.of(inputs)).addOutput(output);
    }

    private static byte[] model(String name, List<Onnx.NodeProto.Builder> nodes, List<Input> inputs, int outputType) {
        return model(name, nodes, inputs, List.of("Y"), List.of(outputType));
    }

    /** A model of these nodes (opset 17), its graph inputs and initializers from {@code inputs}, these outputs of these types. */
    private static byte[] model(String name, List<Onnx.NodeProto.Builder> nodes, List<Input> inputs, List<String> outputs,
            List<Integer> types) {
        Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName(name);
        java.util.Set<String> declared = new java.util.HashSet<>();
        for (Input input : inputs) {
            if (input.name().isEmpty() || !declared.add(input.name())) {
                continue;
            }
            if (input.fed()) {
                Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
                for (long dim : input.dims()) {
                    shape.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(dim));
                }
                graph.addInput(Onnx.ValueInfoProto.newBuilder().setName(input.name()).setType(Onnx.TypeProto.newBuilder()
                        .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(input.type()).setShape(shape))));
            } else {
                Onnx.TensorProto.Builder tensor = Onnx.TensorProto.newBuilder().setName(input.name())
                        .setDataType(input.type()).setRawData(ByteString.copyFrom(input.raw()));
                for (long dim : input.dims()) {
                    tensor.addDims(dim);
                }
                graph.addInitializer(tensor);
            }
        }
        nodes.forEach(graph::addNode);
        for (int i = 0; i < outputs.size(); i++) {
            if (!outputs.get(i).isEmpty()) {
                graph.addOutput(Onnx.ValueInfoProto.newBuilder().setName(outputs.get(i)).setType(Onnx.TypeProto.newBuilder()
                        .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(types.get(i)))));
            }
        }
        return Onnx.ModelProto.newBuilder().setIrVersion(8).setProducerName("quanta-test")
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1))
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("ai.onnx.ml").setVersion(2))
                .setGraph(graph).build().toByteArray();
    }

    // ---------------------------------------------------------------- random inputs

    private static Onnx.AttributeProto text(String name, String value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(value)).build();
    }

    private static Onnx.AttributeProto integer(String name, long value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static Onnx.AttributeProto real(String name, float value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    /** An optional input left out: an empty name in the node's inputs. */
    private static final Input ABSENT = new Input("", FLOAT, new long[0], new byte[0], false);

    private static Input intsFed(String name, int[] values, long... dims) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int value : values) {
            buffer.putInt(value);
        }
        return new Input(name, INT32, dims, buffer.array(), true);
    }

    /** Constant float32 values, normal with this standard deviation. */
    private Input gaussian(String name, double sigma, long... dims) {
        float[] values = new float[(int) count(dims)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * sigma);
        }
        return new Input(name, FLOAT, dims, bytes(values), false);
    }

    /** A float16 constant of Gaussian values, most of them not exact in float16's steps below 1. */
    private Input half(String name, long... dims) {
        ByteBuffer raw = ByteBuffer.allocate(2 * (int) count(dims)).order(ByteOrder.LITTLE_ENDIAN);
        while (raw.hasRemaining()) {
            raw.putShort(Float.floatToFloat16((float) (random.nextGaussian() + 0.5)));
        }
        return new Input(name, Onnx.TensorProto.DataType.FLOAT16_VALUE, dims, raw.array(), false);
    }

    private Input fed(String name, int type, long... dims) {
        return new Input(name, type, dims, randomBytes(count(dims)), true);
    }

    private Input constant(String name, int type, long... dims) {
        return new Input(name, type, dims, randomBytes(count(dims)), false);
    }

    /**
     * int8 weights in −64…63, as ONNX Runtime's quantizer makes them with {@code reduce_range}: its
     * AVX2 kernel adds pairs of u8×s8 products in saturating int16, wrong for full-range weights.
     */
    private Input weights(String name, long... dims) {
        return weightsBetween(name, -64, 64, dims);
    }

    /** int8 weights in {@code low} … {@code high} − 1 (−127 … 127: ONNX Runtime's symmetric quantization). */
    private Input weightsBetween(String name, int low, int high, long... dims) {
        byte[] values = new byte[(int) count(dims)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (byte) random.nextInt(low, high);
        }
        return new Input(name, INT8, dims, values, false);
    }

    /** Positive scales a few hundredths wide, as quantizers choose them. */
    private Input scales(String name, int count, long... dims) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (0.002 + random.nextDouble() * 0.05);
        }
        return new Input(name, FLOAT, dims, bytes(values), false);
    }

    private Input ints(String name, int count, long... dims) {
        ByteBuffer buffer = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            buffer.putInt(random.nextInt(-5000, 5000));
        }
        return new Input(name, Onnx.TensorProto.DataType.INT32_VALUE, dims, buffer.array(), false);
    }

    private Input floats(String name, int count, long... dims) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian() * 3;
        }
        return new Input(name, FLOAT, dims, bytes(values), false);
    }

    /** Little-endian integers of an ONNX element type, widened to long. */
    private static long[] integers(byte[] raw, int type) {
        ByteBuffer buffer = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int size = type == INT64 ? 8 : type == INT32 ? 4 : type == INT16 || type == UINT16 ? 2 : 1;
        long[] values = new long[raw.length / size];
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (type) {
                case INT64 -> buffer.getLong();
                case INT32 -> buffer.getInt();
                case INT16 -> buffer.getShort();
                case UINT16 -> buffer.getShort() & 0xFFFF;
                case UINT8 -> buffer.get() & 0xFF;
                default -> buffer.get();
            };
        }
        return values;
    }

    private static byte[] longBytes(long... values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long value : values) {
            buffer.putLong(value);
        }
        return buffer.array();
    }

    private static List<Float> floatList(float[] values) {
        List<Float> list = new java.util.ArrayList<>();
        for (float value : values) {
            list.add(value);
        }
        return list;
    }

    private static long count(long[] dims) {
        long count = 1;
        for (long dim : dims) {
            count *= dim;
        }
        return count;
    }

    private byte[] randomBytes(long count) {
        byte[] values = new byte[(int) count];
        random.nextBytes(values);
        return values;
    }

    private static byte[] bytes(float[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float value : values) {
            buffer.putFloat(value);
        }
        return buffer.array();
    }

    private static float[] toFloats(byte[] raw) {
        ByteBuffer buffer = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[raw.length / 4];
        for (int i = 0; i < values.length; i++) {
            values[i] = buffer.getFloat();
        }
        return values;
    }
}
