package dev.quanta.graph;

import dev.quanta.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A computation: inputs, constants, nodes in an order where every value is defined before it is
 * used, and outputs. The arena holds the constants and lives as long as the graph's owner keeps it.
 */
public final class Graph {
    private final String name;
    private final List<Value> inputs;
    private final List<Value> outputs;
    private final List<Node> nodes;
    private final Map<Value, Tensor> constants;

    private Graph(String name, List<Value> inputs, List<Value> outputs, List<Node> nodes, Map<Value, Tensor> constants) {
        this.name = name;
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.nodes = List.copyOf(nodes);
        this.constants = Collections.unmodifiableMap(new LinkedHashMap<>(constants));
    }

    public String name() {
        return name;
    }

    public List<Value> inputs() {
        return inputs;
    }

    public List<Value> outputs() {
        return outputs;
    }

    public List<Node> nodes() {
        return nodes;
    }

    public Map<Value, Tensor> constants() {
        return constants;
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Collects a graph; {@link #build()} checks that it is well formed. */
    public static final class Builder {
        private final String name;
        private final List<Value> inputs = new ArrayList<>();
        private final List<Value> outputs = new ArrayList<>();
        private final List<Node> nodes = new ArrayList<>();
        private final Map<Value, Tensor> constants = new LinkedHashMap<>();

        private Builder(String name) {
            this.name = name;
        }

        public Builder input(Value value) {
            inputs.add(value);
            return this;
        }

        public Builder constant(Value value, Tensor tensor) {
            constants.put(value, tensor);
            return this;
        }

        public Builder node(Node node) {
            nodes.add(node);
            return this;
        }

        public Builder output(Value value) {
            outputs.add(value);
            return this;
        }

        /**
         * Checks that every value is defined once, before its first use, and that every output
         * is defined; names the node at fault.
         */
        public Graph build() {
            Set<Value> defined = new HashSet<>();
            Set<String> names = new HashSet<>();
            for (Value value : inputs) {
                define(value, defined, names, "graph input");
            }
            for (Value value : constants.keySet()) {
                if (!inputs.contains(value)) {
                    define(value, defined, names, "constant");
                }
            }
            for (Node node : nodes) {
                for (Value input : node.inputs()) {
                    if (input != null && !defined.contains(input)) {
                        throw new GraphException(node + " reads '" + input.name()
                                + "', which no earlier node, input or initializer defines");
                    }
                }
                for (Value output : node.outputs()) {
                    define(output, defined, names, node.toString());
                }
            }
            for (Value output : outputs) {
                if (!defined.contains(output)) {
                    throw new GraphException("graph '" + name + "' output '" + output.name() + "' is never computed");
                }
            }
            return new Graph(name, inputs, outputs, nodes, constants);
        }

        private static void define(Value value, Set<Value> defined, Set<String> names, String by) {
            if (!defined.add(value) || !names.add(value.name())) {
                throw new GraphException("value '" + value.name() + "' is defined twice (again by " + by + ")");
            }
        }
    }
}
