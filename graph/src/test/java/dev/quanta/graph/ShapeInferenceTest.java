package dev.quanta.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.Concat;
import dev.quanta.graph.ops.CoreOp;
import dev.quanta.graph.ops.Gather;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.Reshape;
import dev.quanta.graph.ops.ShapeOf;
import dev.quanta.graph.ops.Slice;
import dev.quanta.graph.ops.Split;
import dev.quanta.graph.ops.Transpose;
import dev.quanta.graph.ops.Unsqueeze;
import dev.quanta.graph.passes.ShapeInference;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Dim;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ShapeInferenceTest {

    private final TensorArena arena = TensorArena.ofShared();
    private Graph.Builder builder;

    @AfterEach
    void close() {
        arena.close();
    }

    private Value node(String name, CoreOp op, Value... inputs) {
        Value output = new Value(name, null);
        builder.node(new Node(name, op, List.of(inputs), List.of(output), "test"));
        return output;
    }

    private Value longs(String name, long... values) {
        Value value = new Value(name, null);
        builder.constant(value, arena.fromLongs(DType.INT64, values, values.length));
        return value;
    }

    /**
     * The attention reshape of an exported BERT: hidden [batch, seq, 384] becomes [batch, seq, 12, 32]
     * through Shape → Gather → Unsqueeze → Concat → Reshape, then heads move forward.
     */
    @Test
    void theShapeSubgraphsOfTransformersKeepTheirSymbols() {
        Value hidden = new Value("hidden", ValueType.of(DType.FLOAT, Shape.of(Dim.symbol("batch"), Dim.symbol("seq"), Dim.of(384))));
        builder = Graph.builder("attention").input(hidden);
        Value shape = node("shape", new ShapeOf(0, null), hidden);
        Value batch = node("batch", new Gather(0), shape, constantScalar("i0", 0));
        Value seq = node("seq", new Gather(0), shape, constantScalar("i1", 1));
        Value newShape = node("new_shape", new Concat(0), node("b1", new Unsqueeze(), batch, longs("axis_b", 0)),
                node("s1", new Unsqueeze(), seq, longs("axis_s", 0)), longs("heads", 12, 32));
        Value split = node("split", new Reshape(false), hidden, newShape);
        Value heads = node("heads_first", new Transpose(new int[] {0, 2, 1, 3}), split);
        Value scores = node("scores", new MatMul(), heads, node("keys", new Transpose(new int[] {0, 2, 3, 1}), split));
        Graph graph = builder.output(scores).build();
        Map<Value, Shape> shapes = ShapeInference.apply(graph);
        assertThat(shapes.get(split)).hasToString("[batch, seq, 12, 32]");
        assertThat(shapes.get(heads)).hasToString("[batch, 12, seq, 32]");
        assertThat(shapes.get(scores)).hasToString("[batch, 12, seq, seq]");
    }

    @Test
    void aSliceWithBoundsKnownAtRunTimeKeepsItsRankAndItsOtherAxes() {
        // BERT's position ids, [1, 512], sliced to the sequence length; then their embeddings gathered.
        Value hidden = new Value("hidden", ValueType.of(DType.FLOAT, Shape.of(Dim.symbol("batch"), Dim.symbol("seq"), Dim.of(384))));
        Value ids = new Value("position_ids", ValueType.of(DType.INT64, Shape.of(1, 512)));
        Value table = new Value("table", ValueType.of(DType.FLOAT, Shape.of(512, 384)));
        builder = Graph.builder("positions").input(hidden).input(ids).input(table);
        Value seq = node("seq", new Gather(0), node("shape", new ShapeOf(0, null), hidden), constantScalar("i1", 1));
        Value positions = node("positions", new Slice(), ids, longs("starts", 0),
                node("ends", new Unsqueeze(), seq, longs("axis", 0)), longs("axes", 1));
        Value embedded = node("embedded", new Gather(0), table, positions);
        Graph graph = builder.output(embedded).build();
        Map<Value, Shape> shapes = ShapeInference.apply(graph);
        assertThat(shapes.get(positions)).hasToString("[1, ?]");
        assertThat(shapes.get(embedded)).hasToString("[1, ?, 384]");
    }

    @Test
    void splitPartsTakeTheirSizesOrEqualSharesAndKeepTheOtherAxes() {
        Value hidden = new Value("hidden", ValueType.of(DType.FLOAT, Shape.of(Dim.symbol("batch"), Dim.of(7), Dim.of(10))));
        builder = Graph.builder("split").input(hidden);
        Value[] given = {new Value("q", null), new Value("k", null), new Value("v", null)};
        builder.node(new Node("given", new Split(-1, 3), List.of(hidden, longs("sizes", 5, 3, 2)), List.of(given), "test"));
        Value[] shares = {new Value("first", null), new Value("second", null), new Value("third", null)};
        builder.node(new Node("shares", new Split(1, 3), List.of(hidden), List.of(shares), "test"));
        Value[] symbolic = {new Value("top", null), new Value("bottom", null)};
        builder.node(new Node("symbolic", new Split(0, 2), List.of(hidden), List.of(symbolic), "test"));
        Graph graph = builder.output(given[0]).output(given[1]).output(given[2]).output(shares[0]).output(shares[1])
                .output(shares[2]).output(symbolic[0]).output(symbolic[1]).build();
        Map<Value, Shape> shapes = ShapeInference.apply(graph);
        assertThat(List.of(given)).extracting(value -> shapes.get(value).toString())
                .containsExactly("[batch, 7, 5]", "[batch, 7, 3]", "[batch, 7, 2]");
        assertThat(List.of(shares)).extracting(value -> shapes.get(value).toString())
                .containsExactly("[batch, 3, 10]", "[batch, 3, 10]", "[batch, 1, 10]");
        assertThat(List.of(symbolic)).extracting(value -> shapes.get(value).toString())
                .containsExactly("[?, 7, 10]", "[?, 7, 10]");
    }

    @Test
    void shapeComputationsOverStaticShapesFoldAway() {
        Value hidden = new Value("hidden", ValueType.of(DType.FLOAT, Shape.of(2, 5, 384)));
        builder = Graph.builder("static").input(hidden);
        Value shape = node("shape", new ShapeOf(0, null), hidden);
        Value newShape = node("new_shape", new Concat(0), node("bs", new Gather(0), shape, longs("first_two", 0, 1)),
                longs("heads", 12, 32));
        Value split = node("split", new Reshape(false), hidden, newShape);
        Graph graph = builder.output(split).build();
        Graph folded = dev.quanta.graph.passes.DeadCodeRemoval.apply(
                dev.quanta.graph.passes.ConstantFolding.apply(graph, arena, ShapeInference.apply(graph)));
        assertThat(folded.nodes()).extracting(Node::name).containsExactly("split");
        assertThat(folded.constants().get(newShape).toLongArray()).containsExactly(2, 5, 12, 32);
    }

    private Value constantScalar(String name, long value) {
        Value scalar = new Value(name, null);
        builder.constant(scalar, arena.fromLongs(DType.INT64, new long[] {value}));
        return scalar;
    }

    @Test
    void staticContradictionsAreAllReportedWithTheirNodes() {
        Value a = new Value("a", ValueType.of(DType.FLOAT, Shape.of(2, 3)));
        Value b = new Value("b", ValueType.of(DType.FLOAT, Shape.of(4, 5)));
        builder = Graph.builder("bad").input(a).input(b);
        Value sum = node("bad_add", new Binary(Binary.Kind.ADD), a, b);
        Value product = node("bad_matmul", new MatMul(), a, b);
        Graph graph = builder.output(sum).output(product).build();
        assertThatThrownBy(() -> ShapeInference.apply(graph)).isInstanceOf(GraphException.class)
                .hasMessageContaining("2 shape contradictions").hasMessageContaining("'bad_add'")
                .hasMessageContaining("'bad_matmul'").hasMessageContaining("inner dimensions 3 and 4");
    }
}
