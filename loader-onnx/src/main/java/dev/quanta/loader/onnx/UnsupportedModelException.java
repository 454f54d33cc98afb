package dev.quanta.loader.onnx;

import java.util.List;

/** A well-formed model that uses operators, opsets or types Quanta does not run; lists every one. */
public class UnsupportedModelException extends OnnxException {
    private final List<String> problems;

    public UnsupportedModelException(String model, List<String> problems) {
        super(model + " uses " + problems.size() + " thing" + (problems.size() > 1 ? "s" : "")
                + " Quanta does not support:\n  - " + String.join("\n  - ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
