package dev.quanta.graph.passes;

import static dev.quanta.graph.passes.Rewrite.binary;
import static dev.quanta.graph.passes.Rewrite.other;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.MaskedSoftmax;
import dev.quanta.graph.ops.Softmax;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import java.util.List;
import java.util.Map;

/**
 * Attention's Div(scores, constant) → Add(mask) → Softmax(last axis) on float32 becomes one
 * {@link MaskedSoftmax}, which runs the three steps on each row while it is in L1, rounding each
 * as the nodes do: the same bits, one pass over memory instead of three. The divisor must be a
 * constant of one element, and neither the quotient nor the sum may be read elsewhere or be a
 * graph output.
 */
public final class MaskedSoftmaxFusion {

    private MaskedSoftmaxFusion() {
    }

    public static Graph apply(Graph graph, Map<Value, Shape> shapes, Map<Value, DType> types) {
        Rewrite rewrite = new Rewrite(graph);
        for (Node softmax : graph.nodes()) {
            if (!(softmax.op() instanceof Softmax op) || op.log() || softmax.inputs().isEmpty()) {
                continue;
            }
            Node add = rewrite.producer(softmax.inputs().get(0));
            if (!binary(add, Binary.Kind.ADD) || rewrite.onlyReader(add) != softmax) {
                continue;
            }
            Node div = rewrite.producer(add.inputs().get(0));
            if (!binary(div, Binary.Kind.DIV) || rewrite.onlyReader(div) != add) {
                div = rewrite.producer(add.inputs().get(1));
            }
            if (!binary(div, Binary.Kind.DIV) || rewrite.onlyReader(div) != add) {
                continue;
            }
            Value scores = div.inputs().get(0);
            Value mask = other(add, div.outputs().get(0));
            Float divisor = rewrite.floatScalar(div.inputs().get(1));
            // Ranks are enough: the kernel broadcasts the scores and the mask as Add does.
            Shape scoresShape = shapes.get(scores);
            Shape sumShape = shapes.get(add.outputs().get(0));
            if (divisor == null || mask == null || types.get(scores) != DType.FLOAT || types.get(mask) != DType.FLOAT
                    || scoresShape == null || scoresShape.rank() == 0 || sumShape == null
                    || !lastAxis(op, sumShape.rank())
                    || List.of(div, add, softmax).stream().anyMatch(rewrite::touches)) {
                continue;
            }
            Node fused = new Node(softmax.name(), new MaskedSoftmax(divisor), List.of(scores, mask), softmax.outputs(),
                    softmax.source());
            rewrite.replace(div, List.of());
            rewrite.replace(add, List.of());
            rewrite.replace(softmax, List.of(fused));
        }
        return rewrite.apply();
    }

    /** Whether the softmax runs along the last axis (before opset 13, over the last axis alone). */
    private static boolean lastAxis(Softmax op, int rank) {
        int axis = op.axis() < 0 ? op.axis() + rank : op.axis();
        return axis == rank - 1;
    }
}
