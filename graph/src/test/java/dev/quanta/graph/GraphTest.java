package dev.quanta.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.Unary;
import dev.quanta.graph.passes.ConstantFolding;
import dev.quanta.graph.passes.DeadCodeRemoval;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GraphTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    private static Node node(String name, dev.quanta.graph.ops.CoreOp op, List<Value> inputs, Value output) {
        return new Node(name, op, inputs, List.of(output), "test");
    }

    /** y = x · (a + b), with an unused branch u = relu(x). */
    private Graph graph(Value x, Value y) {
        Value a = new Value("a", null);
        Value b = new Value("b", null);
        Value sum = new Value("sum", null);
        Value unused = new Value("unused", null);
        return Graph.builder("g").input(x)
                .constant(a, arena.fromFloats(new float[] {1, 2, 3, 4}, 2, 2))
                .constant(b, arena.fromFloats(new float[] {1, 1, 1, 1}, 2, 2))
                .node(node("add", new Binary(Binary.Kind.ADD), List.of(a, b), sum))
                .node(node("relu", Unary.of(Unary.Kind.RELU), List.of(x), unused))
                .node(node("matmul", new MatMul(), List.of(x, sum), y))
                .output(y).build();
    }

    @Test
    void foldingComputesConstantSubgraphsAndDeadCodeGoes() {
        Value x = new Value("x", ValueType.of(DType.FLOAT, Shape.of(1, 2)));
        Value y = new Value("y", null);
        Graph graph = DeadCodeRemoval.apply(ConstantFolding.apply(graph(x, y), arena));
        assertThat(graph.nodes()).extracting(Node::name).containsExactly("matmul");
        assertThat(graph.constants().keySet()).extracting(Value::name).containsExactly("sum");
        assertThat(graph.constants().values().iterator().next().toFloatArray()).containsExactly(2, 3, 4, 5);
        try (Session session = new Session(graph, SessionOptions.defaults());
                Outputs outputs = session.run(Map.of("x", arena.fromFloats(new float[] {1, 1}, 1, 2)))) {
            assertThat(outputs.get("y").toFloatArray()).containsExactly(6, 8);
        }
    }

    @Test
    void theBuilderRefusesMalformedGraphs() {
        Value x = new Value("x", null);
        Value y = new Value("y", null);
        assertThatThrownBy(() -> Graph.builder("g").input(x).node(node("n", Unary.of(Unary.Kind.RELU), List.of(y), x))
                .build()).isInstanceOf(GraphException.class).hasMessageContaining("'y'");
        assertThatThrownBy(() -> Graph.builder("g").input(x).output(y).build()).isInstanceOf(GraphException.class)
                .hasMessageContaining("never computed");
    }

    @Test
    void kernelErrorsNameTheNode() {
        Value x = new Value("x", null);
        Value w = new Value("w", null);
        Value y = new Value("y", null);
        Graph graph = Graph.builder("g").input(x).input(w).node(node("project", new MatMul(), List.of(x, w), y)).output(y)
                .build();
        try (Session session = new Session(graph, SessionOptions.defaults())) {
            assertThatThrownBy(() -> session.run(Map.of("x", arena.allocate(DType.FLOAT, 2, 3), "w",
                    arena.allocate(DType.FLOAT, 4, 5)))).isInstanceOf(GraphException.class)
                    .hasMessageContaining("'project'").hasMessageContaining("inner dimensions");
        }
    }

    @Test
    void oneSessionServesManyThreadsAtOnce() throws Exception {
        Value x = new Value("x", null);
        Value y = new Value("y", null);
        try (Session session = new Session(graph(x, y), SessionOptions.defaults())) {
            runConcurrently(session);
        }
    }

    @Test
    void closingASessionWaitsForTheRunsInFlightAndRefusesLaterOnes() throws Exception {
        Value x = new Value("x", null);
        Value y = new Value("y", null);
        Tensor input = arena.fromFloats(new float[] {1, 1}, 1, 2);
        Session session = new Session(graph(x, y), new SessionOptions(2, false));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        java.util.concurrent.atomic.AtomicInteger completed = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
        List<Outputs> kept = java.util.Collections.synchronizedList(new ArrayList<>());
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                runs.add(pool.submit(() -> {
                    for (int repeat = 0; repeat < 2000; repeat++) {
                        try {
                            Outputs outputs = session.run(Map.of("x", input));
                            completed.incrementAndGet();
                            if (repeat % 100 == 0) {
                                kept.add(outputs); // read after the session is closed
                            } else {
                                outputs.close();
                            }
                        } catch (IllegalStateException e) {
                            assertThat(e).hasMessageContaining("closed");
                            refused.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            Thread.sleep(20);
            session.close();
            session.close();
            for (Future<?> run : runs) {
                run.get();
            }
        } finally {
            pool.shutdown();
        }
        assertThat(completed.get()).isPositive();
        assertThat(refused.get()).isPositive();
        assertThat(completed.get() + refused.get()).isEqualTo(8 * 2000);
        for (Outputs outputs : kept) {
            try (outputs) {
                assertThat(outputs.get("y").toFloatArray()).containsExactly(6, 8);
            }
        }
    }

    @Test
    void offHeapMemoryReturnsToItsBaselineAfter10000Runs() {
        Value x = new Value("x", null);
        Value y = new Value("y", null);
        Tensor input = arena.fromFloats(new float[] {1, 1}, 1, 2);
        Graph graph = graph(x, y);
        long baseline = TensorArena.liveBytes();
        try (Session session = new Session(graph, new SessionOptions(2, false))) {
            long afterFirst = 0;
            for (int run = 0; run < 10_000; run++) {
                try (Outputs outputs = session.run(Map.of("x", input))) {
                    assertThat(outputs.get("y").getFloat(0, 1)).isEqualTo(8);
                }
                if (run == 0) {
                    afterFirst = TensorArena.liveBytes();
                }
            }
            // Between runs nothing is live: every run's tensors went back to the session's pool.
            assertThat(TensorArena.liveBytes()).isEqualTo(afterFirst).isEqualTo(baseline);
        }
        assertThat(TensorArena.liveBytes()).isEqualTo(baseline);
    }

    private void runConcurrently(Session session) throws Exception {
        SplittableRandom random = new SplittableRandom(42);
        int threads = 16;
        List<Tensor> inputs = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Tensor input = arena.fromFloats(new float[] {(float) random.nextGaussian(), (float) random.nextGaussian()}, 1, 2);
            inputs.add(input);
            try (Outputs outputs = session.run(Map.of("x", input))) {
                expected.add(outputs.get("y").toFloatArray());
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int index = t;
                runs.add(pool.submit(() -> {
                    for (int repeat = 0; repeat < 200; repeat++) {
                        try (Outputs outputs = session.run(Map.of("x", inputs.get(index)))) {
                            assertThat(outputs.get("y").toFloatArray()).containsExactly(expected.get(index));
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
    }

    @Test
    void threadedMatMulEqualsSingleThreadedBitForBitAndProfilesEachNode() {
        Value a = new Value("a", null);
        Value b = new Value("b", null);
        Value c = new Value("c", null);
        Graph graph = Graph.builder("g").input(a).input(b).node(node("mm", new MatMul(), List.of(a, b), c)).output(c).build();
        SplittableRandom random = new SplittableRandom(9);
        // 128 rows on four threads: 22 six-row tiles spread over tasks of two or three, the last tile partial.
        for (long[][] shapes : new long[][][] {{{37, 19}, {19, 23}}, {{3, 5, 7}, {7, 9}}, {{1, 64}, {64, 33}},
                {{128, 64}, {64, 96}}}) {
            Tensor left = random(random, shapes[0]);
            Tensor right = random(random, shapes[1]);
            float[] single;
            try (Session session = new Session(graph, new SessionOptions(1, false));
                    Outputs outputs = session.run(Map.of("a", left, "b", right))) {
                single = outputs.get("c").toFloatArray();
                assertThat(outputs.profile()).isEmpty();
            }
            try (Session session = new Session(graph, new SessionOptions(4, true));
                    Outputs outputs = session.run(Map.of("a", left, "b", right))) {
                assertThat(outputs.get("c").toFloatArray()).containsExactly(single);
                assertThat(outputs.profile()).hasValueSatisfying(timings -> {
                    assertThat(timings).extracting(NodeTiming::node).containsExactly("mm");
                    assertThat(timings.get(0).nanos()).isPositive();
                });
                assertThat(outputs.allocatedBytes()).isGreaterThanOrEqualTo(outputs.get("c").elementCount() * 4);
            }
        }
    }

    /**
     * Inputs from a confined arena, which only the caller's thread may read, feed kernels that
     * run on the helpers too: the run copies them; another thread's confined tensor is refused.
     */
    @Test
    void inputsFromAConfinedArenaRunOnEveryThread() throws Exception {
        Value a = new Value("a", null);
        Value b = new Value("b", null);
        Value c = new Value("c", null);
        Graph graph = Graph.builder("g").input(a).input(b).node(node("mm", new MatMul(), List.of(a, b), c)).output(c).build();
        SplittableRandom random = new SplittableRandom(4);
        Tensor left = random(random, new long[] {128, 64});
        Tensor right = random(random, new long[] {64, 96});
        try (Session session = new Session(graph, new SessionOptions(2, false));
                TensorArena confined = TensorArena.ofConfined();
                Outputs shared = session.run(Map.of("a", left, "b", right))) {
            Map<String, Tensor> feeds = Map.of("a", confined.copyOf(left), "b", confined.copyOf(right));
            try (Outputs outputs = session.run(feeds)) {
                assertThat(outputs.get("c").toFloatArray()).containsExactly(shared.get("c").toFloatArray());
            }
            ExecutorService other = Executors.newSingleThreadExecutor();
            try {
                Future<?> run = other.submit(() -> session.run(feeds).close());
                assertThatThrownBy(run::get).hasRootCauseInstanceOf(GraphException.class)
                        .rootCause().hasMessageContaining("input 'a'").hasMessageContaining("confined to another thread");
            } finally {
                other.shutdown();
            }
        }
    }

    @Test
    void matMulReadsPermutedViewsWhereTheyLieWithTheBitsOfDenseCopies() {
        Value a = new Value("a", null);
        Value b = new Value("b", null);
        Value c = new Value("c", null);
        Graph graph = Graph.builder("g").input(a).input(b).node(node("mm", new MatMul(), List.of(a, b), c)).output(c).build();
        SplittableRandom random = new SplittableRandom(11);
        // Attention's heads: Q and V as views whose rows are contiguous, Kᵀ as one whose columns are.
        Tensor queries = random(random, new long[] {2, 37, 3, 5}).permute(0, 2, 1, 3);
        Tensor values = random(random, new long[] {2, 5, 3, 9}).permute(0, 2, 1, 3);
        Tensor keys = random(random, new long[] {2, 9, 3, 5}).permute(0, 2, 3, 1);
        for (Tensor right : List.of(values, keys)) {
            try (Session session = new Session(graph, new SessionOptions(2, false));
                    Outputs views = session.run(Map.of("a", queries, "b", right));
                    Outputs dense = session.run(Map.of("a", queries.contiguous(), "b", right.contiguous()))) {
                assertThat(views.get("c").toFloatArray()).containsExactly(dense.get("c").toFloatArray());
            }
        }
    }

    @Test
    void intermediateBuffersAreReusedOnceTheirLastReaderHasRun() {
        Value x = new Value("x", null);
        Graph.Builder builder = Graph.builder("chain").input(x);
        Value previous = x;
        for (int i = 0; i < 12; i++) {
            Value next = new Value("v" + i, null);
            Unary.Kind kind = i % 2 == 0 ? Unary.Kind.NEG : Unary.Kind.ABS;
            builder.node(node("n" + i, Unary.of(kind), List.of(previous), next));
            previous = next;
        }
        Graph graph = builder.output(previous).build();
        long megabyte = 1 << 20;
        Tensor input = arena.allocate(DType.FLOAT, 256, 1024);
        input.setFloat(-3, 5, 7);
        try (Session session = new Session(graph, new SessionOptions(1, false));
                Outputs outputs = session.run(Map.of("x", input))) {
            assertThat(outputs.get("v11").getFloat(5, 7)).isEqualTo(3);
            // Twelve 1 MiB intermediates: the first op cannot write over the caller's input, the
            // other eleven write in place over their dying input, so one buffer serves them all.
            assertThat(outputs.allocatedBytes()).isEqualTo(megabyte);
        }
    }

    private Tensor random(SplittableRandom random, long[] shape) {
        float[] values = new float[(int) Shape.of(shape).elementCount()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return arena.fromFloats(values, shape);
    }
}
