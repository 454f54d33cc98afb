package dev.quanta.runner;

import dev.quanta.graph.SessionOptions;
import dev.quanta.runner.text.SentenceEmbedder;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code quanta demo}: the int8 all-MiniLM-L6-v2 embeds a few sentences, compares them and answers two
 * searches; then int8 and float32 latencies side by side.
 */
@Command(name = "demo", description = "Embeds sentences with the int8 all-MiniLM-L6-v2, compares them, searches them,"
        + " and times int8 against float32.")
final class DemoCommand implements Callable<Integer> {

    static final List<String> SENTENCES = List.of(
            "The cat sleeps on the warm windowsill.",
            "A kitten is napping in the sun by the window.",
            "The central bank raised interest rates again.",
            "Inflation pushed the Federal Reserve to tighten monetary policy.",
            "Java 25 runs SIMD code through the Vector API.",
            "The JIT compiler turns hot loops into vector instructions.",
            "Heavy rain is expected across the north this weekend.",
            "Forecasters warn of storms and flooding on Saturday.");

    static final List<String> QUERIES = List.of("Where is my pet resting?", "Will it be wet on Saturday?",
            "How do I make Java code faster?");


    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Mixin
    private ThreadsOption threads;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "30",
            description = "Timed runs per latency (default: ${DEFAULT-VALUE}), after half as many warm-up runs.")
    private int runs;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (runs < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--runs must be at least 1, not " + runs);
        }
        SessionOptions options = threads.sessionOptions(spec, false);
        try (SentenceEmbedder int8 = SentenceEmbedder.open(BundledModels.folder(BundledModels.INT8_MINILM), options)) {
            out.println("Quanta demo: all-MiniLM-L6-v2, int8 (dynamically quantized), pure Java, "
                    + options.threads() + " thread(s)");
            out.println();
            float[][] embeddings = int8.embed(SENTENCES);
            for (int i = 0; i < SENTENCES.size(); i++) {
                out.printf("[%d] %s%n", i, SENTENCES.get(i));
            }
            out.println();
            out.println("cosine similarity");
            Similarity.printMatrix(out, embeddings);
            out.println();
            float[][] queries = int8.embed(QUERIES);
            for (int q = 0; q < QUERIES.size(); q++) {
                float[] query = queries[q];
                int[] nearest = IntStream.range(0, SENTENCES.size()).boxed()
                        .sorted(Comparator.comparingDouble(i -> -SentenceEmbedder.cosine(query, embeddings[i])))
                        .limit(2).mapToInt(i -> i).toArray();
                out.printf("search \"%s\"%n", QUERIES.get(q));
                for (int i : nearest) {
                    out.printf("  %.3f  [%d] %s%n", SentenceEmbedder.cosine(query, embeddings[i]), i, SENTENCES.get(i));
                }
            }
            out.println();
            out.println("latency, median of " + runs + " runs after " + runs / 2 + " warm-up runs:");
            try (SentenceEmbedder float32 = SentenceEmbedder.open(BundledModels.folder(BundledModels.FLOAT32_MINILM),
                    options)) {
                List<String> one = List.of(SENTENCES.get(4));
                List<String> longText = List.of(String.join(" ", SENTENCES).repeat(4));
                int longTokens = int8.tokenizer().encode(longText.get(0)).length();
                String[] labels = {
                    "1 sentence (" + int8.tokenizer().encode(one.get(0)).length() + " tokens)",
                    "1 text of " + longTokens + " tokens",
                    SENTENCES.size() + " sentences, one batch"};
                List<List<String>> inputs = List.of(one, longText, SENTENCES);
                out.printf("  %-30s %10s %10s %8s%n", "", "int8", "float32", "speed-up");
                // Both models warm up on every input before anything is timed: they share kernels, and
                // whichever ran second would otherwise find the JIT's work done.
                for (int warmup = 0; warmup < runs / 2; warmup++) {
                    for (List<String> texts : inputs) {
                        int8.embed(texts);
                        float32.embed(texts);
                    }
                }
                for (int i = 0; i < inputs.size(); i++) {
                    double quantized = medianMillis(int8, inputs.get(i));
                    double full = medianMillis(float32, inputs.get(i));
                    out.printf("  %-30s %7.1f ms %7.1f ms %7.2fx%n", labels[i], quantized, full, full / quantized);
                }
                double agreement = IntStream.range(0, SENTENCES.size()).mapToDouble(
                        i -> SentenceEmbedder.cosine(embeddings[i], float32.embed(List.of(SENTENCES.get(i)))[0]))
                        .min().orElseThrow();
                out.printf("%nint8 against float32: lowest cosine between the two models' embeddings %.4f%n",
                        agreement);
            }
        }
        return 0;
    }

    private double medianMillis(SentenceEmbedder embedder, List<String> texts) {
        double[] times = new double[runs];
        for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            embedder.embed(texts);
            times[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(times);
        return times[runs / 2];
    }
}
