package dev.quanta.bench;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Session;
import dev.quanta.loader.onnx.OnnxModel;
import dev.quanta.loader.onnx.proto.Onnx;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Layers of QDQ models as ONNX Runtime's static quantizer writes them (QuantizeLinear →
 * DequantizeLinear around each product, int8 weights per output channel, an int32 bias
 * dequantized by x_scale·w_scale), Quanta against ONNX Runtime on the same random input: Quanta
 * must fuse each layer into its integer kernel and agree with ONNX Runtime to one quantization
 * step (the two round the float steps in other orders).
 */
class QdqModelsTest {

    private static final int FLOAT = Onnx.TensorProto.DataType.FLOAT_VALUE;
    private static final int UINT8 = Onnx.TensorProto.DataType.UINT8_VALUE;
    private static final int INT8 = Onnx.TensorProto.DataType.INT8_VALUE;
    private static final int INT32 = Onnx.TensorProto.DataType.INT32_VALUE;
    private static final float X_SCALE = 0.02f;
    private static final float Y_SCALE = 0.05f;

    private final SplittableRandom random = new SplittableRandom(0x0D0_0D0L);

    @Test
    void convLayersDenseDepthwiseAndStrided() throws Exception {
        // channels, filters, group, stride, input size
        int[][] layers = {{8, 12, 1, 1, 10}, {16, 16, 16, 1, 13}, {16, 16, 16, 2, 14}, {6, 12, 6, 2, 9}};
        for (int[] layer : layers) {
            int channels = layer[0];
            int filters = layer[1];
            int group = layer[2];
            int stride = layer[3];
            int size = layer[4];
            Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("qdq_conv");
            float[] weightScales = scales(filters);
            float[] biasScales = new float[filters];
            for (int f = 0; f < filters; f++) {
                biasScales[f] = X_SCALE * weightScales[f];
            }
            graph.addInitializer(bytes("w", INT8, weights(filters * channels / group * 9), filters, channels / group, 3, 3))
                    .addInitializer(floats("w_scale", weightScales, filters))
                    .addInitializer(bytes("w_zero_point", INT8, new byte[filters], filters))
                    .addInitializer(ints("b", filters))
                    .addInitializer(floats("b_scale", biasScales, filters));
            graph.addNode(node("DequantizeLinear", List.of("w", "w_scale", "w_zero_point"), "w_hat").addAttribute(axis(0)))
                    .addNode(node("DequantizeLinear", List.of("b", "b_scale"), "b_hat").addAttribute(axis(0)))
                    .addNode(node("Conv", List.of("x_hat", "w_hat", "b_hat"), "conv")
                            .addAttribute(ConvSideBySide.ints("pads", 1, 1, 1, 1))
                            .addAttribute(ConvSideBySide.ints("strides", stride, stride))
                            .addAttribute(Onnx.AttributeProto.newBuilder().setName("group")
                                    .setType(Onnx.AttributeProto.AttributeType.INT).setI(group)))
                    .addNode(node("Relu", List.of("conv"), "relu"));
            String what = String.format("%d channels, %d filters, group %d, stride %d", channels, filters, group, stride);
            long[] shape = {1, channels, size, size};
            compare(quantizedLayer(graph, "relu", shape), shape, "QLinearConv", what);
        }
    }

    @Test
    void projectionThroughGemmsTranspose() throws Exception {
        int k = 48;
        int n = 20;
        Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("qdq_matmul")
                .addInitializer(bytes("w", INT8, weights(n * k), n, k))
                .addInitializer(floats("w_scale", scales(n), n))
                .addInitializer(bytes("w_zero_point", INT8, new byte[n], n));
        graph.addNode(node("DequantizeLinear", List.of("w", "w_scale", "w_zero_point"), "w_hat").addAttribute(axis(0)))
                .addNode(node("Transpose", List.of("w_hat"), "w_t").addAttribute(ConvSideBySide.ints("perm", 1, 0)))
                .addNode(node("MatMul", List.of("x_hat", "w_t"), "product"));
        long[] shape = {3, 5, k};
        compare(quantizedLayer(graph, "product", shape), shape, "QLinearMatMul", "projection");
    }

    /**
     * The layer between x's QuantizeLinear → DequantizeLinear and y's, which reads "x_hat" and writes
     * {@code last}; x of the given shape.
     */
    private static byte[] quantizedLayer(Onnx.GraphProto.Builder graph, String last, long... shape) {
        Onnx.TensorShapeProto.Builder dims = Onnx.TensorShapeProto.newBuilder();
        for (long dim : shape) {
            dims.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(dim));
        }
        graph.addInitializer(floats("x_scale", new float[] {X_SCALE}))
                .addInitializer(bytes("x_zero_point", UINT8, new byte[] {(byte) 128}))
                .addInitializer(floats("y_scale", new float[] {Y_SCALE}))
                .addInitializer(bytes("y_zero_point", UINT8, new byte[] {(byte) 10}))
                .addNode(0, node("QuantizeLinear", List.of("x", "x_scale", "x_zero_point"), "x_q"))
                .addNode(1, node("DequantizeLinear", List.of("x_q", "x_scale", "x_zero_point"), "x_hat"))
                .addNode(node("QuantizeLinear", List.of(last, "y_scale", "y_zero_point"), "y_q"))
                .addNode(node("DequantizeLinear", List.of("y_q", "y_scale", "y_zero_point"), "y"))
                .addInput(Onnx.ValueInfoProto.newBuilder().setName("x").setType(Onnx.TypeProto.newBuilder()
                        .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(FLOAT).setShape(dims))))
                .addOutput(Onnx.ValueInfoProto.newBuilder().setName("y").setType(floatType()));
        return Onnx.ModelProto.newBuilder().setIrVersion(8).setProducerName("quanta-test")
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(graph).build().toByteArray();
    }

    private void compare(byte[] model, long[] shape, String fusedOp, String what) throws Exception {
        int count = (int) java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact);
        float[] input = new float[count];
        for (int i = 0; i < count; i++) {
            input[i] = (float) random.nextGaussian();
        }
        float[] expected;
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession session = environment.createSession(model, new OrtSession.SessionOptions());
                OnnxTensor x = OnnxTensor.createTensor(environment, FloatBuffer.wrap(input), shape);
                OrtSession.Result result = session.run(Map.of("x", x))) {
            FloatBuffer values = ((OnnxTensor) result.get(0)).getFloatBuffer();
            expected = new float[values.remaining()];
            values.get(expected);
        }
        float[] actual;
        try (TensorArena arena = TensorArena.ofShared(); OnnxModel loaded = OnnxModel.load(model, what)) {
            assertThat(loaded.graph().nodes().stream().map(node -> node.op().name())).as(what).contains(fusedOp)
                    .doesNotContain("Conv", "MatMul");
            try (Session session = loaded.newSession(SessionOptions.defaults());
                    Outputs outputs = session.run(Map.of("x", arena.fromFloats(input, shape)))) {
                Tensor y = outputs.get("y");
                actual = y.toFloatArray();
            }
        }
        assertThat(actual).as(what).hasSameSizeAs(expected);
        int equal = 0;
        for (int i = 0; i < expected.length; i++) {
            assertThat((double) actual[i]).as("%s: y[%d]", what, i)
                    .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(Y_SCALE * 1.001));
            equal += actual[i] == expected[i] ? 1 : 0;
        }
        assertThat(equal).as("%s: outputs equal to ONNX Runtime's", what).isGreaterThanOrEqualTo(expected.length * 95 / 100);
    }

    // ---------------------------------------------------------------- model pieces

    private static Onnx.NodeProto.Builder node(String op, List<String> inputs, String output) {
        return Onnx.NodeProto.newBuilder().setOpType(op).setName(output).addAllInput(inputs).addOutput(output);
    }

    private static Onnx.AttributeProto axis(long value) {
        return Onnx.AttributeProto.newBuilder().setName("axis").setType(Onnx.AttributeProto.AttributeType.INT).setI(value)
                .build();
    }

    private static Onnx.TypeProto floatType() {
        return Onnx.TypeProto.newBuilder().setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(FLOAT)).build();
    }

    private static Onnx.TensorProto bytes(String name, int type, byte[] values, long... dims) {
        return Onnx.TensorProto.newBuilder().setName(name).setDataType(type).setRawData(ByteString.copyFrom(values))
                .addAllDims(toList(dims)).build();
    }

    private static Onnx.TensorProto floats(String name, float[] values, long... dims) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float value : values) {
            buffer.putFloat(value);
        }
        return Onnx.TensorProto.newBuilder().setName(name).setDataType(FLOAT).setRawData(ByteString.copyFrom(buffer.array()))
                .addAllDims(toList(dims)).build();
    }

    private Onnx.TensorProto ints(String name, int count) {
        ByteBuffer buffer = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            buffer.putInt(random.nextInt(-2000, 2000));
        }
        return Onnx.TensorProto.newBuilder().setName(name).setDataType(INT32).setRawData(ByteString.copyFrom(buffer.array()))
                .addDims(count).build();
    }

    private static List<Long> toList(long[] dims) {
        List<Long> list = new ArrayList<>();
        for (long dim : dims) {
            list.add(dim);
        }
        return list;
    }

    /** int8 weights in −64…63, as the quantizer makes them with {@code reduce_range}. */
    private byte[] weights(int count) {
        byte[] values = new byte[count];
        for (int i = 0; i < count; i++) {
            values[i] = (byte) random.nextInt(-64, 64);
        }
        return values;
    }

    private float[] scales(int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (0.002 + random.nextDouble() * 0.01);
        }
        return values;
    }
}
