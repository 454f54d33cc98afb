package dev.quanta.graph.ops;

/**
 * Inputs (x, ratio?, training?): the identity in inference or at ratio 0; in training, each
 * element kept with probability 1 − ratio and scaled by 1/(1 − ratio). The mask is drawn as
 * ONNX's reference draws it (numpy's Mersenne Twister) from {@code seed}, or from the clock
 * when there is none. Outputs y and the bool mask.
 */
public record Dropout(Long seed) implements CoreOp {
}
