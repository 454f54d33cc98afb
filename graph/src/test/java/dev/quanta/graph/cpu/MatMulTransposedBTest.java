package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quanta.graph.Graph;
import dev.quanta.graph.GraphException;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.MatMulTransposedB;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A·Bᵀ with B [N, K] as it lies, against sums in double: few rows by dot products, more by the GEMM
 * (B constant and packed once from its transposed view, or fed and packed at each call), A of rank
 * 1 to 3, depths and widths off the vector length, on one thread and more, the same bits on each.
 */
class MatMulTransposedBTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void productsMatchTheDefinitionForEveryShapeClass() {
        SplittableRandom random = new SplittableRandom(0x11EA7L);
        int[] rowCounts = {1, 2, 3, 4, 5, 8, 9, 17, 40};
        for (int trial = 0; trial < 60; trial++) {
            int m = rowCounts[trial % rowCounts.length];
            int k = trial % 4 == 0 ? random.nextInt(200, 700) : random.nextInt(1, 70);
            int n = random.nextInt(1, 80);
            boolean batched = trial % 3 == 0 && m % 2 == 0;
            boolean vector = trial % 9 == 4;
            long[] aSizes = vector ? new long[] {k} : batched ? new long[] {2, m / 2, k} : new long[] {m, k};
            int rows = vector ? 1 : m;
            float[] a = gaussians(random, rows * k);
            float[] b = gaussians(random, n * k);
            boolean constant = trial % 2 == 0;
            String what = String.format("trial %d, A %s, B [%d, %d], %s", trial, java.util.Arrays.toString(aSizes), n, k,
                    constant ? "constant" : "fed");
            float[] single = null;
            for (int threads : new int[] {1, 2, 3}) {
                Tensor out = run(arena.fromFloats(a, aSizes), arena.fromFloats(b, n, k), constant, threads);
                long[] expectedSizes = aSizes.clone();
                expectedSizes[expectedSizes.length - 1] = n;
                assertThat(out.shape()).as(what).isEqualTo(Shape.of(expectedSizes));
                float[] actual = out.toFloatArray();
                if (single == null) {
                    single = actual;
                    for (int i = 0; i < rows; i++) {
                        for (int j = 0; j < n; j++) {
                            double sum = 0;
                            double magnitude = 0;
                            for (int p = 0; p < k; p++) {
                                sum += (double) a[i * k + p] * b[j * k + p];
                                magnitude += Math.abs((double) a[i * k + p] * b[j * k + p]);
                            }
                            assertThat((double) actual[i * n + j]).as("%s at [%d, %d]", what, i, j)
                                    .isCloseTo(sum, Offset.offset(1e-5 * (1 + magnitude)));
                        }
                    }
                } else {
                    assertThat(actual).as("%s, %d threads", what, threads).isEqualTo(single);
                }
            }
        }
    }

    /** No rows, no columns, no depth (zeros): the shapes ONNX gives them, on the dot products' path and the GEMM's. */
    @Test
    void emptyOperandsGiveEmptyOrZeroProducts() {
        for (boolean constant : new boolean[] {true, false}) {
            assertThat(run(arena.fromFloats(new float[0], 0, 5), arena.fromFloats(new float[15], 3, 5), constant, 2).shape())
                    .isEqualTo(Shape.of(0, 3));
            assertThat(run(arena.fromFloats(new float[10], 2, 5), arena.fromFloats(new float[0], 0, 5), constant, 2).shape())
                    .isEqualTo(Shape.of(2, 0));
            for (int rows : new int[] {2, 6}) {
                Tensor out = run(arena.fromFloats(new float[0], rows, 0), arena.fromFloats(new float[0], 3, 0), constant, 2);
                assertThat(out.shape()).isEqualTo(Shape.of(rows, 3));
                assertThat(out.toFloatArray()).containsOnly(0f);
            }
        }
    }

    @Test
    void mismatchedDepthsAndOtherTypesAreRefusedNamingTheNode() {
        Tensor a = arena.fromFloats(new float[6], 2, 3);
        assertThatThrownBy(() -> run(a, arena.fromFloats(new float[8], 2, 4), true, 1)).isInstanceOf(GraphException.class)
                .hasMessageContaining("product").hasMessageContaining("inner dimensions 3 and 4");
        assertThatThrownBy(() -> run(a, arena.allocate(DType.DOUBLE, Shape.of(2, 3)), false, 1))
                .isInstanceOf(GraphException.class).hasMessageContaining("float32");
        assertThatThrownBy(() -> run(a, arena.fromFloats(new float[6], 1, 2, 3), false, 1))
                .isInstanceOf(GraphException.class).hasMessageContaining("2-D");
    }

    private static float[] gaussians(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    /** x·wᵀ, w a constant of the graph or an input. */
    private Tensor run(Tensor x, Tensor w, boolean constant, int threads) {
        Value xValue = new Value("x", null);
        Value wValue = new Value("w", null);
        Value out = new Value("out", null);
        Graph.Builder builder = Graph.builder("product").input(xValue);
        if (constant) {
            builder.constant(wValue, w);
        } else {
            builder.input(wValue);
        }
        Graph graph = builder.node(new Node("product", new MatMulTransposedB(), List.of(xValue, wValue), List.of(out), "test"))
                .output(out).build();
        Map<String, Tensor> feeds = constant ? Map.of("x", x) : Map.of("x", x, "w", w);
        try (Session session = new Session(graph, new SessionOptions(threads, false)); Outputs outputs = session.run(feeds)) {
            return arena.copyOf(outputs.get("out"));
        }
    }
}
