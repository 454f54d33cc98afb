package dev.quanta.runner;

import dev.quanta.graph.SessionOptions;
import dev.quanta.runner.text.SentenceEmbedder;
import dev.quanta.tensor.Npy;
import dev.quanta.tensor.TensorArena;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code quanta embed TEXT...}: sentence embeddings, their first values and their cosine similarities. */
@Command(name = "embed", description = "Sentence embeddings (mean pooling, L2 normalization) from a BERT-style model folder.")
final class EmbedCommand implements Callable<Integer> {

    private static final int SHOWN_VALUES = 6;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "TEXT", description = "The texts to embed, one batch.")
    private List<String> texts;

    @Option(names = "--model", paramLabel = "DIR",
            description = "A folder with model.onnx and tokenizer.json (default: the bundled int8 all-MiniLM-L6-v2).")
    private Path model;

    @Mixin
    private ThreadsOption threads;

    @Option(names = "--npy", paramLabel = "FILE", description = "Also write the embeddings as one [texts, width] float32 .npy.")
    private Path npy;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path folder = model != null ? model : BundledModels.folder(BundledModels.INT8_MINILM);
        SessionOptions options = threads.sessionOptions(spec, false);
        try (SentenceEmbedder embedder = SentenceEmbedder.open(folder, options)) {
            long start = System.nanoTime();
            float[][] embeddings = embedder.embed(texts);
            double millis = (System.nanoTime() - start) / 1e6;
            for (int i = 0; i < texts.size(); i++) {
                StringBuilder line = new StringBuilder(String.format("[%d] ", i));
                for (int j = 0; j < Math.min(SHOWN_VALUES, embeddings[i].length); j++) {
                    line.append(String.format("%+.4f ", embeddings[i][j]));
                }
                out.printf("%s... (%d values)  %s%n", line, embeddings[i].length, texts.get(i));
            }
            if (texts.size() > 1) {
                out.println();
                out.println("cosine similarity");
                Similarity.printMatrix(out, embeddings);
            }
            out.printf("%n%d text(s) in %.1f ms (%s, %d thread(s); a first run, JIT warm-up included)%n",
                    texts.size(), millis, folder.getFileName(), options.threads());
            if (npy != null) {
                try (TensorArena arena = TensorArena.ofConfined()) {
                    float[] flat = new float[embeddings.length * embeddings[0].length];
                    for (int i = 0; i < embeddings.length; i++) {
                        System.arraycopy(embeddings[i], 0, flat, i * embeddings[i].length, embeddings[i].length);
                    }
                    Npy.write(arena.fromFloats(flat, embeddings.length, embeddings[0].length), npy);
                }
                out.println("wrote " + npy);
            }
        }
        return 0;
    }
}
