package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.Cast;
import dev.quanta.graph.ops.ChannelNormalize;
import dev.quanta.graph.ops.Concat;
import dev.quanta.graph.ops.Conv;
import dev.quanta.graph.ops.ConvTranspose;
import dev.quanta.graph.ops.CoreOp;
import dev.quanta.graph.ops.DepthToSpace;
import dev.quanta.graph.ops.Expand;
import dev.quanta.graph.ops.Flatten;
import dev.quanta.graph.ops.Gather;
import dev.quanta.graph.ops.GlobalPool;
import dev.quanta.graph.ops.Identity;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.Normalize;
import dev.quanta.graph.ops.Pad;
import dev.quanta.graph.ops.Pool;
import dev.quanta.graph.ops.Reduce;
import dev.quanta.graph.ops.Reshape;
import dev.quanta.graph.ops.Resize;
import dev.quanta.graph.ops.Slice;
import dev.quanta.graph.ops.Softmax;
import dev.quanta.graph.ops.Split;
import dev.quanta.graph.ops.Squeeze;
import dev.quanta.graph.ops.Tile;
import dev.quanta.graph.ops.Transpose;
import dev.quanta.graph.ops.Unary;
import dev.quanta.graph.ops.Unsqueeze;
import dev.quanta.graph.ops.Where;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Float8E8M0;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Arithmetic on float16 and bfloat16 tensors runs in float32, as ONNX Runtime's CPU provider runs
 * it: it has no half-precision kernel for most ops on x86, so it casts their inputs to float32 and
 * their results back, then drops each pair of casts that meet between two such nodes (and a
 * model's own cast from float32 to a half type and back): values pass from node to node in
 * float32, unrounded. Here likewise each node that computes (a convolution, a product, a pool, a
 * norm, an element-wise op) or moves values (a reshape, a concatenation, a slice...) reads the
 * float32 value its half inputs are the rounding of, or a float32 copy where there is none (a
 * graph input, a weight: those casts fold at load), and writes float32. A half value is still
 * rounded where something else reads it: a half graph output, a cast to another type than
 * float32, an op that does neither. Element by element in the half types, a float16 ISNet's convolutions took minutes a run;
 * with a rounding after each node, its 396 casts took 11% of it.
 */
public final class HalfPrecisionWidening {

    private HalfPrecisionWidening() {
    }

    public static Graph apply(Graph graph, Map<Value, DType> types) {
        Rewrite rewrite = new Rewrite(graph);
        // One float32 copy of a half value that is no node's rounding, however many nodes read it.
        Map<Value, Value> widened = new IdentityHashMap<>();
        // A half value and the float32 value it is the rounding of.
        Map<Value, Value> unrounded = new IdentityHashMap<>();
        for (Node node : graph.nodes()) {
            if (node.op() instanceof Cast cast && isHalf(cast.to()) && types.get(node.inputs().get(0)) == DType.FLOAT) {
                unrounded.put(node.outputs().get(0), node.inputs().get(0));
                continue;
            }
            if (node.op() instanceof Cast cast && cast.to() == DType.FLOAT && unrounded.containsKey(node.inputs().get(0))) {
                // A cast back to float32 gives the value before its rounding, as the pair is dropped;
                // where the cast gives a graph output, ONNX Runtime keeps it but drops the rounding before it.
                rewrite.replace(node, List.of(new Node(node.name(), new Identity(),
                        List.of(unrounded.get(node.inputs().get(0))), node.outputs(), node.source())));
                continue;
            }
            if (!(computes(node.op()) || movesValues(node.op()))
                    || node.inputs().stream().noneMatch(input -> isHalf(types.get(input)))) {
                continue;
            }
            List<Node> replacement = new ArrayList<>();
            List<Value> inputs = new ArrayList<>();
            for (Value input : node.inputs()) {
                if (input == null || !isHalf(types.get(input))) {
                    inputs.add(input);
                    continue;
                }
                Value wide = unrounded.containsKey(input) ? unrounded.get(input) : widened.get(input);
                if (wide == null) {
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
                // The rounding stays for whatever reads the half value; dead code removal takes it when nothing does.
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

    /** Ops with float32 kernels whose results ONNX Runtime computes in float32 too. */
    private static boolean computes(CoreOp op) {
        return op instanceof Conv || op instanceof ConvTranspose || op instanceof MatMul || op instanceof Pool
                || op instanceof GlobalPool || op instanceof Resize || op instanceof Normalize
                || op instanceof ChannelNormalize || op instanceof Softmax || op instanceof Reduce
                || op instanceof Unary || op instanceof Binary;
    }

    /** Ops that only move or select values, the same in any float type. */
    private static boolean movesValues(CoreOp op) {
        return op instanceof Reshape || op instanceof Transpose || op instanceof Squeeze || op instanceof Unsqueeze
                || op instanceof Flatten || op instanceof Concat || op instanceof Split || op instanceof Slice
                || op instanceof Gather || op instanceof Expand || op instanceof Tile || op instanceof Identity
                || op instanceof Pad || op instanceof DepthToSpace || op instanceof Where;
    }

    private static boolean isHalf(DType type) {
        return type == DType.FLOAT16 || type == DType.BFLOAT16;
    }

    private static Node cast(String name, DType to, Value from, Value into, String source) {
        return new Node(name, new Cast(to, true, Float8E8M0.RoundMode.UP), List.of(from), List.of(into), source);
    }
}
