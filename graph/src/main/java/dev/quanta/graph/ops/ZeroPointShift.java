package dev.quanta.graph.ops;

/**
 * Inputs (x, zeroPoint?), x int8 or uint8: x − zeroPoint as float32, exact (|result| ≤ 255). The
 * zero point is per tensor, per row ({@code perRow}: [M] or [..., M, 1]) or per column ([N]). A
 * separate op so that constant weights are shifted once, by constant folding, not on every run.
 */
public record ZeroPointShift(boolean perRow) implements CoreOp {
}
