package dev.quanta.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.ProfileSummary;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.loader.onnx.OnnxModel;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The int8 all-MiniLM-L6-v2 (ONNX Runtime's dynamic quantization, as langchain4j ships it) end to
 * end, Quanta and ONNX Runtime in one JVM on the same inputs: batch 1 × 128 tokens latency and
 * batch 32 × 128 tokens throughput. Inputs are random word-piece ids between [CLS] and [SEP] with a
 * full attention mask. ONNX Runtime runs with all its graph optimizations, as users run it.
 */
final class MiniLmSideBySide {

    private static final String MODEL = "all-minilm-l6-v2-q.onnx";
    /**
     * Runs before timing batch 1, for both engines: on two cores C2 compiles the kernels while they
     * run, and allocation samples of their uncompiled vector code were still taken 5 s into `quanta
     * bench` (10 warm-up runs, then 50). Blocks of 40 runs at batch 1, timed one after the other in
     * one JVM on two threads, took 79–88 ms (median) in the first block, 41–53 in the second and
     * 36–50 from then on: the VM's noise, no trend. Batch 32 comes after and runs the same kernels.
     */
    private static final int WARM_UP_RUNS = 200;
    private static final int BATCH_32_WARM_UP_RUNS = 10;
    private static final int TOKENS = 128;
    private static final String[] INPUTS = {"input_ids", "attention_mask", "token_type_ids"};

    private MiniLmSideBySide() {
    }

    static void run(int threads) throws OrtException {
        byte[] model = model();
        System.out.printf("int8 all-MiniLM-L6-v2, %d tokens, %d threads (%s, %d cores available, JDK %s, ONNX Runtime %s)%n",
                TOKENS, threads, System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(),
                Runtime.version(), OrtEnvironment.getEnvironment().getVersion());
        System.out.printf("%-8s %14s %14s %8s %16s%n", "batch", "Quanta", "ORT", "ratio", "max |difference|");
        for (int batch : new int[] {1, 32}) {
            long[][] inputs = inputs(batch);
            float[] expected = new float[0];
            OrtEnvironment environment = OrtEnvironment.getEnvironment();
            double onnxRuntime;
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                options.setIntraOpNumThreads(threads);
                try (OrtSession session = environment.createSession(model, options)) {
                    Map<String, OnnxTensor> feeds = new HashMap<>();
                    for (int i = 0; i < INPUTS.length; i++) {
                        feeds.put(INPUTS[i], OnnxTensor.createTensor(environment, LongBuffer.wrap(inputs[i]),
                                new long[] {batch, TOKENS}));
                    }
                    try (OrtSession.Result result = session.run(feeds)) {
                        expected = ((OnnxTensor) result.get(0)).getFloatBuffer().array();
                    }
                    onnxRuntime = SideBySide.medianSeconds(() -> {
                        try (OrtSession.Result ignored = session.run(feeds)) {
                            return;
                        } catch (OrtException e) {
                            throw new IllegalStateException(e);
                        }
                    }, batch == 1 ? WARM_UP_RUNS : BATCH_32_WARM_UP_RUNS);
                    feeds.values().forEach(OnnxTensor::close);
                }
            }
            double quanta;
            double difference = 0;
            try (OnnxModel loaded = OnnxModel.load(model, MODEL);
                    Session session = loaded.newSession(new SessionOptions(threads, false));
                    TensorArena arena = TensorArena.ofShared()) {
                Map<String, Tensor> feeds = new HashMap<>();
                for (int i = 0; i < INPUTS.length; i++) {
                    feeds.put(INPUTS[i], arena.fromLongs(DType.INT64, inputs[i], batch, TOKENS));
                }
                try (Outputs outputs = session.run(feeds)) {
                    float[] actual = outputs.get(session.graph().outputs().get(0).name()).toFloatArray();
                    for (int i = 0; i < actual.length; i++) {
                        difference = Math.max(difference, Math.abs(actual[i] - expected[i]));
                    }
                }
                quanta = SideBySide.medianSeconds(() -> session.run(feeds).close(),
                        batch == 1 ? WARM_UP_RUNS : BATCH_32_WARM_UP_RUNS);
            }
            String unit = batch == 1 ? "ms" : "seq/s";
            double q = batch == 1 ? quanta * 1e3 : batch / quanta;
            double o = batch == 1 ? onnxRuntime * 1e3 : batch / onnxRuntime;
            System.out.printf("%-8s %8.2f %-5s %8.2f %-5s %8.2f %16.2e%n", batch + "×" + TOKENS, q, unit, o, unit,
                    onnxRuntime / quanta, difference);
        }
    }

    /**
     * Quanta's per-node profile of the batch-1 run, summed by op, on 1 and 2 threads: the median of
     * each op's time over {@code runs} runs after {@code runs} warm-up runs.
     */
    static void profile(int runs) {
        byte[] model = model();
        long[][] inputs = inputs(1);
        System.out.printf("int8 all-MiniLM-L6-v2, batch 1 × %d tokens, Quanta's per-node profile, ms per run (median of %d"
                + " runs after %d)%n", TOKENS, runs, runs);
        Map<Integer, Map<String, Double>> byThreads = new java.util.TreeMap<>();
        for (int threads : new int[] {1, 2}) {
            try (OnnxModel loaded = OnnxModel.load(model, MODEL);
                    Session session = loaded.newSession(new SessionOptions(threads, true));
                    TensorArena arena = TensorArena.ofShared()) {
                Map<String, Tensor> feeds = new HashMap<>();
                for (int i = 0; i < INPUTS.length; i++) {
                    feeds.put(INPUTS[i], arena.fromLongs(DType.INT64, inputs[i], 1, TOKENS));
                }
                ProfileSummary summary = new ProfileSummary();
                for (int run = 0; run < 2 * runs; run++) {
                    try (Outputs outputs = session.run(feeds)) {
                        if (run >= runs) {
                            summary.add(outputs.profile().orElseThrow());
                        }
                    }
                }
                Map<String, Double> medians = new HashMap<>();
                summary.byOp().forEach(entry -> medians.put(entry.op(), entry.medianMillis()));
                medians.put("(all nodes)", summary.medianTotalMillis());
                byThreads.put(threads, medians);
            }
        }
        System.out.printf("%-22s %10s %10s%n", "op", "1 thread", "2 threads");
        byThreads.get(1).entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
                .forEach(entry -> System.out.printf("%-22s %10.2f %10.2f%n", entry.getKey(), entry.getValue(),
                        byThreads.get(2).getOrDefault(entry.getKey(), 0.0)));
    }

    /** ids, mask and token types, row-major [batch, TOKENS]. */
    private static long[][] inputs(int batch) {
        SplittableRandom random = new SplittableRandom(7);
        long[][] result = new long[3][batch * TOKENS];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < TOKENS; t++) {
                result[0][b * TOKENS + t] = t == 0 ? 101 : t == TOKENS - 1 ? 102 : random.nextInt(1996, 30522);
                result[1][b * TOKENS + t] = 1;
            }
        }
        return result;
    }

    private static byte[] model() {
        try (InputStream in = MiniLmSideBySide.class.getClassLoader().getResourceAsStream(MODEL)) {
            if (in == null) {
                throw new IllegalStateException(MODEL + " is not on the class path");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
