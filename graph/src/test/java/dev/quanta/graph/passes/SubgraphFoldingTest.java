package dev.quanta.graph.passes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.NodeTiming;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.CoreOp;
import dev.quanta.graph.ops.Identity;
import dev.quanta.graph.ops.If;
import dev.quanta.graph.ops.Loop;
import dev.quanta.graph.ops.Unary;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * If branches and Loop bodies that read constants of the graphs around them: constant folding
 * makes those their own constants and folds inside them, nested subgraphs included, and the
 * outputs stay what they were. A constant that is also a graph input stays fed. A profiled run
 * lists the subgraphs' nodes under their enclosing nodes, with times that add up.
 */
class SubgraphFoldingTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    private static Node node(String name, CoreOp op, List<Value> inputs, Value output) {
        return new Node(name, op, inputs, List.of(output), "test " + name);
    }

    private static Unary negate() {
        return new Unary(Unary.Kind.NEG, 0, 0);
    }

    /**
     * y = cond ? x + (−c) : x · (−c), where c is a constant of the outer graph (or an input with a
     * default, when {@code fed}); the then branch holds a nested If on the same condition that reads c too.
     */
    private Graph ifGraph(boolean fed) {
        Value cond = new Value("cond", null);
        Value x = new Value("x", null);
        Value c = new Value("c", null);
        Value y = new Value("y", null);
        // then: inner = cond ? −c : c; out = x + inner
        Value thenC = new Value("then.c", null);
        Value thenX = new Value("then.x", null);
        Value thenCond = new Value("then.cond", null);
        Value innerC = new Value("inner.c", null);
        Value innerNegated = new Value("inner.negated", null);
        Graph innerThen = Graph.builder("inner.then").input(innerC)
                .node(node("inner.neg", negate(), List.of(innerC), innerNegated)).output(innerNegated).build();
        Value innerElseC = new Value("inner.else.c", null);
        Value innerCopy = new Value("inner.copy", null);
        Graph innerElse = Graph.builder("inner.else").input(innerElseC)
                .node(node("inner.copy", new Identity(), List.of(innerElseC), innerCopy))
                .output(innerCopy).build();
        Value inner = new Value("then.inner", null);
        Value thenOut = new Value("then.out", null);
        Graph thenBranch = Graph.builder("then").input(thenC).input(thenX).input(thenCond)
                .node(new Node("then.if", new If(innerThen, innerElse, new int[] {0}, new int[] {0}),
                        List.of(thenCond, thenC), List.of(inner), "test then.if"))
                .node(node("then.add", new Binary(Binary.Kind.ADD), List.of(thenX, inner), thenOut))
                .output(thenOut).build();
        // else: out = x · (−c)
        Value elseC = new Value("else.c", null);
        Value elseX = new Value("else.x", null);
        Value negated = new Value("else.negated", null);
        Value elseOut = new Value("else.out", null);
        Graph elseBranch = Graph.builder("else").input(elseX).input(elseC)
                .node(node("else.neg", negate(), List.of(elseC), negated))
                .node(node("else.mul", new Binary(Binary.Kind.MUL), List.of(elseX, negated), elseOut))
                .output(elseOut).build();
        Graph.Builder builder = Graph.builder("if").input(cond).input(x)
                .constant(c, arena.fromFloats(new float[] {1, 2}, 2));
        if (fed) {
            builder.input(c);
        }
        // Captured: c, x, cond.
        return builder.node(new Node("if", new If(thenBranch, elseBranch, new int[] {0, 1, 2}, new int[] {1, 0}),
                        List.of(cond, c, x, cond), List.of(y), "test if"))
                .output(y).build();
    }

    private float[] run(Graph graph, boolean condition, float[] c) {
        Map<String, Object> feeds = new HashMap<>();
        feeds.put("cond", arena.fromBooleans(new boolean[] {condition}));
        feeds.put("x", arena.fromFloats(new float[] {10, 20}, 2));
        if (c != null) {
            feeds.put("c", arena.fromFloats(c, 2));
        }
        try (Session session = new Session(graph, new SessionOptions(2, false));
                Outputs outputs = session.run(feeds)) {
            return outputs.get("y").toFloatArray();
        }
    }

    @Test
    void branchesTakeTheOuterConstantsAndFoldInside() {
        Graph graph = ifGraph(false);
        Graph folded = ConstantFolding.apply(graph, arena);
        Node ifNode = folded.nodes().get(0);
        If op = (If) ifNode.op();
        assertThat(ifNode.inputs()).extracting(Value::name).containsExactly("cond", "x", "cond");
        // The else branch's negation of c folded away; the nested If's branches got c as a constant.
        assertThat(op.elseBranch().nodes()).extracting(Node::name).containsExactly("else.mul");
        assertThat(op.elseBranch().inputs()).extracting(Value::name).containsExactly("else.x");
        If nested = (If) op.thenBranch().nodes().get(0).op();
        assertThat(op.thenBranch().nodes().get(0).inputs()).extracting(Value::name).containsExactly("then.cond");
        assertThat(nested.thenBranch().nodes()).isEmpty();
        assertThat(nested.elseBranch().nodes()).isEmpty();
        for (boolean condition : new boolean[] {true, false}) {
            assertThat(run(folded, condition, null)).as("condition %s", condition).isEqualTo(run(graph, condition, null));
        }
        assertThat(run(folded, true, null)).containsExactly(9, 18);
        assertThat(run(folded, false, null)).containsExactly(-10, -40);
    }

    @Test
    void aConstantThatIsAlsoAnInputStaysFed() {
        Graph folded = ConstantFolding.apply(ifGraph(true), arena);
        assertThat(folded.nodes().get(0).inputs()).extracting(Value::name).contains("c");
        assertThat(run(folded, true, new float[] {5, 6})).containsExactly(5, 14);
        assertThat(run(folded, false, new float[] {5, 6})).containsExactly(-50, -120);
        assertThat(run(folded, true, null)).containsExactly(9, 18);
    }

    /** acc starts at x and gains −c at each of three iterations; c is a constant of the outer graph. */
    private Graph loopGraph() {
        Value trips = new Value("trips", null);
        Value x = new Value("x", null);
        Value c = new Value("c", null);
        Value y = new Value("y", null);
        Value iteration = new Value("body.i", null);
        Value condition = new Value("body.cond", null);
        Value accumulated = new Value("body.acc", null);
        Value bodyC = new Value("body.c", null);
        Value negated = new Value("body.negated", null);
        Value next = new Value("body.next", null);
        Value stillGoing = new Value("body.going", null);
        Graph body = Graph.builder("body").input(iteration).input(condition).input(accumulated).input(bodyC)
                .node(node("body.neg", negate(), List.of(bodyC), negated))
                .node(node("body.add", new Binary(Binary.Kind.ADD), List.of(accumulated, negated), next))
                .node(node("body.going", new Identity(), List.of(condition), stillGoing))
                .output(stillGoing).output(next).build();
        return Graph.builder("loop").input(x)
                .constant(trips, arena.fromLongs(DType.INT64, new long[] {3}))
                .constant(c, arena.fromFloats(new float[] {1, 2}, 2))
                .node(new Node("loop", new Loop(body, 1), Arrays.asList(trips, null, x, c), List.of(y), "test loop"))
                .output(y).build();
    }

    @Test
    void loopBodiesTakeTheOuterConstantsAndFoldInside() {
        Graph graph = loopGraph();
        Graph folded = ConstantFolding.apply(graph, arena);
        Node loop = folded.nodes().get(0);
        assertThat(loop.inputs()).extracting(value -> value == null ? null : value.name()).containsExactly("trips", null, "x");
        Graph body = ((Loop) loop.op()).body();
        assertThat(body.inputs()).extracting(Value::name).containsExactly("body.i", "body.cond", "body.acc");
        assertThat(body.nodes()).extracting(Node::name).containsExactly("body.add", "body.going");
        Map<String, Tensor> feeds = Map.of("x", arena.fromFloats(new float[] {10, 20}, 2));
        for (Graph g : List.of(graph, folded)) {
            try (Session session = new Session(g, new SessionOptions(1, false)); Outputs outputs = session.run(feeds)) {
                assertThat(outputs.get("y").toFloatArray()).containsExactly(7, 14);
            }
        }
    }

    @Test
    void aProfiledRunListsTheSubgraphsNodesUnderTheirEnclosingNodes() {
        Graph graph = loopGraph();
        try (Session session = new Session(graph, new SessionOptions(2, true));
                Outputs outputs = session.run(Map.of("x", arena.fromFloats(new float[] {10, 20}, 2)))) {
            List<NodeTiming> profile = outputs.profile().orElseThrow();
            // The loop first, then its body's three nodes at each of the three iterations.
            assertThat(profile).extracting(NodeTiming::node).containsExactly("loop",
                    "loop/body.neg", "loop/body.add", "loop/body.going",
                    "loop/body.neg", "loop/body.add", "loop/body.going",
                    "loop/body.neg", "loop/body.add", "loop/body.going");
            assertThat(profile).allSatisfy(timing -> assertThat(timing.nanos()).isNotNegative());
        }
        // Each node's time is its own: the loop's leaves out its body's, so the times add up to no more than the run's.
        Tensor x = arena.fromFloats(new float[4096], 2048, 2);
        try (Session session = new Session(graph, new SessionOptions(1, true))) {
            for (int run = 0; run < 20; run++) {
                long start = System.nanoTime();
                try (Outputs outputs = session.run(Map.of("x", x))) {
                    long wall = System.nanoTime() - start;
                    assertThat(outputs.profile().orElseThrow().stream().mapToLong(NodeTiming::nanos).sum()).isLessThanOrEqualTo(wall);
                }
            }
        }
        Graph nested = ifGraph(false);
        Map<String, Object> feeds = new HashMap<>();
        feeds.put("cond", arena.fromBooleans(new boolean[] {true}));
        feeds.put("x", arena.fromFloats(new float[] {10, 20}, 2));
        try (Session session = new Session(nested, new SessionOptions(1, true)); Outputs outputs = session.run(feeds)) {
            assertThat(outputs.profile().orElseThrow()).extracting(NodeTiming::node)
                    .containsExactly("if", "if/then.if", "if/then.if/inner.neg", "if/then.add");
        }
    }
}
