package dev.quanta.graph;

import dev.quanta.tensor.QuantaException;

/** A graph that is malformed, or a node that cannot run on what it was given. */
public class GraphException extends QuantaException {
    public GraphException(String message) {
        super(message);
    }

    public GraphException(String message, Throwable cause) {
        super(message, cause);
    }
}
