package dev.quanta.loader.onnx;

import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.CastLike;
import dev.quanta.graph.ops.Gather;
import dev.quanta.graph.ops.GatherElements;
import dev.quanta.graph.ops.Identity;
import dev.quanta.graph.ops.Reduce;
import dev.quanta.graph.ops.Softmax;
import dev.quanta.graph.ops.Squeeze;
import dev.quanta.graph.ops.Unary;
import dev.quanta.graph.ops.Unsqueeze;
import dev.quanta.graph.ops.Where;
import dev.quanta.tensor.Float8E8M0;
import java.util.List;
import java.util.Map;

/**
 * ONNX's NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (the latter: the former of the
 * scores' log-softmax over the classes, axis 1), each as its function body computes it: loss[n, d…]
 * = −input[n, target[n, d…], d…]·weight[target], 0 where the target is ignore_index; then no
 * reduction, the sum, or the mean weighted by the weights of the targets not ignored.
 */
final class OnnxLosses {

    private OnnxLosses() {
    }

    static void negativeLogLikelihood(OnnxNode node) {
        node.emit(new Identity(), List.of(loss(node, node.requiredInput(0))), List.of(node.requiredOutput(0)));
    }

    static void softmaxCrossEntropy(OnnxNode node) {
        Value logProbabilities = node.emit(new Softmax(1, true, false), node.requiredInput(0));
        Value logOutput = node.output(1);
        if (logOutput != null) {
            node.emit(new Identity(), List.of(logProbabilities), List.of(logOutput));
        }
        node.emit(new Identity(), List.of(loss(node, logProbabilities)), List.of(node.requiredOutput(0)));
    }

    /** The reduced loss of log-probabilities [N, C, d…] for the node's target (input 1) and weight (input 2). */
    private static Value loss(OnnxNode node, Value logProbabilities) {
        Value target = node.requiredInput(1);
        Value weight = node.input(2);
        String reduction = node.stringAttr("reduction", "mean");
        if (!Map.of("none", 0, "sum", 1, "mean", 2).containsKey(reduction)) {
            throw node.error("has the unknown reduction '" + reduction + "'; expected one of [mean, none, sum]");
        }
        Value zero = OnnxOps.like(node, 0, logProbabilities);
        Value kept = null;
        if (node.has("ignore_index")) {
            // Ignored targets read class 0 (they may lie outside the classes) and weigh nothing.
            Value ignored = node.emit(new Binary(Binary.Kind.EQUAL), target,
                    node.emit(new CastLike(true, Float8E8M0.RoundMode.UP), node.longs(node.intAttr("ignore_index", 0)), target));
            target = node.emit(new Where(), ignored, node.emit(new CastLike(true, Float8E8M0.RoundMode.UP), node.longs(0), target),
                    target);
            kept = node.emit(new Where(), ignored, zero, OnnxOps.like(node, 1, logProbabilities));
        }
        Value picked = node.emit(new Squeeze(), node.emit(new GatherElements(1), logProbabilities,
                node.emit(new Unsqueeze(), target, node.longs(1))), node.longs(1));
        Value weights = weight != null ? node.emit(new Gather(0), weight, target) : kept;
        if (weight != null && kept != null) {
            weights = node.emit(new Binary(Binary.Kind.MUL), weights, kept);
        }
        Value losses = node.emit(Unary.of(Unary.Kind.NEG), picked);
        if (weights != null) {
            losses = node.emit(new Binary(Binary.Kind.MUL), losses, weights);
        }
        return switch (reduction) {
            case "none" -> losses;
            case "sum" -> node.emit(new Reduce(Reduce.Kind.SUM, false, false), losses);
            default -> weights == null ? node.emit(new Reduce(Reduce.Kind.MEAN, false, false), losses)
                    : node.emit(new Binary(Binary.Kind.DIV), node.emit(new Reduce(Reduce.Kind.SUM, false, false), losses),
                            node.emit(new Reduce(Reduce.Kind.SUM, false, false), weights));
        };
    }
}
