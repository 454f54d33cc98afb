package dev.quanta.runner;

import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.If;
import dev.quanta.graph.ops.Loop;
import dev.quanta.graph.passes.ShapeInference;
import dev.quanta.loader.onnx.ModelMetadata;
import dev.quanta.loader.onnx.OnnxModel;
import dev.quanta.loader.onnx.UnsupportedModelException;
import dev.quanta.tensor.Shape;
import java.io.PrintWriter;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code quanta info MODEL}: what a model is, what it costs, and whether Quanta runs all of it. */
@Command(name = "info", description = "Describes a model: IR version, opsets, producer, inputs and outputs, ops by domain,"
        + " parameters by type, the share of multiply-accumulates in int8, and any node Quanta cannot run.")
final class InfoCommand implements Callable<Integer> {

    private static final Set<String> INTEGER_OPS = Set.of("MatMulInteger", "MatMulIntegerToFloat", "DynamicQuantizeMatMul",
            "QLinearMatMul", "ConvInteger", "ConvIntegerToFloat", "QLinearConv");

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Mixin
    private ModelArgument model;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        ModelMetadata metadata = ModelMetadata.read(model.file);
        out.printf("model      %s%n", metadata.name());
        out.printf("IR version %d%n", metadata.irVersion());
        out.printf("producer   %s%n", metadata.producer().isEmpty() ? "(not recorded)" : metadata.producer());
        if (!metadata.domain().isEmpty() || metadata.modelVersion() != 0) {
            out.printf("domain     %s, version %d%n", metadata.domain(), metadata.modelVersion());
        }
        out.printf("opsets     %s%n", String.join(", ", metadata.opsets().entrySet().stream()
                .map(e -> (e.getKey().isEmpty() ? "ai.onnx" : e.getKey()) + " " + e.getValue()).toList()));
        out.println();
        out.println("inputs");
        metadata.inputs().forEach(input -> out.printf("  %-32s %s%n", input.name(), input.type()));
        out.println("outputs");
        metadata.outputs().forEach(output -> out.printf("  %-32s %s%n", output.name(), output.type()));
        out.println();
        out.println("operators (nodes, subgraphs included)");
        metadata.operators().forEach((domain, ops) -> {
            out.printf("  %s: %d nodes%n", domain.isEmpty() ? "ai.onnx" : domain,
                    ops.values().stream().mapToInt(Integer::intValue).sum());
            ops.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue())
                    .forEach(e -> out.printf("    %-28s %6d%n", e.getKey(), e.getValue()));
        });
        out.println();
        out.printf("parameters %,d%n", metadata.parameterCount());
        metadata.parameters().forEach((dtype, parameters) -> out.printf("  %-10s %,15d elements %,15d bytes%n",
                dtype, parameters.count(), parameters.bytes()));
        out.println();
        try (OnnxModel loaded = OnnxModel.load(model.file)) {
            printMacs(out, loaded);
            out.println("Quanta runs every node of this model");
        } catch (UnsupportedModelException e) {
            out.printf("Quanta cannot run %d node(s) of this model:%n", e.problems().size());
            e.problems().forEach(problem -> out.println("  " + problem));
            return 1;
        }
        return 0;
    }

    /** Multiply-accumulates of the matmuls and convolutions, with symbolic dims filled as bench fills them. */
    private void printMacs(PrintWriter out, OnnxModel loaded) {
        Map<String, Shape> inputShapes = new HashMap<>();
        for (Value input : loaded.graph().inputs()) {
            if (InputOptions.hasDefault(loaded, input)) {
                continue; // shape inference takes the default's shape
            }
            try {
                inputShapes.put(input.name(), model.inputs.shapeOf(input));
            } catch (IllegalArgumentException e) {
                // Left unknown: nodes that depend on it are not counted.
            }
        }
        if (inputShapes.isEmpty() && loaded.graph().inputs().stream().anyMatch(input -> !InputOptions.hasDefault(loaded, input))) {
            out.println("multiply-accumulates: unknown until the inputs' shapes are given (--shape NAME=DIMS)");
            return;
        }
        Map<Value, Shape> shapes = ShapeInference.apply(loaded.graph(), inputShapes);
        long total = 0;
        long integer = 0;
        int uncounted = 0;
        for (Node node : loaded.graph().nodes()) {
            long macs = macs(node, shapes);
            if (macs < 0) {
                uncounted++;
                continue;
            }
            total += macs;
            if (INTEGER_OPS.contains(node.op().name())) {
                integer += macs;
            }
        }
        boolean subgraphs = loaded.graph().nodes().stream()
                .anyMatch(node -> node.op() instanceof If || node.op() instanceof Loop);
        out.printf("multiply-accumulates at %s: %,d, of which %.1f%% in int8%s%s%n",
                String.join(", ", inputShapes.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList()),
                total, total == 0 ? 0.0 : 100.0 * integer / total,
                uncounted == 0 ? "" : " (" + uncounted + " matmul/conv nodes of unknown shape not counted)",
                subgraphs ? " (nodes inside If and Loop subgraphs not counted)" : "");
    }

    /** The node's multiply-accumulates; 0 for other ops, -1 where a shape is unknown. */
    private static long macs(Node node, Map<Value, Shape> shapes) {
        String op = node.op().name();
        if (op.equals("Attention")) {
            // q [.., M, D] by keys [.., D, N], then the [.., M, N] probabilities by v into [.., M, E].
            Shape q = shapes.get(node.inputs().get(0));
            Shape keys = shapes.get(node.inputs().get(1));
            Shape output = shapes.get(node.outputs().get(0));
            if (q == null || keys == null || output == null || !q.isStatic() || !keys.isStatic() || !output.isStatic()) {
                return -1;
            }
            long n = keys.size(keys.rank() - 1);
            return q.elementCount() * n + output.elementCount() * n;
        }
        boolean matmul = op.equals("MatMul") || op.equals("MatMulInteger") || op.equals("MatMulIntegerToFloat")
                || op.equals("DynamicQuantizeMatMul") || op.equals("QLinearMatMul");
        boolean conv = op.equals("Conv") || op.equals("ConvInteger") || op.equals("ConvIntegerToFloat") || op.equals("QLinearConv");
        boolean transposed = op.equals("ConvTranspose");
        if (!matmul && !conv && !transposed) {
            return 0;
        }
        Shape output = shapes.get(node.outputs().get(0));
        Shape first = shapes.get(node.inputs().get(0));
        Shape weights = shapes.get(node.inputs().get(1));
        if (output == null || first == null || weights == null || !output.isStatic() || !first.isStatic()
                || !weights.isStatic()) {
            return -1;
        }
        if (matmul) {
            return output.elementCount() * first.size(first.rank() - 1);
        }
        long perOutput = 1;
        for (int axis = 1; axis < weights.rank(); axis++) {
            perOutput *= weights.size(axis);
        }
        return (transposed ? first.elementCount() : output.elementCount()) * perOutput;
    }
}
