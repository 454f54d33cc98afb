package dev.quanta.graph.passes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ValueType;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.Cast;
import dev.quanta.graph.ops.Conv;
import dev.quanta.graph.ops.CoreOp;
import dev.quanta.graph.ops.Dequantize;
import dev.quanta.graph.ops.DynamicQuantize;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.MatMulInteger;
import dev.quanta.graph.ops.Quantize;
import dev.quanta.graph.ops.Transpose;
import dev.quanta.graph.ops.Unary;
import dev.quanta.graph.ops.Window;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Dim;
import dev.quanta.tensor.Float8E8M0;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The dynamically quantized projection chain, fused and not: the same bits, and no fusion where it would not be exact. */
class IntegerMatMulFusionTest {

    private static final int K = 37;
    private static final int N = 21;
    private final TensorArena arena = TensorArena.ofShared();
    private final SplittableRandom random = new SplittableRandom(0xF05E);

    @AfterEach
    void close() {
        arena.close();
    }

    /**
     * y = DynamicQuantizeLinear(x) → MatMulInteger(·, w) → Cast → Mul(x scale · w scale) → Add(bias),
     * as ONNX Runtime's quantizer writes it; {@code extraReader} also reads the Cast's output.
     */
    private Graph projection(boolean perColumnScale, boolean withBias, boolean extraReader) {
        Value x = new Value("x", ValueType.of(DType.FLOAT, Shape.of(Dim.symbol("batch"), Dim.of(5), Dim.of(K))));
        Value q = new Value("q", null);
        Value qScale = new Value("q_scale", null);
        Value qZero = new Value("q_zero", null);
        Value w = new Value("w", null);
        Value wZero = new Value("w_zero", null);
        Value wScale = new Value("w_scale", null);
        Value bias = new Value("bias", null);
        Value scale = new Value("scale", null);
        Value product = new Value("product", null);
        Value asFloat = new Value("as_float", null);
        Value scaled = new Value("scaled", null);
        Value y = new Value("y", null);
        Value side = new Value("side", null);
        Graph.Builder builder = Graph.builder("g").input(x)
                .constant(w, bytes(K * N, K, N))
                .constant(wZero, arena.fromBytes(DType.INT8, new byte[] {3}))
                .constant(wScale, perColumnScale ? floats(N, N) : floats(1))
                .constant(bias, floats(N, N))
                .node(new Node("quantize", new DynamicQuantize(), List.of(x), List.of(q, qScale, qZero), "test"))
                .node(node("scales", new Binary(Binary.Kind.MUL), List.of(qScale, wScale), scale))
                .node(node("matmul", new MatMulInteger(), List.of(q, w, qZero, wZero), product))
                .node(node("cast", new Cast(DType.FLOAT, true, Float8E8M0.RoundMode.UP), List.of(product), asFloat))
                .node(node("mul", new Binary(Binary.Kind.MUL), List.of(asFloat, scale), scaled));
        if (withBias) {
            builder.node(node("add", new Binary(Binary.Kind.ADD), List.of(bias, scaled), y));
        } else {
            builder.node(node("copy", Unary.of(Unary.Kind.NEG), List.of(scaled), y));
        }
        if (extraReader) {
            builder.node(node("side", Unary.of(Unary.Kind.ABS), List.of(asFloat), side)).output(side);
        }
        return builder.output(y).build();
    }

    @Test
    void theChainFusesWithItsQuantizationAndKeepsItsBits() {
        for (boolean perColumnScale : new boolean[] {false, true}) {
            for (boolean withBias : new boolean[] {false, true}) {
                Graph graph = projection(perColumnScale, withBias, false);
                Graph fused = IntegerMatMulFusion.apply(graph, ShapeInference.apply(graph), TypeCheck.apply(graph), arena);
                List<String> ops = fused.nodes().stream().map(node -> node.op().name()).toList();
                assertThat(ops).as("scale per column %s, bias %s", perColumnScale, withBias)
                        .containsExactlyElementsOf(withBias ? List.of("DynamicQuantizeMatMul")
                                : List.of("DynamicQuantizeMatMul", "NEG"));
                Tensor x = floats(3 * 5 * K, 3, 5, K);
                assertThat(run(fused, x)).isEqualTo(run(graph, x));
            }
        }
    }

    /**
     * DynamicQuantizeLinear(x) → ConvInteger(·, w) → Cast → Mul(x scale · w scale) (→ Add(bias
     * reshaped to [F, 1, 1])), as ONNX Runtime's quantizer writes a dynamically quantized Conv (imgly's
     * ISNet): one ConvIntegerToFloat, bit for bit; a scale of a wrong shape leaves the chain alone.
     */
    @Test
    void theConvChainFusesIntoOneKernelAndKeepsItsBits() {
        int filters = 6;
        for (boolean withBias : new boolean[] {false, true}) {
            for (boolean scaleOfAWrongShape : new boolean[] {false, true}) {
                // The images' sizes unknown at load, as where a Resize to computed sizes precedes the Conv.
                Value x = new Value("x", ValueType.of(DType.FLOAT, Shape.of(Dim.of(2), Dim.of(4), Dim.symbol("h"), Dim.symbol("w"))));
                Value q = new Value("q", null);
                Value qScale = new Value("q_scale", null);
                Value qZero = new Value("q_zero", null);
                Value w = new Value("w", null);
                Value wScale = new Value("w_scale", null);
                Value scale = new Value("scale", null);
                Value bias = new Value("bias", null);
                Value biasShape = new Value("bias_shape", null);
                Value reshaped = new Value("reshaped", null);
                Value sums = new Value("sums", null);
                Value asFloat = new Value("as_float", null);
                Value scaled = new Value("scaled", null);
                Value y = new Value("y", null);
                Window window = new Window(null, new long[] {1, 1}, new long[] {1, 1}, new long[] {1, 1, 1, 1},
                        Window.AutoPad.NOTSET, false);
                Graph.Builder builder = Graph.builder("g").input(x)
                        .constant(w, bytes(filters * 4 * 9, filters, 4, 3, 3))
                        .constant(wScale, scaleOfAWrongShape ? floats(8, 8) : floats(1))
                        .constant(bias, floats(filters, filters))
                        .constant(biasShape, arena.fromLongs(DType.INT64, new long[] {filters, 1, 1}, 3))
                        .node(new Node("quantize", new DynamicQuantize(), List.of(x), List.of(q, qScale, qZero), "test"))
                        .node(node("scales", new Binary(Binary.Kind.MUL), List.of(qScale, wScale), scale))
                        .node(node("reshape", new dev.quanta.graph.ops.Reshape(false), List.of(bias, biasShape), reshaped))
                        .node(node("conv", new dev.quanta.graph.ops.ConvInteger(window, 1), Arrays.asList(q, w, qZero, null),
                                sums))
                        .node(node("cast", new Cast(DType.FLOAT, true, Float8E8M0.RoundMode.UP), List.of(sums), asFloat))
                        .node(node("mul", new Binary(Binary.Kind.MUL), List.of(asFloat, scale), withBias ? scaled : y));
                if (withBias) {
                    builder.node(node("add", new Binary(Binary.Kind.ADD), List.of(scaled, reshaped), y));
                }
                Graph graph = builder.output(y).build();
                Graph fused = IntegerMatMulFusion.apply(graph, ShapeInference.apply(graph), TypeCheck.apply(graph), arena);
                List<String> ops = fused.nodes().stream().map(node -> node.op().name()).toList();
                assertThat(ops).as("bias %s, scale of a wrong shape %s", withBias, scaleOfAWrongShape)
                        .contains(scaleOfAWrongShape ? "ConvInteger" : "ConvIntegerToFloat")
                        .doesNotContain(scaleOfAWrongShape ? "ConvIntegerToFloat" : "Cast");
                if (!scaleOfAWrongShape) {
                    Tensor input = floats(2 * 4 * 9 * 8, 2, 4, 9, 8);
                    assertThat(run(fused, input)).isEqualTo(run(graph, input));
                }
            }
        }
    }

    /**
     * A projection of the shared quantized x, as {@link #sharedQuantization} builds it: its weights'
     * type and columns, its B zero point (none, one, or one per column), its scale (x's times one
     * value or one per column), and whether it adds a bias.
     */
    private record Projection(DType weights, int columns, int zeroPointCount, boolean perColumnScale, boolean bias) {
    }

    /**
     * DynamicQuantizeLinear(x) read by one chain per projection (outputs y0, y1, ...). A projection
     * without a bias has a negative scale and a first column of weights equal to its zero point, so
     * its sums of 0 scale to −0, which an added +0 would turn into +0.
     */
    private Graph sharedQuantization(List<Projection> projections) {
        Value x = new Value("x", ValueType.of(DType.FLOAT, Shape.of(Dim.symbol("batch"), Dim.of(5), Dim.of(K))));
        Value q = new Value("q", null);
        Value qScale = new Value("q_scale", null);
        Value qZero = new Value("q_zero", null);
        Graph.Builder builder = Graph.builder("g").input(x)
                .node(new Node("quantize", new DynamicQuantize(), List.of(x), List.of(q, qScale, qZero), "test"));
        for (int p = 0; p < projections.size(); p++) {
            Projection projection = projections.get(p);
            int columns = projection.columns();
            Value w = new Value("w" + p, null);
            Value wZero = projection.zeroPointCount() == 0 ? null : new Value("w_zero" + p, null);
            Value wScale = new Value("w_scale" + p, null);
            Value scale = new Value("scale" + p, null);
            Value product = new Value("product" + p, null);
            Value asFloat = new Value("as_float" + p, null);
            Value scaled = new Value("scaled" + p, null);
            Value y = new Value("y" + p, null);
            byte[] zeroPoints = new byte[Math.max(projection.zeroPointCount(), 1)];
            for (int j = 0; j < zeroPoints.length; j++) {
                zeroPoints[j] = (byte) random.nextInt(256);
            }
            byte[] weights = new byte[K * columns];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = projection.bias() || i % columns != 0 ? (byte) random.nextInt(256) : zeroPoints[0];
            }
            int scaleCount = projection.perColumnScale() ? columns : 1;
            float[] scales = floats(scaleCount, scaleCount).toFloatArray();
            if (!projection.bias()) {
                for (int j = 0; j < scales.length; j++) {
                    scales[j] = -Math.abs(scales[j]);
                }
            }
            builder.constant(w, arena.fromBytes(projection.weights(), weights, K, columns))
                    .constant(wScale, projection.perColumnScale() ? arena.fromFloats(scales, columns) : arena.fromFloats(scales))
                    .node(node("scales" + p, new Binary(Binary.Kind.MUL), List.of(qScale, wScale), scale))
                    .node(node("matmul" + p, new MatMulInteger(), Arrays.asList(q, w, qZero, wZero), product))
                    .node(node("cast" + p, new Cast(DType.FLOAT, true, Float8E8M0.RoundMode.UP), List.of(product), asFloat));
            if (wZero != null) {
                builder.constant(wZero, projection.zeroPointCount() == 1 ? arena.fromBytes(projection.weights(), zeroPoints)
                        : arena.fromBytes(projection.weights(), zeroPoints, columns));
            }
            if (projection.bias()) {
                Value bias = new Value("bias" + p, null);
                builder.constant(bias, floats(columns, columns))
                        .node(node("mul" + p, new Binary(Binary.Kind.MUL), List.of(asFloat, scale), scaled))
                        .node(node("add" + p, new Binary(Binary.Kind.ADD), List.of(scaled, bias), y));
            } else {
                builder.node(node("mul" + p, new Binary(Binary.Kind.MUL), List.of(asFloat, scale), y));
            }
            builder.output(y);
        }
        return builder.build();
    }

    @Test
    void productsOfOneQuantizationMergeIntoOneAndKeepTheirBits() {
        List<Projection> projections = List.of(new Projection(DType.INT8, N, 1, false, true),
                new Projection(DType.INT8, 5, 0, true, false), new Projection(DType.INT8, N + 3, N + 3, true, true),
                new Projection(DType.INT8, 1, 1, false, false));
        Graph graph = sharedQuantization(projections);
        Graph fused = IntegerMatMulFusion.apply(graph, ShapeInference.apply(graph), TypeCheck.apply(graph), arena);
        assertThat(fused.nodes().stream().map(node -> node.op().name()).toList())
                .containsExactly("DynamicQuantizeMatMul", "Split");
        Tensor x = floats(3 * 5 * K, 3, 5, K);
        assertThat(runAll(fused, x, projections.size())).isEqualTo(runAll(graph, x, projections.size()));
    }

    @Test
    void productsThatCannotMergeKeepOneQuantization() {
        // Weights of two types cannot lie side by side: the quantization is shared, not fused.
        List<Projection> projections = List.of(new Projection(DType.INT8, N, 1, true, true),
                new Projection(DType.UINT8, N, 1, true, true));
        Graph graph = sharedQuantization(projections);
        Graph fused = IntegerMatMulFusion.apply(graph, ShapeInference.apply(graph), TypeCheck.apply(graph), arena);
        assertThat(fused.nodes().stream().map(node -> node.op().name()).toList()).containsExactlyInAnyOrder(
                "DynamicQuantize", "MUL", "MUL", "MatMulIntegerToFloat", "MatMulIntegerToFloat");
        Tensor x = floats(2 * 5 * K, 2, 5, K);
        assertThat(runAll(fused, x, projections.size())).isEqualTo(runAll(graph, x, projections.size()));
    }

    @Test
    void aValueReadOutsideTheChainKeepsItUnfused() {
        Graph graph = projection(false, true, true);
        Graph fused = IntegerMatMulFusion.apply(graph, ShapeInference.apply(graph), TypeCheck.apply(graph), arena);
        assertThat(fused.nodes().stream().map(node -> node.op().name())).contains("MatMulInteger", "Cast")
                .doesNotContain("MatMulIntegerToFloat");
    }

    @Test
    void dequantizedOperandsOfAMatMulMultiplyAsIntegers() {
        for (boolean perColumn : new boolean[] {false, true}) {
            for (DType xType : new DType[] {DType.UINT8, DType.INT8}) {
                // x quantized at run time (QuantizeLinear), w constant: the QDQ form of a quantized projection.
                Value x = new Value("x", ValueType.of(DType.FLOAT, Shape.of(Dim.symbol("batch"), Dim.of(7), Dim.of(K))));
                Value xq = new Value("xq", null);
                Value xHat = new Value("x_hat", null);
                Value wHat = new Value("w_hat", null);
                Value y = new Value("y", null);
                Value xScale = new Value("x_scale", null);
                Value xZero = new Value("x_zero", null);
                Value w = new Value("w", null);
                Value wScale = new Value("w_scale", null);
                Value wZero = new Value("w_zero", null);
                byte[] zero = {(byte) (xType == DType.UINT8 ? 128 : -3)};
                Graph graph = Graph.builder("qdq").input(x)
                        .constant(xScale, arena.fromFloats(new float[] {0.02f}))
                        .constant(xZero, arena.fromBytes(xType, zero))
                        .constant(w, bytes(K * N, K, N))
                        .constant(wScale, perColumn ? floats(N, N) : floats(1))
                        .constant(wZero, perColumn ? bytes(N, N) : arena.fromBytes(DType.INT8, new byte[] {5}))
                        .node(node("quantize", new Quantize(1, 0, true, null), List.of(x, xScale, xZero), xq))
                        .node(node("dequantize_x", new Dequantize(1, 0, null), List.of(xq, xScale, xZero), xHat))
                        .node(node("dequantize_w", new Dequantize(1, 0, null), List.of(w, wScale, wZero), wHat))
                        .node(node("matmul", new MatMul(), List.of(xHat, wHat), y))
                        .output(y).build();
                Graph fused = IntegerMatMulFusion.apply(graph, ShapeInference.apply(graph), TypeCheck.apply(graph), arena);
                assertThat(fused.nodes().stream().map(node -> node.op().name())).as("per column %s, %s", perColumn, xType)
                        .containsExactly("Quantize", "MUL", "MatMulIntegerToFloat");
                assertAgree(graph, fused, floats(2 * 7 * K, 2, 7, K), K, "y");
            }
        }
    }

    /**
     * Two QDQ MatMuls of one dequantized x (a QDQ model's Q and K), weights per tensor and per column:
     * their scales are products of constants, which the merged product takes side by side.
     */
    @Test
    void dequantizedProductsOfOneOperandMergeWithConstantScales() {
        Value x = new Value("x", ValueType.of(DType.FLOAT, Shape.of(Dim.symbol("batch"), Dim.of(7), Dim.of(K))));
        Graph graph = qdq(x, DType.UINT8, bytes(K * N, K, N), floats(1), null, 1, (builder, xHat, wHat, y) -> {
            int columns = N + 5;
            Value w = new Value("w_second", null);
            Value wScale = new Value("w_scale_second", null);
            Value wSecond = new Value("w_hat_second", null);
            Value second = new Value("y_second", null);
            builder.node(node("matmul", new MatMul(), List.of(xHat, wHat), y))
                    .constant(w, bytes(K * columns, K, columns)).constant(wScale, floats(columns, columns))
                    .node(node("dequantize_w_second", new Dequantize(1, 0, null), List.of(w, wScale), wSecond))
                    .node(node("matmul_second", new MatMul(), List.of(xHat, wSecond), second))
                    .output(second);
        });
        Graph fused = IntegerMatMulFusion.apply(graph, ShapeInference.apply(graph), TypeCheck.apply(graph), arena);
        assertThat(fused.nodes().stream().map(node -> node.op().name()).toList())
                .containsExactly("Quantize", "MatMulIntegerToFloat", "Split");
        Tensor input = floats(2 * 7 * K, 2, 7, K);
        assertAgree(graph, fused, input, K, "y");
        assertAgree(graph, fused, input, K, "y_second");
    }

    @Test
    void dequantizedOperandsOfGemmsAndConvsMultiplyAsIntegers() {
        for (boolean perChannel : new boolean[] {false, true}) {
            // Gemm with transB, as the loader writes it: w [N, K] → Transpose → MatMul.
            Value x = new Value("x", ValueType.of(DType.FLOAT, Shape.of(Dim.symbol("batch"), Dim.of(K))));
            Graph gemm = qdq(x, DType.UINT8, bytes(N * K, N, K), perChannel ? floats(N, N) : floats(1),
                    perChannel ? bytes(N, N) : null, 0, (builder, xHat, wHat, y) -> {
                        Value transposed = new Value("w_t", null);
                        builder.node(node("transpose", new Transpose(null), List.of(wHat), transposed))
                                .node(node("matmul", new MatMul(), List.of(xHat, transposed), y));
                    });
            checkFused(gemm, floats(5 * K, 5, K), "MatMulIntegerToFloat", K);
            // Conv with a bias, w [M, C, 3, 3] quantized per filter (axis 0).
            Value image = new Value("x", ValueType.of(DType.FLOAT, Shape.of(Dim.of(2), Dim.of(3), Dim.of(6), Dim.of(7))));
            int filters = 4;
            Tensor bias = floats(filters, filters);
            Graph conv = qdq(image, DType.INT8, bytes(filters * 3 * 9, filters, 3, 3, 3),
                    perChannel ? floats(filters, filters) : floats(1), perChannel ? bytes(filters, filters) : null, 0,
                    (builder, xHat, wHat, y) -> {
                        Value b = new Value("bias", null);
                        builder.constant(b, bias).node(node("conv", new Conv(new Window(null, null, null,
                                new long[] {1, 1, 1, 1}, Window.AutoPad.NOTSET, false), 1), List.of(xHat, wHat, b), y));
                    });
            checkFused(conv, floats(2 * 3 * 6 * 7, 2, 3, 6, 7), "ConvIntegerToFloat", 27);
        }
    }

    @Test
    void aQuantizedConvLayerBecomesQLinearConv() {
        for (boolean perChannel : new boolean[] {false, true}) {
            for (boolean relu : new boolean[] {false, true}) {
                for (boolean withBias : new boolean[] {false, true}) {
                    Graph graph = quantizedConvLayer(perChannel, relu, withBias, true);
                    Graph fused = IntegerMatMulFusion.apply(graph, ShapeInference.apply(graph), TypeCheck.apply(graph), arena);
                    List<String> ops = fused.nodes().stream().map(node -> node.op().name()).toList();
                    String what = String.format("per channel %b, relu %b, bias %b", perChannel, relu, withBias);
                    assertThat(ops).as(what).contains("QLinearConv").doesNotContain("Conv", "ConvIntegerToFloat", "RELU");
                    assertThat(ops.stream().filter(op -> op.equals("Quantize"))).as(what).hasSize(1); // x's only
                    assertQuantizedAgree(graph, fused, floats(2 * 3 * 9 * 8, 2, 3, 9, 8), what);
                }
            }
        }
    }

    @Test
    void aQuantizedProjectionBecomesQLinearMatMul() {
        for (boolean perColumn : new boolean[] {false, true}) {
            for (boolean transposed : new boolean[] {false, true}) {
                for (DType yType : new DType[] {DType.UINT8, DType.INT8}) {
                    // w [K, N], or [N, K] through a Transpose as Gemm's transB writes it.
                    Value x = new Value("x", ValueType.of(DType.FLOAT, Shape.of(Dim.of(2), Dim.of(7), Dim.of(K))));
                    Tensor w = transposed ? bytes(N * K, N, K) : bytes(K * N, K, N);
                    Graph graph = qdq(x, DType.UINT8, w, perColumn ? scales(N) : scales(1),
                            perColumn ? arena.fromBytes(DType.INT8, new byte[N], N) : null, transposed ? 0 : 1,
                            (builder, xHat, wHat, y) -> {
                                Value product = new Value("product", null);
                                Value operand = wHat;
                                if (transposed) {
                                    operand = new Value("w_t", null);
                                    builder.node(node("transpose", new Transpose(null), List.of(wHat), operand));
                                }
                                Value yScale = new Value("y_scale", null);
                                Value yZero = new Value("y_zero", null);
                                builder.constant(yScale, arena.fromFloats(new float[] {0.04f}))
                                        .constant(yZero, arena.fromBytes(yType, new byte[] {(byte) 7}))
                                        .node(node("matmul", new MatMul(), List.of(xHat, operand), product))
                                        .node(node("quantize_y", new Quantize(1, 0, true, null), List.of(product, yScale, yZero), y));
                            });
                    Graph fused = IntegerMatMulFusion.apply(graph, ShapeInference.apply(graph), TypeCheck.apply(graph), arena);
                    String what = String.format("per column %b, transposed %b, %s", perColumn, transposed, yType);
                    List<String> ops = fused.nodes().stream().map(node -> node.op().name()).toList();
                    assertThat(ops).as(what).contains("QLinearMatMul").doesNotContain("MatMul", "MatMulIntegerToFloat");
                    assertThat(ops.stream().filter(op -> op.equals("Quantize"))).as(what).hasSize(1); // x's only
                    assertQuantizedAgree(graph, fused, floats(2 * 7 * K, 2, 7, K), what);
                }
            }
        }
    }

    @Test
    void aBiasScaledOtherwiseLeavesTheConvInFloatOutput() {
        // The bias's scale is not x_scale·w_scale, so its integers cannot join the sums: the Conv
        // dequantizes to float, the QuantizeLinear stays, and the outputs still agree.
        Graph graph = quantizedConvLayer(true, false, true, false);
        Graph fused = IntegerMatMulFusion.apply(graph, ShapeInference.apply(graph), TypeCheck.apply(graph), arena);
        assertThat(fused.nodes().stream().map(node -> node.op().name())).contains("ConvIntegerToFloat")
                .doesNotContain("QLinearConv", "Conv");
        assertQuantizedAgree(graph, fused, floats(2 * 3 * 9 * 8, 2, 3, 9, 8), "bias scaled otherwise");
    }

    /**
     * A QDQ model's convolution layer: x quantized to uint8 and dequantized, w int8 dequantized (per
     * output channel or per tensor), an int32 bias dequantized by x_scale·w_scale (or, when not
     * {@code productScale}, by twice it), Conv, an optional Relu, and QuantizeLinear to uint8.
     */
    private Graph quantizedConvLayer(boolean perChannel, boolean relu, boolean withBias, boolean productScale) {
        int filters = 5;
        Value image = new Value("x", ValueType.of(DType.FLOAT, Shape.of(Dim.of(2), Dim.of(3), Dim.of(9), Dim.of(8))));
        Tensor wScale = perChannel ? scales(filters) : scales(1);
        float[] ws = wScale.toFloatArray();
        int[] biasValues = new int[filters];
        float[] biasScales = new float[filters];
        for (int f = 0; f < filters; f++) {
            biasValues[f] = random.nextInt(-3000, 3000);
            biasScales[f] = 0.03f * ws[perChannel ? f : 0] * (productScale ? 1 : 2); // x_scale as qdq() sets it
        }
        return qdq(image, DType.UINT8, bytes(filters * 3 * 9, filters, 3, 3, 3), wScale, null, 0,
                (builder, xHat, wHat, y) -> {
                    Value convOut = new Value("conv_out", null);
                    List<Value> convInputs = List.of(xHat, wHat);
                    if (withBias) {
                        Value biasQ = new Value("bias_q", null);
                        Value biasScale = new Value("bias_scale", null);
                        Value bias = new Value("bias", null);
                        builder.constant(biasQ, arena.fromInts(biasValues, filters))
                                .constant(biasScale, arena.fromFloats(biasScales, filters))
                                .node(node("dequantize_bias", new Dequantize(0, 0, null), List.of(biasQ, biasScale), bias));
                        convInputs = List.of(xHat, wHat, bias);
                    }
                    Value yScale = new Value("y_scale", null);
                    Value yZero = new Value("y_zero", null);
                    builder.constant(yScale, arena.fromFloats(new float[] {0.05f}))
                            .constant(yZero, arena.fromBytes(DType.UINT8, new byte[] {(byte) 110}))
                            .node(node("conv", new Conv(new Window(null, new long[] {2, 1}, null, new long[] {1, 1, 1, 1},
                                    Window.AutoPad.NOTSET, false), 1), convInputs, convOut));
                    Value quantized = convOut;
                    if (relu) {
                        quantized = new Value("relu_out", null);
                        builder.node(node("relu", new Unary(Unary.Kind.RELU, 0, 0), List.of(convOut), quantized));
                    }
                    builder.node(node("quantize_y", new Quantize(1, 0, true, null), List.of(quantized, yScale, yZero), y));
                });
    }

    /** Quantized outputs of the two graphs: within one step (the float graph rounds its sums), nearly all equal. */
    private void assertQuantizedAgree(Graph graph, Graph fused, Tensor input, String what) {
        long[] expected = quantizedOutputs(graph, input);
        long[] actual = quantizedOutputs(fused, input);
        assertThat(actual).as(what).hasSameSizeAs(expected);
        int equal = 0;
        for (int i = 0; i < expected.length; i++) {
            assertThat(actual[i]).as("%s: output %d", what, i).isBetween(expected[i] - 1, expected[i] + 1);
            equal += actual[i] == expected[i] ? 1 : 0;
        }
        assertThat(equal).as(what).isGreaterThanOrEqualTo(expected.length * 98 / 100);
    }

    private long[] quantizedOutputs(Graph graph, Tensor x) {
        try (Session session = new Session(graph, SessionOptions.defaults()); Outputs outputs = session.run(Map.of("x", x))) {
            return outputs.get("y").toLongArray();
        }
    }

    private Tensor scales(int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (0.005 + random.nextDouble() * 0.02);
        }
        return arena.fromFloats(values, count);
    }

    /** The layer that reads the dequantized operands. */
    private interface Layer {
        void add(Graph.Builder builder, Value xHat, Value wHat, Value y);
    }

    /** x quantized at run time per tensor, w constant, both dequantized (w along {@code axis}), then the layer. */
    private Graph qdq(Value x, DType xType, Tensor w, Tensor wScale, Tensor wZero, int axis, Layer layer) {
        Value xq = new Value("xq", null);
        Value xScale = new Value("x_scale", null);
        Value xZero = new Value("x_zero", null);
        Value wq = new Value("w", null);
        Value wScaleValue = new Value("w_scale", null);
        Value wZeroValue = new Value("w_zero", null);
        Value xHat = new Value("x_hat", null);
        Value wHat = new Value("w_hat", null);
        Value y = new Value("y", null);
        Graph.Builder builder = Graph.builder("qdq").input(x)
                .constant(xScale, arena.fromFloats(new float[] {0.03f}))
                .constant(xZero, arena.fromBytes(xType, new byte[] {(byte) (xType == DType.UINT8 ? 120 : 4)}))
                .constant(wq, w).constant(wScaleValue, wScale)
                .node(node("quantize", new Quantize(1, 0, true, null), List.of(x, xScale, xZero), xq))
                .node(node("dequantize_x", new Dequantize(1, 0, null), List.of(xq, xScale, xZero), xHat));
        if (wZero != null) {
            builder.constant(wZeroValue, wZero).node(node("dequantize_w", new Dequantize(axis, 0, null),
                    List.of(wq, wScaleValue, wZeroValue), wHat));
        } else {
            builder.node(node("dequantize_w", new Dequantize(axis, 0, null), List.of(wq, wScaleValue), wHat));
        }
        layer.add(builder, xHat, wHat, y);
        return builder.output(y).build();
    }

    /** Fused as {@code op}, with outputs equal to the float graph's up to the rounding of {@code terms}-term sums. */
    private void checkFused(Graph graph, Tensor input, String op, int terms) {
        Graph fused = IntegerMatMulFusion.apply(graph, ShapeInference.apply(graph), TypeCheck.apply(graph), arena);
        assertThat(fused.nodes().stream().map(node -> node.op().name())).contains(op).doesNotContain("MatMul", "Conv");
        assertAgree(graph, fused, input, terms, "y");
    }

    /**
     * The float graph rounds each of its {@code terms} partial sums; the integer one is exact until
     * the final scaling: they agree to float rounding of sums of this size.
     */
    private void assertAgree(Graph graph, Graph fused, Tensor input, int terms, String output) {
        float[] expected = outputs(graph, input, output);
        float[] actual = outputs(fused, input, output);
        float largest = 0;
        for (float value : expected) {
            largest = Math.max(largest, Math.abs(value));
        }
        for (int i = 0; i < expected.length; i++) {
            assertThat(actual[i]).as("%s[%d]", output, i).isCloseTo(expected[i],
                    org.assertj.core.data.Offset.offset(terms * 0x1p-24f * 4 * largest));
        }
    }

    private float[] outputs(Graph graph, Tensor x, String output) {
        try (Session session = new Session(graph, SessionOptions.defaults()); Outputs outputs = session.run(Map.of("x", x))) {
            return outputs.get(output).toFloatArray();
        }
    }

    private static Node node(String name, CoreOp op, List<Value> inputs, Value output) {
        return new Node(name, op, inputs, List.of(output), "test");
    }

    private int[] run(Graph graph, Tensor x) {
        try (Session session = new Session(graph, SessionOptions.defaults()); Outputs outputs = session.run(Map.of("x", x))) {
            float[] values = outputs.get("y").toFloatArray();
            return Arrays.stream(toBits(values)).toArray();
        }
    }

    /** The bits of outputs y0 .. y{count − 1}, one after another. */
    private int[] runAll(Graph graph, Tensor x, int count) {
        try (Session session = new Session(graph, SessionOptions.defaults()); Outputs outputs = session.run(Map.of("x", x))) {
            return java.util.stream.IntStream.range(0, count)
                    .flatMap(i -> Arrays.stream(toBits(outputs.get("y" + i).toFloatArray()))).toArray();
        }
    }

    private static int[] toBits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    private Tensor floats(int count, long... sizes) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return arena.fromFloats(values, sizes);
    }

    private Tensor bytes(int count, long... sizes) {
        byte[] values = new byte[count];
        for (int i = 0; i < count; i++) {
            values[i] = (byte) random.nextInt(-128, 128);
        }
        return arena.fromBytes(DType.INT8, values, sizes);
    }
}
