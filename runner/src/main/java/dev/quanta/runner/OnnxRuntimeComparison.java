package dev.quanta.runner;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.quanta.graph.Outputs;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * ONNX Runtime on the same model and inputs, for {@code bench --vs-ort}. ONNX Runtime is never part of
 * quanta.jar: the launcher puts its jar on the class path only for this option.
 */
final class OnnxRuntimeComparison implements AutoCloseable {

    private final OrtEnvironment environment;
    private final OrtSession session;

    private OnnxRuntimeComparison(OrtEnvironment environment, OrtSession session) {
        this.environment = environment;
        this.session = session;
    }

    static OnnxRuntimeComparison open(Path model, int threads) {
        try {
            Class.forName("ai.onnxruntime.OrtEnvironment");
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalStateException("--vs-ort needs ONNX Runtime's jar on the class path; ./quanta adds it"
                    + " (runner/target/oracle), java -jar quanta.jar alone does not");
        }
        try {
            OrtEnvironment environment = OrtEnvironment.getEnvironment();
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            options.setIntraOpNumThreads(threads);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            return new OnnxRuntimeComparison(environment, environment.createSession(model.toString(), options));
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime cannot load " + model + ": " + e.getMessage(), e);
        }
    }

    void run(Map<String, Tensor> inputs) {
        Map<String, OnnxTensor> feeds = feeds(inputs);
        try (OrtSession.Result ignored = session.run(feeds)) {
            // Only the time counts here.
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
        } finally {
            feeds.values().forEach(OnnxTensor::close);
        }
    }

    /**
     * The largest absolute difference over every numeric output both engines give: infinite where
     * an output's sizes differ or one engine gives NaN or an infinity where the other does not; NaN
     * where no output could be compared (string outputs, say).
     */
    double maxAbsDifference(Map<String, Tensor> inputs, Outputs quanta) {
        Map<String, OnnxTensor> feeds = feeds(inputs);
        try (OrtSession.Result result = session.run(feeds)) {
            double largest = Double.NaN;
            for (Map.Entry<String, OnnxValue> output : result) {
                if (!(output.getValue() instanceof OnnxTensor tensor) || !quanta.names().contains(output.getKey())) {
                    continue;
                }
                double[] expected = values(tensor);
                if (expected == null) {
                    continue;
                }
                double[] actual = quanta.get(output.getKey()).toDoubleArray();
                largest = Double.isNaN(largest) ? 0 : largest;
                if (expected.length != actual.length) {
                    return Double.POSITIVE_INFINITY;
                }
                for (int i = 0; i < actual.length; i++) {
                    // Equal infinities and NaN against NaN agree; NaN against a number differs without bound.
                    boolean same = actual[i] == expected[i] || Double.isNaN(actual[i]) && Double.isNaN(expected[i]);
                    double difference = same ? 0 : Math.abs(actual[i] - expected[i]);
                    largest = Math.max(largest, Double.isNaN(difference) ? Double.POSITIVE_INFINITY : difference);
                }
            }
            return largest;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
        } finally {
            feeds.values().forEach(OnnxTensor::close);
        }
    }

    private Map<String, OnnxTensor> feeds(Map<String, Tensor> inputs) {
        Map<String, OnnxTensor> feeds = new HashMap<>();
        try {
            for (Map.Entry<String, Tensor> input : inputs.entrySet()) {
                feeds.put(input.getKey(), tensor(input.getKey(), input.getValue()));
            }
            return feeds;
        } catch (OrtException e) {
            feeds.values().forEach(OnnxTensor::close);
            throw new IllegalStateException("ONNX Runtime refused an input: " + e.getMessage(), e);
        }
    }

    private OnnxTensor tensor(String name, Tensor tensor) throws OrtException {
        long[] shape = tensor.shape().sizes();
        DType dtype = tensor.dtype();
        return switch (dtype) {
            case FLOAT -> OnnxTensor.createTensor(environment, FloatBuffer.wrap(tensor.toFloatArray()), shape);
            case DOUBLE -> OnnxTensor.createTensor(environment, DoubleBuffer.wrap(tensor.toDoubleArray()), shape);
            case INT64 -> OnnxTensor.createTensor(environment, LongBuffer.wrap(tensor.toLongArray()), shape);
            case INT32 -> OnnxTensor.createTensor(environment,
                    IntBuffer.wrap(java.util.Arrays.stream(tensor.toLongArray()).mapToInt(Math::toIntExact).toArray()), shape);
            case INT8, UINT8, BOOL -> {
                long[] values = tensor.toLongArray();
                ByteBuffer bytes = ByteBuffer.allocateDirect(values.length).order(ByteOrder.nativeOrder());
                for (long value : values) {
                    bytes.put((byte) value);
                }
                bytes.flip();
                OnnxJavaType type = dtype == DType.INT8 ? OnnxJavaType.INT8
                        : dtype == DType.UINT8 ? OnnxJavaType.UINT8 : OnnxJavaType.BOOL;
                yield OnnxTensor.createTensor(environment, bytes, shape, type);
            }
            default -> throw new IllegalArgumentException("input " + name + " is " + dtype
                    + "; the ONNX Runtime comparison feeds float32/64, int8/32/64, uint8 and bool");
        };
    }

    private static double[] values(OnnxTensor tensor) {
        return switch (tensor.getInfo().type) {
            case FLOAT -> {
                FloatBuffer buffer = tensor.getFloatBuffer();
                double[] values = new double[buffer.remaining()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = buffer.get(i);
                }
                yield values;
            }
            case DOUBLE -> {
                DoubleBuffer buffer = tensor.getDoubleBuffer();
                double[] values = new double[buffer.remaining()];
                buffer.get(values);
                yield values;
            }
            case INT64 -> java.util.Arrays.stream(toArray(tensor.getLongBuffer())).asDoubleStream().toArray();
            case INT32 -> {
                IntBuffer buffer = tensor.getIntBuffer();
                double[] values = new double[buffer.remaining()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = buffer.get(i);
                }
                yield values;
            }
            case FLOAT16, BFLOAT16 -> {
                ByteBuffer bytes = tensor.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                boolean bfloat = tensor.getInfo().type == OnnxJavaType.BFLOAT16;
                double[] values = new double[bytes.remaining() / 2];
                for (int i = 0; i < values.length; i++) {
                    short bits = bytes.getShort(2 * i);
                    values[i] = bfloat ? Float.intBitsToFloat(bits << 16) : Float.float16ToFloat(bits);
                }
                yield values;
            }
            default -> null;
        };
    }

    private static long[] toArray(LongBuffer buffer) {
        long[] values = new long[buffer.remaining()];
        buffer.get(values);
        return values;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed to close its session: " + e.getMessage(), e);
        }
    }
}
