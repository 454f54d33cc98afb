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
import dev.quanta.graph.ops.Cast;
import dev.quanta.graph.ops.Conv;
import dev.quanta.graph.ops.Window;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Float8E8M0;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * float16 and bfloat16 graphs computed in float32: a Conv with its bias and an Add read by a
 * comparison give the bits of the same graph written in float32 with a cast to the half type
 * after each node that computes (one rounding per node, as ONNX Runtime's inserted casts do). The
 * weights' casts fold at load, a value read twice is widened once, and the comparison's boolean
 * output is left as it is.
 */
class HalfPrecisionWideningTest {

    private final TensorArena arena = TensorArena.ofShared();
    private final SplittableRandom random = new SplittableRandom(0x16F1L);

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void float16GraphsGiveTheBitsOfFloat32RoundedOnlyWhereTheyLeave() {
        check(DType.FLOAT16);
    }

    @Test
    void bfloat16GraphsGiveTheBitsOfFloat32RoundedOnlyWhereTheyLeave() {
        check(DType.BFLOAT16);
    }

    private void check(DType half) {
        Tensor x = values(half, 2, 3, 7, 6);
        Tensor w = values(half, 4, 3, 3, 3);
        Tensor b = values(half, 4);
        Tensor s = values(half, 1);
        Graph model = graph(half, w, b, s, false);
        Graph widened = ConstantFolding.apply(HalfPrecisionWidening.apply(model, TypeCheck.apply(model)), arena);
        // x widened; the convolution and the sum narrowed for the graph's outputs, their readers taking float32.
        assertThat(widened.nodes().stream().filter(node -> node.op() instanceof Cast)).hasSize(3);
        assertThat(widened.nodes().stream().filter(node -> node.op() instanceof Conv).findFirst().orElseThrow().inputs())
                .allSatisfy(input -> assertThat(widened.constants().containsKey(input) || input.name().equals("x/float32"))
                        .as("%s", input).isTrue());
        Graph reference = graph(half, w, b, s, true);
        try (Session fast = new Session(widened, new SessionOptions(2, false));
                Session slow = new Session(reference, new SessionOptions(1, false));
                Outputs actual = fast.run(Map.of("x", x));
                Outputs expected = slow.run(Map.of("x", x))) {
            for (String name : List.of("convolved", "sum", "above")) {
                Tensor got = actual.get(name);
                Tensor want = expected.get(name);
                assertThat(got.dtype()).as(name).isEqualTo(want.dtype());
                for (long i = 0; i < want.elementCount(); i++) {
                    assertThat(got.loadBits(i)).as("%s %s[%d]", half, name, i).isEqualTo(want.loadBits(i));
                }
            }
        }
    }

    /**
     * A float32 input cast to float16 by the model, Conv → Relu → MaxPool → Reshape, cast back to
     * float32 and negated: the model's two casts cancel as ONNX Runtime drops them, so the graph runs
     * as the same graph in float32 does, bit for bit, a cast that gives a graph output included.
     */
    @Test
    void aModelsOwnCastsToHalfAndBackCancel() {
        Tensor x = arena.allocate(DType.FLOAT, Shape.of(1, 3, 9, 8));
        for (long i = 0; i < x.elementCount(); i++) {
            x.storeDouble(i, random.nextGaussian() * 2);
        }
        Tensor w = values(DType.FLOAT16, 5, 3, 3, 3);
        Window same = new Window(null, new long[] {1, 1}, new long[] {1, 1}, new long[] {1, 1, 1, 1},
                Window.AutoPad.NOTSET, false);
        Window halving = new Window(new long[] {2, 2}, new long[] {2, 2}, new long[] {1, 1}, new long[] {0, 0, 0, 0},
                Window.AutoPad.NOTSET, true);
        Graph[] graphs = new Graph[2];
        for (int variant = 0; variant < 2; variant++) {
            boolean half = variant == 0;
            Value input = new Value("x", ValueType.of(DType.FLOAT, Shape.of(1, 3, 9, 8)));
            Value weights = new Value("w", null);
            Value shape = new Value("shape", null);
            Graph.Builder builder = Graph.builder("chain").input(input).constant(weights, half ? w : wide(w))
                    .constant(shape, arena.fromLongs(DType.INT64, new long[] {1, -1}, 2));
            Value previous = input;
            if (half) {
                Value narrowed = new Value("x16", null);
                builder.node(cast(input, narrowed, DType.FLOAT16));
                previous = narrowed;
            }
            List<dev.quanta.graph.ops.CoreOp> ops = List.of(new Conv(same, 1), dev.quanta.graph.ops.Unary.of(
                    dev.quanta.graph.ops.Unary.Kind.RELU), new dev.quanta.graph.ops.Pool(dev.quanta.graph.ops.Pool.Kind.MAX,
                    halving, false, 0, false), new dev.quanta.graph.ops.Reshape(false));
            Value pooled = null;
            for (int i = 0; i < ops.size(); i++) {
                Value out = new Value("step" + i, null);
                List<Value> in = i == 0 ? List.of(previous, weights) : i == 3 ? List.of(previous, shape) : List.of(previous);
                builder.node(new Node("op" + i, ops.get(i), in, List.of(out), "test"));
                previous = out;
                pooled = i == 2 ? out : pooled;
            }
            // The pool's value cast to float32 as a graph output: unrounded too, as ONNX Runtime gives it.
            Value back = new Value("back", null);
            builder.node(cast(pooled, back, DType.FLOAT)).output(back);
            Value widened = previous;
            if (half) {
                widened = new Value("wide", null);
                builder.node(cast(previous, widened, DType.FLOAT));
            }
            Value y = new Value("y", null);
            graphs[variant] = builder.node(new Node("negate", dev.quanta.graph.ops.Unary.of(dev.quanta.graph.ops.Unary.Kind.NEG),
                    List.of(widened), List.of(y), "test")).output(y).build();
        }
        Graph model = graphs[0];
        Graph widened = DeadCodeRemoval.apply(ConstantFolding.apply(HalfPrecisionWidening.apply(model, TypeCheck.apply(model)), arena));
        assertThat(widened.nodes().stream().filter(node -> node.op() instanceof Cast)).isEmpty();
        try (Session fast = new Session(widened, new SessionOptions(2, false));
                Session slow = new Session(graphs[1], new SessionOptions(1, false));
                Outputs actual = fast.run(Map.of("x", x));
                Outputs expected = slow.run(Map.of("x", x))) {
            for (String name : List.of("y", "back")) {
                Tensor got = actual.get(name);
                Tensor want = expected.get(name);
                for (long i = 0; i < want.elementCount(); i++) {
                    assertThat(got.loadBits(i)).as("%s[%d]", name, i).isEqualTo(want.loadBits(i));
                }
            }
        }
    }

    /**
     * A weight whose float32 copy is past the folding limit still folds, at twice its size; a
     * constant broadcast past the limit does not.
     */
    @Test
    void widenedWeightsFoldPastTheLimitWhereNothingElseGrowsSo() {
        long elements = ConstantFolding.MAX_FOLDED_BYTES / 4 + 1;
        Value weight = new Value("w", null);
        Value widened = new Value("w32", null);
        Value scalar = new Value("one", null);
        Value shape = new Value("shape", null);
        Value broadcast = new Value("broadcast", null);
        Graph graph = Graph.builder("limits").constant(weight, arena.allocate(DType.FLOAT16, Shape.of(elements)))
                .constant(scalar, arena.fromFloats(new float[] {1}, 1))
                .constant(shape, arena.fromLongs(DType.INT64, new long[] {elements}, 1))
                .node(cast(weight, widened, DType.FLOAT))
                .node(new Node("expand", new dev.quanta.graph.ops.Expand(), List.of(scalar, shape), List.of(broadcast), "test"))
                .output(widened).output(broadcast).build();
        Graph folded = ConstantFolding.apply(graph, arena);
        assertThat(folded.constants()).containsKey(widened).doesNotContainKey(broadcast);
        assertThat(folded.nodes()).extracting(Node::name).containsExactly("expand");
    }

    /**
     * convolved = Conv(x, w, b), sum = convolved + s, above = convolved > sum; in the half type, or
     * ({@code inFloat32}) the same in float32 from the half values, each half output the rounding of
     * its float32 value, which the next nodes read.
     */
    private Graph graph(DType half, Tensor w, Tensor b, Tensor s, boolean inFloat32) {
        Value x = new Value("x", ValueType.of(half, Shape.of(2, 3, 7, 6)));
        Value convolved = new Value("convolved", null);
        Value sum = new Value("sum", null);
        Value above = new Value("above", null);
        Window window = new Window(null, new long[] {1, 1}, new long[] {1, 1}, new long[] {1, 0, 1, 2},
                Window.AutoPad.NOTSET, false);
        Graph.Builder builder = Graph.builder("half").input(x);
        List<Node> nodes = new ArrayList<>();
        if (!inFloat32) {
            Value[] weights = {new Value("w", null), new Value("b", null), new Value("s", null)};
            builder.constant(weights[0], w).constant(weights[1], b).constant(weights[2], s);
            nodes.add(new Node("conv", new Conv(window, 1), List.of(x, weights[0], weights[1]), List.of(convolved), "test"));
            nodes.add(new Node("add", new Binary(Binary.Kind.ADD), List.of(convolved, weights[2]), List.of(sum), "test"));
            nodes.add(new Node("above", new Binary(Binary.Kind.GREATER), List.of(convolved, sum), List.of(above), "test"));
        } else {
            Value[] weights = {new Value("w32", null), new Value("b32", null), new Value("s32", null)};
            builder.constant(weights[0], wide(w)).constant(weights[1], wide(b)).constant(weights[2], wide(s));
            Value x32 = new Value("x32", null);
            Value convolved32 = new Value("convolved32", null);
            Value sum32 = new Value("sum32", null);
            nodes.add(cast(x, x32, DType.FLOAT));
            nodes.add(new Node("conv", new Conv(window, 1), List.of(x32, weights[0], weights[1]), List.of(convolved32), "test"));
            nodes.add(cast(convolved32, convolved, half));
            nodes.add(new Node("add", new Binary(Binary.Kind.ADD), List.of(convolved32, weights[2]), List.of(sum32), "test"));
            nodes.add(cast(sum32, sum, half));
            nodes.add(new Node("above", new Binary(Binary.Kind.GREATER), List.of(convolved32, sum32), List.of(above), "test"));
        }
        nodes.forEach(builder::node);
        return builder.output(convolved).output(sum).output(above).build();
    }

    private static Node cast(Value from, Value to, DType type) {
        return new Node("cast " + to.name(), new Cast(type, true, Float8E8M0.RoundMode.UP), List.of(from), List.of(to), "test");
    }

    private Tensor values(DType half, long... sizes) {
        Tensor tensor = arena.allocate(half, Shape.of(sizes));
        for (long i = 0; i < tensor.elementCount(); i++) {
            tensor.storeDouble(i, random.nextGaussian() * 2);
        }
        return tensor;
    }

    private Tensor wide(Tensor half) {
        Tensor tensor = arena.allocate(DType.FLOAT, half.shape());
        for (long i = 0; i < half.elementCount(); i++) {
            tensor.storeDouble(i, half.loadDouble(i));
        }
        return tensor;
    }
}
