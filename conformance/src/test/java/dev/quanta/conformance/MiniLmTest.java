package dev.quanta.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.loader.onnx.OnnxModel;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.io.IOException;
import java.io.InputStream;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * all-MiniLM-L6-v2, float32 and int8 (the ONNX files shipped in langchain4j's Maven artifacts),
 * against ONNX Runtime on the same inputs: real WordPiece ids, batches 1 and 4 with different
 * lengths and attention masks.
 */
class MiniLmTest {

    /** "[CLS] the quick brown fox jumps over the lazy dog . [SEP]" and shorter sentences, BERT uncased ids. */
    private static final long[][] SENTENCES = {
        {101, 1996, 4248, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 1012, 102},
        {101, 7592, 2088, 999, 102},
        {101, 1045, 2293, 4083, 1998, 4109, 2000, 3229, 1012, 102},
        {101, 2129, 2024, 2017, 1029, 102},
    };

    @TempDir
    static Path folder;
    private static OrtEnvironment environment;

    @BeforeAll
    static void start() {
        environment = OrtEnvironment.getEnvironment();
    }

    @AfterAll
    static void stop() {
        environment.close();
    }

    @Test
    void theseTestsRunTheFloatGemmsExactProducts() {
        // conformance/pom.xml sets the property Int16Gemm.CHOSEN reads, so that the int8 MiniLM and
        // the backend suite cover the float GEMM's exact products on any processor (the graph
        // module's tests cover the 16-bit kernel).
        assertThat(System.getProperty("quanta.int8.lanes16")).isEqualTo("false");
    }

    @Test
    void float32MatchesOnnxRuntimeWithin1e4() throws Exception {
        Path model = extract("/all-minilm-l6-v2.onnx");
        for (int batch : new int[] {1, 4}) {
            float[][][] expected = onnxRuntime(model, batch, OrtSession.SessionOptions.OptLevel.ALL_OPT);
            float[][][] actual = quanta(model, batch);
            double difference = maxAbsDifference(actual, expected, batch);
            System.out.printf("MiniLM float32, batch %d: max abs difference to ONNX Runtime %.3g%n", batch, difference);
            assertThat(difference).isLessThanOrEqualTo(1e-4);
        }
    }

    @Test
    void int8MatchesUnoptimizedOnnxRuntime() throws Exception {
        Path model = extract("/all-minilm-l6-v2-q.onnx");
        for (int batch : new int[] {1, 4}) {
            // ONNX Runtime's optimizer swaps in fused int8 kernels that round differently; compare the graph as written.
            float[][][] expected = onnxRuntime(model, batch, OrtSession.SessionOptions.OptLevel.NO_OPT);
            float[][][] actual = quanta(model, batch);
            double difference = maxAbsDifference(actual, expected, batch);
            double cosine = 1;
            for (int b = 0; b < batch; b++) {
                cosine = Math.min(cosine, cosine(meanPool(actual[b], SENTENCES[b].length),
                        meanPool(expected[b], SENTENCES[b].length)));
            }
            System.out.printf("MiniLM int8, batch %d: max abs difference %.3g, lowest cosine of mean-pooled embeddings %.6f%n",
                    batch, difference, cosine);
            assertThat(cosine).isGreaterThanOrEqualTo(0.9999);
            assertThat(difference).isLessThanOrEqualTo(0.05);
        }
    }

    @Test
    void int8ProjectionsLayerNormsGelusAndSoftmaxesRunFused() throws Exception {
        // Each of the 36 DynamicQuantizeLinear → MatMulInteger → Cast → Mul → Add chains is fused with
        // its quantization, and a layer's Q, K and V (which share theirs) are one product split in
        // three: 24 nodes. The outputs above, compared with ONNX Runtime's unfused graph, come from it.
        try (OnnxModel model = OnnxModel.load(extract("/all-minilm-l6-v2-q.onnx"))) {
            java.util.Map<String, Long> ops = model.graph().nodes().stream().collect(java.util.stream.Collectors.groupingBy(
                    node -> node.op().name(), java.util.stream.Collectors.counting()));
            assertThat(ops).containsEntry("DynamicQuantizeMatMul", 24L).containsEntry("Split", 6L)
                    .doesNotContainKey("MatMulIntegerToFloat").doesNotContainKey("DynamicQuantize")
                    .doesNotContainKey("MatMulInteger");
            // And each of the 13 layer norms, exported as nine nodes, is one Normalize.
            assertThat(ops).containsEntry("Normalize", 13L).doesNotContainKey("Reduce");
            // And each GELU, exported as five nodes, is one.
            assertThat(ops).containsEntry("GELU", 6L).doesNotContainKey("ERF");
            // And each attention, MatMul → Div → Add(mask) → Softmax → MatMul, is one Attention.
            assertThat(ops).containsEntry("Attention", 6L).doesNotContainKey("Softmax").doesNotContainKey("DIV")
                    .doesNotContainKey("MaskedSoftmax").doesNotContainKey("MatMul");
        }
    }

    @Test
    void repeatedRunsAndSessionsGiveTheSameBitsAndKeepNoMemory() throws Exception {
        // The first runs execute interpreted or in C1, later ones in C2, and each session folds its
        // own constants and plans its own buffers: none of that may move the outputs. Nor may a run
        // leave memory behind once its outputs are closed (a kernel's copy of a constant's view
        // had gone into the model's arena at every run).
        Path file = extract("/all-minilm-l6-v2.onnx");
        float[] first = null;
        try (TensorArena arena = TensorArena.ofShared()) {
            Map<String, Tensor> feeds = feeds(arena, 4);
            for (int load = 0; load < 3; load++) {
                try (OnnxModel model = OnnxModel.load(file); Session session = model.newSession(SessionOptions.defaults())) {
                    String output = session.graph().outputs().get(0).name();
                    long live = 0;
                    for (int run = 0; run < 10; run++) {
                        try (Outputs outputs = session.run(feeds)) {
                            float[] values = outputs.get(output).toFloatArray();
                            if (first == null) {
                                first = values;
                            }
                            assertThat(values).as("load %d run %d", load, run).isEqualTo(first);
                        }
                        if (run == 0) {
                            live = TensorArena.liveBytes();
                        }
                        assertThat(TensorArena.liveBytes()).as("live bytes, load %d run %d", load, run).isEqualTo(live);
                    }
                }
            }
        }
    }

    private static float[][][] quanta(Path file, int batch) {
        try (OnnxModel model = OnnxModel.load(file); Session session = model.newSession(SessionOptions.defaults());
                TensorArena arena = TensorArena.ofShared()) {
            System.out.printf("%s: outputs inferred at load as %s%n", file.getFileName(), model.outputShapes());
            int length = length(batch);
            try (Outputs outputs = session.run(feeds(arena, batch))) {
                // The last hidden state is the first output: "last_hidden_state" in the int8 export, "output_0" in the other.
                Tensor hidden = outputs.get(session.graph().outputs().get(0).name());
                assertThat(hidden.shape().sizes()).containsExactly(batch, length, 384);
                System.out.printf("%s, batch %d: the run allocated %.2f MiB (intermediates, reused by lifetime, and outputs)%n",
                        file.getFileName(), batch, outputs.allocatedBytes() / 1048576.0);
                int width = (int) hidden.size(2);
                float[] flat = hidden.toFloatArray();
                float[][][] result = new float[batch][length][width];
                for (int b = 0; b < batch; b++) {
                    for (int t = 0; t < length; t++) {
                        System.arraycopy(flat, (b * length + t) * width, result[b][t], 0, width);
                    }
                }
                return result;
            }
        }
    }

    private static Map<String, Tensor> feeds(TensorArena arena, int batch) {
        long[][] inputs = inputs(batch);
        int length = length(batch);
        return Map.of("input_ids", arena.fromLongs(DType.INT64, inputs[0], batch, length),
                "attention_mask", arena.fromLongs(DType.INT64, inputs[1], batch, length),
                "token_type_ids", arena.fromLongs(DType.INT64, inputs[2], batch, length));
    }

    private static float[][][] onnxRuntime(Path model, int batch, OrtSession.SessionOptions.OptLevel level)
            throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(level);
            try (OrtSession session = environment.createSession(model.toString(), options)) {
                long[][] inputs = inputs(batch);
                long[] shape = {batch, length(batch)};
                Map<String, OnnxTensor> feeds = new HashMap<>();
                String[] names = {"input_ids", "attention_mask", "token_type_ids"};
                try {
                    for (int i = 0; i < 3; i++) {
                        feeds.put(names[i], OnnxTensor.createTensor(environment, LongBuffer.wrap(inputs[i]), shape));
                    }
                    try (OrtSession.Result result = session.run(feeds)) {
                        return (float[][][]) result.get(0).getValue();
                    }
                } finally {
                    feeds.values().forEach(OnnxTensor::close);
                }
            }
        }
    }

    /** ids, mask and token types, row-major [batch, longest], padded with 0 and masked. */
    private static long[][] inputs(int batch) {
        int length = length(batch);
        long[][] result = new long[3][batch * length];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < SENTENCES[b].length; t++) {
                result[0][b * length + t] = SENTENCES[b][t];
                result[1][b * length + t] = 1;
            }
        }
        return result;
    }

    private static int length(int batch) {
        int longest = 0;
        for (int b = 0; b < batch; b++) {
            longest = Math.max(longest, SENTENCES[b].length);
        }
        return longest;
    }

    /** Over the unpadded tokens only: padding positions carry no meaning. */
    private static double maxAbsDifference(float[][][] actual, float[][][] expected, int batch) {
        double max = 0;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < SENTENCES[b].length; t++) {
                for (int i = 0; i < expected[b][t].length; i++) {
                    max = Math.max(max, Math.abs(actual[b][t][i] - expected[b][t][i]));
                }
            }
        }
        return max;
    }

    private static double[] meanPool(float[][] tokens, int length) {
        double[] mean = new double[tokens[0].length];
        for (int t = 0; t < length; t++) {
            for (int i = 0; i < mean.length; i++) {
                mean[i] += tokens[t][i] / length;
            }
        }
        return mean;
    }

    private static double cosine(double[] a, double[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    private static Path extract(String resource) throws IOException {
        Path file = folder.resolve(resource.substring(1));
        if (!Files.exists(file)) {
            // The model jars are on the class path, outside this test module: ask the class loader.
            try (InputStream in = MiniLmTest.class.getClassLoader().getResourceAsStream(resource.substring(1))) {
                assertThat(in).as("test resource " + resource).isNotNull();
                Files.copy(in, file);
            }
        }
        return file;
    }
}
