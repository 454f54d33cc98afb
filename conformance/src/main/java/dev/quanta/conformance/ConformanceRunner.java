package dev.quanta.conformance;

import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.loader.onnx.OnnxModel;
import dev.quanta.loader.onnx.OnnxTensors;
import dev.quanta.loader.onnx.UnsupportedModelException;
import dev.quanta.tensor.QuantaException;
import dev.quanta.tensor.TensorArena;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Runs test cases in the ONNX backend test layout: a folder with {@code model.onnx} and
 * {@code test_data_set_N/} folders of {@code input_K.pb} and {@code output_K.pb}. Inputs bind
 * to the graph inputs in order, skipping inputs that have initializers; outputs likewise.
 */
public final class ConformanceRunner {

    private ConformanceRunner() {
    }

    /** Every case folder at or below the given folders, sorted by name. */
    public static List<Path> findCases(List<Path> roots) {
        List<Path> cases = new ArrayList<>();
        for (Path root : roots) {
            if (Files.isRegularFile(root.resolve("model.onnx"))) {
                cases.add(root);
                continue;
            }
            if (!Files.isDirectory(root)) {
                throw new QuantaException("no such folder: " + root);
            }
            try (Stream<Path> children = Files.list(root)) {
                children.filter(child -> Files.isRegularFile(child.resolve("model.onnx"))).forEach(cases::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        cases.sort(Comparator.comparing(path -> path.getFileName().toString()));
        return cases;
    }

    /** Runs one case on a single-threaded session. */
    public static CaseResult run(Path caseFolder) {
        String name = caseFolder.getFileName().toString();
        String op = OperatorNames.of(caseFolder);
        OnnxModel model;
        try {
            model = OnnxModel.load(caseFolder.resolve("model.onnx"));
        } catch (UnsupportedModelException e) {
            return new CaseResult(name, op, CaseResult.Status.UNSUPPORTED, String.join("; ", e.problems()));
        } catch (QuantaException | ArithmeticException e) {
            return new CaseResult(name, op, CaseResult.Status.ERROR, "load: " + e.getMessage());
        }
        try (model; Session session = model.newSession(new SessionOptions(1, false))) {
            List<Value> inputs = session.graph().inputs().stream()
                    .filter(value -> !session.graph().constants().containsKey(value)).toList();
            List<Path> dataSets;
            try (Stream<Path> children = Files.list(caseFolder)) {
                dataSets = children.filter(p -> p.getFileName().toString().startsWith("test_data_set_")).sorted().toList();
            }
            for (Path dataSet : dataSets) {
                String problem = runDataSet(session, inputs, dataSet);
                if (problem != null) {
                    boolean failed = problem.startsWith("output");
                    return new CaseResult(name, op, failed ? CaseResult.Status.FAIL : CaseResult.Status.ERROR,
                            dataSet.getFileName() + ": " + problem);
                }
            }
            return new CaseResult(name, op, CaseResult.Status.PASS, null);
        } catch (IOException e) {
            return new CaseResult(name, op, CaseResult.Status.ERROR, e.toString());
        } catch (RuntimeException e) {
            return new CaseResult(name, op, CaseResult.Status.ERROR, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** Null when every output matches, else what went wrong ("output ..." for a mismatch). */
    private static String runDataSet(Session session, List<Value> inputs, Path dataSet) {
        try (TensorArena arena = TensorArena.ofShared()) {
            Map<String, Object> feeds = new LinkedHashMap<>();
            for (int i = 0; Files.exists(dataSet.resolve("input_" + i + ".pb")); i++) {
                if (i >= inputs.size()) {
                    return "the data set has more inputs than the model";
                }
                Value input = inputs.get(i);
                feeds.put(input.name(), OnnxTensors.readValueFile(dataSet.resolve("input_" + i + ".pb"), input.type(), arena));
            }
            try (Outputs outputs = session.run(feeds)) {
                List<Value> declared = session.graph().outputs();
                for (int i = 0; i < declared.size(); i++) {
                    Path expectedFile = dataSet.resolve("output_" + i + ".pb");
                    if (!Files.exists(expectedFile)) {
                        continue;
                    }
                    Object expected = OnnxTensors.readValueFile(expectedFile, declared.get(i).type(), arena);
                    String difference = Comparison.difference(outputs.value(declared.get(i).name()), expected);
                    if (difference != null) {
                        return "output " + i + " ('" + declared.get(i).name() + "'): " + difference;
                    }
                }
            }
            return null;
        }
    }
}
