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

    @Override
    public String toString() {
        return "node '" + name + "' (" + source + ")";
    }
}
