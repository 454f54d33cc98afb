package dev.quanta.runner;

import dev.quanta.graph.Value;
import dev.quanta.graph.ValueType;
import dev.quanta.loader.onnx.OnnxModel;
import dev.quanta.loader.onnx.OnnxTensors;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Dim;
import dev.quanta.tensor.Npy;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import picocli.CommandLine.Option;

/**
 * How {@code run}, {@code bench} and {@code profile} get a model's inputs: from files, or made up at given
 * shapes. Text models (int64 inputs with symbolic batch and sequence dims) get valid token ids, full
 * attention masks and zero token types.
 */
final class InputOptions {

    /** Made-up token ids stay in the range every BERT-style vocabulary has (ordinary word pieces). */
    private static final int FIRST_TOKEN_ID = 1000;
    private static final int LAST_TOKEN_ID = 5000;

    @Option(names = "--input", paramLabel = "NAME=FILE",
            description = "An input from a .npy or ONNX TensorProto .pb file; repeatable.")
    Map<String, Path> files = new LinkedHashMap<>();

    @Option(names = "--shape", paramLabel = "NAME=DIMS",
            description = "A made-up input's shape, e.g. pixel_values=1x3x224x224; repeatable.")
    Map<String, String> shapes = new LinkedHashMap<>();

    @Option(names = "--batch", paramLabel = "B", description = "The batch dimension of made-up inputs (default: 1).")
    Long batch;

    @Option(names = "--seq", paramLabel = "S", description = "The sequence dimension of made-up inputs (default: 128).")
    Long sequence;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Seed of made-up inputs (default: 42).")
    long seed;

    /** Whether the options ask for made-up inputs (a shape, a batch or a sequence length). */
    boolean makesUpInputs() {
        return !shapes.isEmpty() || batch != null || sequence != null;
    }

    /**
     * The model's inputs: read from their files, else made up, except those with a default value that
     * no option names; unknown names are an error.
     */
    Map<String, Tensor> inputs(OnnxModel model, TensorArena arena) {
        Map<String, Value> declared = new LinkedHashMap<>();
        model.graph().inputs().forEach(value -> declared.put(value.name(), value));
        for (String name : files.keySet()) {
            requireKnown(name, declared, "--input");
        }
        for (String name : shapes.keySet()) {
            requireKnown(name, declared, "--shape");
        }
        Random random = new Random(seed);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        for (Value input : declared.values()) {
            Path file = files.get(input.name());
            if (file != null) {
                inputs.put(input.name(), read(file, arena));
            } else if (!hasDefault(model, input) || shapes.containsKey(input.name())) {
                inputs.put(input.name(), madeUp(input, shapeOf(input), arena, random));
            }
        }
        return inputs;
    }

    /**
     * Whether the model gives the input a value of its own when none is fed: an initializer listed
     * among the inputs of a model of IR version 4 or later (below 4 such weights load as constants).
     */
    static boolean hasDefault(OnnxModel model, Value input) {
        return model.graph().constants().containsKey(input);
    }

    private static void requireKnown(String name, Map<String, Value> declared, String option) {
        if (!declared.containsKey(name)) {
            throw new IllegalArgumentException(option + " names " + name + ", which is not an input of the model;"
                    + " its inputs: " + String.join(", ", declared.keySet()));
        }
    }

    private static Tensor read(Path file, TensorArena arena) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".npy")) {
            return Npy.read(file, arena);
        }
        if (name.endsWith(".pb")) {
            return OnnxTensors.readFile(file, arena);
        }
        throw new IllegalArgumentException(file + ": inputs are .npy or ONNX TensorProto .pb files");
    }

    /** The given shape, else the declared one with symbolic dims filled: batch first, then sequence. */
    Shape shapeOf(Value input) {
        String given = shapes.get(input.name());
        if (given != null) {
            return parseDims(input.name(), given);
        }
        ValueType type = input.type();
        if (type == null || type.kind() != ValueType.Kind.TENSOR || type.shape() == null) {
            throw new IllegalArgumentException("input " + input.name() + " declares no shape; give it with --shape "
                    + input.name() + "=DIMS or --input " + input.name() + "=FILE");
        }
        long[] sizes = new long[type.shape().rank()];
        int symbolic = 0;
        boolean batchFilled = false;
        for (int axis = 0; axis < sizes.length; axis++) {
            Dim dim = type.shape().dim(axis);
            if (dim.isStatic()) {
                sizes[axis] = dim.size();
                continue;
            }
            String symbol = dim.symbol() == null ? "" : dim.symbol().toLowerCase(Locale.ROOT);
            // One batch dimension: a second one named so is the sequence (the float all-MiniLM-L6-v2
            // declares [batch, batch]).
            boolean isBatch = !batchFilled && (symbol.contains("batch") || !symbol.contains("seq") && symbolic == 0);
            batchFilled |= isBatch;
            if (isBatch) {
                sizes[axis] = batch == null ? 1 : batch;
            } else if (symbolic <= 1 || symbol.contains("seq")) {
                sizes[axis] = sequence == null ? 128 : sequence;
            } else {
                throw new IllegalArgumentException("input " + input.name() + " has shape " + type.shape()
                        + "; give its dimension " + dim + " with --shape " + input.name() + "=DIMS");
            }
            symbolic++;
        }
        return Shape.of(sizes);
    }

    static Shape parseDims(String input, String dims) {
        String[] parts = dims.toLowerCase(Locale.ROOT).split("[x,]");
        long[] sizes = new long[parts.length];
        try {
            for (int i = 0; i < parts.length; i++) {
                sizes[i] = Long.parseLong(parts[i].strip());
                if (sizes[i] < 0) {
                    throw new NumberFormatException();
                }
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--shape " + input + "=" + dims + ": dims are non-negative integers"
                    + " separated by x, e.g. 1x128");
        }
        return dims.isBlank() ? Shape.scalar() : Shape.of(sizes);
    }

    private static Tensor madeUp(Value input, Shape shape, TensorArena arena, Random random) {
        DType dtype = input.type() == null || input.type().dtype() == null ? DType.FLOAT : input.type().dtype();
        long count = shape.elementCount();
        if (count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("input " + input.name() + " of shape " + shape + " is too large to make up");
        }
        String name = input.name().toLowerCase(Locale.ROOT);
        int n = (int) count;
        if (dtype.isFloatingPoint()) {
            Tensor tensor = arena.allocate(dtype, shape);
            // A fresh tensor is contiguous: storage positions are element numbers.
            for (int i = 0; i < n; i++) {
                tensor.storeDouble(i, random.nextDouble(-1, 1));
            }
            return tensor;
        }
        if (dtype == DType.BOOL) {
            boolean[] values = new boolean[n];
            for (int i = 0; i < n; i++) {
                values[i] = name.contains("mask") || random.nextBoolean();
            }
            return arena.fromBooleans(values, shape.sizes());
        }
        if (dtype.isInteger()) {
            long[] values = new long[n];
            for (int i = 0; i < n; i++) {
                values[i] = name.contains("mask") ? 1
                        : name.contains("type") || name.contains("segment") ? 0
                        : name.contains("position") ? i % Math.max(1, shape.rank() == 0 ? 1 : shape.size(shape.rank() - 1))
                        : name.contains("ids") ? random.nextInt(FIRST_TOKEN_ID, LAST_TOKEN_ID)
                        : random.nextInt(0, 10);
            }
            return arena.fromLongs(dtype, values, shape.sizes());
        }
        throw new IllegalArgumentException("input " + input.name() + " is " + dtype + "; give it with --input "
                + input.name() + "=FILE");
    }
}
