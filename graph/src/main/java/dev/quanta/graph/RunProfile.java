package dev.quanta.graph;

import java.util.List;

/**
 * Where a profiled run records its nodes' times. A subgraph's run records into its enclosing run's
 * list, its nodes named after the nodes that enclose them ("If_0/Loop_2/Conv_1"): {@code prefix}.
 */
public record RunProfile(List<NodeTiming> timings, String prefix) {

    /** The profile of a subgraph run by {@code node} of this run. */
    RunProfile within(Node node) {
        return new RunProfile(timings, prefix + node.name() + "/");
    }
}
