package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a fusion pass changes in a graph (nodes replaced, where they stood, by others; constants
 * added), and what the passes ask of the graph while matching chains of nodes.
 */
final class Rewrite {

    private final Graph graph;
    private final Map<Value, List<Node>> readers = new IdentityHashMap<>();
    private final Map<Value, Node> producers = new IdentityHashMap<>();
    private final Set<Value> outputs;
    private final Map<Node, List<Node>> replacements = new IdentityHashMap<>();
    private final Map<Value, Tensor> constants = new IdentityHashMap<>();

    Rewrite(Graph graph) {
        this.graph = graph;
        for (Node node : graph.nodes()) {
            for (Value input : node.inputs()) {
                if (input != null) {
                    readers.computeIfAbsent(input, ignored -> new ArrayList<>()).add(node);
                }
            }
            node.outputs().forEach(output -> producers.put(output, node));
        }
        outputs = new HashSet<>(graph.outputs());
    }

    /** The node computing {@code value}; null for inputs and constants. */
    Node producer(Value value) {
        return producers.get(value);
    }

    /** The nodes reading {@code value}. */
    List<Node> readers(Value value) {
        return readers.getOrDefault(value, List.of());
    }

    boolean isOutput(Value value) {
        return outputs.contains(value);
    }

    /** The one node reading {@code value}, if exactly one does and it is not a graph output; else null. */
    Node onlyReader(Value value) {
        List<Node> nodes = readers(value);
        return nodes.size() != 1 || outputs.contains(value) ? null : nodes.get(0);
    }

    /** The one node reading the single output of {@code node}, as {@link #onlyReader(Value)}. */
    Node onlyReader(Node node) {
        return node == null || node.outputs().size() != 1 ? null : onlyReader(node.outputs().get(0));
    }

    /** A float32 constant that cannot be fed (not also a graph input), or null. */
    Tensor floatConstant(Value value) {
        Tensor tensor = value == null || graph.inputs().contains(value) ? null : graph.constants().get(value);
        return tensor == null || tensor.dtype() != DType.FLOAT ? null : tensor;
    }

    /** The value of a float32 constant of one element and rank at most 1 (it broadcasts away), or null. */
    Float floatScalar(Value value) {
        Tensor tensor = value == null ? null : graph.constants().get(value);
        return tensor == null || tensor.dtype() != DType.FLOAT || tensor.elementCount() != 1 || tensor.rank() > 1 ? null
                : tensor.contiguous().toFloatArray()[0];
    }

    /** Whether {@code value} is a float32 scalar constant of exactly these bits (a −0 is not a 0). */
    boolean isFloatScalar(Value value, float expected) {
        Float scalar = floatScalar(value);
        return scalar != null && Float.floatToIntBits(scalar) == Float.floatToIntBits(expected);
    }

    static boolean binary(Node node, Binary.Kind kind) {
        return node != null && node.op() instanceof Binary b && b.kind() == kind;
    }

    /** A binary node's operand other than {@code value}; null if both or neither are {@code value}. */
    static Value other(Node node, Value value) {
        Value first = node.inputs().get(0);
        Value second = node.inputs().get(1);
        return first == value && second != value ? second : second == value && first != value ? first : null;
    }

    /** {@code node} gives way to {@code nodes}, in its place; an empty list removes it. */
    void replace(Node node, List<Node> nodes) {
        replacements.put(node, nodes);
    }

    boolean touches(Node node) {
        return replacements.containsKey(node);
    }

    void constant(Value value, Tensor tensor) {
        constants.put(value, tensor);
    }

    /** The rewritten graph, or the same one if nothing changed. */
    Graph apply() {
        if (replacements.isEmpty() && constants.isEmpty()) {
            return graph;
        }
        Graph.Builder builder = Graph.builder(graph.name());
        graph.inputs().forEach(builder::input);
        graph.constants().forEach(builder::constant);
        constants.forEach(builder::constant);
        for (Node node : graph.nodes()) {
            replacements.getOrDefault(node, List.of(node)).forEach(builder::node);
        }
        graph.outputs().forEach(builder::output);
        return builder.build();
    }
}
