package dev.quanta.graph.passes;

import static dev.quanta.graph.passes.Rewrite.binary;
import static dev.quanta.graph.passes.Rewrite.other;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.LinearLayer;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.MatMulTransposedB;
import dev.quanta.graph.ops.Unary;
import dev.quanta.tensor.Tensor;
import java.util.List;

/**
 * MatMul (or A·Wᵀ) of a constant 2-D float32 W, then Add of a constant 1-D float32 bias of W's
 * column count, then optionally one of {@link LinearLayer#ACTIVATIONS}, becomes one {@link
 * LinearLayer}: the same bits (the product, then its sum with the bias, then the activation, each
 * rounded as the nodes round them) without the Add's and the activation's passes over memory and
 * their nodes' overheads. A Linear layer of four rows (TopPIC's scoring MLP) spent a sixth of its
 * run in the separate Add. No value inside the chain may be read elsewhere or be a graph output.
 */
public final class LinearLayerFusion {

    private LinearLayerFusion() {
    }

    public static Graph apply(Graph graph) {
        Rewrite rewrite = new Rewrite(graph);
        for (Node product : graph.nodes()) {
            boolean transposed = product.op() instanceof MatMulTransposedB;
            if (!(transposed || product.op() instanceof MatMul) || product.inputs().size() != 2 || rewrite.touches(product)) {
                continue;
            }
            Tensor w = rewrite.floatConstant(product.inputs().get(1));
            Node add = rewrite.onlyReader(product);
            if (w == null || w.rank() != 2 || !binary(add, Binary.Kind.ADD) || rewrite.touches(add)) {
                continue;
            }
            Value biasValue = other(add, product.outputs().get(0));
            Tensor bias = rewrite.floatConstant(biasValue);
            if (bias == null || bias.rank() != 1 || bias.size(0) != w.size(transposed ? 0 : 1)) {
                continue;
            }
            Node next = rewrite.onlyReader(add);
            Node activation = next != null && next.op() instanceof Unary unary && LinearLayer.ACTIVATIONS.contains(unary.kind())
                    && !rewrite.touches(next) ? next : null;
            Node last = activation != null ? activation : add;
            Node fused = new Node(product.name(), new LinearLayer(transposed, activation == null ? null : (Unary) activation.op()),
                    List.of(product.inputs().get(0), product.inputs().get(1), biasValue), last.outputs(), product.source());
            rewrite.replace(product, List.of());
            rewrite.replace(add, activation == null ? List.of(fused) : List.of());
            if (activation != null) {
                rewrite.replace(activation, List.of(fused));
            }
        }
        return rewrite.apply();
    }
}
