package dev.quanta.graph;

import dev.quanta.tensor.TensorArena;

/**
 * How a session runs.
 *
 * @param threads intra-op threads (default: the available cores); the calling thread is one of them
 * @param profile whether each run records every node's time ({@link Outputs#profile()})
 * @param device where the session runs
 * @param optimization which load-time passes the session's graph has been through
 * @param memoryLimitBytes the most memory one run may allocate for its values ({@link TensorArena#NO_LIMIT}: none);
 *     a run that needs more fails with an error naming the node, and frees what it took
 */
public record SessionOptions(int threads, boolean profile, Device device, Optimization optimization,
        long memoryLimitBytes) {

    /** Where a session runs. */
    public enum Device { CPU, CUDA }

    /** Load-time graph passes. */
    public enum Optimization {
        /** The graph as translated from the file. */
        NONE,
        /** Constants folded and dead nodes removed. */
        BASIC,
        /**
         * Also the fusions: integer matmuls and convolutions, layer norms, GELU, attention's masked
         * softmax, batch normalization and one-element scalings and shifts folded into the convolution before
         * them; quantized tables
         * gathered before dequantizing.
         */
        ALL
    }

    public SessionOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, not " + threads);
        }
        if (device == null || optimization == null) {
            throw new IllegalArgumentException("a session needs a device and an optimization level");
        }
        if (memoryLimitBytes <= 0) {
            throw new IllegalArgumentException("the memory limit must be positive, not " + memoryLimitBytes);
        }
    }

    /** On the CPU, every optimization, no memory limit. */
    public SessionOptions(int threads, boolean profile) {
        this(threads, profile, Device.CPU, Optimization.ALL, TensorArena.NO_LIMIT);
    }

    /** The available cores, no profiling, on the CPU, every optimization, no memory limit. */
    public static SessionOptions defaults() {
        return new SessionOptions(Runtime.getRuntime().availableProcessors(), false);
    }

    public SessionOptions withThreads(int threads) {
        return new SessionOptions(threads, profile, device, optimization, memoryLimitBytes);
    }

    public SessionOptions withProfiling(boolean profile) {
        return new SessionOptions(threads, profile, device, optimization, memoryLimitBytes);
    }

    public SessionOptions withDevice(Device device) {
        return new SessionOptions(threads, profile, device, optimization, memoryLimitBytes);
    }

    public SessionOptions withOptimization(Optimization optimization) {
        return new SessionOptions(threads, profile, device, optimization, memoryLimitBytes);
    }

    public SessionOptions withMemoryLimit(long bytes) {
        return new SessionOptions(threads, profile, device, optimization, bytes);
    }
}
