package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.MatMulInteger;
import dev.quanta.graph.ops.Transpose;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A stack of rows along leading axes times one 2-D B (ViT's [sequence, batch, hidden] projections,
 * a transposed view) gives numpy's product: the rows taken as one matrix where they lie a stride
 * apart, batch by batch where they do not or where int8 zero points go per row.
 */
class StackedRowsMatMulTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void transposedStacksOfRowsTimesFloatWeights() {
        SplittableRandom random = new SplittableRandom(0x57AC);
        int s = 37;
        int k = 70;
        int n = 150;
        float[] x = values(random, s * k); // [1, s, k], read as [s, 1, k] through a transpose
        float[] w = values(random, k * n);
        for (boolean constantWeights : new boolean[] {true, false}) {
            for (int threads : new int[] {1, 2}) {
                Value input = new Value("x", null);
                Value view = new Value("xt", null);
                Value weights = new Value("w", null);
                Value y = new Value("y", null);
                Graph.Builder builder = Graph.builder("stacked").input(input)
                        .node(new Node("t", new Transpose(new int[] {1, 0, 2}), List.of(input), List.of(view), "test"));
                builder = constantWeights ? builder.constant(weights, arena.fromFloats(w, k, n)) : builder.input(weights);
                Graph graph = builder.node(new Node("y", new MatMul(), List.of(view, weights), List.of(y), "test"))
                        .output(y).build();
                Map<String, Tensor> feeds = constantWeights ? Map.of("x", arena.fromFloats(x, 1, s, k))
                        : Map.of("x", arena.fromFloats(x, 1, s, k), "w", arena.fromFloats(w, k, n));
                try (Session session = new Session(graph, new SessionOptions(threads, false)); Outputs outputs = session.run(feeds)) {
                    Tensor out = outputs.get("y");
                    assertThat(out.shape().sizes()).containsExactly(s, 1, n);
                    float[] product = out.toFloatArray();
                    for (int i = 0; i < s; i++) {
                        for (int j = 0; j < n; j++) {
                            double sum = 0;
                            for (int p = 0; p < k; p++) {
                                sum += (double) x[i * k + p] * w[p * n + j];
                            }
                            assertThat((double) product[i * n + j]).as("row %d column %d, constant %b, %d threads", i, j,
                                    constantWeights, threads).isCloseTo(sum, org.assertj.core.data.Offset.offset(1e-4));
                        }
                    }
                }
            }
        }
    }

    @Test
    void stacksOfInt8RowsWithZeroPointsPerTensorOrPerRow() {
        SplittableRandom random = new SplittableRandom(0x57AD);
        int batches = 3;
        int m = 5;
        int k = 41;
        int n = 130;
        byte[] a = new byte[batches * m * k];
        byte[] b = new byte[k * n];
        random.nextBytes(a);
        random.nextBytes(b);
        int bZero = -7;
        for (int[] aZeros : new int[][] {{131}, {0, 255, 17, 128, 3}}) {
            byte[] zeros = new byte[aZeros.length];
            for (int i = 0; i < zeros.length; i++) {
                zeros[i] = (byte) aZeros[i];
            }
            Value[] in = {new Value("a", null), new Value("b", null), new Value("a0", null), new Value("b0", null)};
            Value y = new Value("y", null);
            Graph graph = Graph.builder("stacked").input(in[0]).constant(in[1], arena.fromBytes(DType.INT8, b, k, n))
                    .constant(in[2], arena.fromBytes(DType.UINT8, zeros, zeros.length))
                    .constant(in[3], arena.fromBytes(DType.INT8, new byte[] {(byte) bZero}))
                    .node(new Node("y", new MatMulInteger(), List.of(in), List.of(y), "test")).output(y).build();
            for (int threads : new int[] {1, 2}) {
                try (Session session = new Session(graph, new SessionOptions(threads, false));
                        Outputs outputs = session.run(Map.of("a", arena.fromBytes(DType.UINT8, a, batches, m, k)))) {
                    Tensor out = outputs.get("y");
                    assertThat(out.shape().sizes()).containsExactly(batches, m, n);
                    long[] sums = out.toLongArray();
                    for (int r = 0; r < batches * m; r++) {
                        int aZero = aZeros[aZeros.length == 1 ? 0 : r % m];
                        for (int j = 0; j < n; j++) {
                            long sum = 0;
                            for (int p = 0; p < k; p++) {
                                sum += (long) ((a[r * k + p] & 0xFF) - aZero) * (b[p * n + j] - bZero);
                            }
                            assertThat(sums[r * n + j]).as("row %d column %d, %d zero points of A, %d threads", r, j,
                                    aZeros.length, threads).isEqualTo(sum);
                        }
                    }
                }
            }
        }
    }

    private static float[] values(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
