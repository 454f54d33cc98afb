package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.Cast;
import dev.quanta.graph.ops.ChannelNormalize;
import dev.quanta.graph.ops.Conv;
import dev.quanta.graph.ops.ConvTranspose;
import dev.quanta.graph.ops.CoreOp;
import dev.quanta.graph.ops.GlobalPool;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.Normalize;
import dev.quanta.graph.ops.Pool;
import dev.quanta.graph.ops.Reduce;
import dev.quanta.graph.ops.Resize;
import dev.quanta.graph.ops.Softmax;
import dev.quanta.graph.ops.Unary;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Float8E8M0;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Arithmetic on float16 and bfloat16 tensors runs in float32: each such input of a node whose op
 * computes (a convolution, a product, a pool, a norm, an element-wise op) is cast to float32, and
 * each output of those types cast back, as ONNX Runtime's CPU provider inserts casts around the
 * nodes it has no half-precision kernel for. The node then runs on the float32 kernels; element
 * by element in the half types, a float16 ISNet's convolutions took minutes a run. Each result is
 * rounded to its half type once, as it leaves the node, so the graph's types and the rounding
 * between nodes stay the model's. Casts of constants (the weights) fold at load.
 */
public final class HalfPrecisionWidening {

    private HalfPrecisionWidening() {
    }

    public static Graph apply(Graph graph, Map<Value, DType> types) {
        Rewrite rewrite = new Rewrite(graph);
        // One float32 copy of a half value, however many nodes read it.
        Map<Value, Value> widened = new IdentityHashMap<>();
        // A node's half output and its float32 value before rounding.
        Map<Value, Value> unrounded = new IdentityHashMap<>();
        for (Node node : graph.nodes()) {
            if (!computes(node.op()) || node.inputs().stream().noneMatch(input -> isHalf(types.get(input)))) {
                continue;
            }
            List<Node> replacement = new ArrayList<>();
            List<Value> inputs = new ArrayList<>();
            for (Value input : node.inputs()) {
                if (input == null || !isHalf(types.get(input))) {
                    inputs.add(input);
                    continue;
                }
                Value wide = widened.get(input);
                if (wide == null && commutesWithRounding(node) && unrounded.containsKey(input)) {
                    // Rounding, then this node, gives what this node, then rounding, gives: the node
                    // reads the value before rounding, and a rounding no one else reads goes with the dead code.
                    wide = unrounded.get(input);
                } else if (wide == null) {
                    wide = new Value(input.name() + "/float32", null);
                    widened.put(input, wide);
                    replacement.add(cast(node.name() + "/widen " + input.name(), DType.FLOAT, input, wide, node.source()));
                }
                inputs.add(wide);
            }
            List<Value> outputs = new ArrayList<>();
            List<Node> narrowings = new ArrayList<>();
            for (Value output : node.outputs()) {
                DType type = types.get(output);
                if (!isHalf(type)) {
                    outputs.add(output);
                    continue;
                }
                Value wide = new Value(output.name() + "/before rounding", null);
                unrounded.put(output, wide);
                outputs.add(wide);
                narrowings.add(cast(node.name() + "/narrow " + output.name(), type, wide, output, node.source()));
            }
            replacement.add(new Node(node.name(), node.op(), inputs, outputs, node.source()));
            replacement.addAll(narrowings);
            rewrite.replace(node, replacement);
        }
        return rewrite.apply();
    }

    /**
     * Ops that commute with rounding to a half type, which is monotone: Relu (ISNet's after each
     * Conv), and max pooling without indices (which may differ between values that round together).
     */
    private static boolean commutesWithRounding(Node node) {
        return node.op() instanceof Unary unary && unary.kind() == Unary.Kind.RELU
                || node.op() instanceof Pool pool && pool.kind() == Pool.Kind.MAX && node.outputs().size() == 1;
    }

    /** Ops with float32 kernels whose results, rounded once, are what the half types' arithmetic asks. */
    private static boolean computes(CoreOp op) {
        return op instanceof Conv || op instanceof ConvTranspose || op instanceof MatMul || op instanceof Pool
                || op instanceof GlobalPool || op instanceof Resize || op instanceof Normalize
                || op instanceof ChannelNormalize || op instanceof Softmax || op instanceof Reduce
                || op instanceof Unary || op instanceof Binary;
    }

    private static boolean isHalf(DType type) {
        return type == DType.FLOAT16 || type == DType.BFLOAT16;
    }

    private static Node cast(String name, DType to, Value from, Value into, String source) {
        return new Node(name, new Cast(to, true, Float8E8M0.RoundMode.UP), List.of(from), List.of(into), source);
    }
}
