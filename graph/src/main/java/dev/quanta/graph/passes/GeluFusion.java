package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.Unary;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * GELU as exporters write it, Div(x, √2) → Erf → Add(1) → Mul(x) → Mul(0.5) on float32, becomes
 * one Unary GELU, whose vector kernel rounds each step to float as the five nodes do: the same
 * bits, one pass over memory instead of five. The constants must be exactly √2 (in float), 1 and
 * 0.5, and no value inside the chain may be read elsewhere or be a graph output.
 */
public final class GeluFusion {

    private GeluFusion() {
    }

    public static Graph apply(Graph graph, Map<Value, DType> types) {
        Map<Value, List<Node>> readers = Rewrite.readers(graph);
        Set<Value> outputs = new HashSet<>(graph.outputs());
        Rewrite rewrite = new Rewrite(graph);
        for (Node div : graph.nodes()) {
            if (!binary(div, Binary.Kind.DIV) || types.get(div.inputs().get(0)) != DType.FLOAT
                    || !scalar(div.inputs().get(1), graph, (float) Math.sqrt(2))) {
                continue;
            }
            Value x = div.inputs().get(0);
            Node erf = only(div, readers, outputs);
            Node plusOne = only(erf, readers, outputs);
            Node timesX = only(plusOne, readers, outputs);
            Node half = only(timesX, readers, outputs);
            if (erf == null || !(erf.op() instanceof Unary u && u.kind() == Unary.Kind.ERF)
                    || !binary(plusOne, Binary.Kind.ADD) || !scalar(other(plusOne, erf.outputs().get(0)), graph, 1)
                    || !binary(timesX, Binary.Kind.MUL) || other(timesX, plusOne.outputs().get(0)) != x
                    || !binary(half, Binary.Kind.MUL) || !scalar(other(half, timesX.outputs().get(0)), graph, 0.5f)
                    || List.of(div, erf, plusOne, timesX, half).stream().anyMatch(rewrite::touches)) {
                continue;
            }
            Node gelu = new Node(div.name(), new Unary(Unary.Kind.GELU, 0, 0), List.of(x), half.outputs(), div.source());
            for (Node node : List.of(div, erf, plusOne, timesX, half)) {
                rewrite.replace(node, node == half ? List.of(gelu) : List.of());
            }
        }
        return rewrite.apply();
    }

    /** The one node reading the single output of {@code node}, if that output is not a graph output. */
    private static Node only(Node node, Map<Value, List<Node>> readers, Set<Value> outputs) {
        if (node == null || node.outputs().size() != 1 || outputs.contains(node.outputs().get(0))) {
            return null;
        }
        List<Node> nodes = readers.get(node.outputs().get(0));
        return nodes == null || nodes.size() != 1 ? null : nodes.get(0);
    }

    private static boolean binary(Node node, Binary.Kind kind) {
        return node != null && node.op() instanceof Binary b && b.kind() == kind;
    }

    private static Value other(Node node, Value value) {
        Value first = node.inputs().get(0);
        Value second = node.inputs().get(1);
        return first == value && second != value ? second : second == value && first != value ? first : null;
    }

    /** A float32 constant of one element equal to {@code expected}, and of rank at most 1 (it broadcasts away). */
    private static boolean scalar(Value value, Graph graph, float expected) {
        Tensor tensor = value == null ? null : graph.constants().get(value);
        return tensor != null && tensor.dtype() == DType.FLOAT && tensor.elementCount() == 1 && tensor.rank() <= 1
                && tensor.contiguous().toFloatArray()[0] == expected;
    }
}
