package dev.quanta.loader.onnx;

import dev.quanta.loader.onnx.proto.Onnx.AttributeProto;
import dev.quanta.loader.onnx.proto.Onnx.GraphProto;
import dev.quanta.loader.onnx.proto.Onnx.NodeProto;
import dev.quanta.loader.onnx.proto.Onnx.TensorProto;
import dev.quanta.loader.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * A graph's nodes in an order where each comes after the nodes whose outputs it reads. ONNX asks
 * exporters for that order, but ONNX Runtime sorts the nodes itself, and some tools write graphs
 * that rely on it: onnxconverter-common's float16 conversion appends the Cast of each graph input
 * after the nodes that read it.
 */
final class NodeOrder {

    private NodeOrder() {
    }

    /**
     * The nodes as given when already in order; otherwise sorted, each node as early as the given
     * order allows (so an ordered stretch stays as it was). A node reads its inputs and the outer
     * values its subgraphs read. Nodes that read each other in a cycle are refused by name.
     */
    static List<NodeProto> sorted(String modelName, GraphProto graph) {
        List<NodeProto> nodes = graph.getNodeList();
        Map<String, Integer> producers = new HashMap<>();
        for (int n = 0; n < nodes.size(); n++) {
            for (String output : nodes.get(n).getOutputList()) {
                if (!output.isEmpty()) {
                    producers.putIfAbsent(output, n);
                }
            }
        }
        List<Set<Integer>> needs = new ArrayList<>();
        boolean ordered = true;
        for (int n = 0; n < nodes.size(); n++) {
            Set<Integer> producing = new LinkedHashSet<>();
            for (String name : reads(nodes.get(n))) {
                Integer producer = producers.get(name);
                if (producer != null && producer != n) {
                    producing.add(producer);
                    ordered &= producer < n;
                }
            }
            needs.add(producing);
        }
        if (ordered) {
            return nodes;
        }
        List<List<Integer>> readers = new ArrayList<>();
        int[] waiting = new int[nodes.size()];
        for (int n = 0; n < nodes.size(); n++) {
            readers.add(new ArrayList<>());
        }
        PriorityQueue<Integer> ready = new PriorityQueue<>();
        for (int n = 0; n < nodes.size(); n++) {
            waiting[n] = needs.get(n).size();
            for (int producer : needs.get(n)) {
                readers.get(producer).add(n);
            }
            if (waiting[n] == 0) {
                ready.add(n);
            }
        }
        List<NodeProto> sorted = new ArrayList<>(nodes.size());
        while (!ready.isEmpty()) {
            int n = ready.poll();
            sorted.add(nodes.get(n));
            for (int reader : readers.get(n)) {
                if (--waiting[reader] == 0) {
                    ready.add(reader);
                }
            }
        }
        if (sorted.size() < nodes.size()) {
            List<String> stuck = new ArrayList<>();
            for (int n = 0; n < nodes.size() && stuck.size() < 10; n++) {
                if (waiting[n] > 0) {
                    List<String> awaited = reads(nodes.get(n)).stream()
                            .filter(name -> producers.containsKey(name) && waiting[producers.get(name)] > 0).toList();
                    stuck.add("'" + nodes.get(n).getName() + "' (" + nodes.get(n).getOpType() + ") reading " + awaited);
                }
            }
            throw new OnnxException(modelName + ": graph '" + graph.getName() + "' has a cycle: "
                    + (nodes.size() - sorted.size()) + " nodes wait on each other's outputs, among them "
                    + String.join(", ", stuck));
        }
        return sorted;
    }

    /** The names a node reads: its inputs, and the values from outside that its subgraphs read. */
    private static Set<String> reads(NodeProto node) {
        Set<String> names = new LinkedHashSet<>();
        for (String input : node.getInputList()) {
            if (!input.isEmpty()) {
                names.add(input);
            }
        }
        for (AttributeProto attribute : node.getAttributeList()) {
            if (attribute.hasG()) {
                names.addAll(outerReads(attribute.getG()));
            }
            for (GraphProto graph : attribute.getGraphsList()) {
                names.addAll(outerReads(graph));
            }
        }
        return names;
    }

    /** The names a subgraph's nodes read that the subgraph does not define itself. */
    private static Set<String> outerReads(GraphProto graph) {
        Set<String> defined = new HashSet<>();
        graph.getInputList().stream().map(ValueInfoProto::getName).forEach(defined::add);
        graph.getInitializerList().stream().map(TensorProto::getName).forEach(defined::add);
        graph.getSparseInitializerList().forEach(sparse -> defined.add(sparse.getValues().getName()));
        Set<String> outer = new LinkedHashSet<>();
        for (NodeProto node : graph.getNodeList()) {
            node.getOutputList().forEach(defined::add);
        }
        for (NodeProto node : graph.getNodeList()) {
            for (String name : reads(node)) {
                if (!defined.contains(name)) {
                    outer.add(name);
                }
            }
        }
        return outer;
    }
}
