package dev.quanta.runner;

import dev.quanta.runner.text.SentenceEmbedder;
import java.io.PrintWriter;

/** Prints cosine similarity matrices of unit-length embeddings. */
final class Similarity {

    private Similarity() {}

    static void printMatrix(PrintWriter out, float[][] embeddings) {
        StringBuilder header = new StringBuilder("     ");
        for (int j = 0; j < embeddings.length; j++) {
            header.append(String.format("%7s", "[" + j + "]"));
        }
        out.println(header);
        for (int i = 0; i < embeddings.length; i++) {
            StringBuilder row = new StringBuilder(String.format("%5s", "[" + i + "]"));
            for (float[] other : embeddings) {
                row.append(String.format("%7.3f", SentenceEmbedder.cosine(embeddings[i], other)));
            }
            out.println(row);
        }
    }
}
