package dev.quanta.graph.passes;

import static dev.quanta.graph.passes.Rewrite.binary;
import static dev.quanta.graph.passes.Rewrite.other;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.Cast;
import dev.quanta.graph.ops.Conv;
import dev.quanta.graph.ops.ConvInteger;
import dev.quanta.graph.ops.ConvIntegerToFloat;
import dev.quanta.graph.ops.CoreOp;
import dev.quanta.graph.ops.Dequantize;
import dev.quanta.graph.ops.DynamicQuantize;
import dev.quanta.graph.ops.DynamicQuantizeMatMul;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.MatMulInteger;
import dev.quanta.graph.ops.MatMulIntegerToFloat;
import dev.quanta.graph.ops.QLinearConv;
import dev.quanta.graph.ops.QLinearMatMul;
import dev.quanta.graph.ops.Quantize;
import dev.quanta.graph.ops.Split;
import dev.quanta.graph.ops.Transpose;
import dev.quanta.graph.ops.Unary;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Float matmuls and convolutions over int8 data become integer kernels, in two patterns:
 * <ul>
 * <li>MatMulInteger → Cast(float32) → Mul(scale) (→ Add(bias)): the projections of dynamically
 * quantized models (ONNX Runtime's quantizer emits this chain after each DynamicQuantizeLinear).
 * The scale must be one value or one per column, the bias a constant with one value per column,
 * and no value inside the chain may be read elsewhere or be a graph output. The fused kernel
 * rounds as the chain does, so outputs keep their bits. The same chain after a ConvInteger, its
 * scale and bias per output channel, becomes {@link ConvIntegerToFloat}.
 * <li>DequantizeLinear(int8 x) and DequantizeLinear(int8 w) → MatMul (w 2-D, also through Gemm's
 * Transpose) or Conv (QDQ models): the product runs on the integers ({@link MatMulIntegerToFloat},
 * {@link ConvIntegerToFloat}), scaled once by x_scale·w_scale (x per tensor, w per tensor or per
 * column or filter), equal to the float product up to float rounding; a product whose output is
 * quantized again becomes {@link QLinearMatMul} or {@link QLinearConv}. The DequantizeLinear nodes
 * stay while anything else reads them.
 * </ul>
 * Products of one quantized operand (attention's Q, K and V) with constant weights then merge into
 * one, and a DynamicQuantizeLinear read by one such product alone joins it ({@link DynamicQuantizeMatMul}).
 */
public final class IntegerMatMulFusion {

    private IntegerMatMulFusion() {
    }

    /** {@code arena} holds the constants the fusion adds (merged weights and their parameters). */
    public static Graph apply(Graph graph, Map<Value, Shape> shapes, Map<Value, DType> types, TensorArena arena) {
        Graph products = chains(quantizedOperands(graph, shapes, types), shapes, types);
        // Dead code goes before the quantization fuses: a merged product's old scale nodes still read it.
        return DeadCodeRemoval.apply(dynamicQuantization(DeadCodeRemoval.apply(sharedOperandProducts(products, shapes, arena))));
    }

    /** DequantizeLinear on both operands of a MatMul or a Conv: the product on the integers. */
    private static Graph quantizedOperands(Graph graph, Map<Value, Shape> shapes, Map<Value, DType> types) {
        Map<Value, Node> producers = new IdentityHashMap<>();
        for (Node node : graph.nodes()) {
            node.outputs().forEach(output -> producers.put(output, node));
        }
        Rewrite rewrite = new Rewrite(graph);
        for (Node node : graph.nodes()) {
            List<Node> replacement = switch (node.op()) {
                case MatMul ignored -> matMul(node, producers, shapes, types, rewrite);
                case Conv conv -> conv(node, conv, producers, shapes, types, graph, rewrite);
                default -> null;
            };
            if (replacement != null) {
                rewrite.replace(node, replacement);
            }
        }
        return rewrite.apply();
    }

    /**
     * MatMul(DequantizeLinear(x), DequantizeLinear(w)), w 2-D, possibly through a Transpose as Gemm's
     * transB writes it: MatMulIntegerToFloat on x and w (transposed as bytes), scaled by
     * x_scale·w_scale; or, when a per-tensor QuantizeLinear alone reads it (a QDQ model's layer),
     * one QLinearMatMul in the QuantizeLinear's place.
     */
    private static List<Node> matMul(Node node, Map<Value, Node> producers, Map<Value, Shape> shapes,
            Map<Value, DType> types, Rewrite rewrite) {
        Node x = producers.get(node.inputs().get(0));
        Node w = producers.get(node.inputs().get(1));
        Shape wShape = shapes.get(node.inputs().get(1));
        if (x == null || w == null || wShape == null || wShape.rank() != 2 || !wShape.isStatic(1)
                || !integerDequantize(x, types) || !perTensor(x, shapes)) {
            return null;
        }
        boolean transposed = w.op() instanceof Transpose t && (t.perm() == null || Arrays.equals(t.perm(), new int[] {1, 0}));
        if (transposed) {
            w = producers.get(input(w, 0));
        }
        if (w == null || !integerDequantize(w, types)) {
            return null;
        }
        // The axis of w's scales: its columns, or its rows before a transpose.
        boolean perColumn = Shape.normalizeAxis(((Dequantize) w.op()).axis(), 2) == (transposed ? 0 : 1);
        if (!quantizedAlong(w, wShape.size(1), perColumn, shapes)) {
            return null;
        }
        List<Node> nodes = new ArrayList<>();
        Value weights = input(w, 0);
        if (transposed) {
            weights = new Value(node.name() + "/quantized_weights", null);
            nodes.add(new Node(node.name() + "/quantized_weights", new Transpose(new int[] {1, 0}), List.of(input(w, 0)),
                    List.of(weights), node.source()));
        }
        Node quantize = quantizeReading(node.outputs().get(0), rewrite, shapes, types);
        if (quantize != null) {
            rewrite.replace(quantize, List.of(new Node(node.name(), new QLinearMatMul(), Arrays.asList(input(x, 0), weights,
                    input(x, 2), input(w, 2), input(x, 1), input(w, 1), input(quantize, 1), input(quantize, 2)),
                    quantize.outputs(), node.source())));
            return nodes;
        }
        Value scale = scale(node, x, w, nodes);
        nodes.add(new Node(node.name(), new MatMulIntegerToFloat(), Arrays.asList(input(x, 0), weights, input(x, 2),
                input(w, 2), scale), node.outputs(), node.source()));
        return nodes;
    }

    /**
     * The QuantizeLinear that alone reads {@code value}, if it quantizes per tensor with a float32
     * scale to an int8 or uint8 zero point, saturating; else null.
     */
    private static Node quantizeReading(Value value, Rewrite rewrite, Map<Value, Shape> shapes, Map<Value, DType> types) {
        Node quantize = rewrite.onlyReader(value);
        if (quantize == null || !(quantize.op() instanceof Quantize q) || q.blockSize() != 0 || !q.saturate()
                || quantize.inputs().get(0) != value) {
            return null;
        }
        Value scale = input(quantize, 1);
        Value zeroPoint = input(quantize, 2);
        DType type = zeroPoint == null ? null : types.get(zeroPoint);
        return perTensor(shapes.get(scale)) && types.get(scale) == DType.FLOAT && perTensor(shapes.get(zeroPoint))
                && (type == DType.UINT8 || type == DType.INT8) && (q.outType() == null || q.outType() == type) ? quantize : null;
    }

    /**
     * Conv(DequantizeLinear(x), DequantizeLinear(w), bias?), x quantized per tensor, w per tensor or
     * per output channel. When a per-tensor QuantizeLinear alone reads it (directly or through a
     * Relu), as QDQ models write each layer, and the bias is absent or int32 dequantized by
     * x_scale·w_scale without a zero point (as quantizers write it): one QLinearConv from the
     * quantized operands to the quantized output, so the layers pass bytes to each other (a Relu
     * clamps the output at its zero point, where Relu's 0 lands). Otherwise
     * ConvIntegerToFloat, scaled by x_scale·w_scale, plus any float bias [M].
     */
    private static List<Node> conv(Node node, Conv conv, Map<Value, Node> producers, Map<Value, Shape> shapes,
            Map<Value, DType> types, Graph graph, Rewrite rewrite) {
        Node x = producers.get(node.inputs().get(0));
        Node w = producers.get(node.inputs().get(1));
        Shape wShape = shapes.get(node.inputs().get(1));
        Value bias = input(node, 2);
        if (x == null || w == null || wShape == null || wShape.rank() < 3 || !wShape.isStatic(0)
                || !integerDequantize(x, types) || !perTensor(x, shapes) || !integerDequantize(w, types)) {
            return null;
        }
        long filters = wShape.size(0);
        Shape biasShape = bias == null ? null : shapes.get(bias);
        if (bias != null && (types.get(bias) != DType.FLOAT || biasShape == null || !biasShape.isStatic()
                || biasShape.rank() != 1 || biasShape.size(0) != filters)) {
            return null;
        }
        boolean perFilter = Shape.normalizeAxis(((Dequantize) w.op()).axis(), wShape.rank()) == 0;
        if (!quantizedAlong(w, filters, perFilter, shapes)) {
            return null;
        }
        if (requantized(node, conv, x, w, bias, filters, producers, shapes, types, graph, rewrite)) {
            return List.of();
        }
        List<Node> nodes = new ArrayList<>();
        Value scale = scale(node, x, w, nodes);
        nodes.add(new Node(node.name(), new ConvIntegerToFloat(conv.window(), conv.group()), Arrays.asList(input(x, 0),
                input(w, 0), input(x, 2), input(w, 2), scale, bias), node.outputs(), node.source()));
        return nodes;
    }

    /**
     * The QLinearConv form of {@link #conv}, when the pattern holds: the QuantizeLinear (and any
     * Relu) give way to it, and the Conv to nothing. Whether it did.
     */
    private static boolean requantized(Node node, Conv conv, Node x, Node w, Value bias, long filters,
            Map<Value, Node> producers, Map<Value, Shape> shapes, Map<Value, DType> types, Graph graph, Rewrite rewrite) {
        Node next = rewrite.onlyReader(node);
        Node relu = next != null && next.op() instanceof Unary u && u.kind() == Unary.Kind.RELU ? next : null;
        Node quantize = quantizeReading((relu == null ? node : relu).outputs().get(0), rewrite, shapes, types);
        if (quantize == null) {
            return false;
        }
        Value quantizedBias = null;
        if (bias != null) {
            Node dequantize = producers.get(bias);
            if (dequantize == null || !(dequantize.op() instanceof Dequantize d) || d.blockSize() != 0
                    || types.get(input(dequantize, 0)) != DType.INT32 || !zeros(graph, input(dequantize, 2))
                    || !isProduct(graph, input(dequantize, 1), input(x, 1), input(w, 1), filters)) {
                return false;
            }
            quantizedBias = input(dequantize, 0);
        }
        // In the QuantizeLinear's place: every input the new node reads exists by then.
        rewrite.replace(quantize, List.of(new Node(node.name(), new QLinearConv(conv.window(), conv.group(), relu != null),
                Arrays.asList(input(x, 0), input(w, 0), input(x, 2), input(w, 2), input(x, 1), input(w, 1), input(quantize, 1),
                        input(quantize, 2), quantizedBias), quantize.outputs(), node.source())));
        if (relu != null) {
            rewrite.replace(relu, List.of());
        }
        return true;
    }

    /** Absent, or a constant of zeros. */
    private static boolean zeros(Graph graph, Value value) {
        Tensor tensor = value == null ? null : graph.constants().get(value);
        return value == null || tensor != null && Arrays.stream(tensor.contiguous().toLongArray()).allMatch(v -> v == 0);
    }

    /**
     * Whether the constant {@code product} holds x_scale·w_scale as float32 multiplies it, for each of
     * {@code filters} output channels (each side one value, or one per channel).
     */
    private static boolean isProduct(Graph graph, Value product, Value xScale, Value wScale, long filters) {
        Tensor products = product == null ? null : graph.constants().get(product);
        Tensor xs = graph.constants().get(xScale);
        Tensor ws = graph.constants().get(wScale);
        if (products == null || xs == null || ws == null || products.dtype() != DType.FLOAT || xs.elementCount() != 1
                || !(products.elementCount() == 1 || products.elementCount() == filters)
                || !(ws.elementCount() == 1 || ws.elementCount() == filters)) {
            return false;
        }
        float[] expected = products.contiguous().toFloatArray();
        float x = xs.contiguous().toFloatArray()[0];
        float[] w = ws.contiguous().toFloatArray();
        for (int f = 0; f < filters; f++) {
            float value = x * w[w.length == 1 ? 0 : f];
            if (Float.floatToIntBits(value) != Float.floatToIntBits(expected[expected.length == 1 ? 0 : f])) {
                return false;
            }
        }
        return true;
    }

    /** x_scale·w_scale, one value or one per column or filter, computed by a new node added to {@code nodes}. */
    private static Value scale(Node node, Node x, Node w, List<Node> nodes) {
        Value scale = new Value(node.name() + "/quantized_scale", null);
        nodes.add(new Node(node.name() + "/quantized_scale", new Binary(Binary.Kind.MUL), List.of(input(x, 1), input(w, 1)),
                List.of(scale), node.source()));
        return scale;
    }

    /** A dequantization with one scale and zero point for the whole tensor. */
    private static boolean perTensor(Node dequantize, Map<Value, Shape> shapes) {
        return perTensor(shapes.get(input(dequantize, 1)))
                && (input(dequantize, 2) == null || perTensor(shapes.get(input(dequantize, 2))));
    }

    /** A dequantization per tensor, or (when {@code alongAxis}) with {@code count} scales and zero points. */
    private static boolean quantizedAlong(Node dequantize, long count, boolean alongAxis, Map<Value, Shape> shapes) {
        return matches(shapes.get(input(dequantize, 1)), count, alongAxis)
                && (input(dequantize, 2) == null || matches(shapes.get(input(dequantize, 2)), count, alongAxis));
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

    /** MatMulInteger or ConvInteger → Cast → Mul(scale) (→ Add(bias)). */
    private static Graph chains(Graph graph, Map<Value, Shape> shapes, Map<Value, DType> types) {
        Rewrite rewrite = new Rewrite(graph);
        for (Node node : graph.nodes()) {
            if (!(node.op() instanceof MatMulInteger) && !(node.op() instanceof ConvInteger)) {
                continue;
            }
            Value product = node.outputs().get(0);
            // The axis of the scales and biases: a product's columns; a convolution's output channels,
            // its filters, known from the weights' shape where the images' sizes are not.
            boolean conv = node.op() instanceof ConvInteger;
            Shape known = conv ? shapes.get(node.inputs().get(1)) : shapes.get(product);
            int rank = known == null ? 0 : known.rank();
            int axis = conv ? 1 : rank - 1;
            int knownAxis = conv ? 0 : axis;
            Node cast = rewrite.onlyReader(product);
            if (rank <= axis || !known.isStatic(knownAxis) || cast == null
                    || !(cast.op() instanceof Cast c && c.to() == DType.FLOAT)) {
                continue;
            }
            long channels = known.size(knownAxis);
            Node mul = rewrite.onlyReader(cast);
            if (!binary(mul, Binary.Kind.MUL)) {
                continue;
            }
            Value scale = other(mul, cast.outputs().get(0));
            if (scale == null || !along(shapes.get(scale), rank, axis, channels, true)) {
                continue;
            }
            Node last = mul;
            Value bias = null;
            Node add = rewrite.onlyReader(mul);
            if (binary(add, Binary.Kind.ADD)) {
                Value candidate = other(add, mul.outputs().get(0));
                // A product's bias is a constant, as the merging of products needs it; a convolution's
                // may still be computed (ONNX Runtime's quantizer reshapes it to [C, 1, 1]).
                boolean given = candidate != null && (conv
                        ? types.get(candidate) == DType.FLOAT : graph.constants().containsKey(candidate)
                                && graph.constants().get(candidate).dtype() == DType.FLOAT);
                if (given && along(shapes.get(candidate), rank, axis, channels, false)) {
                    bias = candidate;
                    last = add;
                }
            }
            List<Value> inputs = new ArrayList<>(Arrays.asList(input(node, 0), input(node, 1), input(node, 2),
                    input(node, 3), scale));
            if (bias != null) {
                inputs.add(bias);
            }
            CoreOp fused = node.op() instanceof ConvInteger integerConv
                    ? new ConvIntegerToFloat(integerConv.window(), integerConv.group())
                    : new MatMulIntegerToFloat();
            // The fused node stands where the chain ends: every input it reads exists by then.
            for (Node absorbed : last == add ? List.of(node, cast, mul, add) : List.of(node, cast, mul)) {
                rewrite.replace(absorbed, absorbed == last
                        ? List.of(new Node(node.name(), fused, inputs, last.outputs(), node.source()))
                        : List.of());
            }
        }
        return rewrite.apply();
    }

    /**
     * Weights merged side by side stay within what the CPU backend packs for its GEMM (64 MiB at four
     * bytes an element): past it a product reads B where it lies, slower than the separate products.
     */
    private static final long MAX_MERGED_WEIGHTS = 16L << 20;

    /**
     * MatMulIntegerToFloat products of one operand (same A, same A zero point) with constant 2-D
     * weights of one type, such as attention's Q, K and V projections: one product over the weights
     * side by side, split back into the products' outputs as views of its columns. A is packed once
     * and the threads share one job instead of three. Zero points, scales and biases go per column; a
     * product without a bias adds −0 to its columns, which changes no value (−0 + x is x, +0 and NaN
     * included), so the outputs keep their bits. Each scale must be a constant or a Mul of one value
     * the products share (the quantization's scale) by a constant; the merged product multiplies that
     * value by the scales side by side, as each Mul did.
     */
    private static Graph sharedOperandProducts(Graph graph, Map<Value, Shape> shapes, TensorArena arena) {
        Map<Value, Node> producers = new IdentityHashMap<>();
        for (Node node : graph.nodes()) {
            node.outputs().forEach(output -> producers.put(output, node));
        }
        Map<List<Object>, List<Projection>> groups = new LinkedHashMap<>();
        for (Node node : graph.nodes()) {
            Projection projection = node.op() instanceof MatMulIntegerToFloat ? Projection.of(node, graph, producers, shapes) : null;
            if (projection != null) {
                groups.computeIfAbsent(Arrays.asList(input(node, 0), input(node, 2), projection.weights().dtype(),
                        projection.sharedScale()), key -> new ArrayList<>()).add(projection);
            }
        }
        Rewrite rewrite = new Rewrite(graph);
        for (List<Projection> group : groups.values()) {
            long depth = group.get(0).weights().size(0);
            long columns = group.stream().mapToLong(p -> p.weights().size(1)).sum();
            if (group.size() < 2 || group.stream().anyMatch(p -> p.weights().size(0) != depth)
                    || depth * columns > MAX_MERGED_WEIGHTS) {
                continue;
            }
            // In the first product's place: its operand and the shared scale (read by the Mul before
            // it) are defined by then.
            Node first = group.get(0).node();
            rewrite.replace(first, merge(group, depth, columns, arena, rewrite));
            group.stream().skip(1).forEach(p -> rewrite.replace(p.node(), List.of()));
        }
        return rewrite.apply();
    }

    /**
     * A MatMulIntegerToFloat as {@link #sharedOperandProducts} merges it: its constant weights, B zero
     * points (null if absent), scale as {@code sharedScale} (null if none) times the constant
     * {@code scales}, and constant bias (null if absent).
     */
    private record Projection(Node node, Tensor weights, Tensor zeroPoints, Value sharedScale, float[] scales,
            Tensor bias) {

        /** The product's parts, or null when one of them is not in a form that merges. */
        static Projection of(Node node, Graph graph, Map<Value, Node> producers, Map<Value, Shape> shapes) {
            Map<Value, Tensor> constants = graph.constants();
            Tensor weights = constants.get(input(node, 1));
            Value zeroPoint = input(node, 3);
            Value bias = input(node, 5);
            Tensor zeroPoints = zeroPoint == null ? null : constants.get(zeroPoint);
            Tensor biases = bias == null ? null : constants.get(bias);
            if (weights == null || weights.rank() != 2 || (weights.dtype() != DType.INT8 && weights.dtype() != DType.UINT8)
                    || zeroPoint != null && !(perColumn(zeroPoints, weights) && zeroPoints.dtype() == weights.dtype())
                    || bias != null && !(perColumn(biases, weights) && biases.elementCount() == weights.size(1)
                            && biases.dtype() == DType.FLOAT)) {
                return null;
            }
            Value scale = input(node, 4);
            Value shared = null;
            float[] scales;
            if (constants.containsKey(scale)) {
                scales = columnFloats(constants.get(scale), weights);
            } else {
                Node mul = producers.get(scale);
                if (!binary(mul, Binary.Kind.MUL)) {
                    return null;
                }
                Value left = mul.inputs().get(0);
                Value right = mul.inputs().get(1);
                Tensor leftConstant = constants.get(left);
                Tensor rightConstant = constants.get(right);
                if (leftConstant != null && rightConstant != null) {
                    scales = product(columnFloats(leftConstant, weights), columnFloats(rightConstant, weights));
                } else if (leftConstant != null || rightConstant != null) {
                    shared = leftConstant == null ? left : right;
                    if (!perTensor(shapes.get(shared))) {
                        return null;
                    }
                    scales = columnFloats(leftConstant == null ? rightConstant : leftConstant, weights);
                } else {
                    return null;
                }
            }
            return scales == null ? null : new Projection(node, weights, zeroPoints, shared, scales, biases);
        }

        /** A constant with one value, or one per column of {@code weights} along its last axis. */
        private static boolean perColumn(Tensor tensor, Tensor weights) {
            long count = tensor == null ? -1 : tensor.elementCount();
            return count == 1 || count == weights.size(1) && tensor.size(tensor.rank() - 1) == count;
        }

        /** A float32 constant as one value per column, or null if it is not one value or one per column. */
        private static float[] columnFloats(Tensor tensor, Tensor weights) {
            if (tensor.dtype() != DType.FLOAT || !perColumn(tensor, weights)) {
                return null;
            }
            float[] values = tensor.contiguous().toFloatArray();
            return values.length == weights.size(1) ? values : filled(Math.toIntExact(weights.size(1)), values[0]);
        }

        private static float[] product(float[] left, float[] right) {
            if (left == null || right == null) {
                return null;
            }
            float[] product = new float[left.length];
            for (int j = 0; j < product.length; j++) {
                product[j] = left[j] * right[j];
            }
            return product;
        }

        private static float[] filled(int count, float value) {
            float[] values = new float[count];
            Arrays.fill(values, value);
            return values;
        }
    }

    /** The nodes of a merged product in the first one's place: (the scales' Mul,) the product, the Split. */
    private static List<Node> merge(List<Projection> group, long depth, long columns, TensorArena arena, Rewrite rewrite) {
        Node first = group.get(0).node();
        String name = first.name() + "/merged";
        Tensor weights = arena.allocate(group.get(0).weights().dtype(), Shape.of(depth, columns));
        byte[] zeroPoints = new byte[Math.toIntExact(columns)];
        float[] scales = new float[Math.toIntExact(columns)];
        float[] bias = new float[Math.toIntExact(columns)];
        Arrays.fill(bias, -0f);
        long[] widths = new long[group.size()];
        int start = 0;
        for (int i = 0; i < group.size(); i++) {
            Projection projection = group.get(i);
            int width = Math.toIntExact(projection.weights().size(1));
            widths[i] = width;
            projection.weights().copyTo(weights.slice(1, start, start + width));
            if (projection.zeroPoints() != null) {
                long[] values = projection.zeroPoints().contiguous().toLongArray();
                for (int j = 0; j < width; j++) {
                    zeroPoints[start + j] = (byte) values[values.length == 1 ? 0 : j];
                }
            }
            System.arraycopy(projection.scales(), 0, scales, start, width);
            if (projection.bias() != null) {
                System.arraycopy(projection.bias().contiguous().toFloatArray(), 0, bias, start, width);
            }
            start += width;
        }
        boolean anyZeroPoint = group.stream().anyMatch(p -> p.zeroPoints() != null);
        boolean anyBias = group.stream().anyMatch(p -> p.bias() != null);
        Value weightsValue = constant(rewrite, name + "_weights", weights);
        Value zeroPointsValue = anyZeroPoint ? constant(rewrite, name + "_zero_points",
                arena.fromBytes(weights.dtype(), zeroPoints, columns)) : null;
        Value scalesValue = constant(rewrite, name + "_scales", arena.fromFloats(scales, columns));
        Value biasValue = anyBias ? constant(rewrite, name + "_bias", arena.fromFloats(bias, columns)) : null;
        Value splitValue = constant(rewrite, name + "_split", arena.fromLongs(DType.INT64, widths, widths.length));
        List<Node> nodes = new ArrayList<>();
        Value shared = group.get(0).sharedScale();
        if (shared != null) {
            Value product = new Value(name + "_scale", null);
            nodes.add(new Node(name + "_scale", new Binary(Binary.Kind.MUL), List.of(shared, scalesValue), List.of(product),
                    first.source()));
            scalesValue = product;
        }
        Value merged = new Value(name, null);
        List<Value> inputs = new ArrayList<>(Arrays.asList(input(first, 0), weightsValue, input(first, 2), zeroPointsValue,
                scalesValue));
        if (biasValue != null) {
            inputs.add(biasValue);
        }
        nodes.add(new Node(name, new MatMulIntegerToFloat(), inputs, List.of(merged), first.source()));
        nodes.add(new Node(name + "_split", new Split(-1, group.size()), List.of(merged, splitValue),
                group.stream().map(p -> p.node().outputs().get(0)).toList(), first.source()));
        return nodes;
    }

    private static Value constant(Rewrite rewrite, String name, Tensor tensor) {
        Value value = new Value(name, null);
        rewrite.constant(value, tensor);
        return value;
    }

    /**
     * DynamicQuantizeLinear(x) → (y, s, z), read only by one MatMulIntegerToFloat(y, b, z, b0,
     * Mul(s, b_scale), bias?): one DynamicQuantizeMatMul(x, b, b_scale, b0, bias?), whose bytes stay
     * in its scratch. A quantization shared by several products (attention's Q, K and V) stays a
     * node of its own, quantized once for all.
     */
    private static Graph dynamicQuantization(Graph graph) {
        Rewrite rewrite = new Rewrite(graph);
        for (Node quantize : graph.nodes()) {
            if (!(quantize.op() instanceof DynamicQuantize) || quantize.outputs().size() != 3
                    || quantize.outputs().stream().anyMatch(Objects::isNull)) {
                continue;
            }
            Value bytes = quantize.outputs().get(0);
            Value scale = quantize.outputs().get(1);
            Value zeroPoint = quantize.outputs().get(2);
            Node product = rewrite.onlyReader(bytes);
            Node mul = rewrite.onlyReader(scale);
            if (product == null || !(product.op() instanceof MatMulIntegerToFloat) || !binary(mul, Binary.Kind.MUL)
                    || rewrite.onlyReader(zeroPoint) != product || rewrite.onlyReader(mul) != product
                    || input(product, 0) != bytes || input(product, 2) != zeroPoint
                    || input(product, 4) != mul.outputs().get(0)) {
                continue;
            }
            Value bScale = other(mul, scale);
            if (bScale == null) {
                continue;
            }
            List<Value> inputs = new ArrayList<>(Arrays.asList(quantize.inputs().get(0), input(product, 1), bScale,
                    input(product, 3)));
            if (input(product, 5) != null) {
                inputs.add(input(product, 5));
            }
            rewrite.replace(quantize, List.of());
            rewrite.replace(mul, List.of());
            rewrite.replace(product, List.of(new Node(product.name(), new DynamicQuantizeMatMul(), inputs,
                    product.outputs(), product.source())));
        }
        return rewrite.apply();
    }

    private static Value input(Node node, int i) {
        return i < node.inputs().size() ? node.inputs().get(i) : null;
    }

    /**
     * A static shape that broadcasts along the last axis of a rank-{@code rank} product without
     * changing its shape: one value ({@code oneAllowed}) or {@code columns} in the last axis, ones elsewhere.
     */
    /**
     * Whether a shape broadcast against a product of {@code rank} axes holds one value per
     * coordinate of {@code axis} ({@code count} of them, along that axis), or one value in all.
     */
    private static boolean along(Shape shape, int rank, int axis, long count, boolean oneAllowed) {
        if (shape == null || !shape.isStatic() || shape.rank() > rank) {
            return false;
        }
        long values = shape.elementCount();
        int aligned = shape.rank() - (rank - axis);
        return values == 1 ? oneAllowed : values == count && aligned >= 0 && shape.size(aligned) == count;
    }
}
