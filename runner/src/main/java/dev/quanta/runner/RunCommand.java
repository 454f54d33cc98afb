package dev.quanta.runner;

import dev.quanta.graph.OptionalValue;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.TensorSequence;
import dev.quanta.graph.Value;
import dev.quanta.loader.onnx.OnnxModel;
import dev.quanta.tensor.Npy;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code quanta run MODEL --input NAME=FILE ...}: one run, each output summarized and optionally saved as .npy. */
@Command(name = "run", description = "Runs a model once on inputs from .npy or TensorProto .pb files (made up where"
        + " --shape, --batch or --seq says so) and prints each output; --output-dir saves them as .npy.")
final class RunCommand implements Callable<Integer> {

    private static final int SHOWN_VALUES = 8;

    enum Device { cpu, cuda }

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Mixin
    private ModelArgument model;

    @Option(names = "--output-dir", paramLabel = "DIR", description = "Write each output as <name>.npy here.")
    private Path outputDirectory;

    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cpu", description = "cpu (default) or cuda.")
    private Device device;

    @Mixin
    private ThreadsOption threads;

    @Override
    public Integer call() throws IOException {
        if (device == Device.cuda) {
            throw new UnsupportedOperationException("--device cuda: Quanta's CUDA backend is not built yet; run on the cpu");
        }
        PrintWriter out = spec.commandLine().getOut();
        SessionOptions options = threads.sessionOptions(spec, false);
        try (OnnxModel loaded = OnnxModel.load(model.file);
                Session session = loaded.newSession(options);
                TensorArena arena = TensorArena.ofShared()) {
            List<String> missing = loaded.graph().inputs().stream()
                    .filter(input -> !InputOptions.hasDefault(loaded, input)).map(Value::name)
                    .filter(name -> !model.inputs.files.containsKey(name)).toList();
            if (!missing.isEmpty() && !model.inputs.makesUpInputs()) {
                throw new IllegalArgumentException("no file for input(s) " + String.join(", ", missing)
                        + ": give --input NAME=FILE, or --shape/--batch/--seq to make them up");
            }
            Map<String, Tensor> inputs = model.inputs.inputs(loaded, arena);
            long start = System.nanoTime();
            try (Outputs outputs = session.run(inputs)) {
                double millis = (System.nanoTime() - start) / 1e6;
                if (outputDirectory != null) {
                    Files.createDirectories(outputDirectory);
                }
                for (Value output : loaded.graph().outputs()) {
                    Object value = outputs.value(output.name());
                    out.println(summary(output.name(), value));
                    if (outputDirectory != null && value instanceof Tensor tensor && !tensor.dtype().isString()) {
                        Path target = outputDirectory.resolve(fileName(output.name()));
                        Npy.write(tensor, target);
                        out.println("  wrote " + target);
                    }
                }
                out.printf("ran in %.2f ms (%d thread(s), first run: includes the JIT's warm-up)%n", millis,
                        options.threads());
            }
        }
        return 0;
    }

    /** The output's name with every character outside [A-Za-z0-9_.-] replaced, plus .npy. */
    static String fileName(String outputName) {
        String safe = outputName.replaceAll("[^A-Za-z0-9_.-]", "_");
        // "." and ".." would name folders, not files.
        return (safe.isEmpty() || safe.chars().allMatch(c -> c == '.') ? "_" + safe : safe) + ".npy";
    }

    private static String summary(String name, Object value) {
        if (value instanceof Tensor tensor) {
            return String.format("%s: %s%s %s", name, tensor.dtype(), java.util.Arrays.toString(tensor.shape().sizes()),
                    firstValues(tensor));
        }
        if (value instanceof TensorSequence sequence) {
            return String.format("%s: sequence of %d tensor(s) (not saved)", name, sequence.tensors().size());
        }
        if (value instanceof OptionalValue optional) {
            return String.format("%s: optional, %s (not saved)", name, optional.isPresent() ? "present" : "empty");
        }
        return name + ": " + value;
    }

    private static String firstValues(Tensor tensor) {
        long count = tensor.shape().elementCount();
        Tensor flat = tensor.contiguous().reshape(count);
        StringBuilder values = new StringBuilder("[");
        for (long i = 0; i < Math.min(count, SHOWN_VALUES); i++) {
            if (i > 0) {
                values.append(", ");
            }
            if (tensor.dtype().isString()) {
                values.append('"').append(flat.getString(i)).append('"');
            } else if (tensor.dtype().isFloatingPoint()) {
                values.append(String.format("%.6g", flat.getDouble(i)));
            } else if (tensor.dtype().isBool()) {
                values.append(flat.getBoolean(i));
            } else {
                values.append(flat.getLong(i));
            }
        }
        return values.append(count > SHOWN_VALUES ? ", ...]" : "]").toString();
    }
}
