package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.cpu.CpuBackend;
import dev.quanta.graph.ops.Cast;
import dev.quanta.graph.ops.CastLike;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.QuantaException;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;

/**
 * CastLike of a constant to a value whose element type the graph declares or infers becomes a
 * constant of that type. Constant folding cannot take it, as the value it takes its type from is
 * computed at run time: Clip-6's bounds arrive so (CastLike of the min and max attributes to x),
 * and stayed run-time nodes that also hid PaddleOCR's hard-swish from {@link HardSwishFusion}.
 */
public final class CastLikeFolding {

    private CastLikeFolding() {
    }

    /** {@code arena} holds the constants it makes. */
    public static Graph apply(Graph graph, Map<Value, DType> types, TensorArena arena) {
        Rewrite rewrite = new Rewrite(graph);
        for (Node node : graph.nodes()) {
            if (!(node.op() instanceof CastLike like)) {
                continue;
            }
            // An initializer that is also a graph input can be fed: not a constant.
            Tensor constant = graph.inputs().contains(node.inputs().get(0)) ? null : graph.constants().get(node.inputs().get(0));
            DType to = types.get(node.inputs().get(1));
            if (constant == null || to == null || rewrite.isOutput(node.outputs().get(0))) {
                continue;
            }
            Tensor converted;
            try {
                converted = (Tensor) CpuBackend.kernel(new Cast(to, like.saturate(), like.roundMode()))
                        .run(new KernelContext(arena, node), new Object[] {constant})[0];
            } catch (QuantaException | ArithmeticException | IndexOutOfBoundsException | IllegalArgumentException e) {
                continue; // the same error will name the node at run time
            }
            rewrite.constant(node.outputs().get(0), converted.arena() == arena ? converted : arena.copyOf(converted));
            rewrite.replace(node, List.of());
        }
        return rewrite.apply();
    }
}
