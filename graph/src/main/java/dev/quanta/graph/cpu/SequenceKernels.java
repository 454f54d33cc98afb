package dev.quanta.graph.cpu;

import dev.quanta.graph.KernelContext;
import dev.quanta.graph.OptionalValue;
import dev.quanta.graph.TensorSequence;
import dev.quanta.graph.ValueKernel;
import dev.quanta.graph.ops.OptionalOp;
import dev.quanta.graph.ops.SequenceOp;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Sequences and optionals: they hold tensors (views where possible) and copy only to concatenate. */
final class SequenceKernels {

    private SequenceKernels() {
    }

    static ValueKernel sequence(SequenceOp op) {
        return (context, inputs) -> new Object[] {switch (op.kind()) {
            case EMPTY -> new TensorSequence(op.emptyType(), List.of());
            case CONSTRUCT -> {
                List<Tensor> tensors = new ArrayList<>();
                for (Object input : inputs) {
                    tensors.add(tensor(input, context));
                }
                yield new TensorSequence(tensors.get(0).dtype(), tensors);
            }
            case INSERT -> {
                TensorSequence sequence = sequence(inputs[0], context);
                List<Tensor> tensors = new ArrayList<>(sequence.tensors());
                // Insert positions run from −n to n, negative ones counted from the current length n.
                int at = tensors.size();
                if (inputs.length > 2 && inputs[2] != null) {
                    long requested = tensor(inputs[2], context).loadLong(((Tensor) inputs[2]).offset());
                    long index = requested < 0 ? requested + tensors.size() : requested;
                    if (index < 0 || index > tensors.size()) {
                        throw context.error("insert position " + requested + " is out of range for " + tensors.size());
                    }
                    at = (int) index;
                }
                tensors.add(at, tensor(inputs[1], context));
                yield new TensorSequence(sequence.elementType(), tensors);
            }
            case ERASE -> {
                TensorSequence sequence = sequence(inputs[0], context);
                List<Tensor> tensors = new ArrayList<>(sequence.tensors());
                if (tensors.isEmpty()) {
                    throw context.error("cannot erase from an empty sequence");
                }
                tensors.remove(inputs.length > 1 && inputs[1] != null ? position(inputs[1], tensors.size(), context)
                        : tensors.size() - 1);
                yield new TensorSequence(sequence.elementType(), tensors);
            }
            case AT -> {
                TensorSequence sequence = sequence(inputs[0], context);
                yield sequence.tensors().get(position(inputs[1], sequence.tensors().size(), context));
            }
            case LENGTH -> context.arena().fromLongs(DType.INT64, new long[] {sequence(inputs[0], context).tensors().size()});
            case CONCAT -> concat(sequence(inputs[0], context), op, context);
            case SPLIT -> split(tensor(inputs[0], context), inputs.length > 1 ? (Tensor) inputs[1] : null, op, context);
        }};
    }

    private static TensorSequence sequence(Object value, KernelContext context) {
        if (!(value instanceof TensorSequence sequence)) {
            throw context.error("expected a sequence, not " + value);
        }
        return sequence;
    }

    private static Tensor tensor(Object value, KernelContext context) {
        if (!(value instanceof Tensor tensor)) {
            throw context.error("expected a tensor, not " + value);
        }
        return tensor;
    }

    /** A position in [−size, size), negative from the end, as an index. */
    private static int position(Object value, int size, KernelContext context) {
        long at = tensor(value, context).loadLong(((Tensor) value).offset());
        long index = at < 0 ? at + size : at;
        if (index < 0 || index >= size) {
            throw context.error("position " + at + " is out of range for " + size);
        }
        return (int) index;
    }

    private static Tensor concat(TensorSequence sequence, SequenceOp op, KernelContext context) {
        List<Tensor> tensors = sequence.tensors();
        if (tensors.isEmpty()) {
            throw context.error("cannot concatenate an empty sequence");
        }
        Tensor first = tensors.get(0);
        int rank = first.rank() + (op.flag() ? 1 : 0);
        int axis = Shape.normalizeAxis(op.axis(), rank);
        List<Tensor> parts = tensors.stream().map(t -> op.flag() ? t.unsqueeze(axis) : t).toList();
        long[] sizes = parts.get(0).shape().sizes();
        sizes[axis] = parts.stream().mapToLong(t -> t.size(axis)).sum();
        Tensor out = context.allocate(first.dtype(), Shape.of(sizes));
        long start = 0;
        for (Tensor part : parts) {
            part.copyTo(out.slice(axis, start, start + part.size(axis)));
            start += part.size(axis);
        }
        return out;
    }

    private static TensorSequence split(Tensor x, Tensor split, SequenceOp op, KernelContext context) {
        int axis = Shape.normalizeAxis(op.axis(), x.rank());
        long size = x.size(axis);
        long[] parts;
        if (split == null) {
            parts = new long[(int) size];
            Arrays.fill(parts, 1);
        } else if (split.rank() == 0) {
            long chunk = split.loadLong(split.offset());
            parts = new long[(int) Math.ceilDiv(size, chunk)];
            for (int i = 0; i < parts.length; i++) {
                parts[i] = Math.min(chunk, size - i * chunk);
            }
        } else {
            parts = split.toLongArray();
            if (Arrays.stream(parts).sum() != size) {
                throw context.error("split sizes " + Arrays.toString(parts) + " do not add up to " + size);
            }
        }
        List<Tensor> tensors = new ArrayList<>();
        long start = 0;
        for (long part : parts) {
            Tensor piece = x.slice(axis, start, start + part);
            tensors.add(split == null && !op.flag() ? piece.squeeze(axis) : piece);
            start += part;
        }
        return new TensorSequence(x.dtype(), tensors);
    }

    static ValueKernel optional(OptionalOp op) {
        return (context, inputs) -> {
            Object value = inputs.length > 0 ? inputs[0] : null;
            return new Object[] {switch (op.kind()) {
                case WRAP -> value == null ? OptionalValue.EMPTY : new OptionalValue(value);
                case HAS_ELEMENT -> context.arena().fromBooleans(new boolean[] {
                    value != null && (!(value instanceof OptionalValue optional) || optional.isPresent())});
                case GET_ELEMENT -> {
                    if (value instanceof OptionalValue optional) {
                        if (!optional.isPresent()) {
                            throw context.error("the optional is empty");
                        }
                        yield optional.value();
                    }
                    yield value;
                }
            }};
        };
    }
}
