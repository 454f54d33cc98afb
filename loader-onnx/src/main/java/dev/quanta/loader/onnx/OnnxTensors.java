package dev.quanta.loader.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import dev.quanta.graph.OptionalValue;
import dev.quanta.graph.TensorSequence;
import dev.quanta.graph.ValueType;
import dev.quanta.loader.onnx.proto.Onnx.OptionalProto;
import dev.quanta.loader.onnx.proto.Onnx.SequenceProto;
import dev.quanta.loader.onnx.proto.Onnx.StringStringEntryProto;
import dev.quanta.loader.onnx.proto.Onnx.TensorProto;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Layouts;
import dev.quanta.tensor.QuantaException;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * ONNX {@code TensorProto} to Quanta tensors: from raw data, from the typed fields, or from
 * external data, which is memory-mapped and must stay inside the model's folder.
 */
public final class OnnxTensors {

    private OnnxTensors() {
    }

    /** Reads a serialized TensorProto file (the backend tests' {@code input_0.pb}) into {@code arena}. */
    public static Tensor readFile(Path file, TensorArena arena) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            TensorProto proto = TensorProto.parseFrom(CodedInputStream.newInstance(bytes));
            return toTensor(proto, file.toAbsolutePath().getParent(), arena, file.toString());
        } catch (NoSuchFileException e) {
            throw new OnnxException("file not found: " + file);
        } catch (IOException e) {
            throw new OnnxException(file + " is not a serialized ONNX TensorProto: " + e.getMessage(), e);
        }
    }

    /**
     * Reads a serialized value file of the given declared type: a TensorProto, or a SequenceProto
     * ({@link TensorSequence}) or OptionalProto ({@link OptionalValue}) for those types.
     */
    public static Object readValueFile(Path file, ValueType type, TensorArena arena) {
        if (type == null || type.kind() == ValueType.Kind.TENSOR) {
            return readFile(file, arena);
        }
        try {
            CodedInputStream input = CodedInputStream.newInstance(Files.readAllBytes(file));
            Path folder = file.toAbsolutePath().getParent();
            return type.kind() == ValueType.Kind.SEQUENCE
                    ? sequence(SequenceProto.parseFrom(input), type, folder, arena, file.toString())
                    : optional(OptionalProto.parseFrom(input), type, folder, arena, file.toString());
        } catch (NoSuchFileException e) {
            throw new OnnxException("file not found: " + file);
        } catch (IOException e) {
            throw new OnnxException(file + " is not a serialized ONNX " + type + ": " + e.getMessage(), e);
        }
    }

    private static TensorSequence sequence(SequenceProto proto, ValueType type, Path folder, TensorArena arena,
            String owner) {
        if (proto.getElemType() != 1 && proto.getTensorValuesCount() == 0 && proto.getElemType() != 0) {
            throw new OnnxException(owner + " holds a sequence of non-tensors, which Quanta does not support");
        }
        List<Tensor> tensors = new java.util.ArrayList<>();
        for (TensorProto tensor : proto.getTensorValuesList()) {
            tensors.add(toTensor(tensor, folder, arena, owner));
        }
        return new TensorSequence(tensors.isEmpty() ? type.dtype() : tensors.get(0).dtype(), tensors);
    }

    private static OptionalValue optional(OptionalProto proto, ValueType type, Path folder, TensorArena arena,
            String owner) {
        return switch (proto.getElemType()) {
            case 0 -> OptionalValue.EMPTY;
            case 1 -> new OptionalValue(toTensor(proto.getTensorValue(), folder, arena, owner));
            case 3 -> new OptionalValue(sequence(proto.getSequenceValue(), type.element(), folder, arena, owner));
            default -> throw new OnnxException(owner + " holds an optional of element type " + proto.getElemType()
                    + ", which Quanta does not support");
        };
    }

    /**
     * Converts one tensor; {@code modelDirectory} anchors external data, {@code owner} names
     * the tensor's place in the model for errors.
     */
    static Tensor toTensor(TensorProto proto, Path modelDirectory, TensorArena arena, String owner) {
        String what = "tensor '" + proto.getName() + "' of " + owner;
        DType dtype;
        try {
            dtype = DType.fromOnnx(proto.getDataType());
        } catch (QuantaException e) {
            throw new OnnxException(what + ": " + e.getMessage());
        }
        long[] dims = new long[proto.getDimsCount()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = proto.getDims(i);
            if (dims[i] < 0) {
                throw new OnnxException(what + " has the negative dimension " + dims[i]);
            }
        }
        Shape shape = Shape.of(dims);
        long count;
        try {
            count = shape.elementCount();
        } catch (QuantaException e) {
            throw new OnnxException(what + ": " + e.getMessage());
        }
        if (proto.hasSegment()) {
            throw new OnnxException(what + " is stored in segments, which Quanta does not support");
        }
        if (proto.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            return external(proto, modelDirectory, arena, dtype, shape, what);
        }
        if (dtype.isString()) {
            if (proto.getStringDataCount() != count) {
                throw new OnnxException(what + " has " + proto.getStringDataCount() + " strings for shape " + shape);
            }
            Tensor tensor = arena.allocate(dtype, shape);
            for (int i = 0; i < count; i++) {
                tensor.storeStringBytes(i, proto.getStringData(i).toByteArray());
            }
            return tensor;
        }
        long bytes = dtype.storageBytes(count);
        if (proto.hasRawData()) {
            ByteString raw = proto.getRawData();
            if (raw.size() != bytes) {
                throw new OnnxException(what + " has " + raw.size() + " bytes of raw data; " + dtype + shape + " needs "
                        + bytes);
            }
            Tensor tensor = arena.allocate(dtype, shape);
            MemorySegment target = tensor.data();
            target.copyFrom(MemorySegment.ofBuffer(raw.asReadOnlyByteBuffer()));
            return tensor;
        }
        return typed(proto, arena, dtype, shape, count, what);
    }

    private static Tensor typed(TensorProto proto, TensorArena arena, DType dtype, Shape shape, long count, String what) {
        // The values present are counted against the shape before anything is allocated for it.
        switch (dtype) {
            case FLOAT, COMPLEX64 ->
                expect(proto.getFloatDataCount(), dtype == DType.COMPLEX64 ? 2 * count : count, what, "float_data");
            case DOUBLE, COMPLEX128 ->
                expect(proto.getDoubleDataCount(), dtype == DType.COMPLEX128 ? 2 * count : count, what, "double_data");
            case INT64 -> expect(proto.getInt64DataCount(), count, what, "int64_data");
            case UINT32, UINT64 -> expect(proto.getUint64DataCount(), count, what, "uint64_data");
            // Packed: each int32_data entry holds one byte of packed elements.
            case UINT4, INT4, FLOAT4E2M1, UINT2, INT2 ->
                expect(proto.getInt32DataCount(), dtype.storageBytes(count), what, "int32_data");
            // int32 and narrower integers, bool, and the bit patterns of float16, bfloat16, float8.
            default -> expect(proto.getInt32DataCount(), count, what, "int32_data");
        }
        Tensor tensor = arena.allocate(dtype, shape);
        switch (dtype) {
            case FLOAT, COMPLEX64 -> {
                List<Float> values = proto.getFloatDataList();
                MemorySegment data = tensor.data();
                for (int i = 0; i < values.size(); i++) {
                    data.set(Layouts.FLOAT, 4L * i, values.get(i));
                }
            }
            case DOUBLE, COMPLEX128 -> {
                List<Double> values = proto.getDoubleDataList();
                MemorySegment data = tensor.data();
                for (int i = 0; i < values.size(); i++) {
                    data.set(Layouts.DOUBLE, 8L * i, values.get(i));
                }
            }
            case INT64 -> {
                for (int i = 0; i < count; i++) {
                    tensor.storeLong(i, proto.getInt64Data(i));
                }
            }
            case UINT32, UINT64 -> {
                for (int i = 0; i < count; i++) {
                    tensor.storeBits(i, proto.getUint64Data(i));
                }
            }
            case UINT4, INT4, FLOAT4E2M1, UINT2, INT2 -> {
                MemorySegment data = tensor.data();
                for (int i = 0; i < proto.getInt32DataCount(); i++) {
                    data.set(ValueLayout.JAVA_BYTE, i, (byte) proto.getInt32Data(i));
                }
            }
            default -> {
                boolean bits = dtype.isFloatingPoint();
                for (int i = 0; i < count; i++) {
                    int value = proto.getInt32Data(i);
                    if (bits) {
                        tensor.storeBits(i, value);
                    } else {
                        tensor.storeLong(i, value);
                    }
                }
            }
        }
        return tensor;
    }

    private static void expect(long actual, long expected, String what, String field) {
        if (actual != expected) {
            throw new OnnxException(what + " has " + actual + " values in " + field + " where " + expected
                    + " are needed" + (actual == 0 ? " (no data at all)" : ""));
        }
    }

    private static Tensor external(TensorProto proto, Path modelDirectory, TensorArena arena, DType dtype, Shape shape,
            String what) {
        String location = null;
        long offset = 0;
        long length = -1;
        for (StringStringEntryProto entry : proto.getExternalDataList()) {
            switch (entry.getKey()) {
                case "location" -> location = entry.getValue();
                case "offset" -> offset = parseLong(entry.getValue(), what, "offset");
                case "length" -> length = parseLong(entry.getValue(), what, "length");
                default -> { } // checksum and unknown keys do not affect reading
            }
        }
        if (location == null || location.isEmpty()) {
            throw new OnnxException(what + " is external but names no location");
        }
        if (modelDirectory == null) {
            throw new OnnxException(what + " is external, but the model was not loaded from a folder");
        }
        Path file = confine(modelDirectory, location, what);
        long needed = dtype.storageBytes(shape.elementCount());
        if (length >= 0 && length != needed) {
            throw new OnnxException(what + " declares " + length + " external bytes; " + dtype + shape + " needs " + needed);
        }
        if (offset < 0) {
            throw new OnnxException(what + " has the negative external offset " + offset);
        }
        try {
            return arena.map(file, offset, dtype, shape);
        } catch (QuantaException e) {
            throw new OnnxException(what + ": " + e.getMessage(), e);
        }
    }

    /** The file at {@code location} under {@code directory}, refused if it is absolute or leads outside it. */
    static Path confine(Path directory, String location, String what) {
        Path relative;
        try {
            relative = Path.of(location);
        } catch (RuntimeException e) {
            throw new OnnxException(what + " has the invalid external location '" + location + "'");
        }
        if (relative.isAbsolute() || location.startsWith("/") || location.startsWith("\\")) {
            throw new OnnxException(what + " has the absolute external location '" + location
                    + "'; external data must lie in the model's folder");
        }
        Path base = directory.toAbsolutePath().normalize();
        Path file = base.resolve(relative).normalize();
        if (!file.startsWith(base)) {
            throw new OnnxException(what + " has the external location '" + location + "', which leaves the model's folder");
        }
        try {
            Path real = file.toRealPath();
            if (!real.startsWith(base.toRealPath())) {
                throw new OnnxException(what + " has the external location '" + location
                        + "', which links outside the model's folder");
            }
            return real;
        } catch (NoSuchFileException e) {
            throw new OnnxException(what + ": external data file not found: " + file);
        } catch (IOException e) {
            throw new OnnxException(what + ": cannot open external data " + file + ": " + e.getMessage(), e);
        }
    }

    private static long parseLong(String text, String what, String key) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new OnnxException(what + " has the external " + key + " '" + text + "', not an integer");
        }
    }
}
