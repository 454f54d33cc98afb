package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.Normalize;
import dev.quanta.graph.ops.Reduce;
import dev.quanta.graph.ops.Unary;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The layer normalization that exporters write as nine nodes (ReduceMean → Sub → Pow(2) →
 * ReduceMean → Add(ε) → Sqrt → Div → Mul(γ) → Add(β), over the last axis) becomes one
 * {@link Normalize}, whose vector kernel reads each row twice instead of nine tensors passing
 * through memory. ε, γ and β must be constants (γ and β one per element of the last axis), and
 * no value inside the chain may be read elsewhere or be a graph output. The fused kernel
 * computes the same function, so outputs agree up to float rounding.
 */
public final class LayerNormFusion {

    private LayerNormFusion() {
    }

    public static Graph apply(Graph graph, Map<Value, Shape> shapes) {
        Map<Value, List<Node>> readers = Rewrite.readers(graph);
        Set<Value> outputs = new HashSet<>(graph.outputs());
        Rewrite rewrite = new Rewrite(graph);
        for (Node mean : graph.nodes()) {
            List<Node> chain = match(mean, graph, shapes, readers, outputs);
            if (chain == null || chain.stream().anyMatch(rewrite::touches)) {
                continue;
            }
            Node last = chain.get(chain.size() - 1);
            Value x = mean.inputs().get(0);
            Value gamma = other(chain.get(7), chain.get(6).outputs().get(0));
            Value beta = other(last, chain.get(7).outputs().get(0));
            double epsilon = graph.constants().get(other(chain.get(4), chain.get(3).outputs().get(0))).contiguous()
                    .toDoubleArray()[0];
            List<Value> statistics = List.of(new Value(last.name() + "/mean", null), new Value(last.name() + "/inv_std", null));
            Node fused = new Node(mean.name(), new Normalize(-1, epsilon, false), List.of(x, gamma, beta),
                    List.of(last.outputs().get(0), statistics.get(0), statistics.get(1)), mean.source());
            chain.forEach(node -> rewrite.replace(node, node == last ? List.of(fused) : List.of()));
        }
        return rewrite.apply();
    }

    /** The nine nodes from the first ReduceMean, in order, or null if they do not form the pattern. */
    private static List<Node> match(Node mean, Graph graph, Map<Value, Shape> shapes, Map<Value, List<Node>> readers,
            Set<Value> outputs) {
        Value x = mean.inputs().isEmpty() ? null : mean.inputs().get(0);
        Shape shape = x == null ? null : shapes.get(x);
        if (!lastAxisMean(mean, shape, graph) || !shape.isStatic(shape.rank() - 1)) {
            return null;
        }
        long width = shape.size(shape.rank() - 1);
        Node sub = only(mean, readers, outputs);
        if (!binary(sub, Binary.Kind.SUB) || sub.inputs().get(0) != x || sub.inputs().get(1) != mean.outputs().get(0)) {
            return null;
        }
        Value centered = sub.outputs().get(0);
        List<Node> centeredReaders = readers.getOrDefault(centered, List.of());
        if (outputs.contains(centered) || centeredReaders.size() != 2) {
            return null;
        }
        Node pow = centeredReaders.stream().filter(node -> binary(node, Binary.Kind.POW)).findFirst().orElse(null);
        Node div = centeredReaders.stream().filter(node -> binary(node, Binary.Kind.DIV)).findFirst().orElse(null);
        if (pow == null || div == null || pow.inputs().get(0) != centered || div.inputs().get(0) != centered
                || !scalarConstant(pow.inputs().get(1), graph, 2)) {
            return null;
        }
        Node variance = only(pow, readers, outputs);
        if (variance == null || variance.inputs().get(0) != pow.outputs().get(0) || !lastAxisMean(variance, shape, graph)) {
            return null;
        }
        Node addEpsilon = only(variance, readers, outputs);
        if (!binary(addEpsilon, Binary.Kind.ADD) || !scalarConstant(other(addEpsilon, variance.outputs().get(0)), graph, null)) {
            return null;
        }
        Node sqrt = only(addEpsilon, readers, outputs);
        if (sqrt == null || !(sqrt.op() instanceof Unary u && u.kind() == Unary.Kind.SQRT) || only(sqrt, readers, outputs) != div
                || div.inputs().get(1) != sqrt.outputs().get(0)) {
            return null;
        }
        Node scale = only(div, readers, outputs);
        if (!binary(scale, Binary.Kind.MUL) || !perElement(other(scale, div.outputs().get(0)), graph, width)) {
            return null;
        }
        Node shift = only(scale, readers, outputs);
        if (!binary(shift, Binary.Kind.ADD) || !perElement(other(shift, scale.outputs().get(0)), graph, width)) {
            return null;
        }
        return List.of(mean, sub, pow, variance, addEpsilon, sqrt, div, scale, shift);
    }

    /** ReduceMean over the last axis only, keeping it, of a float32 tensor of known rank. */
    private static boolean lastAxisMean(Node node, Shape shape, Graph graph) {
        if (node == null || shape == null || shape.rank() == 0 || node.inputs().size() != 2
                || !(node.op() instanceof Reduce r && r.kind() == Reduce.Kind.MEAN && r.keepDims())) {
            return false;
        }
        Tensor axes = graph.constants().get(node.inputs().get(1));
        if (axes == null || axes.elementCount() != 1) {
            return false;
        }
        long axis = axes.contiguous().toLongArray()[0];
        return axis == -1 || axis == shape.rank() - 1;
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

    /** A float32 constant holding one value ({@code expected}, when given). */
    private static boolean scalarConstant(Value value, Graph graph, Integer expected) {
        Tensor tensor = value == null ? null : graph.constants().get(value);
        if (tensor == null || tensor.dtype() != DType.FLOAT || tensor.elementCount() != 1 || tensor.rank() > 1) {
            return false;
        }
        return expected == null || tensor.contiguous().toDoubleArray()[0] == expected;
    }

    /** A float32 constant [width]: one value per element of the normalized axis. */
    private static boolean perElement(Value value, Graph graph, long width) {
        Tensor tensor = value == null ? null : graph.constants().get(value);
        return tensor != null && tensor.dtype() == DType.FLOAT && tensor.rank() == 1 && tensor.size(0) == width;
    }
}
