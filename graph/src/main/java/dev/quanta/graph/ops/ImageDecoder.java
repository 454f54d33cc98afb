package dev.quanta.graph.ops;

/**
 * Input (encoded uint8 [bytes]): a JPEG, PNG, BMP, GIF, TIFF or PNM image decoded into uint8 [H, W,
 * 3] (RGB or BGR, alpha dropped) or [H, W, 1] (grayscale, luma as PIL weighs it).
 */
public record ImageDecoder(PixelFormat pixelFormat) implements CoreOp {

    public enum PixelFormat {
        RGB, BGR, GRAYSCALE
    }
}
