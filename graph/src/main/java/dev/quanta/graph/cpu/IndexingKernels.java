package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.ops.Cumulative;
import dev.quanta.graph.ops.DepthToSpace;
import dev.quanta.graph.ops.EyeLike;
import dev.quanta.graph.ops.GatherElements;
import dev.quanta.graph.ops.GatherND;
import dev.quanta.graph.ops.Hardmax;
import dev.quanta.graph.ops.NonMaxSuppression;
import dev.quanta.graph.ops.OneHot;
import dev.quanta.graph.ops.Pad;
import dev.quanta.graph.ops.Scatter;
import dev.quanta.graph.ops.TopK;
import dev.quanta.graph.ops.Trilu;
import dev.quanta.graph.ops.Unique;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Gathers, scatters, tiles, triangles, cumulative sums, top-k, one-hot, padding and block rearrangements. */
final class IndexingKernels {

    private IndexingKernels() {
    }

    /** Calls {@code action} with every index of {@code sizes} in row-major order (the array is reused). */
    static void forEachIndex(long[] sizes, java.util.function.Consumer<long[]> action) {
        long count = Shape.of(sizes).elementCount();
        long[] index = new long[sizes.length];
        for (long i = 0; i < count; i++) {
            action.accept(index);
            for (int d = sizes.length - 1; d >= 0 && ++index[d] == sizes[d]; d--) {
                index[d] = 0;
            }
        }
    }

    private static long position(Tensor tensor, long[] index) {
        long[] strides = tensor.strides();
        long position = tensor.offset();
        for (int d = 0; d < index.length; d++) {
            position += index[d] * strides[d];
        }
        return position;
    }

    /** An index along an axis of {@code size}, negative counting from the end, checked. */
    private static long wrap(long index, long size, KernelContext context, String what) {
        long at = index < 0 ? index + size : index;
        if (at < 0 || at >= size) {
            throw context.error(what + " index " + index + " is out of range for a dimension of size " + size);
        }
        return at;
    }

    static Kernel gatherElements(GatherElements op) {
        return (context, inputs) -> {
            Tensor data = inputs[0];
            Tensor indices = inputs[1];
            if (indices.rank() != data.rank()) {
                throw context.error("indices " + indices + " must have the rank of data " + data);
            }
            int axis = Shape.normalizeAxis(op.axis(), data.rank());
            Tensor out = context.allocate(data.dtype(), indices.shape());
            long[] next = {0};
            long[] source = new long[data.rank()];
            forEachIndex(indices.shape().sizes(), index -> {
                System.arraycopy(index, 0, source, 0, index.length);
                source[axis] = wrap(indices.loadLong(position(indices, index)), data.size(axis), context, "GatherElements");
                ElementwiseKernels.copyElement(data, position(data, source), out, next[0]++);
            });
            return new Tensor[] {out};
        };
    }

    static Kernel gatherND(GatherND op) {
        return (context, inputs) -> {
            Tensor data = inputs[0];
            Tensor indices = inputs[1];
            int batch = op.batchDims();
            int depth = (int) indices.size(indices.rank() - 1);
            if (batch + depth > data.rank()) {
                throw context.error("indices of depth " + depth + " after " + batch + " batch dimensions exceed " + data);
            }
            long[] outer = Arrays.copyOf(indices.shape().sizes(), indices.rank() - 1);
            long[] slab = Arrays.copyOfRange(data.shape().sizes(), batch + depth, data.rank());
            long[] outSizes = concat(outer, slab);
            Tensor out = context.allocate(data.dtype(), Shape.of(outSizes));
            Tensor rows = out.reshape(concat(new long[] {Shape.of(outer).elementCount()}, slab));
            long[] row = {0};
            forEachIndex(outer, index -> {
                Tensor view = data;
                for (int d = 0; d < batch; d++) {
                    view = view.select(0, index[d]);
                }
                long[] tuple = Arrays.copyOf(index, index.length + 1);
                for (int k = 0; k < depth; k++) {
                    tuple[index.length] = k;
                    view = view.select(0, wrap(indices.loadLong(position(indices, tuple)), view.size(0), context, "GatherND"));
                }
                view.copyTo(rows.select(0, row[0]++));
            });
            return new Tensor[] {out};
        };
    }

    static Kernel scatter(Scatter op) {
        return (context, inputs) -> {
            Tensor data = inputs[0];
            Tensor indices = inputs[1];
            Tensor updates = inputs[2];
            Tensor out = context.arena().copyOf(data);
            if (op.nd()) {
                int depth = (int) indices.size(indices.rank() - 1);
                long[] outer = Arrays.copyOf(indices.shape().sizes(), indices.rank() - 1);
                long[] slab = Arrays.copyOfRange(data.shape().sizes(), depth, data.rank());
                Tensor rows = updates.reshape(concat(new long[] {Shape.of(outer).elementCount()}, slab));
                long[] row = {0};
                forEachIndex(outer, index -> {
                    Tensor target = out;
                    long[] tuple = Arrays.copyOf(index, index.length + 1);
                    for (int k = 0; k < depth; k++) {
                        tuple[index.length] = k;
                        target = target.select(0, wrap(indices.loadLong(position(indices, tuple)), target.size(0), context,
                                "ScatterND"));
                    }
                    combine(rows.select(0, row[0]++), target, op.reduction());
                });
            } else {
                int axis = Shape.normalizeAxis(op.axis(), data.rank());
                long[] target = new long[data.rank()];
                forEachIndex(indices.shape().sizes(), index -> {
                    System.arraycopy(index, 0, target, 0, index.length);
                    target[axis] = wrap(indices.loadLong(position(indices, index)), data.size(axis), context,
                            "ScatterElements");
                    combine(updates, position(updates, index), out, position(out, target), op.reduction());
                });
            }
            return new Tensor[] {out};
        };
    }

    private static void combine(Tensor source, Tensor target, Scatter.Reduction reduction) {
        if (reduction == Scatter.Reduction.NONE) {
            source.copyTo(target);
            return;
        }
        long[] targetStrides = target.strides();
        forEachIndex(source.shape().sizes(), index -> {
            long at = target.offset();
            for (int d = 0; d < index.length; d++) {
                at += index[d] * targetStrides[d];
            }
            combine(source, position(source, index), target, at, reduction);
        });
    }

    private static void combine(Tensor source, long from, Tensor target, long to, Scatter.Reduction reduction) {
        if (reduction == Scatter.Reduction.NONE) {
            ElementwiseKernels.copyElement(source, from, target, to);
        } else if (target.dtype().isFloatingPoint()) {
            double a = target.loadDouble(to);
            double b = source.loadDouble(from);
            target.storeDouble(to, switch (reduction) {
                case ADD -> a + b;
                case MUL -> a * b;
                case MAX -> Math.max(a, b);
                case MIN -> Math.min(a, b);
                case NONE -> b;
            });
        } else {
            long a = target.loadLong(to);
            long b = source.loadLong(from);
            target.storeLong(to, switch (reduction) {
                case ADD -> a + b;
                case MUL -> a * b;
                case MAX -> Math.max(a, b);
                case MIN -> Math.min(a, b);
                case NONE -> b;
            });
        }
    }

    /** out[a·d + b] = x[b]: x seen as [1, d0, 1, d1, ...] broadcast to [r0, d0, r1, d1, ...]. */
    static Kernel tile() {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            long[] repeats = ShapeKernels.longs(inputs[1], context, "Tile's repeats");
            if (repeats.length != x.rank()) {
                throw context.error("repeats " + Arrays.toString(repeats) + " must have one entry per axis of " + x);
            }
            int rank = x.rank();
            long[] interleaved = new long[2 * rank];
            long[] spread = new long[2 * rank];
            long[] outSizes = new long[rank];
            for (int d = 0; d < rank; d++) {
                if (repeats[d] < 0) {
                    throw context.error("negative repeat " + repeats[d]);
                }
                interleaved[2 * d] = 1;
                interleaved[2 * d + 1] = x.size(d);
                spread[2 * d] = repeats[d];
                spread[2 * d + 1] = x.size(d);
                outSizes[d] = repeats[d] * x.size(d);
            }
            Tensor out = context.allocate(x.dtype(), Shape.of(outSizes));
            x.reshape(interleaved).broadcastTo(spread).copyTo(out.reshape(spread));
            return new Tensor[] {out};
        };
    }

    static Kernel trilu(Trilu op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            long k = inputs.length > 1 && inputs[1] != null ? inputs[1].loadLong(inputs[1].offset()) : 0;
            Tensor out = context.allocate(x.dtype(), x.shape());
            int rank = x.rank();
            long[] next = {0};
            forEachIndex(x.shape().sizes(), index -> {
                long diagonal = index[rank - 1] - index[rank - 2];
                boolean keep = op.upper() ? diagonal >= k : diagonal <= k;
                long at = next[0]++;
                if (keep) {
                    ElementwiseKernels.copyElement(x, position(x, index), out, at);
                }
            });
            return new Tensor[] {out};
        };
    }

    /** A slice's values: doubles for floating types, longs (exactly) for the others. */
    private record Slice(double[] floats, long[] integers) implements Comparable<Slice> {

        @Override
        public boolean equals(Object other) {
            return other instanceof Slice slice && Arrays.equals(floats, slice.floats) && Arrays.equals(integers, slice.integers);
        }

        @Override
        public int hashCode() {
            return floats != null ? Arrays.hashCode(floats) : Arrays.hashCode(integers);
        }

        @Override
        public int compareTo(Slice other) {
            return floats != null ? Arrays.compare(floats, other.floats) : Arrays.compare(integers, other.integers);
        }
    }

    /** See {@link Unique}. */
    static Kernel unique(Unique op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            if (x.dtype() == DType.STRING || x.dtype().isPacked()) {
                throw context.error("Unique of " + x.dtype() + " is not implemented");
            }
            int axis = op.axis() == null ? -1 : Shape.normalizeAxis(op.axis(), x.rank());
            Tensor front = axis < 0 ? context.contiguous(x).reshape(x.elementCount(), 1) : axisFirst(context, x, axis);
            int slices = Math.toIntExact(front.size(0));
            int width = Math.toIntExact(front.elementCount() / Math.max(1, slices));
            boolean floating = x.dtype().isFloatingPoint();
            List<Slice> keys = new ArrayList<>();
            Map<Slice, Integer> firstSeen = new LinkedHashMap<>();
            int[] firstOf = new int[slices];
            for (int i = 0; i < slices; i++) {
                double[] floats = floating ? new double[width] : null;
                long[] integers = floating ? null : new long[width];
                for (int e = 0; e < width; e++) {
                    long at = front.offset() + (long) i * width + e;
                    if (floating) {
                        floats[e] = front.loadDouble(at);
                    } else {
                        integers[e] = front.loadLong(at);
                    }
                }
                Slice key = new Slice(floats, integers);
                keys.add(key);
                Integer seen = firstSeen.putIfAbsent(key, i);
                firstOf[i] = seen == null ? i : seen;
            }
            List<Integer> distinct = new ArrayList<>(firstSeen.values());
            if (op.sorted()) {
                distinct.sort((a, b) -> keys.get(a).compareTo(keys.get(b)));
            }
            int[] position = new int[slices];
            long[] firstIndices = new long[distinct.size()];
            for (int u = 0; u < distinct.size(); u++) {
                position[distinct.get(u)] = u;
                firstIndices[u] = distinct.get(u);
            }
            long[] counts = new long[distinct.size()];
            long[] inverse = new long[slices];
            for (int i = 0; i < slices; i++) {
                inverse[i] = position[firstOf[i]];
                counts[(int) inverse[i]]++;
            }
            long[] sizes = axis < 0 ? new long[] {distinct.size()} : front.shape().sizes();
            sizes[0] = distinct.size();
            Tensor picked = context.allocate(x.dtype(), Shape.of(sizes));
            for (int u = 0; u < distinct.size(); u++) {
                Slice key = keys.get(distinct.get(u));
                for (int e = 0; e < width; e++) {
                    long at = (long) u * width + e;
                    if (floating) {
                        picked.storeDouble(at, key.floats()[e]);
                    } else {
                        picked.storeLong(at, key.integers()[e]);
                    }
                }
            }
            Tensor y = axis < 0 ? picked : picked.permute(inverseOrder(x.rank(), axis)).contiguous();
            return new Tensor[] {y, context.arena().fromLongs(DType.INT64, firstIndices, firstIndices.length),
                context.arena().fromLongs(DType.INT64, inverse, inverse.length),
                context.arena().fromLongs(DType.INT64, counts, counts.length)};
        };
    }

    /** x with the axis moved to the front, contiguous. */
    private static Tensor axisFirst(KernelContext context, Tensor x, int axis) {
        int[] order = new int[x.rank()];
        order[0] = axis;
        for (int d = 0, next = 1; d < x.rank(); d++) {
            if (d != axis) {
                order[next++] = d;
            }
        }
        return context.contiguous(x.permute(order));
    }

    /** The permutation that puts the front axis back at {@code axis}. */
    private static int[] inverseOrder(int rank, int axis) {
        int[] order = new int[rank];
        for (int d = 0; d < rank; d++) {
            order[d] = d < axis ? d + 1 : d == axis ? 0 : d;
        }
        return order;
    }

    /** See {@link NonMaxSuppression}. */
    static Kernel nonMaxSuppression(NonMaxSuppression op) {
        return (context, inputs) -> {
            Tensor boxes = inputs[0];
            Tensor scores = inputs[1];
            if (boxes.rank() != 3 || boxes.size(2) != 4 || scores.rank() != 3 || scores.size(0) != boxes.size(0)
                    || scores.size(2) != boxes.size(1)) {
                throw context.error("boxes " + boxes.shape() + " and scores " + scores.shape()
                        + " must be [batch, boxes, 4] and [batch, classes, boxes]");
            }
            Double limit = scalar(inputs, 2);
            Double iou = scalar(inputs, 3);
            long maxPerClass = limit == null ? 0 : limit.longValue();
            double iouThreshold = iou == null ? 0 : iou;
            Double scoreThreshold = scalar(inputs, 4);
            int batches = Math.toIntExact(boxes.size(0));
            int count = Math.toIntExact(boxes.size(1));
            int classes = Math.toIntExact(scores.size(1));
            double[] corners = boxes.contiguous().toDoubleArray();
            double[] allScores = scores.contiguous().toDoubleArray();
            List<long[]> taken = new ArrayList<>();
            for (int b = 0; b < batches; b++) {
                double[][] box = new double[count][];
                for (int i = 0; i < count; i++) {
                    box[i] = corners(corners, (b * count + i) * 4, op.centerPointBox());
                }
                for (int c = 0; c < classes; c++) {
                    int scoreAt = (b * classes + c) * count;
                    List<Integer> order = new ArrayList<>();
                    for (int i = 0; i < count; i++) {
                        if (scoreThreshold == null || allScores[scoreAt + i] > scoreThreshold) {
                            order.add(i);
                        }
                    }
                    // Best score first; among equal scores, the lower index first.
                    order.sort((i, j) -> Double.compare(allScores[scoreAt + j], allScores[scoreAt + i]));
                    List<Integer> kept = new ArrayList<>();
                    for (int i : order) {
                        if (kept.size() >= maxPerClass) {
                            break;
                        }
                        boolean overlaps = false;
                        for (int j : kept) {
                            if (intersectionOverUnion(box[i], box[j]) > iouThreshold) {
                                overlaps = true;
                                break;
                            }
                        }
                        if (!overlaps) {
                            kept.add(i);
                            taken.add(new long[] {b, c, i});
                        }
                    }
                }
            }
            long[] flat = new long[taken.size() * 3];
            for (int t = 0; t < taken.size(); t++) {
                System.arraycopy(taken.get(t), 0, flat, t * 3, 3);
            }
            return new Tensor[] {context.arena().fromLongs(DType.INT64, flat, taken.size(), 3)};
        };
    }

    /** The scalar (or single-element) input i as a double, null when absent. */
    private static Double scalar(Tensor[] inputs, int i) {
        if (inputs.length <= i || inputs[i] == null || inputs[i].elementCount() == 0) {
            return null;
        }
        return inputs[i].contiguous().toDoubleArray()[0];
    }

    /** (y1, x1, y2, x2) with y1 ≤ y2 and x1 ≤ x2 of the box at {@code at}. */
    private static double[] corners(double[] values, int at, boolean centerPoint) {
        if (centerPoint) {
            double x = values[at], y = values[at + 1], width = values[at + 2], height = values[at + 3];
            return new double[] {y - height / 2, x - width / 2, y + height / 2, x + width / 2};
        }
        return new double[] {Math.min(values[at], values[at + 2]), Math.min(values[at + 1], values[at + 3]),
            Math.max(values[at], values[at + 2]), Math.max(values[at + 1], values[at + 3])};
    }

    private static double intersectionOverUnion(double[] a, double[] b) {
        double height = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
        double width = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
        double intersection = height * width;
        double union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - intersection;
        return intersection <= 0 || union <= 0 ? 0 : intersection / union;
    }

    static Kernel cumulative(Cumulative op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            int axis = Shape.normalizeAxis(ShapeKernels.longs(inputs[1], context, op.name() + "'s axis")[0], x.rank());
            Tensor out = context.allocate(x.dtype(), x.shape());
            long size = x.size(axis);
            long[] lines = x.shape().sizes();
            lines[axis] = 1;
            boolean floating = x.dtype().isFloatingPoint();
            long stride = x.strides()[axis];
            long outStride = out.strides()[axis];
            forEachIndex(lines, index -> {
                long from = position(x, index);
                long to = position(out, index);
                // The running value starts at the operation's identity (1 for products).
                double sum = op.product() ? 1 : 0;
                long integerSum = op.product() ? 1 : 0;
                for (long step = 0; step < size; step++) {
                    long i = op.reverse() ? size - 1 - step : step;
                    if (op.exclusive()) {
                        store(out, to + i * outStride, floating, sum, integerSum);
                    }
                    if (floating) {
                        double value = x.loadDouble(from + i * stride);
                        sum = op.product() ? sum * value : sum + value;
                    } else {
                        long value = x.loadLong(from + i * stride);
                        integerSum = op.product() ? integerSum * value : integerSum + value;
                    }
                    if (!op.exclusive()) {
                        store(out, to + i * outStride, floating, sum, integerSum);
                    }
                }
            });
            return new Tensor[] {out};
        };
    }

    private static void store(Tensor out, long at, boolean floating, double value, long integer) {
        if (floating) {
            out.storeDouble(at, value);
        } else {
            out.storeLong(at, integer);
        }
    }

    static Kernel topK(TopK op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            int axis = Shape.normalizeAxis(op.axis(), x.rank());
            long k = ShapeKernels.longs(inputs[1], context, "TopK's k")[0];
            long size = x.size(axis);
            if (k < 0 || k > size) {
                throw context.error("k = " + k + " is out of range for an axis of size " + size);
            }
            long[] outSizes = x.shape().sizes();
            outSizes[axis] = k;
            Tensor values = context.allocate(x.dtype(), Shape.of(outSizes));
            Tensor indices = context.allocate(DType.INT64, Shape.of(outSizes));
            long[] lines = x.shape().sizes();
            lines[axis] = 1;
            boolean floating = x.dtype().isFloatingPoint();
            long stride = x.strides()[axis];
            forEachIndex(lines, index -> {
                long from = position(x, index);
                List<Long> order = new ArrayList<>();
                for (long i = 0; i < size; i++) {
                    order.add(i);
                }
                Comparator<Long> comparison = floating
                        ? Comparator.comparingDouble(i -> x.loadDouble(from + i * stride))
                        : Comparator.comparingLong(i -> x.loadLong(from + i * stride));
                order.sort((op.largest() ? comparison.reversed() : comparison).thenComparingLong(i -> i));
                long valueAt = position(values, index);
                long indexAt = position(indices, index);
                long outStride = values.strides()[axis];
                for (int i = 0; i < k; i++) {
                    long chosen = order.get(i);
                    ElementwiseKernels.copyElement(x, from + chosen * stride, values, valueAt + i * outStride);
                    indices.storeLong(indexAt + i * outStride, chosen);
                }
            });
            return new Tensor[] {values, indices};
        };
    }

    static Kernel oneHot(OneHot op) {
        return (context, inputs) -> {
            Tensor indices = inputs[0];
            long depth = (long) inputs[1].loadDouble(inputs[1].offset());
            Tensor values = inputs[2];
            if (values.elementCount() != 2) {
                throw context.error("values must hold [off, on], not " + values);
            }
            int rank = indices.rank() + 1;
            int axis = op.axis() < 0 ? op.axis() + rank : op.axis();
            if (axis < 0 || axis >= rank) {
                throw context.error("axis " + op.axis() + " is out of range for rank " + rank);
            }
            long[] outSizes = new long[rank];
            for (int d = 0, s = 0; d < rank; d++) {
                outSizes[d] = d == axis ? depth : indices.size(s++);
            }
            Tensor flatValues = values.reshape(2);
            Tensor out = context.allocate(values.dtype(), Shape.of(outSizes));
            long[] source = new long[indices.rank()];
            long[] next = {0};
            forEachIndex(outSizes, index -> {
                for (int d = 0, s = 0; d < rank; d++) {
                    if (d != axis) {
                        source[s++] = index[d];
                    }
                }
                long hot = (long) indices.loadDouble(position(indices, source));
                if (hot < 0) {
                    hot += depth;
                }
                ElementwiseKernels.copyElement(flatValues, flatValues.offset() + (hot == index[axis] ? 1 : 0)
                        * flatValues.strides()[0], out, next[0]++);
            });
            return new Tensor[] {out};
        };
    }

    static Kernel eyeLike(EyeLike op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            if (x.rank() != 2) {
                throw context.error("EyeLike needs a 2-D input, not " + x);
            }
            Tensor out = context.allocate(op.dtype() == null ? x.dtype() : op.dtype(), x.shape());
            for (long i = 0; i < x.size(0); i++) {
                long j = i + op.k();
                if (j >= 0 && j < x.size(1)) {
                    out.storeLong(i * x.size(1) + j, 1);
                }
            }
            return new Tensor[] {out};
        };
    }

    static Kernel nonZero() {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            List<long[]> found = new ArrayList<>();
            boolean floating = x.dtype().isFloatingPoint();
            forEachIndex(x.shape().sizes(), index -> {
                long at = position(x, index);
                if (floating ? x.loadDouble(at) != 0 : x.loadLong(at) != 0) {
                    found.add(index.clone());
                }
            });
            Tensor out = context.allocate(DType.INT64, Shape.of(x.rank(), found.size()));
            for (int j = 0; j < found.size(); j++) {
                for (int d = 0; d < x.rank(); d++) {
                    out.storeLong((long) d * found.size() + j, found.get(j)[d]);
                }
            }
            return new Tensor[] {out};
        };
    }

    static Kernel pad(Pad op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            int rank = x.rank();
            long[] pads = ShapeKernels.longs(inputs[1], context, "Pad's pads");
            Tensor value = inputs.length > 2 ? inputs[2] : null;
            long[] axes;
            if (inputs.length > 3 && inputs[3] != null) {
                axes = ShapeKernels.longs(inputs[3], context, "Pad's axes");
            } else {
                axes = new long[rank];
                Arrays.setAll(axes, d -> d);
            }
            if (pads.length != 2 * axes.length) {
                throw context.error("pads " + Arrays.toString(pads) + " must have two entries per padded axis");
            }
            long[] begin = new long[rank];
            long[] end = new long[rank];
            for (int i = 0; i < axes.length; i++) {
                int axis = Shape.normalizeAxis(axes[i], rank);
                begin[axis] = pads[i];
                end[axis] = pads[i + axes.length];
            }
            long[] outSizes = new long[rank];
            for (int d = 0; d < rank; d++) {
                outSizes[d] = x.size(d) + begin[d] + end[d];
                if (outSizes[d] < 0) {
                    throw context.error("pads remove more than axis " + d + " of " + x + " holds");
                }
            }
            Tensor out = context.allocate(x.dtype(), Shape.of(outSizes));
            if (rank == 0 || out.elementCount() == 0) {
                return new Tensor[] {rank == 0 ? x : out};
            }
            padRows(x.contiguous(), out, begin, op.mode(), value != null && value.elementCount() > 0 ? value : null);
            return new Tensor[] {out};
        };
    }

    /**
     * Each row of the output (its last axis) from the input row its outer indices read, or the pad
     * value; along the row, the part inside the input copied whole where its type allows, the
     * borders element by element.
     */
    private static void padRows(Tensor x, Tensor out, long[] begin, Pad.Mode mode, Tensor value) {
        int last = x.rank() - 1;
        long rowLength = out.size(last);
        long size = x.size(last);
        long[] strides = x.strides();
        long first = Math.clamp(begin[last], 0, rowLength);
        long end = Math.max(first, Math.clamp(begin[last] + size, 0, rowLength));
        boolean bulk = !x.dtype().isString() && !x.dtype().isPacked();
        int bytes = bulk ? x.dtype().byteSize() : 0;
        long[] at = {out.offset()};
        forEachIndex(Arrays.copyOf(out.shape().sizes(), last), index -> {
            long row = x.offset();
            for (int d = 0; d < last && row >= 0; d++) {
                long c = padSource(mode, index[d] - begin[d], x.size(d));
                row = c < 0 ? -1 : row + c * strides[d];
            }
            long start = at[0];
            at[0] += rowLength;
            for (long j = 0; j < rowLength; j++) {
                if (j == first && end > first && row >= 0) {
                    long from = row + (first - begin[last]) * strides[last];
                    if (bulk) {
                        MemorySegment.copy(x.segment(), from * bytes, out.segment(), (start + first) * bytes, (end - first) * bytes);
                    } else {
                        for (long k = 0; k < end - first; k++) {
                            ElementwiseKernels.copyElement(x, from + k * strides[last], out, start + first + k);
                        }
                    }
                    j = end - 1;
                    continue;
                }
                long c = row < 0 ? -1 : padSource(mode, j - begin[last], size);
                if (c >= 0) {
                    ElementwiseKernels.copyElement(x, row + c * strides[last], out, start + j);
                } else if (value != null) {
                    ElementwiseKernels.copyElement(value, value.offset(), out, start + j);
                }
            }
        });
    }

    /** The input index that output index {@code c} (less the padding before it) reads along an axis of {@code size}, or −1 for the pad value. */
    private static long padSource(Pad.Mode mode, long c, long size) {
        if (c >= 0 && c < size) {
            return c;
        }
        return switch (mode) {
            case CONSTANT -> -1;
            case EDGE -> size == 0 ? -1 : Math.max(0, Math.min(size - 1, c));
            case WRAP -> size == 0 ? -1 : Math.floorMod(c, size);
            case REFLECT -> size == 0 ? -1 : reflect(c, size);
        };
    }

    private static long reflect(long c, long size) {
        if (size == 1) {
            return 0;
        }
        long period = 2 * (size - 1);
        long m = Math.floorMod(c, period);
        return m < size ? m : period - m;
    }

    static Kernel depthToSpace(DepthToSpace op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            if (x.rank() != 4) {
                throw context.error("needs a 4-D input [N, C, H, W], not " + x);
            }
            long b = op.blockSize();
            long n = x.size(0);
            long c = x.size(1);
            long h = x.size(2);
            long w = x.size(3);
            Tensor result;
            if (op.toSpace()) {
                if (c % (b * b) != 0) {
                    throw context.error("channels " + c + " are not a multiple of blocksize² " + b * b);
                }
                long depth = c / (b * b);
                result = op.columnRowDepth()
                        ? x.reshape(n, depth, b, b, h, w).permute(0, 1, 4, 2, 5, 3)
                        : x.reshape(n, b, b, depth, h, w).permute(0, 3, 4, 1, 5, 2);
                result = result.reshape(n, depth, h * b, w * b);
            } else {
                if (h % b != 0 || w % b != 0) {
                    throw context.error("height and width of " + x + " are not multiples of " + b);
                }
                result = x.reshape(n, c, h / b, b, w / b, b).permute(0, 3, 5, 1, 2, 4).reshape(n, c * b * b, h / b, w / b);
            }
            return new Tensor[] {result};
        };
    }

    static Kernel hardmax(Hardmax op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            int rank = x.rank();
            int axis = Shape.normalizeAxis(op.axis(), rank);
            Tensor out = context.allocate(x.dtype(), x.shape());
            if (op.coerceTo2d()) {
                long inner = Shape.of(Arrays.copyOfRange(x.shape().sizes(), axis, rank)).elementCount();
                Tensor rows = x.reshape(inner == 0 ? 0 : x.elementCount() / inner, inner);
                Tensor target = out.reshape(rows.shape());
                for (long r = 0; r < rows.size(0); r++) {
                    markMax(rows.select(0, r), target.select(0, r));
                }
            } else {
                long[] lines = x.shape().sizes();
                lines[axis] = 1;
                forEachIndex(lines, index -> {
                    Tensor line = x;
                    Tensor target = out;
                    for (int d = rank - 1; d >= 0; d--) {
                        if (d != axis) {
                            line = line.select(d, index[d]);
                            target = target.select(d, index[d]);
                        }
                    }
                    markMax(line, target);
                });
            }
            return new Tensor[] {out};
        };
    }

    private static void markMax(Tensor line, Tensor target) {
        long size = line.size(0);
        long best = 0;
        for (long i = 1; i < size; i++) {
            if (line.getDouble(i) > line.getDouble(best)) {
                best = i;
            }
        }
        if (size > 0) {
            target.setDouble(1, best);
        }
    }

    static long[] concat(long[] head, long[] tail) {
        long[] all = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, all, head.length, tail.length);
        return all;
    }
}
