package dev.quanta.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The per-node profiles of many runs, summarized: each node's and each op's median time per run, so
 * one slow run (a GC, a recompilation) moves nothing.
 */
public final class ProfileSummary {

    /** A node or an op: its median time per run, and how many nodes it covers. */
    public record Entry(String name, String op, String source, int nodes, double medianMillis) {}

    private final Map<String, List<Double>> nodeSamples = new LinkedHashMap<>();
    private final Map<String, NodeTiming> nodes = new LinkedHashMap<>();
    private final Map<String, List<Double>> opSamples = new LinkedHashMap<>();
    private final Map<String, Integer> opNodes = new HashMap<>();
    private final List<Double> totals = new ArrayList<>();

    /** Adds one run's profile; a node that ran more than once (in a loop's body, or translated into
     * several core nodes of its name) counts with its times summed. */
    public void add(List<NodeTiming> run) {
        Map<String, Double> perNode = new LinkedHashMap<>();
        Map<String, Double> perOp = new HashMap<>();
        Map<String, Integer> nodesPerOp = new HashMap<>();
        // A node of the file may become several core nodes of one name, some of the same op.
        Set<String> opsOfNodes = new HashSet<>();
        double total = 0;
        for (NodeTiming timing : run) {
            double millis = timing.nanos() / 1e6;
            if (opsOfNodes.add(timing.node() + '\u0000' + timing.op())) {
                nodesPerOp.merge(timing.op(), 1, Integer::sum);
            }
            perNode.merge(timing.node(), millis, Double::sum);
            nodes.putIfAbsent(timing.node(), timing);
            perOp.merge(timing.op(), millis, Double::sum);
            total += millis;
        }
        perNode.forEach((node, millis) -> nodeSamples.computeIfAbsent(node, ignored -> new ArrayList<>()).add(millis));
        perOp.forEach((op, millis) -> opSamples.computeIfAbsent(op, ignored -> new ArrayList<>()).add(millis));
        nodesPerOp.forEach((op, count) -> opNodes.merge(op, count, Math::max));
        totals.add(total);
    }

    public int runs() {
        return totals.size();
    }

    /** The median over runs of the time all nodes took together. */
    public double medianTotalMillis() {
        return median(totals);
    }

    /** Ops, slowest first. */
    public List<Entry> byOp() {
        List<Entry> entries = new ArrayList<>();
        opSamples.forEach((op, samples) -> entries.add(new Entry(op, op, "", opNodes.get(op), median(samples))));
        entries.sort(Comparator.comparingDouble(Entry::medianMillis).reversed());
        return entries;
    }

    /** Nodes, slowest first. */
    public List<Entry> byNode() {
        List<Entry> entries = new ArrayList<>();
        nodeSamples.forEach((node, samples) -> {
            NodeTiming timing = nodes.get(node);
            entries.add(new Entry(node, timing.op(), timing.source(), 1, median(samples)));
        });
        entries.sort(Comparator.comparingDouble(Entry::medianMillis).reversed());
        return entries;
    }

    private static double median(List<Double> samples) {
        if (samples.isEmpty()) {
            return 0;
        }
        double[] sorted = samples.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
