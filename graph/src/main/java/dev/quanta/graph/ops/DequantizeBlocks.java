package dev.quanta.graph.ops;

/**
 * Inputs (B uint8 [n, blocks, blockSize·bits/8], scales float32 [n·blocks], zero points?): ONNX
 * Runtime's block-quantized weights (MatMulNBits) as float32 [k, n], ready to multiply. Column j's
 * value at depth d is (q − zero)·scale of its block d / blockSize, q the {@code bits}-bit field of B
 * packed from the low bits up. Zero points are packed the same way in uint8 [n, ⌈blocks·bits/8⌉],
 * or float32 [n·blocks], or 2^(bits−1) when absent.
 */
public record DequantizeBlocks(int k, int n, int bits, int blockSize) implements CoreOp {
}
