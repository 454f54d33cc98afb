package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.MatMulInteger;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * However a product is split across threads (chunks of rows, the last ones by columns too, or the
 * columns of a packed B with A packed once), every output is computed once and exactly.
 */
class IntegerProductSplitTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void theseTestsRunTheSixteenBitKernel() {
        // graph/pom.xml sets quanta.int8.lanes16, so that its tests cover this kernel on any processor
        // (the conformance module's cover the float GEMM's exact products).
        assertThat(dev.quanta.kernels.simd.Int16Gemm.CHOSEN).isTrue();
    }

    @Test
    void guidedChunksCoverEveryUnitOnceLargestFirst() {
        for (long count = 1; count <= 400; count++) {
            for (long least = 1; least <= 5; least++) {
                for (int threads = 1; threads <= 4; threads++) {
                    long[] starts = MathKernels.guidedChunks(count, least, threads);
                    String what = count + " units, at least " + least + ", " + threads + " threads";
                    assertThat(starts[0]).as(what).isZero();
                    assertThat(starts[starts.length - 1]).as(what).isEqualTo(count);
                    assertThat(starts.length - 1).as(what).isBetween(1, 64);
                    for (int c = 1; c < starts.length; c++) {
                        long size = starts[c] - starts[c - 1];
                        assertThat(size).as(what).isGreaterThanOrEqualTo(Math.min(least, count));
                        if (c > 1 && c < starts.length - 1) {
                            assertThat(size).as(what).isLessThanOrEqualTo(starts[c - 1] - starts[c - 2]);
                        }
                    }
                }
            }
        }
        // 128 rows are 22 six-row tiles: on two threads, chunks of 6, 4, 3, 3, 2, 2 and 2.
        assertThat(MathKernels.guidedChunks(22, 2, 2)).containsExactly(0, 6, 10, 13, 16, 18, 20, 22);
    }

    @Test
    void floatWeightsSplitByColumnsGiveTheBitsOfOneThread() {
        // A constant B split by columns among the tasks, A packed once for all of them (rows across
        // chunks, depths across slices, columns past whole blocks): each output is the same sum in
        // the same order as on one thread, so the bits are the same.
        SplittableRandom random = new SplittableRandom(0x5B118);
        for (int[] shape : new int[][] {{4, 5, 130}, {77, 300, 200}, {150, 530, 389}, {9, 2, 1000}}) {
            int m = shape[0];
            int k = shape[1];
            int n = shape[2];
            float[] a = new float[m * k];
            float[] b = new float[k * n];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) random.nextGaussian();
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) random.nextGaussian();
            }
            Value x = new Value("x", null);
            Value w = new Value("w", null);
            Value y = new Value("y", null);
            Graph graph = Graph.builder("product").input(x).constant(w, arena.fromFloats(b, k, n))
                    .node(new Node("y", new dev.quanta.graph.ops.MatMul(), List.of(x, w), List.of(y), "test"))
                    .output(y).build();
            Map<String, Tensor> feeds = Map.of("x", arena.fromFloats(a, 1, m, k));
            float[] oneThread;
            try (Session session = new Session(graph, new SessionOptions(1, false)); Outputs outputs = session.run(feeds)) {
                oneThread = outputs.get("y").toFloatArray();
            }
            for (int threads = 2; threads <= 4; threads++) {
                try (Session session = new Session(graph, new SessionOptions(threads, false));
                        Outputs outputs = session.run(feeds)) {
                    assertThat(outputs.get("y").toFloatArray()).as("%d×%d×%d, %d threads", m, k, n, threads)
                            .containsExactly(oneThread);
                }
            }
        }
    }

    @Test
    void rowsSplitOverAnyNumberOfThreadsGiveTheExactSums() {
        SplittableRandom random = new SplittableRandom(0x5B117);
        int k = 37;
        int n = 150;
        // B of all 256 values (the float GEMM's integer mode), symmetric int8 and 7-bit weights (the
        // 16-bit lanes' two kinds) when it is constant.
        for (int largest : new int[] {128, 127, 64}) {
            for (int m : new int[] {4, 7, 24, 61, 128, 131, 200}) {
                byte[] a = new byte[m * k];
                byte[] b = new byte[k * n];
                random.nextBytes(a);
                for (int i = 0; i < b.length; i++) {
                    b[i] = (byte) random.nextInt(-largest, Math.min(largest, 127) + 1);
                }
                int aZero = random.nextInt(256);
                int bZero = random.nextInt(256) - 128;
                long[] expected = new long[m * n];
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        long sum = 0;
                        for (int p = 0; p < k; p++) {
                            sum += (long) ((a[i * k + p] & 0xFF) - aZero) * (b[p * n + j] - bZero);
                        }
                        expected[i * n + j] = sum;
                    }
                }
                for (boolean constantB : new boolean[] {true, false}) {
                    Value[] in = {
                        new Value("a", null), new Value("b", null), new Value("a0", null), new Value("b0", null)};
                    Value y = new Value("y", null);
                    Tensor bTensor = arena.fromBytes(DType.INT8, b, k, n);
                    Graph.Builder builder = Graph.builder("product").input(in[0])
                            .constant(in[2], arena.fromBytes(DType.UINT8, new byte[] {(byte) aZero}))
                            .constant(in[3], arena.fromBytes(DType.INT8, new byte[] {(byte) bZero}));
                    builder = constantB ? builder.constant(in[1], bTensor) : builder.input(in[1]);
                    Graph graph = builder.node(new Node("y", new MatMulInteger(), List.of(in), List.of(y), "test"))
                            .output(y).build();
                    Map<String, Tensor> feeds = constantB ? Map.of("a", arena.fromBytes(DType.UINT8, a, m, k))
                            : Map.of("a", arena.fromBytes(DType.UINT8, a, m, k), "b", bTensor);
                    for (int threads = 1; threads <= 4; threads++) {
                        try (Session session = new Session(graph, new SessionOptions(threads, false));
                                Outputs outputs = session.run(feeds)) {
                            assertThat(outputs.get("y").toLongArray())
                                    .as("%d×%d×%d, B within ±%d, constant B %b, %d threads", m, k, n, largest,
                                            constantB, threads)
                                    .containsExactly(expected);
                        }
                    }
                }
            }
        }
    }
}
