package dev.quanta.runner.text;

/**
 * A tokenized text: the token ids, their segment (token type) ids and the tokens themselves, special
 * tokens included. Every token is attended to; padding is the model runner's business.
 */
public record Encoding(int[] ids, int[] typeIds, String[] tokens) {

    public int length() {
        return ids.length;
    }
}
