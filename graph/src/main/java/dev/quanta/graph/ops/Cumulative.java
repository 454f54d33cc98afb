package dev.quanta.graph.ops;

/**
 * Inputs (x, axis): running sums (or products) along the axis, optionally exclusive of the current
 * element and from the end.
 */
public record Cumulative(boolean product, boolean exclusive, boolean reverse) implements CoreOp {

    @Override
    public String name() {
        return product ? "CumProd" : "CumSum";
    }
}
