package dev.quanta.graph.ops;

/**
 * Inputs (x [.., 1 or 2] real or complex, dft_length?, axis?): ONNX's DFT along the axis (the
 * input, else {@code defaultAxis}), of length dft_length (the signal truncated or padded with
 * zeros), inverse (scaled by 1/length) or not; {@code onesided} keeps the first length/2 + 1
 * frequencies. Output [.., 2], complex.
 */
public record Dft(boolean inverse, boolean onesided, int defaultAxis) implements CoreOp {

    @Override
    public String name() {
        return "DFT";
    }
}
