package dev.quanta.graph.ops;

/**
 * Inputs (columns [N, C·∏block, L], image_shape int64 [k], block_shape int64 [k]): each column of
 * blocks added back into an image [N, C, image…] where its block lies, overlapping blocks summed
 * (PyTorch's fold). The L blocks tile the padded image row-major at {@code strides}, their taps
 * {@code dilations} apart; {@code pads} ([begin…, end…]) are cut off. Null attributes take their
 * defaults (ones, zeros).
 */
public record Col2Im(long[] dilations, long[] pads, long[] strides) implements CoreOp {
}
