package dev.quanta.runner;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.loader.onnx.OnnxModel;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code quanta bench MODEL}: latency percentiles, throughput and memory, optionally against ONNX Runtime. */
@Command(name = "bench", description = "Measures a model's latency (p50/p90/p99), throughput and peak memory;"
        + " with --vs-ort, ONNX Runtime in the same JVM on the same inputs.")
final class BenchCommand implements Callable<Integer> {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Mixin
    private ModelArgument model;

    @Mixin
    private RunOptions runOptions;

    @Option(names = "--vs-ort", description = "Also run ONNX Runtime (all optimizations, same threads) and compare.")
    private boolean versusOnnxRuntime;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the results as JSON.")
    private Path json;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Draw the latency distributions.")
    private Path plot;

    /**
     * Items a run processes: the first axis of the inputs that declare it variable (a recurrent
     * state's fixed first axis, silero VAD's [2, batch, 128], is not a batch); 1 when none does.
     */
    private static long batch(OnnxModel model, Map<String, Tensor> inputs) {
        return model.graph().inputs().stream()
                .filter(input -> inputs.get(input.name()) != null && inputs.get(input.name()).rank() > 0)
                .filter(input -> input.type() == null || input.type().shape() == null || input.type().shape().rank() == 0
                        || !input.type().shape().dim(0).isStatic())
                .mapToLong(input -> inputs.get(input.name()).size(0)).max().orElse(1);
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        SessionOptions options = runOptions.sessionOptions(spec, false);
        int threads = options.threads();
        Map<String, Object> report = new LinkedHashMap<>();
        Map<String, Latencies> latencies = new LinkedHashMap<>();
        try (OnnxModel loaded = OnnxModel.load(model.file);
                Session session = loaded.newSession(options);
                TensorArena arena = TensorArena.ofShared()) {
            Map<String, Tensor> inputs = model.inputs.inputs(loaded, arena);
            long batch = batch(loaded, inputs);
            out.printf("%s, inputs %s, %d thread(s), %s + %d timed runs%n", loaded.name(),
                    RunOptions.describe(inputs), threads, runOptions.describeWarmUp(), runOptions.iterations);
            long heapBefore = heapUsed();
            resetPeaks();
            long offHeapBefore = TensorArena.liveBytes();
            Latencies quanta = Latencies.measure("Quanta", runOptions, spec.commandLine().getErr(), () -> {
                try (Outputs ignored = session.run(inputs)) {
                    // Timing covers the run and the release of its outputs.
                }
            });
            long offHeapPeak = TensorArena.peakBytes() - offHeapBefore;
            long heapPeak = heapPeak() - heapBefore;
            latencies.put("Quanta", quanta);
            out.println(quanta.line(batch));
            out.printf("memory: off-heap peak %.1f MiB above the weights (%.1f MiB of weights), heap peak %.1f MiB%n",
                    offHeapPeak / 1048576.0, offHeapBefore / 1048576.0, Math.max(0, heapPeak) / 1048576.0);
            report.put("model", loaded.name());
            report.put("inputs", RunOptions.describe(inputs));
            report.put("threads", threads);
            report.put("batch", batch);
            report.put("quanta", quanta.json(batch));
            report.put("offHeapPeakBytes", offHeapPeak);
            if (versusOnnxRuntime) {
                OnnxRuntimeComparison comparison = OnnxRuntimeComparison.open(model.file, threads);
                try (comparison) {
                    Latencies ort = Latencies.measure("ONNX Runtime", runOptions, spec.commandLine().getErr(),
                            () -> comparison.run(inputs));
                    latencies.put("ONNX Runtime", ort);
                    out.println(ort.line(batch));
                    double difference;
                    try (Outputs outputs = session.run(inputs)) {
                        difference = comparison.maxAbsDifference(inputs, outputs);
                    }
                    out.printf("Quanta / ONNX Runtime: p50 time %.2fx, throughput %.2fx; %s%n",
                            quanta.percentile(50) / ort.percentile(50), ort.percentile(50) / quanta.percentile(50),
                            Double.isNaN(difference) ? "no numeric output to compare"
                                    : Double.isInfinite(difference) ? "outputs differ in sizes, NaNs or infinities"
                                    : String.format("largest output difference %.3g", difference));
                    report.put("onnxRuntime", ort.json(batch));
                    report.put("maxAbsDifference", Double.isFinite(difference) ? difference : null);
                }
            }
        }
        if (json != null) {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), report);
            out.println("wrote " + json);
        }
        if (plot != null) {
            LatencyPlot.write(plot, model.file.getFileName().toString(), latencies);
            out.println("wrote " + plot);
        }
        return 0;
    }

    private static long heapUsed() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static void resetPeaks() {
        ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
    }

    private static long heapPeak() {
        return ManagementFactory.getMemoryPoolMXBeans().stream().filter(pool -> pool.getType() == MemoryType.HEAP)
                .mapToLong(pool -> pool.getPeakUsage().getUsed()).sum();
    }
}
