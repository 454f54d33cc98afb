package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.ops.Concat;
import dev.quanta.graph.ops.ConstantOfShape;
import dev.quanta.graph.ops.Flatten;
import dev.quanta.graph.ops.Gather;
import dev.quanta.graph.ops.Reshape;
import dev.quanta.graph.ops.ShapeOf;
import dev.quanta.graph.ops.Split;
import dev.quanta.graph.ops.Transpose;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/** Kernels that move data or only look at shapes; most return views and copy nothing. */
final class ShapeKernels {

    private ShapeKernels() {
    }

    /** The values of a small int32/int64 tensor (shapes, axes, indices given as inputs). */
    static long[] longs(Tensor tensor, KernelContext context, String what) {
        if (tensor.dtype() != DType.INT64 && tensor.dtype() != DType.INT32) {
            throw context.error(what + " must be int64 or int32, not " + tensor.dtype());
        }
        return tensor.toLongArray();
    }

    static Kernel reshape(Reshape op) {
        return (context, inputs) -> {
            Tensor data = inputs[0];
            long[] requested = longs(inputs[1], context, "Reshape's shape");
            long[] sizes = new long[requested.length];
            int inferred = -1;
            long known = 1;
            for (int axis = 0; axis < requested.length; axis++) {
                long size = requested[axis];
                if (size == 0 && !op.allowZero()) {
                    if (axis >= data.rank()) {
                        throw context.error("shape " + Arrays.toString(requested) + " copies axis " + axis
                                + ", which " + data + " does not have");
                    }
                    size = data.size(axis);
                } else if (size == -1) {
                    if (inferred >= 0) {
                        throw context.error("shape " + Arrays.toString(requested) + " has more than one -1");
                    }
                    inferred = axis;
                    continue;
                } else if (size < 0) {
                    throw context.error("shape " + Arrays.toString(requested) + " has the negative size " + size);
                }
                sizes[axis] = size;
                known = Math.multiplyExact(known, size);
            }
            long count = data.elementCount();
            if (inferred >= 0) {
                if (known == 0 || count % known != 0) {
                    throw context.error("cannot infer the -1 of " + Arrays.toString(requested) + " for " + data);
                }
                sizes[inferred] = count / known;
            }
            return new Tensor[] {data.reshape(sizes)};
        };
    }

    static Kernel transpose(Transpose op) {
        return (context, inputs) -> {
            Tensor data = inputs[0];
            int[] perm = op.perm();
            if (perm == null) {
                perm = new int[data.rank()];
                for (int i = 0; i < perm.length; i++) {
                    perm[i] = perm.length - 1 - i;
                }
            }
            return new Tensor[] {data.permute(perm)};
        };
    }

    static Kernel squeeze() {
        return (context, inputs) -> {
            Tensor data = inputs[0];
            if (inputs.length < 2 || inputs[1] == null) {
                return new Tensor[] {data.squeeze()};
            }
            long[] axes = longs(inputs[1], context, "Squeeze's axes");
            int[] normalized = new int[axes.length];
            for (int i = 0; i < axes.length; i++) {
                normalized[i] = Shape.normalizeAxis(axes[i], data.rank());
            }
            return new Tensor[] {axes.length == 0 ? data.squeeze() : data.squeeze(normalized)};
        };
    }

    static Kernel unsqueeze() {
        return (context, inputs) -> {
            long[] axes = longs(inputs[1], context, "Unsqueeze's axes");
            int[] positions = new int[axes.length];
            for (int i = 0; i < axes.length; i++) {
                positions[i] = Math.toIntExact(axes[i]);
            }
            return new Tensor[] {inputs[0].unsqueeze(positions)};
        };
    }

    static Kernel flatten(Flatten op) {
        return (context, inputs) -> {
            Tensor data = inputs[0];
            int axis = op.axis() < 0 ? op.axis() + data.rank() : op.axis();
            if (axis < 0 || axis > data.rank()) {
                throw context.error("Flatten's axis " + op.axis() + " is out of range for " + data);
            }
            long rows = product(data, 0, axis);
            return new Tensor[] {data.reshape(rows, product(data, axis, data.rank()))};
        };
    }

    static Kernel concat(Concat op) {
        return (context, inputs) -> {
            Tensor first = inputs[0];
            int axis = Shape.normalizeAxis(op.axis(), first.rank());
            long[] sizes = first.shape().sizes();
            long total = 0;
            for (Tensor input : inputs) {
                if (input.dtype() != first.dtype() || input.rank() != first.rank()) {
                    throw context.error("cannot concatenate " + input + " with " + first);
                }
                for (int d = 0; d < sizes.length; d++) {
                    if (d != axis && input.size(d) != sizes[d]) {
                        throw context.error("cannot concatenate " + input + " with " + first + " along axis " + axis);
                    }
                }
                total += input.size(axis);
            }
            sizes[axis] = total;
            Tensor out = context.allocateForOverwrite(first.dtype(), Shape.of(sizes));
            if (first.dtype().isString() || first.dtype().isPacked()
                    || !Arrays.stream(inputs).allMatch(Tensor::isContiguous)) {
                long start = 0;
                for (Tensor input : inputs) {
                    long size = input.size(axis);
                    input.copyTo(out.slice(axis, start, start + size));
                    start += size;
                }
                return new Tensor[] {out};
            }
            concatenateBytes(context, inputs, axis, out);
            return new Tensor[] {out};
        };
    }

    /** Bytes of a concatenation's output below which one thread copies it all. */
    private static final long CONCAT_BYTES_PER_TASK = 1 << 20;

    /**
     * Contiguous inputs into {@code out} along {@code axis}: the output is rows (one per index of
     * the axes before {@code axis}) of each input's block in turn, and each task copies an even
     * share of its bytes from whichever blocks lie there. A block is a row of its input; ISNet's
     * concatenations of 64-channel 512×512 maps took one bulk copy a row of a plane, on one thread.
     */
    private static void concatenateBytes(KernelContext context, Tensor[] inputs, int axis, Tensor out) {
        long elementBytes = out.dtype().byteSize();
        long inner = 1;
        for (int d = axis + 1; d < out.rank(); d++) {
            inner *= out.size(d);
        }
        long[] blockEnds = new long[inputs.length];
        long rowBytes = 0;
        for (int i = 0; i < inputs.length; i++) {
            rowBytes += inputs[i].size(axis) * inner * elementBytes;
            blockEnds[i] = rowBytes;
        }
        long totalBytes = out.elementCount() * elementBytes;
        if (totalBytes == 0) {
            return;
        }
        long bytesPerRow = rowBytes;
        long tasks = Math.clamp(totalBytes / CONCAT_BYTES_PER_TASK, 1, 4L * context.threads());
        MemorySegment target = out.segment();
        context.parallel(tasks, task -> {
            long at = task * totalBytes / tasks;
            long end = (task + 1) * totalBytes / tasks;
            while (at < end) {
                long row = at / bytesPerRow;
                long inRow = at % bytesPerRow;
                int block = 0;
                while (blockEnds[block] <= inRow) {
                    block++;
                }
                long blockStart = block == 0 ? 0 : blockEnds[block - 1];
                long blockBytes = blockEnds[block] - blockStart;
                long from = inRow - blockStart;
                long count = Math.min(blockBytes - from, end - at);
                Tensor input = inputs[block];
                MemorySegment.copy(input.segment(), input.byteOffset() + row * blockBytes + from, target,
                        out.byteOffset() + at, count);
                at += count;
            }
        });
    }

    static Kernel split(Split op) {
        return (context, inputs) -> {
            Tensor data = inputs[0];
            int axis = Shape.normalizeAxis(op.axis(), data.rank());
            long size = data.size(axis);
            long[] parts;
            if (inputs.length > 1 && inputs[1] != null) {
                parts = longs(inputs[1], context, "Split's split");
                long total = 0;
                boolean negative = false;
                for (long part : parts) {
                    total += part;
                    negative |= part < 0;
                }
                if (total != size || negative) {
                    throw context.error("split sizes " + Arrays.toString(parts) + " do not add up to " + size);
                }
            } else {
                int count = op.outputs();
                long chunk = Math.ceilDiv(size, count);
                parts = new long[count];
                for (int i = 0; i < count; i++) {
                    parts[i] = Math.max(0, Math.min(chunk, size - i * chunk));
                }
            }
            Tensor[] outputs = new Tensor[parts.length];
            long start = 0;
            for (int i = 0; i < parts.length; i++) {
                outputs[i] = data.slice(axis, start, start + parts[i]);
                start += parts[i];
            }
            return outputs;
        };
    }

    /** ONNX Slice: negative starts and ends count from the end, then everything is clamped. */
    static Kernel slice() {
        return (context, inputs) -> {
            Tensor data = inputs[0];
            long[] starts = longs(inputs[1], context, "Slice's starts");
            long[] ends = longs(inputs[2], context, "Slice's ends");
            long[] axes = inputs.length > 3 && inputs[3] != null ? longs(inputs[3], context, "Slice's axes") : null;
            long[] steps = inputs.length > 4 && inputs[4] != null ? longs(inputs[4], context, "Slice's steps") : null;
            if (ends.length != starts.length || (axes != null && axes.length != starts.length)
                    || (steps != null && steps.length != starts.length)) {
                throw context.error("starts, ends, axes and steps must have one length");
            }
            Tensor result = data;
            boolean[] seen = new boolean[data.rank()];
            for (int i = 0; i < starts.length; i++) {
                int axis = Shape.normalizeAxis(axes == null ? i : axes[i], data.rank());
                if (seen[axis]) {
                    throw context.error("axis " + axis + " is sliced twice");
                }
                seen[axis] = true;
                long size = data.size(axis);
                long step = steps == null ? 1 : steps[i];
                if (step == 0) {
                    throw context.error("a slice step is 0");
                }
                long start = starts[i] < 0 ? starts[i] + size : starts[i];
                long end = ends[i] < 0 ? ends[i] + size : ends[i];
                if (step > 0) {
                    start = clamp(start, 0, size);
                    end = clamp(end, 0, size);
                    end = Math.max(end, start);
                } else {
                    start = clamp(start, 0, size - 1);
                    end = clamp(end, -1, size - 1);
                    end = Math.min(end, start);
                    if (size == 0) {
                        start = end = 0;
                        step = 1;
                    }
                }
                result = result.slice(axis, start, end, step);
            }
            return new Tensor[] {result};
        };
    }

    private static long clamp(long value, long low, long high) {
        return Math.max(low, Math.min(high, value));
    }

    static Kernel gather(Gather op) {
        return (context, inputs) -> {
            Tensor data = inputs[0];
            Tensor indices = inputs[1];
            int axis = Shape.normalizeAxis(op.axis(), data.rank());
            long[] index = longs(indices, context, "Gather's indices");
            long size = data.size(axis);
            long[] outSizes = new long[data.rank() - 1 + indices.rank()];
            int o = 0;
            for (int d = 0; d < axis; d++) {
                outSizes[o++] = data.size(d);
            }
            for (int d = 0; d < indices.rank(); d++) {
                outSizes[o++] = indices.size(d);
            }
            for (int d = axis + 1; d < data.rank(); d++) {
                outSizes[o++] = data.size(d);
            }
            long[] rows = new long[index.length];
            for (int i = 0; i < index.length; i++) {
                rows[i] = index[i] < 0 ? index[i] + size : index[i];
                if (rows[i] < 0 || rows[i] >= size) {
                    throw context.error("index " + index[i] + " is out of range for axis " + axis + " of size " + size);
                }
            }
            Tensor out = context.allocate(data.dtype(), Shape.of(outSizes));
            long outer = product(data, 0, axis);
            long inner = product(data, axis + 1, data.rank());
            // out viewed as [outer, indices, inner]: one slab per index, copied as bytes when data
            // lies dense in whole-byte elements (an embedding table's rows; through views, each copy
            // cost about half a microsecond, 80 µs for the MiniLM's 128 tokens).
            if (data.isContiguous() && !data.dtype().isString() && !data.dtype().isPacked()) {
                long slab = inner * data.dtype().byteSize();
                for (long block = 0; block < outer; block++) {
                    for (int i = 0; i < rows.length; i++) {
                        MemorySegment.copy(data.segment(), data.byteOffset() + (block * size + rows[i]) * slab, out.segment(),
                                out.byteOffset() + (block * rows.length + i) * slab, slab);
                    }
                }
                return new Tensor[] {out};
            }
            Tensor target = out.reshape(outer, index.length, inner);
            Tensor source = data.reshape(outer, size, inner);
            for (int i = 0; i < rows.length; i++) {
                source.select(1, rows[i]).copyTo(target.select(1, i));
            }
            return new Tensor[] {out};
        };
    }

    private static long product(Tensor tensor, int from, int to) {
        long product = 1;
        for (int d = from; d < to; d++) {
            product *= tensor.size(d);
        }
        return product;
    }

    static Kernel shapeOf(ShapeOf op) {
        return (context, inputs) -> {
            long[] sizes = inputs[0].shape().sizes();
            int rank = sizes.length;
            long start = op.start() < 0 ? op.start() + rank : op.start();
            long end = op.end() == null ? rank : op.end() < 0 ? op.end() + rank : op.end();
            start = clamp(start, 0, rank);
            end = clamp(end, start, rank);
            long[] part = Arrays.copyOfRange(sizes, (int) start, (int) end);
            return new Tensor[] {context.arena().fromLongs(DType.INT64, part, part.length)};
        };
    }

    static Kernel size() {
        return (context, inputs) -> new Tensor[] {
            context.arena().fromLongs(DType.INT64, new long[] {inputs[0].elementCount()})};
    }

    static Kernel expand() {
        return (context, inputs) -> {
            long[] requested = longs(inputs[1], context, "Expand's shape");
            Shape shape = Shape.broadcast(inputs[0].shape(), Shape.of(requested));
            return new Tensor[] {inputs[0].broadcastTo(shape)};
        };
    }

    static Kernel constantOfShape(ConstantOfShape op) {
        return (context, inputs) -> {
            long[] sizes = inputs.length > 0 && inputs[0] != null ? longs(inputs[0], context, "ConstantOfShape's shape")
                    : new long[0];
            Tensor value = op.value();
            Tensor out = context.allocate(value.dtype(), Shape.of(sizes));
            long position = value.offset();
            long count = out.elementCount();
            for (long i = 0; i < count; i++) {
                ElementwiseKernels.copyElement(value, position, out, i);
            }
            return new Tensor[] {out};
        };
    }

    static Kernel range() {
        return (context, inputs) -> {
            Tensor start = inputs[0];
            DType dtype = start.dtype();
            Tensor out;
            if (dtype.isFloatingPoint()) {
                double first = start.loadDouble(start.offset());
                double limit = inputs[1].loadDouble(inputs[1].offset());
                double delta = inputs[2].loadDouble(inputs[2].offset());
                long count = (long) Math.max(Math.ceil((limit - first) / delta), 0);
                out = context.allocate(dtype, Shape.of(count));
                for (long i = 0; i < count; i++) {
                    out.storeDouble(i, first + i * delta);
                }
            } else {
                long first = start.loadLong(start.offset());
                long limit = inputs[1].loadLong(inputs[1].offset());
                long delta = inputs[2].loadLong(inputs[2].offset());
                if (delta == 0) {
                    throw context.error("Range's delta is 0");
                }
                long count = Math.max(Math.ceilDiv(limit - first, delta), 0);
                out = context.allocate(dtype, Shape.of(count));
                for (long i = 0; i < count; i++) {
                    out.storeLong(i, first + i * delta);
                }
            }
            return new Tensor[] {out};
        };
    }
}
