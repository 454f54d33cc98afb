package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Attention;
import dev.quanta.graph.ops.MaskedSoftmax;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import java.util.List;
import java.util.Map;

/**
 * MatMul(q, keys) → {@link MaskedSoftmax} → MatMul(·, v) on float32 becomes one {@link Attention},
 * which runs a head at a time with its scores in cache: the same bits, without writing every
 * head's scores out and reading them back twice. Runs after {@link MaskedSoftmaxFusion}. The
 * scores and the probabilities may not be read elsewhere or be graph outputs; the three operands
 * must have one rank, two or more.
 */
public final class AttentionFusion {

    private AttentionFusion() {
    }

    public static Graph apply(Graph graph, Map<Value, Shape> shapes, Map<Value, DType> types) {
        Rewrite rewrite = new Rewrite(graph);
        for (Node weighted : graph.nodes()) {
            if (!(weighted.op() instanceof MatMul) || weighted.inputs().size() != 2) {
                continue;
            }
            Node softmax = rewrite.producer(weighted.inputs().get(0));
            if (softmax == null || !(softmax.op() instanceof MaskedSoftmax masked)
                    || rewrite.onlyReader(softmax) != weighted) {
                continue;
            }
            Node scores = rewrite.producer(softmax.inputs().get(0));
            if (scores == null || !(scores.op() instanceof MatMul) || scores.inputs().size() != 2
                    || rewrite.onlyReader(scores) != softmax) {
                continue;
            }
            Value q = scores.inputs().get(0);
            Value keys = scores.inputs().get(1);
            Value mask = softmax.inputs().get(1);
            Value v = weighted.inputs().get(1);
            List<Value> operands = List.of(q, keys, mask, v);
            if (operands.stream().anyMatch(operand -> types.get(operand) != DType.FLOAT) || !sameRank(shapes, q, keys, v)
                    || List.of(scores, softmax, weighted).stream().anyMatch(rewrite::touches)) {
                continue;
            }
            rewrite.replace(scores, List.of());
            rewrite.replace(softmax, List.of());
            rewrite.replace(weighted, List.of(new Node(weighted.name(), new Attention(masked.divisor()), operands,
                    weighted.outputs(), weighted.source())));
        }
        return rewrite.apply();
    }

    private static boolean sameRank(Map<Value, Shape> shapes, Value q, Value keys, Value v) {
        Shape first = shapes.get(q);
        return first != null && first.rank() >= 2 && shapes.get(keys) != null && shapes.get(keys).rank() == first.rank()
                && shapes.get(v) != null && shapes.get(v).rank() == first.rank();
    }
}
