package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.CastLike;
import dev.quanta.graph.ops.MatMulInteger;
import dev.quanta.graph.ops.QLinearMatMul;
import dev.quanta.graph.ops.Quantize;
import dev.quanta.graph.ops.Unsqueeze;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Float8E8M0;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The one-node QLinearMatMul against the steps it replaces (the integer product, the multiplier
 * (aScale·bScale)/yScale, a cast, a multiplication and a quantization), bit for bit.
 */
class QLinearMatMulTest {

    private final TensorArena arena = TensorArena.ofShared();
    private final SplittableRandom random = new SplittableRandom(0x0A11_3A7L);

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void givesTheBitsOfTheStepsItReplaces() {
        // 2-D and batched, one and few rows (the few-row kernel), per-tensor and per-row/column
        // scales, every signedness of a, b and y, B constant (packed) or fed, scales wide enough
        // to saturate and narrow enough to land on ties.
        long[][][] shapes = {{{5, 37}, {37, 19}}, {{1, 40}, {40, 70}}, {{2, 3, 9}, {2, 9, 33}}, {{3, 9}, {9}},
            {{9}, {9, 6}}, {{130, 64}, {64, 48}}};
        int trial = 0;
        for (long[][] shape : shapes) {
            for (DType aType : new DType[] {DType.UINT8, DType.INT8}) {
                for (DType yType : new DType[] {DType.UINT8, DType.INT8}) {
                    DType bType = trial % 3 == 0 ? DType.UINT8 : DType.INT8;
                    // With a 1-D B the steps broadcast a per-row scale across the output as a new
                    // axis ([M] sums times [M, 1] scales); the node keeps one value a row.
                    boolean perRow = trial % 2 == 0 && shape[0].length > 1 && shape[1].length > 1;
                    boolean perColumn = trial % 4 < 2 && shape[1].length > 1;
                    boolean constantB = trial % 5 != 1;
                    check(shape[0], shape[1], aType, bType, yType, perRow, perColumn, constantB, "trial " + trial);
                    trial++;
                }
            }
        }
    }

    @Test
    void aOneDimensionalBKeepsOneScaleARow() {
        byte[] a = {1, 2, 3, 4, 5, 6};
        byte[] b = {7, -8};
        float[] rowScales = {0.5f, 0.25f, 2f};
        Value[] in = new Value[8];
        String[] names = {"a", "b", "a0", "b0", "sa", "sb", "sy", "y0"};
        for (int i = 0; i < in.length; i++) {
            in[i] = new Value(names[i], null);
        }
        Value y = new Value("y", null);
        Graph graph = Graph.builder("row").input(in[0])
                .constant(in[1], arena.fromBytes(DType.INT8, b, 2))
                .constant(in[2], arena.fromBytes(DType.UINT8, new byte[] {1}))
                .constant(in[3], arena.fromBytes(DType.INT8, new byte[] {0}))
                .constant(in[4], arena.fromFloats(rowScales, 3))
                .constant(in[5], arena.fromFloats(new float[] {1f}))
                .constant(in[6], arena.fromFloats(new float[] {1f}))
                .constant(in[7], arena.fromBytes(DType.INT8, new byte[] {-3}))
                .node(new Node("q", new QLinearMatMul(), Arrays.asList(in), List.of(y), "test"))
                .output(y).build();
        try (Session session = new Session(graph, new SessionOptions(1, false));
                Outputs outputs = session.run(Map.of("a", arena.fromBytes(DType.UINT8, a, 3, 2)))) {
            // Row i: ((a[i,0] − 1)·7 + (a[i,1] − 1)·(−8))·rowScales[i], rounded half to even, − 3.
            assertThat(outputs.get("y").toLongArray()).containsExactly(
                    (long) Math.rint((0 * 7 + 1 * -8) * 0.5) - 3,
                    (long) Math.rint((2 * 7 + 3 * -8) * 0.25) - 3,
                    (long) Math.rint((4 * 7 + 5 * -8) * 2.0) - 3);
        }
    }

    private void check(long[] aShape, long[] bShape, DType aType, DType bType, DType yType, boolean perRow,
            boolean perColumn, boolean constantB, String label) {
        long rows = aShape.length == 1 ? 1 : aShape[aShape.length - 2];
        long columns = bShape.length == 1 ? 1 : bShape[bShape.length - 1];
        Tensor a = bytes(aType, aShape);
        Tensor b = bytes(bType, bShape);
        Tensor aZero = bytes(aType);
        Tensor bZero = bytes(bType);
        Tensor aScale = perRow ? scales(rows, rows) : scales(1);
        Tensor bScale = perColumn ? scales(columns, columns) : scales(1);
        Tensor yScale = arena.fromFloats(new float[] {(float) (0.5 + random.nextDouble() * 40)});
        Tensor yZero = bytes(yType);
        Value[] in = new Value[8];
        String[] names = {"a", "b", "a0", "b0", "sa", "sb", "sy", "y0"};
        Tensor[] tensors = {a, b, aZero, bZero, aScale, bScale, yScale, yZero};
        for (int i = 0; i < in.length; i++) {
            in[i] = new Value(names[i], null);
        }
        Value fused = new Value("fused", null);
        Value accumulated = new Value("acc", null);
        Value rowScale = new Value("rowScale", null);
        Value axes = new Value("axes", null);
        Value product = new Value("product", null);
        Value multiplier = new Value("multiplier", null);
        Value asFloat = new Value("asFloat", null);
        Value scaled = new Value("scaled", null);
        Value one = new Value("one", null);
        Value unit = new Value("unit", null);
        Value steps = new Value("steps", null);
        CastLike castLike = new CastLike(true, Float8E8M0.RoundMode.UP);
        Graph.Builder builder = Graph.builder("qlinear").input(in[0])
                .constant(axes, arena.fromLongs(DType.INT64, new long[] {-1}, 1))
                .constant(unit, arena.fromDoubles(new double[] {1}));
        if (constantB) {
            builder.constant(in[1], b);
        } else {
            builder.input(in[1]);
        }
        for (int i = 2; i < in.length; i++) {
            builder.constant(in[i], tensors[i]);
        }
        Graph graph = builder
                .node(new Node("fused", new QLinearMatMul(), Arrays.asList(in), List.of(fused), "test"))
                .node(new Node("acc", new MatMulInteger(), List.of(in[0], in[1], in[2], in[3]), List.of(accumulated), "test"))
                .node(new Node("rowScale", new Unsqueeze(), List.of(in[4], axes), List.of(rowScale), "test"))
                .node(new Node("product", new Binary(Binary.Kind.MUL), List.of(rowScale, in[5]), List.of(product), "test"))
                .node(new Node("multiplier", new Binary(Binary.Kind.DIV), List.of(product, in[6]), List.of(multiplier), "test"))
                .node(new Node("asFloat", castLike, List.of(accumulated, multiplier), List.of(asFloat), "test"))
                .node(new Node("scaled", new Binary(Binary.Kind.MUL), List.of(asFloat, multiplier), List.of(scaled), "test"))
                .node(new Node("one", castLike, List.of(unit, multiplier), List.of(one), "test"))
                .node(new Node("steps", new Quantize(1, 0, true, null), List.of(scaled, one, in[7]), List.of(steps), "test"))
                .output(fused).output(steps).build();
        Map<String, Tensor> feeds = constantB ? Map.of("a", a) : Map.of("a", a, "b", b);
        for (int threads : new int[] {1, 2}) {
            try (Session session = new Session(graph, new SessionOptions(threads, false));
                    Outputs outputs = session.run(feeds)) {
                Tensor expected = outputs.get("steps");
                Tensor actual = outputs.get("fused");
                String what = String.format("%s: %s %s × %s %s → %s, per row %b, per column %b, constant B %b, %d threads",
                        label, aType, Arrays.toString(aShape), bType, Arrays.toString(bShape), yType, perRow, perColumn,
                        constantB, threads);
                assertThat(actual.dtype()).as(what).isEqualTo(yType);
                assertThat(actual.shape().sizes()).as(what).containsExactly(expected.shape().sizes());
                assertThat(actual.toLongArray()).as(what).containsExactly(expected.toLongArray());
            }
        }
    }

    private Tensor bytes(DType type, long... shape) {
        long count = Arrays.stream(shape).reduce(1, Math::multiplyExact);
        byte[] values = new byte[(int) count];
        random.nextBytes(values);
        return arena.fromBytes(type, values, shape);
    }

    private Tensor scales(int count, long... shape) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (0.001 + random.nextDouble() * 0.05);
        }
        return arena.fromFloats(values, shape);
    }

    private Tensor scales(long count, long... shape) {
        return scales((int) count, shape);
    }
}
