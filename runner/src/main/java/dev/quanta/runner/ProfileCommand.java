package dev.quanta.runner;

import dev.quanta.graph.Outputs;
import dev.quanta.graph.ProfileSummary;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.loader.onnx.OnnxModel;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code quanta profile MODEL}: where a run's time goes, per op type and per node. */
@Command(name = "profile", description = "Times every node of a model's runs: per op type, the slowest nodes,"
        + " and which fused kernels ran.")
final class ProfileCommand implements Callable<Integer> {

    /** Core ops that load-time passes make from longer chains, or that compute in integers. */
    static final Set<String> FUSED_OPS = Set.of("MatMulIntegerToFloat", "DynamicQuantizeMatMul", "MatMulInteger", "QLinearMatMul",
            "ConvInteger", "ConvIntegerToFloat", "QLinearConv", "Normalize", "GELU", "HARD_SWISH_CHAIN", "MaskedSoftmax", "Attention", "LinearLayer");

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Mixin
    private ModelArgument model;

    @Mixin
    private RunOptions runOptions;

    @Option(names = "--top", paramLabel = "K", defaultValue = "15", description = "Slowest nodes listed (default: ${DEFAULT-VALUE}).")
    private int top;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        SessionOptions options = runOptions.sessionOptions(spec, true);
        try (OnnxModel loaded = OnnxModel.load(model.file);
                Session session = loaded.newSession(options);
                TensorArena arena = TensorArena.ofShared()) {
            Map<String, Tensor> inputs = model.inputs.inputs(loaded, arena);
            ProfileSummary summary = new ProfileSummary();
            int warmUpRuns = runOptions.warmUp(() -> session.run(inputs).close());
            for (int run = 0; run < runOptions.iterations; run++) {
                try (Outputs outputs = session.run(inputs)) {
                    summary.add(outputs.profile().orElseThrow());
                }
            }
            out.printf("%s, inputs %s, %d thread(s): median of %d runs after %d warm-up runs%n", loaded.name(),
                    RunOptions.describe(inputs), options.threads(), runOptions.iterations, warmUpRuns);
            double total = summary.medianTotalMillis();
            out.printf("all nodes: %.3f ms%n%n", total);
            out.printf("%-24s %6s %11s %7s%n", "op", "nodes", "ms", "share");
            for (ProfileSummary.Entry entry : summary.byOp()) {
                out.printf("%-24s %6d %11.3f %6.1f%%%n", entry.op(), entry.nodes(), entry.medianMillis(),
                        100 * entry.medianMillis() / total);
            }
            out.printf("%nslowest nodes%n%-32s %-22s %11s  %s%n", "node", "op", "ms", "from");
            summary.byNode().stream().limit(top).forEach(entry -> out.printf("%-32s %-22s %11.3f  %s%n",
                    RunOptions.shorten(entry.name(), 32), entry.op(), entry.medianMillis(), entry.source()));
            Map<String, Integer> fused = new TreeMap<>();
            summary.byOp().stream().filter(entry -> FUSED_OPS.contains(entry.op()))
                    .forEach(entry -> fused.put(entry.op(), entry.nodes()));
            out.printf("%nfused and integer kernels that ran: %s%n", fused.isEmpty() ? "none"
                    : String.join(", ", fused.entrySet().stream().map(e -> e.getKey() + " ×" + e.getValue()).toList()));
        }
        return 0;
    }
}
