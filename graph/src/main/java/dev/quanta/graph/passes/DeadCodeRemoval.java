package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Drops the nodes and constants that no graph output depends on. */
public final class DeadCodeRemoval {

    private DeadCodeRemoval() {
    }

    public static Graph apply(Graph graph) {
        Set<Value> needed = new HashSet<>(graph.outputs());
        List<Node> kept = new ArrayList<>();
        List<Node> nodes = graph.nodes();
        for (int n = nodes.size() - 1; n >= 0; n--) {
            Node node = nodes.get(n);
            if (node.outputs().stream().anyMatch(needed::contains)) {
                kept.add(node);
                node.inputs().stream().filter(input -> input != null).forEach(needed::add);
            }
        }
        Collections.reverse(kept);
        Graph.Builder builder = Graph.builder(graph.name());
        graph.inputs().forEach(builder::input);
        graph.constants().forEach((value, tensor) -> {
            if (needed.contains(value) || graph.inputs().contains(value)) {
                builder.constant(value, tensor);
            }
        });
        kept.forEach(builder::node);
        graph.outputs().forEach(builder::output);
        return builder.build();
    }
}
