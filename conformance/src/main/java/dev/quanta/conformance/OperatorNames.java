package dev.quanta.conformance;

import dev.quanta.loader.onnx.OnnxModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Which operator a test case tests, for the per-op report. */
final class OperatorNames {
    private OperatorNames() {
    }

    /**
     * The op of a single-op model; for a multi-node model (an expanded function, a simple-suite
     * model) the op whose snake_case name the case name starts with, else "(model)".
     */
    static String of(Path caseFolder) {
        String folder = caseFolder.getFileName().toString();
        int expanded = folder.indexOf("_expanded");
        Path original = expanded < 0 ? null : caseFolder.resolveSibling(folder.substring(0, expanded));
        if (original != null && original.resolve("model.onnx").toFile().isFile()) {
            return of(original); // an expanded function is reported under the op it expands
        }
        List<String> ops;
        try {
            ops = OnnxModel.operatorTypes(caseFolder.resolve("model.onnx"));
        } catch (RuntimeException e) {
            return "(unreadable)";
        }
        if (ops.stream().distinct().count() == 1) {
            return ops.get(0);
        }
        String name = caseFolder.getFileName().toString().replaceFirst("^test_", "");
        String best = null;
        for (String op : ops) {
            String snake = snake(op);
            if (name.startsWith(snake) && (best == null || snake.length() > snake(best).length())) {
                best = op;
            }
        }
        return best != null ? best : "(model)";
    }

    static String snake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").replaceAll("([A-Z]+)([A-Z][a-z])", "$1_$2")
                .toLowerCase(Locale.ROOT);
    }
}
