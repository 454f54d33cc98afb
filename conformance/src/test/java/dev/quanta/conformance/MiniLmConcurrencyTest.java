package dev.quanta.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.loader.onnx.OnnxModel;
import dev.quanta.loader.onnx.Quanta;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * One session of the int8 all-MiniLM-L6-v2 shared by 16 threads, each on its own inputs: every output
 * equals, bit for bit, what the same session gives that input alone. The default run is short;
 * {@code -Dquanta.concurrency.runs=N} makes each thread run N times (the long suite, see SECURITY.md).
 */
class MiniLmConcurrencyTest {

    private static final int THREADS = 16;

    @Test
    void sixteenThreadsShareOneSessionAndGetTheSingleThreadedBits() throws Exception {
        int runsPerThread = Integer.getInteger("quanta.concurrency.runs", 3);
        try (OnnxModel model = load();
                Session session = model.newSession(SessionOptions.defaults());
                TensorArena arena = TensorArena.ofShared()) {
            SplittableRandom random = new SplittableRandom(16);
            List<Map<String, Tensor>> inputs = new ArrayList<>();
            List<float[]> expected = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int tokens = 4 + random.nextInt(60); // every thread its own length
                long[] ids = new long[tokens];
                for (int i = 0; i < tokens; i++) {
                    ids[i] = i == 0 ? 101 : i == tokens - 1 ? 102 : random.nextInt(1996, 30522);
                }
                long[] mask = new long[tokens];
                java.util.Arrays.fill(mask, 1);
                Map<String, Tensor> feeds = Map.of("input_ids", arena.fromLongs(DType.INT64, ids, 1, tokens),
                        "attention_mask", arena.fromLongs(DType.INT64, mask, 1, tokens),
                        "token_type_ids", arena.fromLongs(DType.INT64, new long[tokens], 1, tokens));
                inputs.add(feeds);
                try (Outputs outputs = session.run(feeds)) {
                    expected.add(outputs.get("last_hidden_state").toFloatArray());
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            long start = System.nanoTime();
            try {
                List<Future<?>> runs = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int index = t;
                    runs.add(pool.submit(() -> {
                        for (int run = 0; run < runsPerThread; run++) {
                            try (Outputs outputs = session.run(inputs.get(index))) {
                                assertThat(outputs.get("last_hidden_state").toFloatArray())
                                        .as("thread %d, run %d", index, run).isEqualTo(expected.get(index));
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> run : runs) {
                    run.get();
                }
            } finally {
                pool.shutdown();
            }
            System.out.printf("MiniLM int8, one session, %d threads × %d runs: every output identical to the"
                    + " single-threaded one (%.1f s)%n", THREADS, runsPerThread, (System.nanoTime() - start) / 1e9);
        }
    }

    private static OnnxModel load() throws IOException {
        try (InputStream in = MiniLmConcurrencyTest.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-q.onnx")) {
            assertThat(in).as("the int8 MiniLM on the test class path").isNotNull();
            return Quanta.load(in, "all-minilm-l6-v2-q.onnx");
        }
    }
}
