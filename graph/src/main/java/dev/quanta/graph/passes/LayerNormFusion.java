package dev.quanta.graph.passes;

import static dev.quanta.graph.passes.Rewrite.binary;
import static dev.quanta.graph.passes.Rewrite.other;

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
import java.util.List;
import java.util.Map;

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
        Rewrite rewrite = new Rewrite(graph);
        for (Node mean : graph.nodes()) {
            List<Node> chain = match(mean, graph, shapes, rewrite);
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
    private static List<Node> match(Node mean, Graph graph, Map<Value, Shape> shapes, Rewrite rewrite) {
        Value x = mean.inputs().isEmpty() ? null : mean.inputs().get(0);
        Shape shape = x == null ? null : shapes.get(x);
        if (!lastAxisMean(mean, shape, graph) || !shape.isStatic(shape.rank() - 1)) {
            return null;
        }
        long width = shape.size(shape.rank() - 1);
        Node sub = rewrite.onlyReader(mean);
        if (!binary(sub, Binary.Kind.SUB) || sub.inputs().get(0) != x || sub.inputs().get(1) != mean.outputs().get(0)) {
            return null;
        }
        Value centered = sub.outputs().get(0);
        List<Node> centeredReaders = rewrite.readers(centered);
        if (rewrite.isOutput(centered) || centeredReaders.size() != 2) {
            return null;
        }
        Node pow = centeredReaders.stream().filter(node -> binary(node, Binary.Kind.POW)).findFirst().orElse(null);
        Node div = centeredReaders.stream().filter(node -> binary(node, Binary.Kind.DIV)).findFirst().orElse(null);
        if (pow == null || div == null || pow.inputs().get(0) != centered || div.inputs().get(0) != centered
                || !Float.valueOf(2).equals(rewrite.floatScalar(pow.inputs().get(1)))) {
            return null;
        }
        Node variance = rewrite.onlyReader(pow);
        if (variance == null || variance.inputs().get(0) != pow.outputs().get(0) || !lastAxisMean(variance, shape, graph)) {
            return null;
        }
        Node addEpsilon = rewrite.onlyReader(variance);
        if (!binary(addEpsilon, Binary.Kind.ADD) || rewrite.floatScalar(other(addEpsilon, variance.outputs().get(0))) == null) {
            return null;
        }
        Node sqrt = rewrite.onlyReader(addEpsilon);
        if (sqrt == null || !(sqrt.op() instanceof Unary u && u.kind() == Unary.Kind.SQRT) || rewrite.onlyReader(sqrt) != div
                || div.inputs().get(1) != sqrt.outputs().get(0)) {
            return null;
        }
        Node scale = rewrite.onlyReader(div);
        if (!binary(scale, Binary.Kind.MUL) || !perElement(other(scale, div.outputs().get(0)), graph, width)) {
            return null;
        }
        Node shift = rewrite.onlyReader(scale);
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

    /** A float32 constant [width]: one value per element of the normalized axis. */
    private static boolean perElement(Value value, Graph graph, long width) {
        Tensor tensor = value == null ? null : graph.constants().get(value);
        return tensor != null && tensor.dtype() == DType.FLOAT && tensor.rank() == 1 && tensor.size(0) == width;
    }
}
