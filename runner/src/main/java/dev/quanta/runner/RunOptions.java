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

    // Small models need thousands of runs: TopPIC's 14-node scoring MLP ran at p50 71 µs after 3,000
    // warm-up runs and 21 µs after 30,000 (ONNX Runtime 19–25), the kernels not yet compiled by C2.
    @Option(names = "--warmup-seconds", paramLabel = "S", defaultValue = "3",
            description = "Warm-up runs go on until this much time has passed too (default: ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @Option(names = "--iters", paramLabel = "I", defaultValue = "50", description = "Timed runs (default: ${DEFAULT-VALUE}).")
    int iterations;

    /** Session options with the threads asked for; the repetitions are checked too. */
    SessionOptions sessionOptions(CommandLine.Model.CommandSpec spec, boolean profile) {
        if (warmup < 0 || iterations < 1 || !(warmupSeconds >= 0 && warmupSeconds <= 3600)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--iters must be at least 1, --warmup at least 0, --warmup-seconds 0 to 3600");
        }
        return threads.sessionOptions(spec, profile);
    }

    /** Runs {@code run} until the warm-up's runs and its time are both done; how many runs that took. */
    int warmUp(Runnable run) {
        long end = System.nanoTime() + (long) (warmupSeconds * 1e9);
        int runs = 0;
        while (runs < warmup || System.nanoTime() < end) {
            run.run();
            runs++;
        }
        return runs;
    }

    /** "at least W warm-up runs and S s" as the headers put it. */
    String describeWarmUp() {
        return String.format(java.util.Locale.ROOT, "%d+ warm-up runs (%s s at least)", warmup,
                new java.math.BigDecimal(warmupSeconds).stripTrailingZeros().toPlainString());
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
