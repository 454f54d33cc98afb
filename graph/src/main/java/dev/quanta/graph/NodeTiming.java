package dev.quanta.graph;

/** One node's time in one profiled run. */
public record NodeTiming(String node, String op, String source, long nanos) {
}
