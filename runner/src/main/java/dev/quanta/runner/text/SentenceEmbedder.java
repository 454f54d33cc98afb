package dev.quanta.runner.text;

import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.loader.onnx.OnnxModel;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Sentence embeddings from a BERT-style model folder ({@code model.onnx} and {@code tokenizer.json}):
 * the texts are tokenized, run as one batch padded to the longest, mean-pooled over their tokens and
 * L2-normalized, as sentence-transformers does for all-MiniLM-L6-v2. Thread-safe.
 */
public final class SentenceEmbedder implements AutoCloseable {

    private final OnnxModel model;
    private final Session session;
    private final WordPieceTokenizer tokenizer;
    private final String hiddenStates;

    private SentenceEmbedder(OnnxModel model, Session session, WordPieceTokenizer tokenizer, String hiddenStates) {
        this.model = model;
        this.session = session;
        this.tokenizer = tokenizer;
        this.hiddenStates = hiddenStates;
    }

    /** Opens {@code folder/model.onnx} with {@code folder/tokenizer.json}. */
    public static SentenceEmbedder open(Path folder, SessionOptions options) {
        Path file = folder.resolve("model.onnx");
        Path tokenizerFile = folder.resolve("tokenizer.json");
        if (!Files.isDirectory(folder)) {
            throw new IllegalArgumentException("model folder not found: " + folder);
        }
        if (!Files.isRegularFile(file) || !Files.isRegularFile(tokenizerFile)) {
            throw new IllegalArgumentException(folder + " must hold model.onnx and tokenizer.json (a BERT-style model"
                    + " exported with its Hugging Face tokenizer)");
        }
        WordPieceTokenizer tokenizer = WordPieceTokenizer.load(tokenizerFile);
        OnnxModel model = OnnxModel.load(file);
        try {
            for (Value input : model.graph().inputs()) {
                if (role(input.name()) == null) {
                    throw new IllegalArgumentException(file + ": input " + input.name() + " is not one a text model"
                            + " takes (input_ids, attention_mask, token_type_ids)");
                }
            }
            List<Value> outputs = model.graph().outputs();
            String hidden = outputs.stream().map(Value::name).filter(name -> name.equals("last_hidden_state"))
                    .findFirst().orElse(outputs.get(0).name());
            return new SentenceEmbedder(model, model.newSession(options), tokenizer, hidden);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private enum Role { IDS, MASK, TYPES }

    private static Role role(String inputName) {
        return switch (inputName) {
            case "input_ids" -> Role.IDS;
            case "attention_mask" -> Role.MASK;
            case "token_type_ids" -> Role.TYPES;
            default -> null;
        };
    }

    public WordPieceTokenizer tokenizer() {
        return tokenizer;
    }

    public OnnxModel model() {
        return model;
    }

    /** One unit-length embedding per text. */
    public float[][] embed(List<String> texts) {
        if (texts.isEmpty()) {
            return new float[0][];
        }
        List<Encoding> encodings = texts.stream().map(tokenizer::encode).toList();
        int batch = encodings.size();
        int length = encodings.stream().mapToInt(Encoding::length).max().orElseThrow();
        long[] ids = new long[batch * length];
        long[] mask = new long[batch * length];
        long[] types = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            Encoding encoding = encodings.get(b);
            for (int t = 0; t < encoding.length(); t++) {
                ids[b * length + t] = encoding.ids()[t];
                mask[b * length + t] = 1;
                types[b * length + t] = encoding.typeIds()[t];
            }
        }
        try (TensorArena arena = TensorArena.ofConfined()) {
            Map<String, Tensor> feeds = new HashMap<>();
            for (Value input : model.graph().inputs()) {
                long[] values = switch (role(input.name())) {
                    case IDS -> ids;
                    case MASK -> mask;
                    case TYPES -> types;
                };
                DType dtype = input.type() == null || input.type().dtype() == null ? DType.INT64 : input.type().dtype();
                feeds.put(input.name(), arena.fromLongs(dtype, values, batch, length));
            }
            try (Outputs outputs = session.run(feeds)) {
                Tensor hidden = outputs.get(hiddenStates);
                if (hidden.shape().rank() != 3) {
                    throw new IllegalStateException(model.name() + ": output " + hiddenStates + " has shape "
                            + hidden.shape() + "; token embeddings [batch, tokens, width] were expected");
                }
                return meanPooled(hidden.toFloatArray(), mask, batch, length,
                        Math.toIntExact(hidden.shape().size(2)));
            }
        }
    }

    private static float[][] meanPooled(float[] hidden, long[] mask, int batch, int length, int width) {
        float[][] embeddings = new float[batch][width];
        for (int b = 0; b < batch; b++) {
            double[] sum = new double[width];
            int tokens = 0;
            for (int t = 0; t < length; t++) {
                if (mask[b * length + t] == 0) {
                    continue;
                }
                tokens++;
                int base = (b * length + t) * width;
                for (int i = 0; i < width; i++) {
                    sum[i] += hidden[base + i];
                }
            }
            double norm = 0;
            for (int i = 0; i < width; i++) {
                sum[i] /= tokens;
                norm += sum[i] * sum[i];
            }
            double scale = norm == 0 ? 0 : 1 / Math.sqrt(norm);
            for (int i = 0; i < width; i++) {
                embeddings[b][i] = (float) (sum[i] * scale);
            }
        }
        return embeddings;
    }

    /** The cosine similarity of two unit-length embeddings. */
    public static double cosine(float[] a, float[] b) {
        double dot = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
        }
        return dot;
    }

    @Override
    public void close() {
        session.close();
        model.close();
    }
}
