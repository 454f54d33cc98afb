package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.tensor.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** What a fusion pass changes in a graph: nodes replaced, where they stood, by others; constants added. */
final class Rewrite {

    private final Graph graph;
    private final Map<Node, List<Node>> replacements = new IdentityHashMap<>();
    private final Map<Value, Tensor> constants = new IdentityHashMap<>();

    Rewrite(Graph graph) {
        this.graph = graph;
    }

    /** The nodes reading each value. */
    static Map<Value, List<Node>> readers(Graph graph) {
        Map<Value, List<Node>> readers = new IdentityHashMap<>();
        for (Node node : graph.nodes()) {
            for (Value input : node.inputs()) {
                if (input != null) {
                    readers.computeIfAbsent(input, ignored -> new ArrayList<>()).add(node);
                }
            }
        }
        return readers;
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
