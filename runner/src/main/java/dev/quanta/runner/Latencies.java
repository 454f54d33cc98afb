package dev.quanta.runner;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** The timed runs of one engine: milliseconds per run, sorted. */
final class Latencies {

    private static final int PROGRESS_WIDTH = 30;

    private final String engine;
    private final double[] millis;
    private final double wallSeconds;

    private Latencies(String engine, double[] millis, double wallSeconds) {
        this.engine = engine;
        this.millis = millis;
        this.wallSeconds = wallSeconds;
    }

    /** Warm-up runs (their count and time, {@link RunOptions#warmUp}), then timed runs, with a progress bar on a terminal. */
    static Latencies measure(String engine, RunOptions options, PrintWriter progress, Runnable run) {
        boolean terminal = System.console() != null && System.console().isTerminal();
        if (terminal) {
            progress.printf("\r%-14s warming up", engine);
            progress.flush();
        }
        options.warmUp(run);
        int total = options.iterations;
        double[] millis = new double[total];
        long wallStart = System.nanoTime();
        for (int i = 0; i < total; i++) {
            long start = System.nanoTime();
            run.run();
            millis[i] = (System.nanoTime() - start) / 1e6;
            if (terminal) {
                int done = (i + 1) * PROGRESS_WIDTH / total;
                progress.printf("\r%-14s [%s%s] %d/%d", engine, "#".repeat(done), " ".repeat(PROGRESS_WIDTH - done),
                        i + 1, total);
                progress.flush();
            }
        }
        if (terminal) {
            progress.print("\r" + " ".repeat(PROGRESS_WIDTH + 30) + "\r");
            progress.flush();
        }
        double wall = (System.nanoTime() - wallStart) / 1e9;
        double[] sorted = millis.clone();
        Arrays.sort(sorted);
        return new Latencies(engine, sorted, wall);
    }

    /** The nearest-rank percentile, in milliseconds. */
    double percentile(double p) {
        int rank = (int) Math.ceil(p / 100 * millis.length);
        return millis[Math.max(0, Math.min(millis.length - 1, rank - 1))];
    }

    /** Items (batch rows) per second over the timed runs. */
    double throughput(long batch) {
        return batch * millis.length / wallSeconds;
    }

    double[] millis() {
        return millis;
    }

    String engine() {
        return engine;
    }

    String line(long batch) {
        return String.format("%-13s p50 %8.3f ms  p90 %8.3f ms  p99 %8.3f ms  min %8.3f ms  throughput %8.1f/s (batch %d)",
                engine, percentile(50), percentile(90), percentile(99), millis[0], throughput(batch), batch);
    }

    Map<String, Object> json(long batch) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("p50Millis", percentile(50));
        fields.put("p90Millis", percentile(90));
        fields.put("p99Millis", percentile(99));
        fields.put("minMillis", millis[0]);
        fields.put("maxMillis", millis[millis.length - 1]);
        fields.put("throughputPerSecond", throughput(batch));
        fields.put("runs", millis.length);
        fields.put("millis", millis);
        return fields;
    }
}
