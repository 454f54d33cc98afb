package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.Cast;
import dev.quanta.graph.ops.Dequantize;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.MatMulInteger;
import dev.quanta.graph.ops.MatMulIntegerToFloat;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Float matmuls over int8 data become one {@link MatMulIntegerToFloat}, in two patterns:
 * <ul>
 * <li>MatMulInteger → Cast(float32) → Mul(scale) (→ Add(bias)): the projections of dynamically
 * quantized models (ONNX Runtime's quantizer emits this chain after each DynamicQuantizeLinear).
 * The scale must be one value or one per column, the bias a constant with one value per column,
 * and no value inside the chain may be read elsewhere or be a graph output. The fused kernel
 * rounds as the chain does, so outputs keep their bits.
 * <li>DequantizeLinear(int8 x) and DequantizeLinear(int8 2-D w) → MatMul (QDQ models): the
 * product runs on the integers, scaled once by x_scale·w_scale (x per tensor, w per tensor or per
 * column), equal to the float product up to float rounding. The DequantizeLinear nodes stay
 * while anything else reads them.
 * </ul>
 */
public final class IntegerMatMulFusion {

    private IntegerMatMulFusion() {
    }

    public static Graph apply(Graph graph, Map<Value, Shape> shapes, Map<Value, DType> types) {
        return DeadCodeRemoval.apply(chains(quantizedOperands(graph, shapes, types), shapes));
    }

    /** DequantizeLinear on both operands of a MatMul: the product on the integers. */
    private static Graph quantizedOperands(Graph graph, Map<Value, Shape> shapes, Map<Value, DType> types) {
        Map<Value, Node> producers = new IdentityHashMap<>();
        for (Node node : graph.nodes()) {
            node.outputs().forEach(output -> producers.put(output, node));
        }
        Map<Node, List<Node>> replacements = new IdentityHashMap<>();
        for (Node node : graph.nodes()) {
            if (!(node.op() instanceof MatMul)) {
                continue;
            }
            Node x = producers.get(node.inputs().get(0));
            Node w = producers.get(node.inputs().get(1));
            Shape wShape = shapes.get(node.inputs().get(1));
            if (x == null || w == null || wShape == null || wShape.rank() != 2 || !wShape.isStatic(1)
                    || !integerDequantize(x, types) || !integerDequantize(w, types)) {
                continue;
            }
            long columns = wShape.size(1);
            Dequantize wOp = (Dequantize) w.op();
            boolean wPerColumn = Shape.normalizeAxis(wOp.axis(), 2) == 1;
            if (!perTensor(shapes.get(input(x, 1))) || (input(x, 2) != null && !perTensor(shapes.get(input(x, 2))))
                    || !matches(shapes.get(input(w, 1)), columns, wPerColumn)
                    || (input(w, 2) != null && !matches(shapes.get(input(w, 2)), columns, wPerColumn))) {
                continue;
            }
            Value scale = new Value(node.name() + "/quantized_scale", null);
            Node scales = new Node(node.name() + "/quantized_scale", new Binary(Binary.Kind.MUL),
                    List.of(input(x, 1), input(w, 1)), List.of(scale), node.source());
            Node fused = new Node(node.name(), new MatMulIntegerToFloat(), Arrays.asList(input(x, 0), input(w, 0),
                    input(x, 2), input(w, 2), scale), node.outputs(), node.source());
            replacements.put(node, List.of(scales, fused));
        }
        if (replacements.isEmpty()) {
            return graph;
        }
        Graph.Builder builder = Graph.builder(graph.name());
        graph.inputs().forEach(builder::input);
        graph.constants().forEach(builder::constant);
        for (Node node : graph.nodes()) {
            replacements.getOrDefault(node, List.of(node)).forEach(builder::node);
        }
        graph.outputs().forEach(builder::output);
        return builder.build();
    }

    /** A whole-tensor DequantizeLinear of int8 or uint8 data into float32. */
    private static boolean integerDequantize(Node node, Map<Value, DType> types) {
        DType data = types.get(input(node, 0));
        return node.op() instanceof Dequantize d && d.blockSize() == 0 && (d.outType() == null || d.outType() == DType.FLOAT)
                && (data == DType.INT8 || data == DType.UINT8) && types.get(input(node, 1)) == DType.FLOAT;
    }

    private static boolean perTensor(Shape shape) {
        return shape != null && shape.isStatic() && shape.elementCount() == 1;
    }

    /** One value; or, for a per-column quantization, one per column in a vector. */
    private static boolean matches(Shape shape, long columns, boolean perColumn) {
        return perTensor(shape) || perColumn && shape != null && shape.rank() == 1 && shape.isStatic()
                && shape.size(0) == columns;
    }

    /** MatMulInteger → Cast → Mul(scale) (→ Add(bias)). */
    private static Graph chains(Graph graph, Map<Value, Shape> shapes) {
        Map<Value, List<Node>> readers = new IdentityHashMap<>();
        for (Node node : graph.nodes()) {
            for (Value input : node.inputs()) {
                if (input != null) {
                    readers.computeIfAbsent(input, ignored -> new ArrayList<>()).add(node);
                }
            }
        }
        Set<Value> outputs = new HashSet<>(graph.outputs());
        Map<Node, Node> fusedAt = new IdentityHashMap<>();
        Set<Node> absorbed = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Node node : graph.nodes()) {
            if (!(node.op() instanceof MatMulInteger)) {
                continue;
            }
            Value product = node.outputs().get(0);
            Shape productShape = shapes.get(product);
            Node cast = onlyReader(product, readers, outputs);
            if (productShape == null || productShape.rank() == 0 || !productShape.isStatic(productShape.rank() - 1)
                    || cast == null || !(cast.op() instanceof Cast c && c.to() == DType.FLOAT)) {
                continue;
            }
            long columns = productShape.size(productShape.rank() - 1);
            Node mul = onlyReader(cast.outputs().get(0), readers, outputs);
            if (mul == null || !(mul.op() instanceof Binary m && m.kind() == Binary.Kind.MUL)) {
                continue;
            }
            Value scale = other(mul, cast.outputs().get(0));
            if (scale == null || !perColumn(shapes.get(scale), productShape.rank(), columns, true)) {
                continue;
            }
            Node last = mul;
            Value bias = null;
            Node add = onlyReader(mul.outputs().get(0), readers, outputs);
            if (add != null && add.op() instanceof Binary b && b.kind() == Binary.Kind.ADD) {
                Value candidate = other(add, mul.outputs().get(0));
                Tensor constant = candidate == null ? null : graph.constants().get(candidate);
                if (constant != null && constant.dtype() == DType.FLOAT
                        && perColumn(constant.shape(), productShape.rank(), columns, false)) {
                    bias = candidate;
                    last = add;
                }
            }
            List<Value> inputs = new ArrayList<>(Arrays.asList(input(node, 0), input(node, 1), input(node, 2),
                    input(node, 3), scale));
            if (bias != null) {
                inputs.add(bias);
            }
            fusedAt.put(last, new Node(node.name(), new MatMulIntegerToFloat(), inputs, last.outputs(), node.source()));
            absorbed.addAll(last == add ? List.of(node, cast, mul, add) : List.of(node, cast, mul));
        }
        if (fusedAt.isEmpty()) {
            return graph;
        }
        Graph.Builder builder = Graph.builder(graph.name());
        graph.inputs().forEach(builder::input);
        graph.constants().forEach(builder::constant);
        for (Node node : graph.nodes()) {
            Node fused = fusedAt.get(node);
            if (fused != null) {
                builder.node(fused); // where the chain ends: every input of the fused node exists by then
            } else if (!absorbed.contains(node)) {
                builder.node(node);
            }
        }
        graph.outputs().forEach(builder::output);
        return builder.build();
    }

    /** The one node reading {@code value}, if exactly one does and it is not a graph output. */
    private static Node onlyReader(Value value, Map<Value, List<Node>> readers, Set<Value> outputs) {
        List<Node> nodes = readers.get(value);
        return nodes == null || nodes.size() != 1 || outputs.contains(value) || nodes.get(0).outputs().size() != 1
                ? null : nodes.get(0);
    }

    /** A binary node's operand other than {@code value}; null if both are {@code value}. */
    private static Value other(Node node, Value value) {
        Value first = node.inputs().get(0);
        Value second = node.inputs().get(1);
        return first == value && second != value ? second : second == value && first != value ? first : null;
    }

    private static Value input(Node node, int i) {
        return i < node.inputs().size() ? node.inputs().get(i) : null;
    }

    /**
     * A static shape that broadcasts along the last axis of a rank-{@code rank} product without
     * changing its shape: one value ({@code oneAllowed}) or {@code columns} in the last axis, ones elsewhere.
     */
    private static boolean perColumn(Shape shape, int rank, long columns, boolean oneAllowed) {
        if (shape == null || !shape.isStatic() || shape.rank() > rank) {
            return false;
        }
        long count = shape.elementCount();
        boolean lastOnly = shape.rank() > 0 && shape.size(shape.rank() - 1) == count;
        return count == 1 ? oneAllowed : count == columns && lastOnly;
    }
}
