package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.GraphException;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.ArgReduce;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.BitCast;
import dev.quanta.graph.ops.Cast;
import dev.quanta.graph.ops.CastLike;
import dev.quanta.graph.ops.ChannelNormalize;
import dev.quanta.graph.ops.Concat;
import dev.quanta.graph.ops.ConstantOfShape;
import dev.quanta.graph.ops.Conv;
import dev.quanta.graph.ops.ConvInteger;
import dev.quanta.graph.ops.ConvIntegerToFloat;
import dev.quanta.graph.ops.Dequantize;
import dev.quanta.graph.ops.DequantizeBlocks;
import dev.quanta.graph.ops.Dropout;
import dev.quanta.graph.ops.RandomSample;
import dev.quanta.graph.ops.DynamicQuantize;
import dev.quanta.graph.ops.Expand;
import dev.quanta.graph.ops.Flatten;
import dev.quanta.graph.ops.Gather;
import dev.quanta.graph.ops.GlobalPool;
import dev.quanta.graph.ops.Identity;
import dev.quanta.graph.ops.LocalResponseNorm;
import dev.quanta.graph.ops.MatMul;
import dev.quanta.graph.ops.MatMulTransposedB;
import dev.quanta.graph.ops.LinearLayer;
import dev.quanta.graph.ops.MatMulInteger;
import dev.quanta.graph.ops.DynamicQuantizeMatMul;
import dev.quanta.graph.ops.MatMulIntegerToFloat;
import dev.quanta.graph.ops.QLinearConv;
import dev.quanta.graph.ops.QLinearMatMul;
import dev.quanta.graph.ops.Normalize;
import dev.quanta.graph.ops.Pool;
import dev.quanta.graph.ops.Quantize;
import dev.quanta.graph.ops.Reduce;
import dev.quanta.graph.ops.Reshape;
import dev.quanta.graph.ops.ShapeOf;
import dev.quanta.graph.ops.Size;
import dev.quanta.graph.ops.Slice;
import dev.quanta.graph.ops.MaskedSoftmax;
import dev.quanta.graph.ops.Attention;
import dev.quanta.graph.ops.AttentionMask;
import dev.quanta.graph.ops.Softmax;
import dev.quanta.graph.ops.Split;
import dev.quanta.graph.ops.Squeeze;
import dev.quanta.graph.ops.Transpose;
import dev.quanta.graph.ops.Unary;
import dev.quanta.graph.ops.Unsqueeze;
import dev.quanta.graph.ops.Where;
import dev.quanta.graph.ops.Window;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Dim;
import dev.quanta.tensor.QuantaException;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.ShapeException;
import dev.quanta.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Shapes with symbolic dimensions for every value, from the graph's declared input shapes and
 * its constants. Small int64 vectors are tracked element by element as dimensions too, so that
 * the shape computations exported transformers are full of (Shape, Gather, Unsqueeze, Concat
 * into a Reshape) keep their symbols. A node whose inputs contradict each other on static sizes
 * is reported, all such nodes in one error. Where a rule needs what is not known, the result is
 * unknown (null), never a guess.
 */
public final class ShapeInference {

    /** Longest int64 vector whose elements are tracked. */
    private static final int MAX_TRACKED = 16;

    private final Map<Value, Shape> shapes = new IdentityHashMap<>();
    private final Map<Value, List<Dim>> values = new IdentityHashMap<>();
    private final List<String> problems = new ArrayList<>();

    private ShapeInference() {
    }

    /** Every value's shape (null where unknown); throws listing every contradiction. */
    public static Map<Value, Shape> apply(Graph graph) {
        return apply(graph, Map.of());
    }

    /** As {@link #apply(Graph)}, with the given inputs at the given shapes instead of their declared ones. */
    public static Map<Value, Shape> apply(Graph graph, Map<String, Shape> inputShapes) {
        ShapeInference inference = new ShapeInference();
        for (Value input : graph.inputs()) {
            Shape given = inputShapes.get(input.name());
            inference.shapes.put(input, given != null ? given : input.type() == null ? null : input.type().shape());
        }
        graph.constants().forEach((value, tensor) -> {
            inference.shapes.put(value, tensor.shape());
            if (!graph.inputs().contains(value)) {
                inference.track(value, tensor);
            }
        });
        for (Node node : graph.nodes()) {
            inference.infer(node);
        }
        if (!inference.problems.isEmpty()) {
            throw new GraphException(inference.problems.size() + " shape contradiction"
                    + (inference.problems.size() > 1 ? "s" : "") + ":\n  - " + String.join("\n  - ", inference.problems));
        }
        return inference.shapes;
    }

    private void track(Value value, Tensor tensor) {
        if ((tensor.dtype() == DType.INT64 || tensor.dtype() == DType.INT32) && tensor.rank() <= 1
                && tensor.elementCount() <= MAX_TRACKED) {
            values.put(value, Arrays.stream(tensor.toLongArray()).mapToObj(ShapeInference::known).toList());
        }
    }

    /** A known integer; negative values are kept too (a Reshape's −1). */
    private static Dim known(long value) {
        return value >= 0 ? Dim.of(value) : new Dim(Dim.UNKNOWN_SIZE, "#" + value);
    }

    private static Long number(Dim dim) {
        if (dim.isStatic()) {
            return dim.size();
        }
        return dim.symbol() != null && dim.symbol().startsWith("#") ? Long.parseLong(dim.symbol().substring(1)) : null;
    }

    private Shape shape(Node node, int input) {
        Value value = input < node.inputs().size() ? node.inputs().get(input) : null;
        return value == null ? null : shapes.get(value);
    }

    private List<Dim> vector(Node node, int input) {
        Value value = input < node.inputs().size() ? node.inputs().get(input) : null;
        return value == null ? null : values.get(value);
    }

    /** The input's tracked elements as numbers, or null when any is symbolic or unknown. */
    private long[] numbers(Node node, int input) {
        List<Dim> dims = vector(node, input);
        if (dims == null) {
            return null;
        }
        long[] result = new long[dims.size()];
        for (int i = 0; i < result.length; i++) {
            Long n = number(dims.get(i));
            if (n == null) {
                return null;
            }
            result[i] = n;
        }
        return result;
    }

    private void infer(Node node) {
        Shape[] out = new Shape[node.outputs().size()];
        List<Dim> outValue = null;
        Shape x = shape(node, 0);
        try {
            switch (node.op()) {
                case Unary ignored -> out[0] = x;
                case Cast ignored -> {
                    out[0] = x;
                    outValue = vector(node, 0);
                }
                case CastLike ignored -> out[0] = x;
                case BitCast ignored -> out[0] = x;
                case Identity ignored -> {
                    out[0] = x;
                    outValue = vector(node, 0);
                }
                case Dropout ignored -> Arrays.fill(out, x);
                case RandomSample sample -> out[0] = sample.distribution() == RandomSample.Distribution.MULTINOMIAL
                        ? x == null ? null : Shape.of(x.dim(0), Dim.of(sample.sampleSize()))
                        : sample.shape() != null ? Shape.of(sample.shape()) : x;
                case Softmax ignored -> out[0] = x;
                case MaskedSoftmax ignored -> out[0] = x;
                case Attention ignored -> out[0] = matMul(matMul(x, shape(node, 1)), shape(node, 3));
                case AttentionMask ignored -> {
                    Shape keys = node.inputs().size() > 2 && node.inputs().get(2) != null ? shape(node, 2) : x;
                    out[0] = x == null || keys == null || x.rank() < 2 || keys.rank() < 2 ? null
                            : Shape.of(x.dim(0), Dim.of(1), x.dim(1), keys.dim(1));
                }
                case LocalResponseNorm ignored -> out[0] = x;
                case Quantize ignored -> out[0] = x;
                case Dequantize ignored -> out[0] = x;
                case DequantizeBlocks blocks -> out[0] = Shape.of(blocks.k(), blocks.n());
                case DynamicQuantize ignored -> {
                    out[0] = x;
                    out[1] = Shape.scalar();
                    out[2] = Shape.scalar();
                }
                case Binary binary -> {
                    Shape a = x; // a static contradiction throws from Shape.broadcast, reported with the node
                    Shape b = shape(node, 1);
                    out[0] = binary.kind() == Binary.Kind.PRELU ? a : a == null || b == null ? null : Shape.broadcast(a, b);
                    outValue = arithmetic(binary.kind(), vector(node, 0), vector(node, 1));
                }
                case Where ignored -> {
                    Shape c = shape(node, 0);
                    Shape a = shape(node, 1);
                    Shape b = shape(node, 2);
                    out[0] = c == null || a == null || b == null ? null : Shape.broadcast(c, a, b);
                }
                case MatMul ignored -> out[0] = matMul(x, shape(node, 1));
                case MatMulTransposedB ignored -> out[0] = transposedProduct(x, shape(node, 1));
                case LinearLayer layer -> out[0] = layer.transposedB() ? transposedProduct(x, shape(node, 1))
                        : matMul(x, shape(node, 1));
                case MatMulInteger ignored -> out[0] = matMul(x, shape(node, 1));
                case MatMulIntegerToFloat ignored -> out[0] = matMul(x, shape(node, 1));
                case DynamicQuantizeMatMul ignored -> out[0] = matMul(x, shape(node, 1));
                case QLinearMatMul ignored -> out[0] = matMul(x, shape(node, 1));
                case ShapeOf shapeOf -> {
                    if (x != null) {
                        int rank = x.rank();
                        long start = Math.max(0, Math.min(rank, shapeOf.start() < 0 ? shapeOf.start() + rank : shapeOf.start()));
                        long end = shapeOf.end() == null ? rank : shapeOf.end() < 0 ? shapeOf.end() + rank : shapeOf.end();
                        end = Math.max(start, Math.min(rank, end));
                        outValue = x.dims().subList((int) start, (int) end);
                        out[0] = Shape.of(outValue.size());
                    }
                }
                case Size ignored -> {
                    out[0] = Shape.scalar();
                    if (x != null && x.isStatic()) {
                        outValue = List.of(Dim.of(x.elementCount()));
                    }
                }
                case Gather gather -> {
                    Shape indices = shape(node, 1);
                    if (x != null && indices != null) {
                        int axis = Shape.normalizeAxis(gather.axis(), x.rank());
                        List<Dim> dims = new ArrayList<>(x.dims().subList(0, axis));
                        dims.addAll(indices.dims());
                        dims.addAll(x.dims().subList(axis + 1, x.rank()));
                        out[0] = Shape.of(dims);
                        long[] at = numbers(node, 1);
                        List<Dim> source = vector(node, 0);
                        if (source != null && at != null && x.rank() == 1) {
                            List<Dim> picked = new ArrayList<>();
                            for (long i : at) {
                                picked.add(source.get((int) (i < 0 ? i + source.size() : i)));
                            }
                            outValue = picked;
                        }
                    }
                }
                case Unsqueeze ignored -> {
                    long[] axes = numbers(node, 1);
                    if (x != null && axes != null) {
                        int rank = x.rank() + axes.length;
                        boolean[] inserted = new boolean[rank];
                        for (long axis : axes) {
                            inserted[Shape.normalizeAxis(axis, rank)] = true;
                        }
                        List<Dim> dims = new ArrayList<>();
                        for (int d = 0, s = 0; d < rank; d++) {
                            dims.add(inserted[d] ? Dim.of(1) : x.dim(s++));
                        }
                        out[0] = Shape.of(dims);
                    }
                    outValue = vector(node, 0);
                }
                case Squeeze ignored -> {
                    long[] axes = node.inputs().size() > 1 && node.inputs().get(1) != null ? numbers(node, 1) : new long[0];
                    if (x != null && axes != null) {
                        boolean[] drop = new boolean[x.rank()];
                        boolean known = true;
                        for (long axis : axes) {
                            drop[Shape.normalizeAxis(axis, x.rank())] = true;
                        }
                        if (axes.length == 0) {
                            for (int d = 0; d < x.rank(); d++) {
                                known &= x.isStatic(d);
                                drop[d] = x.isStatic(d) && x.size(d) == 1;
                            }
                        }
                        if (known) {
                            List<Dim> dims = new ArrayList<>();
                            for (int d = 0; d < x.rank(); d++) {
                                if (!drop[d]) {
                                    dims.add(x.dim(d));
                                }
                            }
                            out[0] = Shape.of(dims);
                        }
                    }
                    outValue = vector(node, 0);
                }
                case Concat concat -> {
                    out[0] = concat(node, concat);
                    List<Dim> joined = new ArrayList<>();
                    for (int i = 0; i < node.inputs().size() && joined != null; i++) {
                        List<Dim> part = vector(node, i);
                        if (part == null) {
                            joined = null;
                        } else {
                            joined.addAll(part);
                        }
                    }
                    outValue = joined;
                }
                case Reshape reshape -> out[0] = reshape(x, vector(node, 1), reshape.allowZero());
                case Expand ignored -> {
                    List<Dim> target = vector(node, 1);
                    out[0] = x == null || target == null ? null : Shape.broadcast(x, Shape.of(nonNegative(target)));
                }
                case ConstantOfShape ignored -> {
                    List<Dim> target = node.inputs().isEmpty() || node.inputs().get(0) == null ? List.of() : vector(node, 0);
                    out[0] = target == null ? null : Shape.of(nonNegative(target));
                }
                case Transpose transpose -> {
                    if (x != null) {
                        int[] perm = transpose.perm();
                        List<Dim> dims = new ArrayList<>();
                        for (int d = 0; d < x.rank(); d++) {
                            dims.add(x.dim(perm == null ? x.rank() - 1 - d : perm[d]));
                        }
                        out[0] = Shape.of(dims);
                    }
                }
                case Flatten flatten -> {
                    if (x != null) {
                        int axis = flatten.axis() < 0 ? flatten.axis() + x.rank() : flatten.axis();
                        out[0] = Shape.of(product(x.dims().subList(0, axis)), product(x.dims().subList(axis, x.rank())));
                    }
                }
                case Slice ignored -> out[0] = slice(node, x);
                case Split split -> split(node, x, split, out);
                case Reduce reduce -> out[0] = reduce(node, x, reduce);
                case ArgReduce arg -> {
                    if (x != null) {
                        int axis = Shape.normalizeAxis(arg.axis(), x.rank());
                        List<Dim> dims = new ArrayList<>(x.dims());
                        if (arg.keepDims()) {
                            dims.set(axis, Dim.of(1));
                        } else {
                            dims.remove(axis);
                        }
                        out[0] = Shape.of(dims);
                    }
                }
                case Normalize normalize -> {
                    out[0] = x;
                    if (x != null) {
                        int axis = Shape.normalizeAxis(normalize.axis(), x.rank());
                        List<Dim> dims = new ArrayList<>(x.dims());
                        for (int d = axis; d < dims.size(); d++) {
                            dims.set(d, Dim.of(1));
                        }
                        out[1] = Shape.of(dims);
                        out[2] = out[1];
                    }
                }
                case ChannelNormalize ignored -> {
                    out[0] = x;
                    for (int i = 1; i < out.length; i++) {
                        out[i] = shape(node, 3);
                    }
                }
                case Conv conv -> out[0] = conv(x, shape(node, 1), conv.window());
                case ConvInteger conv -> out[0] = conv(x, shape(node, 1), conv.window());
                case QLinearConv conv -> out[0] = conv(x, shape(node, 1), conv.window());
                case ConvIntegerToFloat conv -> out[0] = conv(x, shape(node, 1), conv.window());
                case Pool pool -> {
                    out[0] = pool(x, pool);
                    if (out.length > 1) {
                        out[1] = out[0]; // MaxPool's indices, where asked for
                    }
                }
                case GlobalPool ignored -> {
                    if (x != null) {
                        List<Dim> dims = new ArrayList<>(x.dims());
                        for (int d = 2; d < dims.size(); d++) {
                            dims.set(d, Dim.of(1));
                        }
                        out[0] = Shape.of(dims);
                    }
                }
                default -> { } // the remaining ops: shapes learned at run time
            }
        } catch (QuantaException e) {
            problems.add(node + ": " + e.getMessage());
        } catch (IndexOutOfBoundsException | IllegalArgumentException | ArithmeticException e) {
            // Operand ranks or sizes the op cannot have (a malformed model): a contradiction too.
            problems.add(node + ": its operands' shapes do not fit the op (" + e.getMessage() + ")");
        }
        // Only what is derived here: declared shapes of intermediate values can be stale in exported
        // files, and a stale one must not make a valid model fail to load.
        for (int i = 0; i < out.length; i++) {
            shapes.put(node.outputs().get(i), out[i]);
        }
        if (outValue != null && outValue.size() <= MAX_TRACKED) {
            values.put(node.outputs().get(0), outValue);
        }
    }

    private static List<Dim> nonNegative(List<Dim> dims) {
        return dims.stream().map(d -> number(d) != null && number(d) < 0 ? Dim.unknown() : d).toList();
    }

    private static Dim product(List<Dim> dims) {
        long product = 1;
        for (Dim dim : dims) {
            if (!dim.isStatic()) {
                return Dim.unknown();
            }
            product *= dim.size();
        }
        return Dim.of(product);
    }

    /** Element-wise arithmetic on tracked vectors, where both are numbers (Gather(Shape) · 2 and the like). */
    private static List<Dim> arithmetic(Binary.Kind kind, List<Dim> a, List<Dim> b) {
        if (a == null || b == null || (a.size() != b.size() && a.size() != 1 && b.size() != 1)) {
            return null;
        }
        int size = Math.max(a.size(), b.size());
        List<Dim> result = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            Long x = number(a.get(a.size() == 1 ? 0 : i));
            Long y = number(b.get(b.size() == 1 ? 0 : i));
            if (x == null || y == null) {
                return null;
            }
            Long value = switch (kind) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> y == 0 ? null : x / y;
                default -> null;
            };
            if (value == null) {
                return null;
            }
            result.add(known(value));
        }
        return result;
    }

    /** A·Bᵀ of a 2-D B [N, K]: MatMul's shape with B's axes swapped. */
    private static Shape transposedProduct(Shape a, Shape b) {
        return b == null || b.rank() != 2 ? null : matMul(a, Shape.of(List.of(b.dim(1), b.dim(0))));
    }

    private static Shape matMul(Shape a, Shape b) {
        if (a == null || b == null || a.rank() == 0 || b.rank() == 0) {
            return null;
        }
        List<Dim> left = new ArrayList<>(a.dims());
        List<Dim> right = new ArrayList<>(b.dims());
        if (left.size() == 1) {
            left.add(0, Dim.of(1));
        }
        if (right.size() == 1) {
            right.add(Dim.of(1));
        }
        Dim k1 = left.get(left.size() - 1);
        Dim k2 = right.get(right.size() - 2);
        if (k1.isStatic() && k2.isStatic() && k1.size() != k2.size()) {
            throw new GraphException("MatMul of " + a + " and " + b + ": inner dimensions " + k1 + " and " + k2 + " differ");
        }
        Shape batch = Shape.broadcast(Shape.of(left.subList(0, left.size() - 2)), Shape.of(right.subList(0, right.size() - 2)));
        List<Dim> dims = new ArrayList<>(batch.dims());
        if (a.rank() > 1) {
            dims.add(left.get(left.size() - 2));
        }
        if (b.rank() > 1) {
            dims.add(right.get(right.size() - 1));
        }
        return Shape.of(dims);
    }

    private Shape concat(Node node, Concat concat) {
        Shape first = shape(node, 0);
        if (first == null) {
            return null;
        }
        int axis = Shape.normalizeAxis(concat.axis(), first.rank());
        List<Dim> dims = new ArrayList<>(first.dims());
        long total = 0;
        boolean staticTotal = true;
        for (int i = 0; i < node.inputs().size(); i++) {
            Shape s = shape(node, i);
            if (s == null) {
                return null;
            }
            if (s.rank() != first.rank()) {
                throw new GraphException("Concat of " + first + " and " + s + ": ranks differ");
            }
            for (int d = 0; d < s.rank(); d++) {
                if (d != axis && s.isStatic(d) && first.isStatic(d) && s.size(d) != first.size(d)) {
                    throw new GraphException("Concat of " + first + " and " + s + " along axis " + axis + ": axis " + d
                            + " differs");
                }
            }
            if (s.isStatic(axis)) {
                total += s.size(axis);
            } else {
                staticTotal = false;
            }
        }
        dims.set(axis, staticTotal ? Dim.of(total) : Dim.unknown());
        return Shape.of(dims);
    }

    private static Shape reshape(Shape x, List<Dim> requested, boolean allowZero) {
        if (requested == null) {
            return null;
        }
        List<Dim> dims = new ArrayList<>();
        int inferred = -1;
        for (int i = 0; i < requested.size(); i++) {
            Dim dim = requested.get(i);
            Long n = number(dim);
            if (n != null && n == 0 && !allowZero) {
                dims.add(x == null || i >= x.rank() ? Dim.unknown() : x.dim(i));
            } else if (n != null && n == -1) {
                inferred = i;
                dims.add(Dim.unknown());
            } else if (n != null && n < 0) {
                return null;
            } else {
                dims.add(dim);
            }
        }
        if (inferred >= 0 && x != null && x.isStatic()) {
            long known = 1;
            for (int i = 0; i < dims.size(); i++) {
                if (i != inferred) {
                    if (!dims.get(i).isStatic()) {
                        return Shape.of(dims);
                    }
                    known *= dims.get(i).size();
                }
            }
            if (known != 0 && x.elementCount() % known == 0) {
                dims.set(inferred, Dim.of(x.elementCount() / known));
            }
        }
        return Shape.of(dims);
    }

    /** Each part: the axis cut to the given size, or to its equal share; unknown where that is. */
    private void split(Node node, Shape x, Split split, Shape[] out) {
        if (x == null) {
            return;
        }
        int axis = Shape.normalizeAxis(split.axis(), x.rank());
        boolean given = node.inputs().size() > 1 && node.inputs().get(1) != null;
        long[] parts = given ? numbers(node, 1) : null;
        long chunk = x.isStatic(axis) ? Math.ceilDiv(x.size(axis), Math.max(1, out.length)) : -1;
        for (int i = 0; i < out.length; i++) {
            List<Dim> dims = new ArrayList<>(x.dims());
            long part = given ? (parts == null || i >= parts.length ? -1 : parts[i])
                    : chunk < 0 ? -1 : Math.max(0, Math.min(chunk, x.size(axis) - i * chunk));
            dims.set(axis, part < 0 ? Dim.unknown() : Dim.of(part));
            out[i] = Shape.of(dims);
        }
    }

    private Shape slice(Node node, Shape x) {
        long[] starts = numbers(node, 1);
        long[] ends = numbers(node, 2);
        boolean hasAxes = node.inputs().size() > 3 && node.inputs().get(3) != null;
        boolean hasSteps = node.inputs().size() > 4 && node.inputs().get(4) != null;
        long[] axes = hasAxes ? numbers(node, 3) : null;
        long[] steps = hasSteps ? numbers(node, 4) : null;
        if (x == null) {
            return null;
        }
        List<Dim> dims = new ArrayList<>(x.dims());
        if (starts == null || ends == null || (hasSteps && steps == null) || (hasAxes && axes == null)) {
            // Bounds known only at run time: the rank stays, and so does every axis not sliced.
            List<Dim> bounds = vector(node, 1) != null ? vector(node, 1) : vector(node, 2);
            if ((hasAxes && axes == null) || (!hasAxes && bounds == null)) {
                java.util.Collections.fill(dims, Dim.unknown());
                return Shape.of(dims);
            }
            int count = hasAxes ? axes.length : bounds.size();
            for (int i = 0; i < count; i++) {
                dims.set(Shape.normalizeAxis(axes == null ? i : axes[i], x.rank()), Dim.unknown());
            }
            return Shape.of(dims);
        }
        for (int i = 0; i < starts.length; i++) {
            int axis = Shape.normalizeAxis(axes == null ? i : axes[i], x.rank());
            if (!x.isStatic(axis)) {
                dims.set(axis, Dim.unknown());
                continue;
            }
            long size = x.size(axis);
            long step = steps == null ? 1 : steps[i];
            if (step == 0) {
                throw new GraphException("a slice step is 0");
            }
            long start = starts[i] < 0 ? starts[i] + size : starts[i];
            long end = ends[i] < 0 ? ends[i] + size : ends[i];
            long length;
            if (step > 0) {
                start = Math.max(0, Math.min(size, start));
                end = Math.max(start, Math.min(size, end));
                length = Math.ceilDiv(end - start, step);
            } else {
                start = Math.max(0, Math.min(size - 1, start));
                end = Math.min(start, Math.max(-1, Math.min(size - 1, end)));
                length = size == 0 ? 0 : Math.ceilDiv(start - end, -step);
            }
            dims.set(axis, Dim.of(length));
        }
        return Shape.of(dims);
    }

    private Shape reduce(Node node, Shape x, Reduce reduce) {
        if (x == null) {
            return null;
        }
        boolean hasAxes = node.inputs().size() > 1 && node.inputs().get(1) != null;
        long[] axes = hasAxes ? numbers(node, 1) : new long[0];
        if (axes == null) {
            return null;
        }
        if (axes.length == 0 && reduce.noopWithEmptyAxes()) {
            return x;
        }
        boolean[] reduced = new boolean[x.rank()];
        if (axes.length == 0) {
            Arrays.fill(reduced, true);
        }
        for (long axis : axes) {
            reduced[Shape.normalizeAxis(axis, x.rank())] = true;
        }
        List<Dim> dims = new ArrayList<>();
        for (int d = 0; d < x.rank(); d++) {
            if (!reduced[d]) {
                dims.add(x.dim(d));
            } else if (reduce.keepDims()) {
                dims.add(Dim.of(1));
            }
        }
        return Shape.of(dims);
    }

    private static Shape conv(Shape x, Shape w, Window window) {
        if (x != null && w != null && x.rank() != w.rank()) {
            throw new ShapeException("input of shape " + x + " and weights of shape " + w + " differ in rank");
        }
        if (x == null || w == null || x.rank() < 3 || !x.isStatic() || !w.isStatic()) {
            return x == null || w == null || x.rank() < 3 ? null : withChannels(x, w.dim(0));
        }
        long[] spatial = Arrays.copyOfRange(x.sizes(), 2, x.rank());
        long[] kernel = Arrays.copyOfRange(w.sizes(), 2, w.rank());
        long[] out = window.resolve(spatial, kernel).outSizes();
        List<Dim> dims = new ArrayList<>(List.of(x.dim(0), w.dim(0)));
        Arrays.stream(out).forEach(size -> dims.add(Dim.of(size)));
        return Shape.of(dims);
    }

    private static Shape withChannels(Shape x, Dim channels) {
        List<Dim> dims = new ArrayList<>();
        dims.add(x.dim(0));
        dims.add(channels);
        for (int d = 2; d < x.rank(); d++) {
            dims.add(Dim.unknown());
        }
        return Shape.of(dims);
    }

    private static Shape pool(Shape x, Pool pool) {
        if (x == null || x.rank() < 3) {
            return null;
        }
        if (!x.isStatic()) {
            return withChannels(x, x.dim(1));
        }
        long[] out = pool.window().resolve(Arrays.copyOfRange(x.sizes(), 2, x.rank()), null).outSizes();
        List<Dim> dims = new ArrayList<>(List.of(x.dim(0), x.dim(1)));
        Arrays.stream(out).forEach(size -> dims.add(Dim.of(size)));
        return Shape.of(dims);
    }
}
