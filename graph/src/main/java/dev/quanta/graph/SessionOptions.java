package dev.quanta.graph;

/** How a session runs: intra-op threads (default: the available cores) and whether it profiles each node. */
public record SessionOptions(int threads, boolean profile) {

    public SessionOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, not " + threads);
        }
    }

    public static SessionOptions defaults() {
        return new SessionOptions(Runtime.getRuntime().availableProcessors(), false);
    }
}
