package dev.quanta.runner.text;

/** A tokenizer file Quanta cannot read, with the file and what is wrong with it. */
public final class TokenizerException extends RuntimeException {

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
