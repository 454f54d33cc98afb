package dev.quanta.graph;

import dev.quanta.graph.ops.CoreOp;
import java.util.Collections;
import java.util.List;

/**
 * One operation of the graph. An input is null where an optional input is omitted.
 * {@code source} names what the node came from (the ONNX node) for error messages and profiles.
 */
public record Node(String name, CoreOp op, List<Value> inputs, List<Value> outputs, String source) {

    public Node {
        inputs = Collections.unmodifiableList(new java.util.ArrayList<>(inputs));
        outputs = List.copyOf(outputs);
    }

    /**
     * The source alone where it already describes this node (an ONNX node by its name, or unnamed
     * and this node named after its op type), else this node's name and its source.
     */
    @Override
    public String toString() {
        String named = "node '" + name + "'";
        boolean described = source.startsWith(named + " (") || source.startsWith("node (unnamed) (")
                && (source.contains("(" + name + ", ") || source.contains("." + name + ", "));
        return described ? source : named + " (" + source + ")";
    }
}
