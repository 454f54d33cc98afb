package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.cpu.CpuBackend;
import dev.quanta.graph.ops.ShapeOf;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.QuantaException;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Computes, once, every node whose inputs are all constants, and keeps its outputs as constants
 * in {@code arena}; the shape of a value whose inferred shape is static counts as a constant too,
 * so the shape computations around it fold. Initializers that are also graph inputs can be fed,
 * so they do not count as constant. Results larger than {@link #MAX_FOLDED_BYTES} stay computed
 * at run time.
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
        for (Node node : graph.nodes()) {
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
        Tensor[] outputs = new Tensor[node.outputs().size()];
        for (int i = 0; i < outputs.length; i++) {
            if (!(results[i] instanceof Tensor output)) {
                return null; // sequences and optionals are not kept as constants
            }
            if (!output.dtype().isString() && output.dtype().storageBytes(output.elementCount()) > MAX_FOLDED_BYTES) {
                return null;
            }
            outputs[i] = output.arena() == arena ? output.contiguous() : arena.copyOf(output);
        }
        return outputs;
    }
}
