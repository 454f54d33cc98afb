package dev.quanta.bench;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.quanta.loader.onnx.proto.Onnx;
import dev.quanta.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Convolution layers of CNNs at batch 1, Quanta and ONNX Runtime side by side in one JVM on the same
 * inputs (outputs compared before anything is timed): ResNet's 3×3 and 1×1 layers and
 * MobileNetV2's depthwise 3×3 at strides 1 and 2, as a float32 Conv with a bias and as a QLinearConv
 * (uint8 activations, 7-bit int8 weights per output channel, an int32 bias), what ONNX Runtime's
 * QOperator format writes. Times are medians of four passes after a warm-up, as the int8 table's.
 */
final class ConvSideBySide {

    /** Channels, filters, group, kernel size, stride, input size; padding keeps the size at stride 1. */
    private static final int[][] LAYERS = {
        {64, 64, 1, 3, 1, 56}, {64, 256, 1, 1, 1, 56}, {144, 144, 144, 3, 1, 56}, {144, 144, 144, 3, 2, 56},
    };
    private static final float Y_SCALE = 0.5f;

    private ConvSideBySide() {
    }

    static void run() throws OrtException {
        System.out.printf("ms per run, Quanta / ONNX Runtime (throughput ratio); batch 1, padding keeps the size%n");
        System.out.printf("%s, %d cores available, JDK %s, ONNX Runtime %s%n", System.getProperty("os.arch"),
                Runtime.getRuntime().availableProcessors(), Runtime.version(), OrtEnvironment.getEnvironment().getVersion());
        System.out.printf("%-34s %7s | %-26s | %-26s%n", "layer", "threads", "float32 Conv + bias", "QLinearConv");
        for (int threads : new int[] {1, 2}) {
            for (int[] layer : LAYERS) {
                String name = String.format("%d→%d, %dx%d%s, stride %d, %dx%d", layer[0], layer[1], layer[3], layer[3],
                        layer[2] > 1 ? " depthwise" : "", layer[4], layer[5], layer[5]);
                System.out.printf("%-34s %7d", name, threads);
                for (boolean quantized : new boolean[] {false, true}) {
                    double[] ms = measure(layer, quantized, threads, name);
                    System.out.printf(" | %7.3f / %7.3f (%5.2f) ", ms[0], ms[1], ms[1] / ms[0]);
                }
                System.out.println();
            }
        }
    }

    /** {Quanta's, ONNX Runtime's} milliseconds per run. */
    private static double[] measure(int[] layer, boolean quantized, int threads, String name) throws OrtException {
        int channels = layer[0];
        int size = layer[5];
        SplittableRandom random = new SplittableRandom(7);
        long[] shape = {1, channels, size, size};
        int count = channels * size * size;
        ByteBuffer input = ByteBuffer.allocateDirect(count * (quantized ? 1 : 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            if (quantized) {
                input.put((byte) random.nextInt(256));
            } else {
                input.putFloat((float) random.nextGaussian());
            }
        }
        input.flip();
        byte[] model = model(layer, quantized, random);
        SideBySide.OrtRun onnxRuntime = SideBySide.onnxRuntime(model, threads, "x", input, shape, !quantized);
        double quanta = SideBySide.quantaSeconds(model, name, threads, "x", input, shape, !quantized,
                y -> check(name, quantized, y, onnxRuntime.output()));
        return new double[] {quanta * 1e3, onnxRuntime.seconds() * 1e3};
    }

    /** Float outputs within rounding of their sums; requantized ones within one step (ties round in other orders). */
    private static void check(String name, boolean quantized, Tensor actual, ByteBuffer expected) {
        if (quantized) {
            long[] values = actual.toLongArray();
            for (int i = 0; i < values.length; i++) {
                int wanted = expected.get(i) & 0xFF;
                if (Math.abs(values[i] - wanted) > 1) {
                    throw new IllegalStateException("Quanta and ONNX Runtime disagree on QLinearConv " + name + " at " + i
                            + ": " + values[i] + " against " + wanted);
                }
            }
            return;
        }
        SideBySide.checkFloats("Conv " + name, actual, expected);
    }

    private static byte[] model(int[] layer, boolean quantized, SplittableRandom random) {
        int channels = layer[0];
        int filters = layer[1];
        int group = layer[2];
        int kernel = layer[3];
        int taps = channels / group * kernel * kernel;
        Onnx.NodeProto.Builder conv = Onnx.NodeProto.newBuilder().setOpType(quantized ? "QLinearConv" : "Conv").addOutput("y")
                .addAttribute(ints("pads", kernel / 2, kernel / 2, kernel / 2, kernel / 2))
                .addAttribute(ints("strides", layer[4], layer[4]))
                .addAttribute(Onnx.AttributeProto.newBuilder().setName("group").setType(Onnx.AttributeProto.AttributeType.INT)
                        .setI(group));
        Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("conv");
        int uint8 = Onnx.TensorProto.DataType.UINT8_VALUE;
        int int8 = Onnx.TensorProto.DataType.INT8_VALUE;
        int float32 = Onnx.TensorProto.DataType.FLOAT_VALUE;
        long[] weightShape = {filters, channels / group, kernel, kernel};
        if (quantized) {
            float[] weightScales = new float[filters];
            ByteBuffer bias = ByteBuffer.allocate(filters * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int f = 0; f < filters; f++) {
                weightScales[f] = (float) (0.002 + random.nextDouble() * 0.01);
                bias.putInt(random.nextInt(-2000, 2000));
            }
            graph.addInitializer(SideBySide.tensor("x_scale", float32, floats(0.02f)))
                    .addInitializer(SideBySide.tensor("x_zero_point", uint8, new byte[] {(byte) 128}))
                    .addInitializer(SideBySide.tensor("w", int8, SideBySide.weights(random, filters * taps), weightShape))
                    .addInitializer(SideBySide.tensor("w_scale", float32, floats(weightScales), filters))
                    .addInitializer(SideBySide.tensor("w_zero_point", int8, new byte[filters], filters))
                    .addInitializer(SideBySide.tensor("y_scale", float32, floats(Y_SCALE)))
                    .addInitializer(SideBySide.tensor("y_zero_point", uint8, new byte[] {(byte) 100}))
                    .addInitializer(SideBySide.tensor("b", Onnx.TensorProto.DataType.INT32_VALUE, bias.array(), filters));
            conv.addAllInput(List.of("x", "x_scale", "x_zero_point", "w", "w_scale", "w_zero_point", "y_scale",
                    "y_zero_point", "b"));
        } else {
            float[] weights = new float[filters * taps];
            float[] bias = new float[filters];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = (float) random.nextGaussian();
            }
            for (int f = 0; f < filters; f++) {
                bias[f] = (float) random.nextGaussian();
            }
            graph.addInitializer(SideBySide.tensor("w", float32, floats(weights), weightShape))
                    .addInitializer(SideBySide.tensor("b", float32, floats(bias), filters));
            conv.addAllInput(List.of("x", "w", "b"));
        }
        int type = quantized ? uint8 : float32;
        return SideBySide.model(graph.addNode(conv)
                .addInput(Onnx.ValueInfoProto.newBuilder().setName("x").setType(tensorType(type)))
                .addOutput(Onnx.ValueInfoProto.newBuilder().setName("y").setType(tensorType(type))));
    }

    private static Onnx.TypeProto tensorType(int type) {
        return Onnx.TypeProto.newBuilder().setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(type)).build();
    }

    /** An INTS attribute. */
    static Onnx.AttributeProto ints(String name, long... values) {
        Onnx.AttributeProto.Builder attribute = Onnx.AttributeProto.newBuilder().setName(name)
                .setType(Onnx.AttributeProto.AttributeType.INTS);
        for (long value : values) {
            attribute.addInts(value);
        }
        return attribute.build();
    }

    private static byte[] floats(float... values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float value : values) {
            buffer.putFloat(value);
        }
        return buffer.array();
    }
}
