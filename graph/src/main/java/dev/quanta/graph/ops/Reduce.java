package dev.quanta.graph.ops;

/**
 * A reduction over the axes given by the optional second input (int64); with no axes, over all
 * of them unless {@code noopWithEmptyAxes}, in which case the input passes through.
 */
public record Reduce(Kind kind, boolean keepDims, boolean noopWithEmptyAxes) implements CoreOp {

    /** The reduction, one per ONNX Reduce op. */
    public enum Kind { SUM, MEAN, MAX, MIN, PROD, L1, L2, LOG_SUM, LOG_SUM_EXP, SUM_SQUARE }

    @Override
    public String name() {
        return "Reduce" + kind.name();
    }
}
