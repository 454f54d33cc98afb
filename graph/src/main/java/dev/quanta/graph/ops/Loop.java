package dev.quanta.graph.ops;

import dev.quanta.graph.Graph;

/**
 * Inputs (maxTrips int64?, condition bool?, carried..., captured...): runs {@code body} while
 * the trip count and the condition allow. The body takes (iteration, condition, carried...,
 * captured...) and gives (condition, carried..., scanned...); the outputs are the final carried
 * values, then each scanned value stacked along a new first axis.
 */
public record Loop(Graph body, int carried) implements CoreOp {
}
