package dev.quanta.runner;

import dev.quanta.graph.SessionOptions;
import dev.quanta.tensor.Tensor;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.function.LongSupplier;
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
    // Networks of many layers keep C2 busy for seconds on two cores; the warm-up waits for it to
    // fall quiet, bounded. (MobileNetV3-Small read 9.2 ms after 3 s once, but side by side a fixed
    // 2–5 s warm-up and this one gave the same p50: bench/RESULTS.md, nineteenth session.)
    @Option(names = "--warmup-seconds", paramLabel = "S", defaultValue = "3",
            description = "Warm-up runs go on until this much time has passed too, then until the JIT has compiled"
                    + " nothing for a second, for up to four times as long again (default: ${DEFAULT-VALUE}).")
    double warmupSeconds;

    /** How long the JIT compiles nothing before a warm-up past its runs and time ends. */
    private static final long QUIET_NANOS = 1_000_000_000L;

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

    /**
     * Runs {@code run} until the warm-up's runs and its time are both done and, where that time is
     * not zero, the JIT has compiled nothing for {@link #QUIET_NANOS} (or four times that time has
     * passed again); how many runs that took.
     */
    int warmUp(Runnable run) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return warmUp(run, jit != null && jit.isCompilationTimeMonitoringSupported() ? jit::getTotalCompilationTime : null);
    }

    /** {@link #warmUp(Runnable)} watching {@code compilationTime}, the JIT's total so far (null: not watched). */
    int warmUp(Runnable run, LongSupplier compilationTime) {
        boolean watched = warmupSeconds > 0 && compilationTime != null;
        long start = System.nanoTime();
        long end = start + (long) (warmupSeconds * 1e9);
        long limit = end + (long) (4 * warmupSeconds * 1e9);
        long compiling = watched ? compilationTime.getAsLong() : 0;
        long quietSince = start;
        int runs = 0;
        for (long now = start; runs < warmup || now < end || watched && now - quietSince < QUIET_NANOS && now < limit; runs++) {
            run.run();
            now = System.nanoTime();
            long compiled = watched ? compilationTime.getAsLong() : 0;
            if (compiled != compiling) {
                compiling = compiled;
                quietSince = now;
            }
        }
        return runs;
    }

    /** "at least W warm-up runs and S s" as the headers put it. */
    String describeWarmUp() {
        return String.format(java.util.Locale.ROOT, "%d+ warm-up runs (%s s at least%s)", warmup,
                new java.math.BigDecimal(warmupSeconds).stripTrailingZeros().toPlainString(),
                warmupSeconds > 0 ? ", then until the JIT is quiet" : "");
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
