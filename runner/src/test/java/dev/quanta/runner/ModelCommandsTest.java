package dev.quanta.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.conformance.OnnxTestData;
import dev.quanta.loader.onnx.OnnxTensors;
import dev.quanta.tensor.Npy;
import dev.quanta.tensor.TensorArena;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** run, info, bench and profile on a conformance model and on the int8 MiniLM. */
class ModelCommandsTest {

    private static final Path MINILM = Path.of("target/models/all-minilm-l6-v2-q/model.onnx");
    private static final Path MATMUL = OnnxTestData.locate().resolve("node/test_matmul_2d");

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return QuantaCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void runWritesOutputsEqualToTheExpectedOnes(@TempDir Path folder) {
        Path data = MATMUL.resolve("test_data_set_0");
        assertThat(run("run", MATMUL.resolve("model.onnx").toString(), "--input", "a=" + data.resolve("input_0.pb"),
                "--input", "b=" + data.resolve("input_1.pb"), "--output-dir", folder.toString())).as(err.toString()).isZero();
        assertThat(out.toString()).contains("c: float32[3, 3]").contains("ran in");
        try (TensorArena arena = TensorArena.ofConfined()) {
            float[] actual = Npy.read(folder.resolve("c.npy"), arena).toFloatArray();
            float[] expected = OnnxTensors.readFile(data.resolve("output_0.pb"), arena).toFloatArray();
            assertThat(actual).containsExactly(expected, org.assertj.core.data.Offset.offset(1e-5f));
        }
    }

    @Test
    void runMakesUpTextInputsAndNamesBadOnes(@TempDir Path folder) throws Exception {
        assertThat(run("run", MINILM.toString(), "--seq", "6", "--threads", "1")).as(err.toString()).isZero();
        assertThat(out.toString()).contains("last_hidden_state: float32[1, 6, 384]");
        assertThat(run("run", MINILM.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("no file for input(s) input_ids, attention_mask, token_type_ids");
        assertThat(run("run", MINILM.toString(), "--seq", "6", "--input", "nope=x.npy")).isEqualTo(1);
        assertThat(err.toString()).contains("--input names nope, which is not an input of the model");
        assertThat(run("run", MINILM.toString(), "--device", "cuda", "--seq", "6")).isEqualTo(1);
        assertThat(err.toString()).contains("CUDA backend is not built yet");
        Path garbage = Files.write(folder.resolve("garbage.onnx"), new byte[] {1, 2, 3, 4});
        assertThat(run("run", garbage.toString(), "--seq", "6")).isEqualTo(1);
        assertThat(err.toString()).contains("garbage.onnx is not a valid ONNX model");
    }

    /**
     * A conformance model whose initializer 'pos' is listed among its inputs (a default value): made-up
     * inputs leave it to its default, as ONNX Runtime does, where a made-up position fell outside the
     * sequence; its test data, which does not feed it either, gives the expected outputs.
     */
    @Test
    void inputsWithDefaultsAreLeftToThem(@TempDir Path folder) {
        Path model = OnnxTestData.locate().resolve("simple/test_sequence_model1");
        assertThat(run("bench", model.resolve("model.onnx").toString(), "--warmup", "1", "--warmup-seconds", "0", "--iters", "2", "--vs-ort"))
                .as(err.toString()).isZero();
        assertThat(out.toString()).contains("inputs X float32[2, 3, 4], Y float32[1, 3, 4], Z float32[3, 3, 4], ")
                .contains("largest output difference 0");
        Path data = model.resolve("test_data_set_0");
        assertThat(run("run", model.resolve("model.onnx").toString(), "--input", "X=" + data.resolve("input_0.pb"),
                "--input", "Y=" + data.resolve("input_1.pb"), "--input", "Z=" + data.resolve("input_2.pb"),
                "--output-dir", folder.toString())).as(err.toString()).isZero();
        try (TensorArena arena = TensorArena.ofConfined()) {
            assertThat(Npy.read(folder.resolve("out.npy"), arena).toFloatArray())
                    .containsExactly(OnnxTensors.readFile(data.resolve("output_0.pb"), arena).toFloatArray());
        }
    }

    /** The float MiniLM names both of its input dims "batch": the second takes --seq, as the int8 one's does. */
    @Test
    void aSecondDimensionNamedBatchTakesTheSequenceLength() {
        assertThat(run("run", "target/models/all-minilm-l6-v2/model.onnx", "--seq", "5", "--batch", "2", "--threads", "1"))
                .as(err.toString()).isZero();
        assertThat(out.toString()).contains("output_0: float32[2, 5, 384]");
    }

    /**
     * Warm-up runs go on until both their count and their time are done, then while the JIT compiles,
     * for four times that time at most.
     */
    @Test
    void warmUpTakesItsRunsAndItsTime() {
        RunOptions options = new RunOptions();
        options.warmup = 3;
        options.warmupSeconds = 0.2;
        long start = System.nanoTime();
        int[] runs = {0};
        assertThat(options.warmUp(() -> runs[0]++)).isEqualTo(runs[0]).isGreaterThan(3);
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(200_000_000L).isLessThan(1_500_000_000L);
        options.warmupSeconds = 0;
        runs[0] = 0;
        assertThat(options.warmUp(() -> runs[0]++)).isEqualTo(3);
        // A JIT compiling until 0.7 s: the warm-up goes on to a second after that; one never quiet:
        // it stops four times --warmup-seconds after them.
        options.warmupSeconds = 0.5;
        long[] from = {System.nanoTime()};
        LongSupplier compilingUntil = () -> Math.min(System.nanoTime() - from[0], 700_000_000L);
        options.warmUp(() -> { }, compilingUntil);
        assertThat(System.nanoTime() - from[0]).isBetween(1_700_000_000L, 2_400_000_000L);
        from[0] = System.nanoTime();
        options.warmUp(() -> { }, System::nanoTime);
        assertThat(System.nanoTime() - from[0]).isBetween(2_500_000_000L, 3_000_000_000L);
        assertThat(run("bench", MATMUL.resolve("model.onnx").toString(), "--warmup-seconds", "-1")).isEqualTo(2);
        assertThat(err.toString()).contains("--warmup-seconds 0 to 3600");
    }

    @Test
    void outputFileNamesStayInTheFolder() {
        assertThat(RunCommand.fileName("last_hidden_state")).isEqualTo("last_hidden_state.npy");
        assertThat(RunCommand.fileName("../../etc/passwd")).isEqualTo(".._.._etc_passwd.npy");
        assertThat(RunCommand.fileName("..")).isEqualTo("_...npy");
        assertThat(RunCommand.fileName("a/b:c d")).isEqualTo("a_b_c_d.npy");
    }

    @Test
    void infoDescribesTheInt8MiniLm() {
        assertThat(run("info", MINILM.toString())).as(err.toString()).isZero();
        assertThat(out.toString()).contains("IR version 6").contains("opsets     ai.onnx 11")
                .contains("int64[batch_size, sequence_length]").containsPattern("MatMulInteger\\s+36")
                .contains("parameters 22,607,512").containsPattern("of which 9\\d\\.\\d% in int8")
                .contains("Quanta runs every node");
    }

    @Test
    void infoAndProfileDescribeAConformanceModel() {
        Path model = MATMUL.resolve("model.onnx");
        assertThat(run("info", model.toString())).as(err.toString()).isZero();
        assertThat(out.toString()).contains("a                                float32[3, 4]")
                .containsPattern("MatMul\\s+1").contains("multiply-accumulates at a [3, 4], b [4, 3]: 36, of which 0.0% in int8");
        assertThat(run("profile", model.toString(), "--warmup", "1", "--warmup-seconds", "0", "--iters", "3")).as(err.toString()).isZero();
        assertThat(out.toString()).containsPattern("MatMul\\s+1\\s+[0-9.]+\\s+100.0%")
                .contains("fused and integer kernels that ran: none");
    }

    @Test
    void infoListsUnsupportedNodes() {
        Path training = OnnxTestData.locate().resolve("simple/test_gradient_of_add/model.onnx");
        assertThat(run("info", training.toString())).isEqualTo(1);
        assertThat(out.toString()).contains("Quanta cannot run 1 node(s)").contains("Gradient");
    }

    @Test
    void benchReportsPercentilesAndWritesJsonAndPlot(@TempDir Path folder) throws Exception {
        Path json = folder.resolve("bench.json");
        Path plot = folder.resolve("latency.png");
        assertThat(run("bench", MINILM.toString(), "--seq", "16", "--warmup", "2", "--warmup-seconds", "0", "--iters", "5", "--json",
                json.toString(), "--plot", plot.toString())).as(err.toString()).isZero();
        assertThat(out.toString()).contains("p50").contains("p99").contains("throughput").contains("off-heap peak");
        assertThat(Files.readString(json)).contains("\"p90Millis\"").contains("\"throughputPerSecond\"");
        assertThat(Files.size(plot)).isGreaterThan(1000);
    }

    @Test
    void benchVersusOnnxRuntimeComparesOutputs() {
        // The test class path carries ONNX Runtime, as the launcher's does for --vs-ort.
        assertThat(run("bench", MATMUL.resolve("model.onnx").toString(), "--shape", "a=3x4", "--shape", "b=4x3",
                "--warmup", "1", "--warmup-seconds", "0", "--iters", "3", "--vs-ort")).as(err.toString()).isZero();
        assertThat(out.toString()).contains("ONNX Runtime").containsPattern("largest output difference [0-9.e-]+");
    }

    @Test
    void benchVersusOnnxRuntimeComparesHalfPrecisionOutputs() {
        // float16 and bfloat16 outputs are decoded and compared, not passed over.
        for (String cast : new String[] {"test_cast_FLOAT_to_FLOAT16", "test_cast_FLOAT_to_BFLOAT16"}) {
            out.getBuffer().setLength(0);
            assertThat(run("bench", OnnxTestData.locate().resolve("node/" + cast + "/model.onnx").toString(),
                    "--warmup", "1", "--warmup-seconds", "0", "--iters", "2", "--vs-ort")).as(err.toString()).isZero();
            assertThat(out.toString()).as(cast).contains("largest output difference 0");
        }
    }

    @Test
    void profileShowsOpsNodesAndFusedKernels() {
        assertThat(run("profile", MINILM.toString(), "--seq", "8", "--warmup", "1", "--warmup-seconds", "0", "--iters", "3", "--top", "3"))
                .as(err.toString()).isZero();
        // Q, K and V of a layer run as one product: 24 DynamicQuantizeMatMul for its 36 projections.
        assertThat(out.toString()).containsPattern("DynamicQuantizeMatMul\\s+24").contains("slowest nodes")
                .contains("fused and integer kernels that ran: Attention ×6, DynamicQuantizeMatMul ×24, GELU ×6,"
                        + " Normalize ×13");
    }
}
