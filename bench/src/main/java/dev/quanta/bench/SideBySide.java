package dev.quanta.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
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
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Quanta and ONNX Runtime side by side in one JVM on single-op models: MatMulInteger with a uint8
 * activation fed at run time and constant int8 weights, the same inputs to both, outputs checked
 * equal before anything is timed. The weights are 7-bit, as ONNX Runtime's quantizer makes them
 * with {@code reduce_range}: on CPUs without VNNI its u8×s8 kernel adds pairs of products in
 * saturating int16 ({@code vpmaddubsw}), so full-range weights give it wrong sums to compare with. Each engine runs warm-up passes, then four timed passes of at
 * least {@link #PASS_NANOS}; the median pass gives its throughput.
 */
public final class SideBySide {

    /** M × K × N of the table: the M = 1 decoding shape, BERT-base projections, squares. */
    static final int[][] SHAPES = {
        {1, 384, 1536}, {128, 384, 384}, {128, 384, 1536}, {128, 1536, 384},
        {512, 1024, 1024}, {1024, 1024, 1024}, {2048, 2048, 2048},
    };
    private static final long PASS_NANOS = 300_000_000L;
    private static final long WARM_UP_NANOS = 1_000_000_000L;
    private static final int PASSES = 4;
    private static final int WARM_UP_CALLS = 20;

    private SideBySide() {
    }

    /** One row of the table: throughputs in GOP/s (2·M·K·N operations per run). */
    record Row(int[] shape, int threads, double quanta, double onnxRuntime) {
        double ratio() {
            return quanta / onnxRuntime;
        }
    }

    public static void main(String[] args) throws Exception {
        if (List.of(args).equals(List.of("--minilm"))) {
            MiniLmSideBySide.run(2);
            return;
        }
        if (!List.of(args).equals(List.of("--int8"))) {
            System.err.println("usage: quanta bench-ops --int8 | --minilm   (MatMulInteger, or the int8 all-MiniLM-L6-v2,"
                    + " Quanta and ONNX Runtime side by side)");
            System.exit(2);
        }
        int[] threadCounts = {1, 2};
        System.out.printf("MatMulInteger (uint8 activations × int8 constant weights, zero points per tensor)%n");
        System.out.printf("%s, %d cores available, JDK %s, ONNX Runtime %s%n", System.getProperty("os.arch"),
                Runtime.getRuntime().availableProcessors(), Runtime.version(), OrtEnvironment.getEnvironment().getVersion());
        System.out.printf("%-16s %7s %12s %12s %8s%n", "M×K×N", "threads", "Quanta GOP/s", "ORT GOP/s", "ratio");
        List<Row> rows = new ArrayList<>();
        for (int threads : threadCounts) {
            for (int[] shape : SHAPES) {
                Row row = matMulInteger(shape, threads);
                rows.add(row);
                System.out.printf("%-16s %7d %12.1f %12.1f %8.2f%n", shape[0] + "×" + shape[1] + "×" + shape[2], threads,
                        row.quanta(), row.onnxRuntime(), row.ratio());
            }
        }
        double logSum = 0;
        int count = 0;
        for (Row row : rows) {
            if (row.threads() == 2) {
                logSum += Math.log(row.ratio());
                count++;
            }
        }
        System.out.printf("int8 geomean ratio vs ORT: %.2f%n", Math.exp(logSum / count));
    }

    static Row matMulInteger(int[] shape, int threads) throws OrtException {
        int m = shape[0];
        int k = shape[1];
        int n = shape[2];
        SplittableRandom random = new SplittableRandom(42);
        byte[] activations = new byte[m * k];
        byte[] weights = new byte[k * n];
        for (int i = 0; i < activations.length; i++) {
            activations[i] = (byte) random.nextInt(256);
        }
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (byte) random.nextInt(-64, 64);
        }
        byte[] model = matMulIntegerModel(k, n, weights, (byte) 131, (byte) -3);
        double operations = 2.0 * m * k * n;
        int[] expected;
        double onnxRuntime;
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            try (OrtSession session = environment.createSession(model, options);
                    OnnxTensor input = OnnxTensor.createTensor(environment, ByteBuffer.wrap(activations),
                            new long[] {m, k}, ai.onnxruntime.OnnxJavaType.UINT8)) {
                Map<String, OnnxTensor> feeds = Map.of("a", input);
                try (OrtSession.Result result = session.run(feeds)) {
                    IntBuffer values = ((OnnxTensor) result.get(0)).getIntBuffer();
                    expected = new int[values.remaining()];
                    values.get(expected);
                }
                onnxRuntime = operations / medianSeconds(() -> {
                    try (OrtSession.Result ignored = session.run(feeds)) {
                        return;
                    } catch (OrtException e) {
                        throw new IllegalStateException(e);
                    }
                });
            }
        }
        double quanta;
        try (OnnxModel loaded = OnnxModel.load(model, "MatMulInteger " + m + "×" + k + "×" + n);
                Session session = loaded.newSession(new SessionOptions(threads, false));
                TensorArena arena = TensorArena.ofShared()) {
            Map<String, Tensor> feeds = Map.of("a", arena.fromBytes(DType.UINT8, activations, m, k));
            try (Outputs outputs = session.run(feeds)) {
                long[] actual = outputs.get("y").toLongArray();
                if (!Arrays.equals(actual, Arrays.stream(expected).asLongStream().toArray())) {
                    throw new IllegalStateException("Quanta and ONNX Runtime disagree on MatMulInteger " + m + "×" + k
                            + "×" + n);
                }
            }
            quanta = operations / medianSeconds(() -> session.run(feeds).close());
        }
        return new Row(shape, threads, quanta / 1e9, onnxRuntime / 1e9);
    }

    /** The median over {@link #PASSES} timed passes of the seconds one call takes, after one warm-up pass. */
    static double medianSeconds(Runnable call) {
        double[] seconds = new double[PASSES + 1];
        for (int pass = 0; pass <= PASSES; pass++) {
            long start = System.nanoTime();
            long calls = 0;
            long elapsed;
            // The warm-up pass is longer, and at least WARM_UP_CALLS: on 2 cores C2 compiles the kernels
            // while they run, a whole model's worth of them.
            long length = pass == 0 ? WARM_UP_NANOS : PASS_NANOS;
            long least = pass == 0 ? WARM_UP_CALLS : 1;
            do {
                call.run();
                calls++;
                elapsed = System.nanoTime() - start;
            } while (elapsed < length || calls < least);
            seconds[pass] = elapsed / 1e9 / calls;
        }
        double[] timed = Arrays.copyOfRange(seconds, 1, seconds.length);
        Arrays.sort(timed);
        return (timed[PASSES / 2 - 1] + timed[PASSES / 2]) / 2;
    }

    /** y = MatMulInteger(a: uint8 [M, K] fed at run time, b: int8 [K, N] constant, zero points constant). */
    static byte[] matMulIntegerModel(int k, int n, byte[] weights, byte aZero, byte bZero) {
        Onnx.NodeProto node = Onnx.NodeProto.newBuilder().setOpType("MatMulInteger")
                .addAllInput(List.of("a", "b", "a_zero", "b_zero")).addOutput("y").build();
        Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().setName("matmul_integer").addNode(node)
                .addInitializer(tensor("b", Onnx.TensorProto.DataType.INT8_VALUE, weights, k, n))
                .addInitializer(tensor("a_zero", Onnx.TensorProto.DataType.UINT8_VALUE, new byte[] {aZero}))
                .addInitializer(tensor("b_zero", Onnx.TensorProto.DataType.INT8_VALUE, new byte[] {bZero}))
                .addInput(value("a", Onnx.TensorProto.DataType.UINT8_VALUE, "M", k))
                .addOutput(value("y", Onnx.TensorProto.DataType.INT32_VALUE, "M", n)).build();
        return Onnx.ModelProto.newBuilder().setIrVersion(8).setProducerName("quanta-bench")
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17)).setGraph(graph)
                .build().toByteArray();
    }

    private static Onnx.TensorProto tensor(String name, int dataType, byte[] raw, long... dims) {
        Onnx.TensorProto.Builder tensor = Onnx.TensorProto.newBuilder().setName(name).setDataType(dataType)
                .setRawData(ByteString.copyFrom(raw));
        for (long dim : dims) {
            tensor.addDims(dim);
        }
        return tensor.build();
    }

    private static Onnx.ValueInfoProto value(String name, int dataType, String rows, long columns) {
        Onnx.TensorShapeProto shape = Onnx.TensorShapeProto.newBuilder()
                .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam(rows))
                .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(columns)).build();
        return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
                .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(dataType).setShape(shape))).build();
    }
}
