package dev.quanta.runner;

import dev.quanta.graph.SessionOptions;
import dev.quanta.tensor.Tensor;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Threads and repetitions, shared by {@code bench} and {@code profile}. */
final class RunOptions {

    @Mixin
    private ThreadsOption threads;

    // On two cores C2 was still compiling the MiniLM's kernels after 10 runs: p50 80 ms after 10, 43 after 60
    // (two `quanta bench` runs minutes apart).
    @Option(names = "--warmup", paramLabel = "W", defaultValue = "50",
            description = "Untimed runs first, while the JIT compiles the kernels (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--iters", paramLabel = "I", defaultValue = "50", description = "Timed runs (default: ${DEFAULT-VALUE}).")
    int iterations;

    /** Session options with the threads asked for; the repetitions are checked too. */
    SessionOptions sessionOptions(CommandLine.Model.CommandSpec spec, boolean profile) {
        if (warmup < 0 || iterations < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--iters must be at least 1, --warmup at least 0");
        }
        return threads.sessionOptions(spec, profile);
    }

    /** "input_ids int64[1, 128], ..." */
    static String describe(Map<String, Tensor> inputs) {
        return inputs.entrySet().stream().map(e -> e.getKey() + " " + e.getValue().dtype()
                + java.util.Arrays.toString(e.getValue().shape().sizes())).collect(Collectors.joining(", "));
    }

    static String shorten(String text, int width) {
        return text.length() <= width ? text : "…" + text.substring(text.length() - width + 1);
    }
}
