package dev.quanta.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.loader.onnx.OnnxModel;
import dev.quanta.loader.onnx.Quanta;
import dev.quanta.runner.text.SentenceEmbedder;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's library examples, compiled and run here; the README must show them exactly as they are
 * written between the {@code README} markers below, so neither can drift from the other.
 */
class ReadmeExampleTest {

    private static final Path README = Path.of("../README.md");

    @Test
    void runningAModel() {
        Path modelFile = Path.of("target/models/all-minilm-l6-v2-q/model.onnx");
        float[] hidden;
        // README running-a-model
        try (OnnxModel model = Quanta.load(modelFile);
             Session session = model.newSession(SessionOptions.defaults().withThreads(2));
             TensorArena arena = TensorArena.ofConfined()) {
            System.out.println(model.metadata().inputs());     // [Declared[name=input_ids, type=int64[batch_size, ...
            long[] ids = {101, 7592, 2088, 102};                  // [CLS] hello world [SEP]
            Map<String, Tensor> inputs = Map.of(
                    "input_ids", arena.fromLongs(DType.INT64, ids, 1, 4),
                    "attention_mask", arena.fromLongs(DType.INT64, new long[] {1, 1, 1, 1}, 1, 4),
                    "token_type_ids", arena.fromLongs(DType.INT64, new long[4], 1, 4));
            try (Outputs outputs = session.run(inputs)) {        // thread-safe: call it from many threads
                hidden = outputs.get("last_hidden_state").toFloatArray();   // 1 × 4 × 384 values
            }
        }
        // README end
        assertThat(hidden).hasSize(4 * 384);
    }

    @Test
    void sentenceEmbeddings() {
        Path modelFolder = Path.of("target/models/all-minilm-l6-v2-q");
        double similarity;
        // README sentence-embeddings
        try (SentenceEmbedder embedder = SentenceEmbedder.open(modelFolder, SessionOptions.defaults())) {
            float[][] vectors = embedder.embed(List.of("A cat sleeps.", "A kitten naps.")); // unit length
            similarity = SentenceEmbedder.cosine(vectors[0], vectors[1]);
        }
        // README end
        assertThat(similarity).isGreaterThan(0.5);
    }

    @Test
    void theReadmeShowsTheseExamplesVerbatim() throws IOException {
        String readme = Files.readString(README);
        String source = Files.readString(Path.of("src/test/java/dev/quanta/runner/ReadmeExampleTest.java"));
        Matcher examples = Pattern.compile("// README ([a-z-]+)\\n(.*?)\\n\\s*// README end", Pattern.DOTALL).matcher(source);
        int found = 0;
        while (examples.find()) {
            found++;
            String code = examples.group(2).stripIndent().strip();
            assertThat(readme).as("README.md shows the example %s as written in this test", examples.group(1))
                    .contains(code);
        }
        assertThat(found).isEqualTo(2);
    }
}
