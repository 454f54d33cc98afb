package dev.quanta.graph.passes;

import static dev.quanta.graph.passes.Rewrite.binary;
import static dev.quanta.graph.passes.Rewrite.other;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.Unary;
import dev.quanta.tensor.DType;
import java.util.List;
import java.util.Map;

/**
 * Hard-swish as paddle2onnx and others spell it out on float32, Add(x, 3) → Max(0) → Min(6) (a
 * Clip) → Mul(x) → Div(6), becomes one Unary HARD_SWISH_CHAIN, whose vector kernel rounds each step
 * as the five nodes do: the same bits, one pass over memory instead of five (PP-OCRv4's detector
 * has 24 of them). The constants must be exactly 3, 0, 6 and 6, and no value inside the chain may be
 * read elsewhere or be a graph output.
 */
public final class HardSwishFusion {

    private HardSwishFusion() {
    }

    public static Graph apply(Graph graph, Map<Value, DType> types) {
        Rewrite rewrite = new Rewrite(graph);
        for (Node add : graph.nodes()) {
            if (!binary(add, Binary.Kind.ADD)) {
                continue;
            }
            Value x = rewrite.isFloatScalar(add.inputs().get(1), 3) ? add.inputs().get(0)
                    : rewrite.isFloatScalar(add.inputs().get(0), 3) ? add.inputs().get(1) : null;
            if (x == null || types.get(x) != DType.FLOAT) {
                continue;
            }
            Node low = rewrite.onlyReader(add);
            Node high = rewrite.onlyReader(low);
            Node times = rewrite.onlyReader(high);
            Node divide = rewrite.onlyReader(times);
            if (!binary(low, Binary.Kind.MAX) || !rewrite.isFloatScalar(other(low, add.outputs().get(0)), 0)
                    || !binary(high, Binary.Kind.MIN) || !rewrite.isFloatScalar(other(high, low.outputs().get(0)), 6)
                    || !binary(times, Binary.Kind.MUL) || other(times, high.outputs().get(0)) != x
                    || !binary(divide, Binary.Kind.DIV) || divide.inputs().get(0) != times.outputs().get(0)
                    || !rewrite.isFloatScalar(divide.inputs().get(1), 6)
                    || List.of(add, low, high, times, divide).stream().anyMatch(rewrite::touches)) {
                continue;
            }
            Node fused = new Node(add.name(), Unary.of(Unary.Kind.HARD_SWISH_CHAIN), List.of(x), divide.outputs(),
                    add.source());
            for (Node node : List.of(add, low, high, times, divide)) {
                rewrite.replace(node, node == divide ? List.of(fused) : List.of());
            }
        }
        return rewrite.apply();
    }
}
