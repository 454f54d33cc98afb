package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.MatMulTransposedB;
import dev.quanta.graph.ops.Transpose;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import java.util.List;

/**
 * MatMul(A, Transpose(W)) over a 2-D float32 constant W, the transpose read by nothing else (a
 * Gemm's transB: PyTorch's Linear layers exported on 2-D inputs), becomes A·Wᵀ reading W as it lies.
 * Folded, the transpose was a second copy of the weights beside W, which the unoptimized graph
 * keeps: EnvCNN's 87 MB of weights took 166 MB.
 */
public final class TransposedWeights {

    private TransposedWeights() {
    }

    public static Graph apply(Graph graph) {
        Rewrite rewrite = new Rewrite(graph);
        for (Node matMul : graph.nodes()) {
            if (!(matMul.op() instanceof MatMul) || matMul.inputs().size() != 2) {
                continue;
            }
            Node transpose = rewrite.producer(matMul.inputs().get(1));
            if (transpose == null || !(transpose.op() instanceof Transpose op) || rewrite.touches(transpose)
                    || rewrite.onlyReader(transpose) != matMul) {
                continue;
            }
            Value weights = transpose.inputs().get(0);
            Tensor w = graph.inputs().contains(weights) ? null : graph.constants().get(weights);
            boolean swapsTwoAxes = op.perm() == null || op.perm().length == 2 && op.perm()[0] == 1 && op.perm()[1] == 0;
            // MatMul's operands share one type: a float32 W makes A float32.
            if (w == null || w.dtype() != DType.FLOAT || w.rank() != 2 || !swapsTwoAxes) {
                continue;
            }
            rewrite.replace(transpose, List.of());
            rewrite.replace(matMul, List.of(new Node(matMul.name(), new MatMulTransposedB(),
                    List.of(matMul.inputs().get(0), weights), matMul.outputs(), matMul.source())));
        }
        return rewrite.apply();
    }
}
