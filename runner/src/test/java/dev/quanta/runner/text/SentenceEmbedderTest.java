package dev.quanta.runner.text;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.SessionOptions;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class SentenceEmbedderTest {

    private static final Path INT8 = Path.of("target/models/all-minilm-l6-v2-q");
    private static final Path FLOAT32 = Path.of("target/models/all-minilm-l6-v2");
    private static final List<String> TEXTS = List.of("A cat sleeps on the windowsill.",
            "A kitten naps by the window in the afternoon sun, dreaming of birds.", "Interest rates rise.");

    @Test
    void float32EmbeddingsAreUnitLengthAndIndependentOfTheirBatch() {
        try (SentenceEmbedder embedder = SentenceEmbedder.open(FLOAT32, new SessionOptions(2, false))) {
            float[][] batch = embedder.embed(TEXTS);
            for (int i = 0; i < TEXTS.size(); i++) {
                // Padding to the batch's longest text must not move a shorter text's embedding.
                float[] alone = embedder.embed(List.of(TEXTS.get(i)))[0];
                assertThat(SentenceEmbedder.cosine(batch[i], batch[i])).isCloseTo(1, org.assertj.core.data.Offset.offset(1e-5));
                for (int j = 0; j < alone.length; j++) {
                    assertThat(batch[i][j]).isCloseTo(alone[j], org.assertj.core.data.Offset.offset(2e-5f));
                }
            }
            assertThat(SentenceEmbedder.cosine(batch[0], batch[1])).isGreaterThan(SentenceEmbedder.cosine(batch[0], batch[2]) + 0.3);
        }
    }

    @Test
    void int8DependsOnItsBatchOnlyThroughTheQuantizationScale() {
        // DynamicQuantizeLinear takes one scale over the whole batch, padding included, as in ONNX Runtime:
        // a text moves about as much as int8 moves it from float32.
        try (SentenceEmbedder embedder = SentenceEmbedder.open(INT8, new SessionOptions(2, false))) {
            float[][] batch = embedder.embed(TEXTS);
            for (int i = 0; i < TEXTS.size(); i++) {
                assertThat(SentenceEmbedder.cosine(batch[i], embedder.embed(List.of(TEXTS.get(i)))[0])).isGreaterThan(0.98);
            }
        }
    }

    @Test
    void int8AgreesWithFloat32() {
        try (SentenceEmbedder int8 = SentenceEmbedder.open(INT8, new SessionOptions(2, false));
             SentenceEmbedder float32 = SentenceEmbedder.open(FLOAT32, new SessionOptions(2, false))) {
            float[][] quantized = int8.embed(TEXTS);
            float[][] full = float32.embed(TEXTS);
            for (int i = 0; i < TEXTS.size(); i++) {
                assertThat(SentenceEmbedder.cosine(quantized[i], full[i])).isGreaterThan(0.98);
            }
        }
    }
}
