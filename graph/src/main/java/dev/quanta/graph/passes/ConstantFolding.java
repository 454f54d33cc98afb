package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.cpu.CpuBackend;
import dev.quanta.graph.ops.CoreOp;
import dev.quanta.graph.ops.Dropout;
import dev.quanta.graph.ops.If;
import dev.quanta.graph.ops.Loop;
import dev.quanta.graph.ops.RandomSample;
import dev.quanta.graph.ops.ShapeOf;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.QuantaException;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Computes, once, every node whose inputs are all constants, and keeps its outputs as constants
 * in {@code arena}; the shape of a value whose inferred shape is static counts as a constant too,
 * so the shape computations around it fold. Initializers that are also graph inputs can be fed,
 * so they do not count as constant. Subgraphs (If branches, Loop bodies) fold too, with the
 * constants of the graphs around them. Results larger than {@link #MAX_FOLDED_BYTES} stay computed
 * at run time, unless at most twice their inputs' size (a float16 weight widened to float32).
 * Unseeded random draws stay too: they are drawn anew at every run.
 */
public final class ConstantFolding {

    /** Folding must not turn a small model into a huge one (a ConstantOfShape of a large shape, say). */
    static final long MAX_FOLDED_BYTES = 16L << 20;

    private ConstantFolding() {
    }

    public static Graph apply(Graph graph, TensorArena arena) {
        return apply(graph, arena, Map.of());
    }

    /** With the shapes inferred for the graph's values ({@link ShapeInference}). */
    public static Graph apply(Graph graph, TensorArena arena, Map<Value, Shape> shapes) {
        Map<Value, Tensor> constants = new IdentityHashMap<>(graph.constants());
        Set<Value> overridable = new HashSet<>(graph.inputs());
        Graph.Builder builder = Graph.builder(graph.name());
        graph.inputs().forEach(builder::input);
        for (Node original : graph.nodes()) {
            Node node = switch (original.op()) {
                case If op -> foldBranches(original, op, constants, overridable, arena);
                case Loop op -> foldBody(original, op, constants, overridable, arena);
                default -> original;
            };
            Tensor[] outputs = node.op() instanceof ShapeOf shapeOf ? staticShape(node, shapeOf, shapes, arena)
                    : tryFold(node, constants, overridable, arena);
            if (outputs == null) {
                builder.node(node);
                continue;
            }
            List<Value> values = node.outputs();
            for (int i = 0; i < values.size(); i++) {
                constants.put(values.get(i), outputs[i]);
            }
        }
        constants.forEach((value, tensor) -> builder.constant(value, tensor));
        graph.outputs().forEach(builder::output);
        return builder.build();
    }

    /**
     * An If whose branches read constants of this graph: they become the branches' own constants,
     * so each branch folds in turn and its kernels see constant weights (packed once, not per run).
     */
    private static Node foldBranches(Node node, If op, Map<Value, Tensor> constants, Set<Value> overridable,
            TensorArena arena) {
        List<Value> captured = node.inputs().subList(1, node.inputs().size());
        Graph thenBranch = withOuterConstants(op.thenBranch(), 0, bound(op.thenCaptures(), captured), constants,
                overridable, arena);
        Graph elseBranch = withOuterConstants(op.elseBranch(), 0, bound(op.elseCaptures(), captured), constants,
                overridable, arena);
        List<Value> stillCaptured = new ArrayList<>();
        int[] thenCaptures = captures(thenBranch, op.thenBranch(), op.thenCaptures(), captured, stillCaptured);
        int[] elseCaptures = captures(elseBranch, op.elseBranch(), op.elseCaptures(), captured, stillCaptured);
        List<Value> inputs = new ArrayList<>();
        inputs.add(node.inputs().get(0));
        inputs.addAll(stillCaptured);
        return new Node(node.name(), new If(thenBranch, elseBranch, thenCaptures, elseCaptures), inputs,
                node.outputs(), node.source());
    }

    /** The outer value bound to each branch input. */
    private static List<Value> bound(int[] branchCaptures, List<Value> captured) {
        return Arrays.stream(branchCaptures).mapToObj(captured::get).toList();
    }

    /** The positions among {@code stillCaptured} (extended as needed) of the folded branch's inputs. */
    private static int[] captures(Graph folded, Graph branch, int[] branchCaptures, List<Value> captured,
            List<Value> stillCaptured) {
        return folded.inputs().stream().mapToInt(input -> {
            Value outer = captured.get(branchCaptures[branch.inputs().indexOf(input)]);
            if (!stillCaptured.contains(outer)) {
                stillCaptured.add(outer);
            }
            return stillCaptured.indexOf(outer);
        }).toArray();
    }

    /** A Loop whose body reads constants of this graph, folded as an If's branches are. */
    private static Node foldBody(Node node, Loop op, Map<Value, Tensor> constants, Set<Value> overridable,
            TensorArena arena) {
        int capturedFrom = 2 + op.carried();
        List<Value> captured = node.inputs().subList(capturedFrom, node.inputs().size());
        Graph body = withOuterConstants(op.body(), capturedFrom, captured, constants, overridable, arena);
        List<Value> inputs = new ArrayList<>(node.inputs().subList(0, capturedFrom));
        body.inputs().subList(capturedFrom, body.inputs().size())
                .forEach(input -> inputs.add(captured.get(op.body().inputs().indexOf(input) - capturedFrom)));
        return new Node(node.name(), new Loop(body, op.carried()), inputs, node.outputs(), node.source());
    }

    /**
     * The subgraph with each input from {@code first} on, bound to the outer value {@code outer[i −
     * first]}, made a constant where that value is one; then folded, and its dead nodes dropped.
     */
    private static Graph withOuterConstants(Graph subgraph, int first, List<Value> outer, Map<Value, Tensor> constants,
            Set<Value> overridable, TensorArena arena) {
        Graph.Builder builder = Graph.builder(subgraph.name());
        List<Value> inputs = subgraph.inputs();
        for (int i = 0; i < inputs.size(); i++) {
            Value value = i < first ? null : outer.get(i - first);
            if (value != null && !overridable.contains(value) && constants.containsKey(value)) {
                builder.constant(inputs.get(i), constants.get(value));
            } else {
                builder.input(inputs.get(i));
            }
        }
        subgraph.constants().forEach(builder::constant);
        subgraph.nodes().forEach(builder::node);
        subgraph.outputs().forEach(builder::output);
        return DeadCodeRemoval.apply(apply(builder.build(), arena));
    }

    /** Unseeded random draws: folded, they would be drawn once at load instead of anew at every run. */
    private static boolean drawsEachRun(CoreOp op) {
        return op instanceof RandomSample sample && sample.seed() == null
                || op instanceof Dropout dropout && dropout.seed() == null;
    }

    /** The ShapeOf of a value whose inferred shape is static, or null. */
    private static Tensor[] staticShape(Node node, ShapeOf op, Map<Value, Shape> shapes, TensorArena arena) {
        Shape shape = shapes.get(node.inputs().get(0));
        if (shape == null || !shape.isStatic()) {
            return null;
        }
        // A scalar broadcast to the shape: carries the sizes, takes no memory.
        Tensor standIn = arena.allocate(DType.BOOL, Shape.scalar()).broadcastTo(shape);
        return new Tensor[] {(Tensor) CpuBackend.kernel(op).run(new KernelContext(arena, node), new Object[] {standIn})[0]};
    }

    private static Tensor[] tryFold(Node node, Map<Value, Tensor> constants, Set<Value> overridable, TensorArena arena) {
        if (drawsEachRun(node.op())) {
            return null;
        }
        Tensor[] inputs = new Tensor[node.inputs().size()];
        for (int i = 0; i < inputs.length; i++) {
            Value input = node.inputs().get(i);
            if (input == null) {
                continue;
            }
            if (overridable.contains(input) || !constants.containsKey(input)) {
                return null;
            }
            inputs[i] = constants.get(input);
        }
        Object[] results;
        try {
            results = CpuBackend.kernel(node.op()).run(new KernelContext(arena, node), inputs);
        } catch (QuantaException | ArithmeticException | IndexOutOfBoundsException | IllegalArgumentException e) {
            return null; // the same error will name the node at run time
        }
        long inputBytes = 0;
        for (Tensor input : inputs) {
            inputBytes += input == null || input.dtype().isString() ? 0 : input.dtype().storageBytes(input.elementCount());
        }
        Tensor[] outputs = new Tensor[node.outputs().size()];
        for (int i = 0; i < outputs.length; i++) {
            if (!(results[i] instanceof Tensor output)) {
                return null; // sequences and optionals are not kept as constants
            }
            long bytes = output.dtype().isString() ? 0 : output.dtype().storageBytes(output.elementCount());
            if (bytes > MAX_FOLDED_BYTES && bytes > 2 * inputBytes) {
                return null;
            }
            outputs[i] = output.arena() == arena ? output.contiguous() : arena.copyOf(output);
        }
        return outputs;
    }
}
