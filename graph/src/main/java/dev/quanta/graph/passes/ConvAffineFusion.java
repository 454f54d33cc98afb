package dev.quanta.graph.passes;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.ChannelNormalize;
import dev.quanta.graph.ops.Conv;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A float32 Conv with constant filters (and bias) followed by a chain of per-filter affine steps,
 * each the only reader of the one before: an inference BatchNormalization with constant
 * statistics, a Mul or an Add by a constant of one value or one per filter (PaddleOCR's learnable
 * scale and shift after each convolution, older exporters' biases). The chain folds into the Conv, as ONNX Runtime folds BatchNormalization:
 * the filters times their accumulated scale, the bias the accumulated shift, computed in double and
 * rounded once. The outputs equal the chain's up to float rounding, one pass over the feature map
 * instead of one a step.
 */
public final class ConvAffineFusion {

    private ConvAffineFusion() {
    }

    public static Graph apply(Graph graph, TensorArena arena) {
        Rewrite rewrite = new Rewrite(graph);
        for (Node conv : graph.nodes()) {
            if (!(conv.op() instanceof Conv) || rewrite.touches(conv)) {
                continue;
            }
            Tensor w = rewrite.floatConstant(conv.inputs().get(1));
            Value biasValue = conv.inputs().size() > 2 ? conv.inputs().get(2) : null;
            Tensor bias = biasValue == null ? null : rewrite.floatConstant(biasValue);
            if (w == null || w.rank() < 1 || biasValue != null && (bias == null || bias.elementCount() != w.size(0))) {
                continue;
            }
            int filters = Math.toIntExact(w.size(0));
            // out = (W·x)·scale + shift, per filter.
            double[] scale = new double[filters];
            double[] shift = bias == null ? new double[filters] : bias.toDoubleArray();
            Arrays.fill(scale, 1);
            List<Node> chain = new ArrayList<>();
            for (Node step = rewrite.onlyReader(conv); step != null && !rewrite.touches(step); step = rewrite.onlyReader(step)) {
                Value input = (chain.isEmpty() ? conv : chain.getLast()).outputs().get(0);
                if (!fold(rewrite, step, input, scale, shift, w.rank())) {
                    break;
                }
                chain.add(step);
            }
            if (chain.isEmpty()) {
                continue;
            }
            double[] weights = w.toDoubleArray();
            int perFilter = weights.length / Math.max(1, filters);
            float[] foldedWeights = new float[weights.length];
            float[] foldedBias = new float[filters];
            for (int f = 0; f < filters; f++) {
                for (int i = f * perFilter; i < (f + 1) * perFilter; i++) {
                    foldedWeights[i] = (float) (weights[i] * scale[f]);
                }
                foldedBias[f] = (float) shift[f];
            }
            Node last = chain.getLast();
            Value weightsValue = new Value(conv.name() + "/weights_through_" + last.name(), conv.inputs().get(1).type());
            Value foldedBiasValue = new Value(conv.name() + "/bias_through_" + last.name(), null);
            rewrite.constant(weightsValue, arena.fromFloats(foldedWeights, w.shape().sizes()));
            rewrite.constant(foldedBiasValue, arena.fromFloats(foldedBias, filters));
            List<Value> inputs = List.of(conv.inputs().get(0), weightsValue, foldedBiasValue);
            rewrite.replace(conv, List.of(new Node(conv.name(), conv.op(), inputs, last.outputs(), conv.source())));
            chain.forEach(step -> rewrite.replace(step, List.of()));
        }
        return rewrite.apply();
    }

    /** Folds {@code step} applied to {@code input} into the per-filter scale and shift; false if it is not such a step. */
    private static boolean fold(Rewrite rewrite, Node step, Value input, double[] scale, double[] shift, int outputRank) {
        int filters = scale.length;
        if (step.op() instanceof ChannelNormalize op) {
            if (op.training() || step.inputs().size() < 5 || step.inputs().get(0) != input) {
                return false;
            }
            double[][] statistics = new double[4][];
            for (int i = 0; i < 4; i++) {
                Tensor tensor = rewrite.floatConstant(step.inputs().get(1 + i));
                if (tensor == null || tensor.elementCount() != filters) {
                    return false;
                }
                statistics[i] = tensor.toDoubleArray();
            }
            for (int f = 0; f < filters; f++) {
                double k = statistics[0][f] / Math.sqrt(statistics[3][f] + op.epsilon());
                scale[f] *= k;
                shift[f] = (shift[f] - statistics[2][f]) * k + statistics[1][f];
            }
            return true;
        }
        boolean multiply = Rewrite.binary(step, Binary.Kind.MUL);
        if (!multiply && !Rewrite.binary(step, Binary.Kind.ADD)) {
            return false;
        }
        Tensor operand = rewrite.floatConstant(Rewrite.other(step, input));
        if (operand == null || !perFilter(operand, filters, outputRank)) {
            return false;
        }
        double[] values = operand.contiguous().toDoubleArray();
        for (int f = 0; f < filters; f++) {
            double value = values[values.length == 1 ? 0 : f];
            if (multiply) {
                scale[f] *= value;
                shift[f] *= value;
            } else {
                shift[f] += value;
            }
        }
        return true;
    }

    /**
     * Whether an operand broadcast against the Conv's output (of rank {@code outputRank}) gives each
     * filter one value and leaves the output's shape as it is: one element of rank below the output's,
     * or a value per filter along the channel axis, every other size 1 (CNTK's MNIST adds its biases
     * as [8, 1, 1]).
     */
    private static boolean perFilter(Tensor operand, int filters, int outputRank) {
        int rank = operand.rank();
        int channelAxis = rank - (outputRank - 1);
        long count = operand.elementCount();
        return rank <= outputRank
                && (count == 1 || count == filters && channelAxis >= 0 && operand.size(channelAxis) == filters);
    }
}
