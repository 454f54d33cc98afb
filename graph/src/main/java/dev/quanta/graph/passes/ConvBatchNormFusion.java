package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.ChannelNormalize;
import dev.quanta.graph.ops.Conv;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.List;

/**
 * A float32 Conv with constant filters (and bias) whose output only an inference
 * BatchNormalization reads, with constant scale, bias, mean and variance, becomes one Conv with
 * the normalization folded in, as ONNX Runtime folds it: with s = scale / √(variance + ε), filter
 * f's weights times s[f] and its bias (b[f] − mean[f])·s[f] + beta[f], each computed in double and
 * rounded once. The outputs equal the two nodes' up to float rounding; a CNN exported from
 * PaddlePaddle or PyTorch without folding saves a pass over every feature map.
 */
public final class ConvBatchNormFusion {

    private ConvBatchNormFusion() {
    }

    public static Graph apply(Graph graph, TensorArena arena) {
        Rewrite rewrite = new Rewrite(graph);
        for (Node conv : graph.nodes()) {
            if (!(conv.op() instanceof Conv) || rewrite.touches(conv)) {
                continue;
            }
            Tensor w = floats(graph, conv.inputs().get(1));
            Value biasValue = conv.inputs().size() > 2 ? conv.inputs().get(2) : null;
            Tensor bias = biasValue == null ? null : floats(graph, biasValue);
            Node norm = rewrite.onlyReader(conv);
            if (w == null || w.rank() < 1 || biasValue != null && bias == null || norm == null
                    || !(norm.op() instanceof ChannelNormalize op) || op.training() || norm.inputs().size() < 5
                    || norm.inputs().get(0) != conv.outputs().get(0) || rewrite.touches(norm)) {
                continue;
            }
            int filters = Math.toIntExact(w.size(0));
            double[][] statistics = bias != null && bias.elementCount() != filters ? null : new double[4][];
            for (int i = 0; i < 4 && statistics != null; i++) {
                Tensor tensor = floats(graph, norm.inputs().get(1 + i));
                if (tensor == null || tensor.elementCount() != filters) {
                    statistics = null;
                    break;
                }
                statistics[i] = tensor.toDoubleArray();
            }
            if (statistics == null) {
                continue;
            }
            double[] scale = statistics[0];
            double[] shift = statistics[1];
            double[] mean = statistics[2];
            double[] variance = statistics[3];
            double[] weights = w.toDoubleArray();
            double[] biases = bias == null ? new double[filters] : bias.toDoubleArray();
            int perFilter = weights.length / Math.max(1, filters);
            float[] foldedWeights = new float[weights.length];
            float[] foldedBias = new float[filters];
            for (int f = 0; f < filters; f++) {
                double s = scale[f] / Math.sqrt(variance[f] + op.epsilon());
                for (int i = f * perFilter; i < (f + 1) * perFilter; i++) {
                    foldedWeights[i] = (float) (weights[i] * s);
                }
                foldedBias[f] = (float) ((biases[f] - mean[f]) * s + shift[f]);
            }
            Value weightsValue = new Value(conv.name() + "/weights_with_" + norm.name(), conv.inputs().get(1).type());
            Value foldedBiasValue = new Value(conv.name() + "/bias_with_" + norm.name(), null);
            rewrite.constant(weightsValue, arena.fromFloats(foldedWeights, w.shape().sizes()));
            rewrite.constant(foldedBiasValue, arena.fromFloats(foldedBias, filters));
            List<Value> inputs = new ArrayList<>(List.of(conv.inputs().get(0), weightsValue, foldedBiasValue));
            rewrite.replace(conv, List.of(new Node(conv.name(), conv.op(), inputs, norm.outputs(), conv.source())));
            rewrite.replace(norm, List.of());
        }
        return rewrite.apply();
    }

    /** A float32 constant that cannot be fed (not also a graph input), or null. */
    private static Tensor floats(Graph graph, Value value) {
        Tensor tensor = value == null || graph.inputs().contains(value) ? null : graph.constants().get(value);
        return tensor == null || tensor.dtype() != DType.FLOAT ? null : tensor;
    }
}
