package dev.quanta.graph.ops;

/**
 * Inputs (x, w, xZeroPoint?, wZeroPoint?, scale, bias?): {@link ConvInteger}'s exact int32
 * convolution, converted to float, times {@code scale} (one value, or one per output channel) and
 * plus {@code bias} (one per output channel), rounded after each step as a separate
 * DequantizeLinear and Add would round. What a QDQ model's Conv computes on its dequantized
 * operands, each block finished by the task that computed it.
 */
public record ConvIntegerToFloat(Window window, int group) implements CoreOp {
}
