package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.Transpose;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * MatMul of A by a transposed view of a tensor (attention's Q·Kᵀ), which the GEMM packs from where
 * it lies, gives the bits of the product by the same B laid out row by row, on any number of threads.
 */
class TransposedMatMulTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void batchedProductsByTransposedViewsMatchRowMajorOnes() {
        SplittableRandom random = new SplittableRandom(0x7A55);
        for (int trial = 0; trial < 40; trial++) {
            int batch = random.nextInt(1, 4);
            int m = trial % 5 == 0 ? random.nextInt(1, 4) : random.nextInt(4, 40);
            int n = random.nextInt(1, 70);
            int k = trial % 7 == 0 ? random.nextInt(250, 600) : random.nextInt(1, 60);
            // y is [batch, n, k]; B = Transpose(y, [0, 2, 1]) is [batch, k, n], its columns contiguous.
            float[] x = gaussians(random, batch * m * k);
            float[] y = gaussians(random, batch * n * k);
            float[] yTransposed = new float[y.length];
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < n; j++) {
                    for (int i = 0; i < k; i++) {
                        yTransposed[(b * k + i) * n + j] = y[(b * n + j) * k + i];
                    }
                }
            }
            Tensor xTensor = arena.fromFloats(x, batch, m, k);
            float[] expected = product(xTensor, arena.fromFloats(yTransposed, batch, k, n), 1);
            for (int threads : new int[] {1, 2, 3}) {
                float[] actual = transposedProduct(xTensor, arena.fromFloats(y, batch, n, k), new int[] {0, 2, 1}, threads);
                assertThat(actual).as("trial %d batch %d m %d n %d k %d, %d threads", trial, batch, m, n, k, threads)
                        .isEqualTo(expected);
            }
        }
    }

    /** Attention's layout: K [1, S, H, D] transposed by [0, 2, 3, 1] into [1, H, D, S], columns at a stride of H·D. */
    @Test
    void attentionScoresByTheTransposedKeysMatchRowMajorOnes() {
        SplittableRandom random = new SplittableRandom(0x7A56);
        int heads = 3;
        int tokens = 37;
        int depth = 16;
        float[] q = gaussians(random, heads * tokens * depth);
        float[] keys = gaussians(random, tokens * heads * depth);
        float[] keysTransposed = new float[keys.length];
        for (int s = 0; s < tokens; s++) {
            for (int h = 0; h < heads; h++) {
                for (int d = 0; d < depth; d++) {
                    keysTransposed[(h * depth + d) * tokens + s] = keys[(s * heads + h) * depth + d];
                }
            }
        }
        Tensor queries = arena.fromFloats(q, 1, heads, tokens, depth);
        float[] expected = product(queries, arena.fromFloats(keysTransposed, 1, heads, depth, tokens), 1);
        for (int threads : new int[] {1, 2}) {
            assertThat(transposedProduct(queries, arena.fromFloats(keys, 1, tokens, heads, depth), new int[] {0, 2, 3, 1},
                    threads)).as("%d threads", threads).isEqualTo(expected);
        }
    }

    private static float[] gaussians(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    private static float[] product(Tensor a, Tensor b, int threads) {
        Value x = new Value("x", null);
        Value y = new Value("y", null);
        Value out = new Value("out", null);
        Graph graph = Graph.builder("product").input(x).input(y)
                .node(new Node("matmul", new MatMul(), List.of(x, y), List.of(out), "test"))
                .output(out).build();
        return run(graph, Map.of("x", a, "y", b), threads);
    }

    private static float[] transposedProduct(Tensor a, Tensor toTranspose, int[] perm, int threads) {
        Value x = new Value("x", null);
        Value y = new Value("y", null);
        Value transposed = new Value("transposed", null);
        Value out = new Value("out", null);
        Graph graph = Graph.builder("transposed product").input(x).input(y)
                .node(new Node("transpose", new Transpose(Arrays.copyOf(perm, perm.length)), List.of(y),
                        List.of(transposed), "test"))
                .node(new Node("matmul", new MatMul(), List.of(x, transposed), List.of(out), "test"))
                .output(out).build();
        return run(graph, Map.of("x", a, "y", toTranspose), threads);
    }

    private static float[] run(Graph graph, Map<String, Tensor> feeds, int threads) {
        try (Session session = new Session(graph, new SessionOptions(threads, false));
                Outputs outputs = session.run(feeds)) {
            return outputs.get("out").toFloatArray();
        }
    }
}
