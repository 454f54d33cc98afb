package dev.quanta.graph.passes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ValueType;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.Dequantize;
import dev.quanta.graph.ops.Gather;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A quantized table gathered from: gathered first, dequantized after, with the same bits. */
class GatherBeforeDequantizeTest {

    private static final int ROWS = 50;
    private static final int WIDTH = 6;
    private final TensorArena arena = TensorArena.ofShared();
    private final Value ids = new Value("ids", ValueType.of(DType.INT64, Shape.of(2, 3)));
    private final Value table = new Value("table", null);
    private final Value scale = new Value("scale", null);
    private final Value zeroPoint = new Value("zero_point", null);
    private final Value columns = new Value("columns", null);
    private final Value floats = new Value("floats", null);
    private final Value rows = new Value("rows", null);
    private final Value picked = new Value("picked", null);

    @AfterEach
    void close() {
        arena.close();
    }

    /** Dequantize(table) read by Gather(axis 0, ids) and Gather(axis 1, [−1, 2]), and by {@code extra} if given. */
    private Graph graph(Tensor scaleValue, Node extra) {
        long[] bytes = new long[ROWS * WIDTH];
        SplittableRandom random = new SplittableRandom(0x7AB1E);
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = i % 17 == 0 ? 255 : i % 13 == 0 ? 0 : random.nextInt(256);
        }
        Graph.Builder builder = Graph.builder("embedding").input(ids)
                .constant(table, arena.fromLongs(DType.UINT8, bytes, ROWS, WIDTH))
                .constant(scale, scaleValue)
                .constant(zeroPoint, arena.fromLongs(DType.UINT8, new long[] {131}))
                .constant(columns, arena.fromLongs(DType.INT64, new long[] {-1, 2}, 2))
                .node(new Node("dequantize", new Dequantize(0, 0, null), List.of(table, scale, zeroPoint), List.of(floats), "test"))
                .node(new Node("rows", new Gather(0), List.of(floats, ids), List.of(rows), "test"))
                .node(new Node("columns", new Gather(1), List.of(floats, columns), List.of(picked), "test"))
                .output(rows).output(picked);
        if (extra != null) {
            builder.node(extra).output(extra.outputs().get(0));
        }
        return builder.build();
    }

    private Graph perTensor() {
        return graph(arena.fromFloats(new float[] {0.037f}), null);
    }

    private static Graph rewrite(Graph graph) {
        return GatherBeforeDequantize.apply(graph, ShapeInference.apply(graph));
    }

    @Test
    void eachGatherReadsTheBytesAndIsDequantizedAfterWithTheSameBits() {
        Graph graph = perTensor();
        Graph rewritten = rewrite(graph);
        assertThat(rewritten.nodes()).extracting(node -> node.op().name())
                .containsExactly("Gather", "Dequantize", "Gather", "Dequantize");
        Tensor indices = arena.fromLongs(DType.INT64, new long[] {0, 49, -1, 7, 7, 3}, 2, 3);
        for (String output : List.of("rows", "picked")) {
            assertThat(run(rewritten, indices, output)).isEqualTo(run(graph, indices, output));
        }
    }

    @Test
    void aTableWithAScalePerRowOrAnotherReaderStaysAsItIs() {
        float[] perRow = new float[ROWS];
        java.util.Arrays.fill(perRow, 0.5f);
        Graph perAxis = graph(arena.fromFloats(perRow, ROWS), null);
        assertThat(rewrite(perAxis)).isSameAs(perAxis);
        Node sum = new Node("sum", new Binary(Binary.Kind.ADD), List.of(floats, floats), List.of(new Value("sum", null)), "test");
        Graph readElsewhere = graph(arena.fromFloats(new float[] {0.037f}), sum);
        assertThat(rewrite(readElsewhere)).isSameAs(readElsewhere);
    }

    private float[] run(Graph graph, Tensor indices, String output) {
        try (Session session = new Session(graph, new SessionOptions(1, false));
                Outputs outputs = session.run(Map.of("ids", indices))) {
            return outputs.get(output).toFloatArray();
        }
    }
}
