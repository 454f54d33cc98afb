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
 * GELU as exporters write it, Div(x, √2) → Erf → Add(1) → Mul(x) → Mul(0.5) on float32, becomes
 * one Unary GELU, whose vector kernel rounds each step to float as the five nodes do: the same
 * bits, one pass over memory instead of five. The constants must be exactly √2 (in float), 1 and
 * 0.5, and no value inside the chain may be read elsewhere or be a graph output.
 */
public final class GeluFusion {

    private GeluFusion() {
    }

    public static Graph apply(Graph graph, Map<Value, DType> types) {
        Rewrite rewrite = new Rewrite(graph);
        for (Node div : graph.nodes()) {
            if (!binary(div, Binary.Kind.DIV) || types.get(div.inputs().get(0)) != DType.FLOAT
                    || !rewrite.isFloatScalar(div.inputs().get(1), (float) Math.sqrt(2))) {
                continue;
            }
            Value x = div.inputs().get(0);
            Node erf = rewrite.onlyReader(div);
            Node plusOne = rewrite.onlyReader(erf);
            Node timesX = rewrite.onlyReader(plusOne);
            Node half = rewrite.onlyReader(timesX);
            if (erf == null || !(erf.op() instanceof Unary u && u.kind() == Unary.Kind.ERF)
                    || !binary(plusOne, Binary.Kind.ADD) || !rewrite.isFloatScalar(other(plusOne, erf.outputs().get(0)), 1)
                    || !binary(timesX, Binary.Kind.MUL) || other(timesX, plusOne.outputs().get(0)) != x
                    || !binary(half, Binary.Kind.MUL) || !rewrite.isFloatScalar(other(half, timesX.outputs().get(0)), 0.5f)
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
}
