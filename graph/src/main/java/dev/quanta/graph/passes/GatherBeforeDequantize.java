package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Dequantize;
import dev.quanta.graph.ops.Gather;
import dev.quanta.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A tensor dequantized with one scale and zero point and then only gathered from (a quantized
 * embedding table: DequantizeLinear → Gather) is gathered first and dequantized after: the same
 * bits, as dequantization is the same function of each element, but only the rows the indices
 * pick are converted, instead of the whole table on every run.
 */
public final class GatherBeforeDequantize {

    private GatherBeforeDequantize() {
    }

    public static Graph apply(Graph graph, Map<Value, Shape> shapes) {
        Rewrite rewrite = new Rewrite(graph);
        for (Node dequantize : graph.nodes()) {
            if (!(dequantize.op() instanceof Dequantize op) || op.blockSize() != 0
                    || !perTensor(dequantize.inputs(), shapes) || rewrite.isOutput(dequantize.outputs().get(0))) {
                continue;
            }
            Value table = dequantize.outputs().get(0);
            List<Node> gathers = rewrite.readers(table);
            if (gathers.isEmpty() || gathers.stream().anyMatch(reader -> !(reader.op() instanceof Gather)
                    || reader.inputs().get(0) != table || reader.inputs().lastIndexOf(table) != 0 || rewrite.touches(reader))) {
                continue;
            }
            for (Node gather : gathers) {
                // Named after the value it replaces: node names repeat where one ONNX node became several.
                Value picked = new Value(gather.outputs().get(0).name() + "/quantized", null);
                List<Value> quantizedInputs = new ArrayList<>(gather.inputs());
                quantizedInputs.set(0, dequantize.inputs().get(0));
                List<Value> dequantizeInputs = new ArrayList<>(dequantize.inputs());
                dequantizeInputs.set(0, picked);
                rewrite.replace(gather, List.of(
                        new Node(gather.name(), gather.op(), quantizedInputs, List.of(picked), gather.source()),
                        new Node(dequantize.name() + "/" + gather.name(), op, dequantizeInputs, gather.outputs(),
                                dequantize.source())));
            }
            rewrite.replace(dequantize, List.of());
        }
        return rewrite.apply();
    }

    /** Whether the scale and the zero point (if any) hold one value each, as far as shapes tell. */
    private static boolean perTensor(List<Value> inputs, Map<Value, Shape> shapes) {
        for (int i = 1; i < inputs.size(); i++) {
            Shape shape = inputs.get(i) == null ? null : shapes.get(inputs.get(i));
            if (inputs.get(i) != null && (shape == null || !shape.isStatic() || shape.elementCount() != 1)) {
                return false;
            }
        }
        return inputs.size() >= 2 && inputs.get(1) != null;
    }
}
