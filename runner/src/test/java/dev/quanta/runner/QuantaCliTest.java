package dev.quanta.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.tensor.Npy;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuantaCliTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return QuantaCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void withoutArgumentsPrintsUsage() {
        assertThat(run()).isZero();
        assertThat(out.toString()).contains("Usage: quanta").contains("demo");
    }

    @Test
    void demoEmbedsComparesSearchesAndTimes() {
        assertThat(run("demo", "--runs", "2")).as(err.toString()).isZero();
        String printed = out.toString();
        assertThat(printed).contains("cosine similarity").contains("int8").contains("float32");
        // The nearest neighbours are the sentences on the query's topic.
        assertThat(printed).containsPattern("search \"Where is my pet resting\\?\"\\R\\s+\\S+\\s+\\[[01]\\]");
        assertThat(printed).containsPattern("search \"Will it be wet on Saturday\\?\"\\R\\s+\\S+\\s+\\[[67]\\]");
        assertThat(printed).containsPattern("lowest cosine between the two models' embeddings 0\\.9\\d+");
    }

    @Test
    void embedPrintsEmbeddingsAndSimilarities(@TempDir Path folder) throws Exception {
        Path npy = folder.resolve("e.npy");
        assertThat(run("embed", "--threads", "1", "--npy", npy.toString(), "A cat sleeps.", "A kitten naps.",
                "Rates rise.")).as(err.toString()).isZero();
        assertThat(out.toString()).contains("(384 values)  A cat sleeps.").contains("cosine similarity");
        try (TensorArena arena = TensorArena.ofConfined()) {
            Tensor embeddings = Npy.read(npy, arena);
            assertThat(embeddings.shape().sizes()).containsExactly(3, 384);
        }
    }

    @Test
    void failuresAreOneLineOnStandardError(@TempDir Path folder) {
        assertThat(run("embed", "--model", folder.resolve("nowhere").toString(), "text")).isEqualTo(1);
        assertThat(err.toString().strip()).startsWith("quanta embed: model folder not found").doesNotContain("\n");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void everyCommandPrintsItsUsageOnHelp() {
        for (String command : new String[] {"demo", "run", "info", "bench", "profile", "embed", "conformance"}) {
            out.getBuffer().setLength(0);
            assertThat(run(command, "--help")).as(command + ": " + err).isZero();
            assertThat(out.toString()).as(command).startsWith("Usage: quanta " + command);
        }
    }

    @Test
    void unknownCommandIsAUsageError() {
        assertThat(run("frobnicate")).isEqualTo(2);
        assertThat(err.toString()).contains("frobnicate");
    }

    @Test
    void usageErrorsAreOneLinePointingAtTheHelp() {
        assertThat(run("run")).isEqualTo(2);
        assertThat(err.toString().strip()).startsWith("quanta run: Missing required parameter")
                .endsWith("(quanta run --help for the usage)").doesNotContain("\n");
        assertThat(run("demo", "--runs", "zero")).isEqualTo(2);
    }
}
