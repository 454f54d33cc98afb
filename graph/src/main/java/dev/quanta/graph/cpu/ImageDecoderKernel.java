package dev.quanta.graph.cpu;

import dev.quanta.graph.GraphException;
import dev.quanta.graph.Kernel;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.ops.ImageDecoder;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Iterator;
import java.util.Optional;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * {@link ImageDecoder}: javax.imageio reads JPEG, PNG, BMP, GIF and TIFF (its JPEG decoder gives
 * the bytes libjpeg gives PIL, ONNX's reference, on the conformance images); PNM is read here.
 * javax.imageio lives in the module java.desktop, which the graph module reads only when it is
 * there: on the class path it always is; on the module path it needs {@code --add-modules
 * java.desktop}.
 */
final class ImageDecoderKernel {

    /** The most pixels an image may have: its decoded copy in javax.imageio must fit one Java array. */
    private static final long MAX_PIXELS = Integer.MAX_VALUE / 4;

    private ImageDecoderKernel() {
    }

    static Kernel of(ImageDecoder op) {
        return (context, inputs) -> {
            Tensor encoded = inputs[0].contiguous();
            if (encoded.dtype() != DType.UINT8 || encoded.rank() != 1) {
                throw context.error("encoded image " + encoded + " must be 1-D uint8 bytes");
            }
            byte[] bytes = new byte[Math.toIntExact(encoded.elementCount())];
            MemorySegment.copy(encoded.segment(), ValueLayout.JAVA_BYTE, encoded.byteOffset(), bytes, 0, bytes.length);
            Pixels pixels = Pnm.isPnm(bytes) ? Pnm.decode(context, bytes) : ImageIoDecoder.decode(context, bytes);
            int channels = op.pixelFormat() == ImageDecoder.PixelFormat.GRAYSCALE ? 1 : 3;
            byte[] out = new byte[pixels.rgb().length * channels];
            int at = 0;
            for (int rgb : pixels.rgb()) {
                int red = rgb >> 16 & 0xFF;
                int green = rgb >> 8 & 0xFF;
                int blue = rgb & 0xFF;
                switch (op.pixelFormat()) {
                    case RGB -> {
                        out[at++] = (byte) red;
                        out[at++] = (byte) green;
                        out[at++] = (byte) blue;
                    }
                    case BGR -> {
                        out[at++] = (byte) blue;
                        out[at++] = (byte) green;
                        out[at++] = (byte) red;
                    }
                    // Gray images keep their values; colour takes PIL's ITU-R 601 luma in 16-bit fixed point.
                    case GRAYSCALE -> out[at++] = (byte) (pixels.gray() ? red
                            : (red * 19595 + green * 38470 + blue * 7471 + 0x8000) >> 16);
                }
            }
            Tensor y = context.allocateForOverwrite(DType.UINT8, Shape.of(pixels.height(), pixels.width(), channels));
            MemorySegment.copy(out, 0, y.segment(), ValueLayout.JAVA_BYTE, y.byteOffset(), out.length);
            return new Tensor[] {y};
        };
    }

    /** Decoded pixels as 0xRRGGBB, row-major; {@code gray} when the image had one channel (R = G = B). */
    record Pixels(int width, int height, int[] rgb, boolean gray) {
    }

    static void checkSize(KernelContext context, long width, long height, String format) {
        if (width < 1 || height < 1 || width * height > MAX_PIXELS) {
            throw context.error("a " + format + " image of " + width + "×" + height + " pixels is outside 1 to "
                    + MAX_PIXELS + " pixels");
        }
    }

    /** The javax.imageio formats; touched only once java.desktop is known to be readable. */
    private static final class ImageIoDecoder {

        static Pixels decode(KernelContext context, byte[] bytes) {
            Optional<Module> desktop = ModuleLayer.boot().findModule("java.desktop");
            if (desktop.isEmpty() || !ImageDecoderKernel.class.getModule().canRead(desktop.get())) {
                throw context.error("decodes images with javax.imageio, in the module java.desktop, which this runtime "
                        + "lacks (add it: --add-modules java.desktop)");
            }
            // In memory: ImageIO.createImageInputStream may cache the stream in a temporary file.
            try (ImageInputStream stream = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
                Iterator<ImageReader> readers = ImageIO.getImageReaders(stream);
                if (!readers.hasNext()) {
                    throw context.error("cannot decode an image that starts " + startOf(bytes) + ": it reads JPEG, PNG, "
                            + "BMP, GIF, TIFF and PNM (not WebP or JPEG 2000)");
                }
                ImageReader reader = readers.next();
                try {
                    reader.setInput(stream, true, true);
                    checkSize(context, reader.getWidth(0), reader.getHeight(0), reader.getFormatName());
                    return pixels(reader.read(0));
                } finally {
                    reader.dispose();
                }
            } catch (GraphException e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                throw context.error("cannot decode its image (" + bytes.length + " bytes): " + e.getMessage());
            }
        }

        private static Pixels pixels(BufferedImage image) {
            int width = image.getWidth();
            int height = image.getHeight();
            int[] rgb = new int[width * height];
            Raster raster = image.getRaster();
            // One or two bands of gray are read as they are: through getRGB, gray is taken as linear
            // and brightened into sRGB.
            if (image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
                int shift = Math.max(0, raster.getSampleModel().getSampleSize(0) - 8);
                for (int y = 0; y < height; y++) {
                    for (int x = 0; x < width; x++) {
                        int value = raster.getSample(x, y, 0) >> shift;
                        rgb[y * width + x] = value << 16 | value << 8 | value;
                    }
                }
                return new Pixels(width, height, rgb, true);
            }
            image.getRGB(0, 0, width, height, rgb, 0, width);
            return new Pixels(width, height, rgb, false);
        }
    }

    private static String startOf(byte[] bytes) {
        StringBuilder start = new StringBuilder();
        for (int i = 0; i < Math.min(4, bytes.length); i++) {
            start.append(String.format("%02x", bytes[i]));
        }
        return start.isEmpty() ? "(empty)" : start.toString();
    }

    /** Netpbm's P1 to P6 (bitmaps, gray and colour, plain and raw), samples scaled to 0..255. */
    private static final class Pnm {

        private final byte[] bytes;
        private int at;

        private Pnm(byte[] bytes) {
            this.bytes = bytes;
            this.at = 2;
        }

        static boolean isPnm(byte[] bytes) {
            return bytes.length >= 2 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '6';
        }

        static Pixels decode(KernelContext context, byte[] bytes) {
            int kind = bytes[1] - '0';
            Pnm pnm = new Pnm(bytes);
            try {
                int width = pnm.header();
                int height = pnm.header();
                boolean bitmap = kind == 1 || kind == 4;
                int maximum = bitmap ? 1 : pnm.header();
                checkSize(context, width, height, "PNM");
                if (maximum < 1 || maximum > 65535) {
                    throw new IllegalArgumentException("its largest sample " + maximum + " is outside 1 to 65535");
                }
                int channels = kind == 3 || kind == 6 ? 3 : 1;
                boolean raw = kind >= 4;
                // One whitespace byte ends a raw image's header.
                pnm.at++;
                int[] rgb = new int[width * height];
                for (int y = 0; y < height; y++) {
                    for (int x = 0; x < width; x++) {
                        int[] sample = new int[channels];
                        for (int c = 0; c < channels; c++) {
                            int value;
                            if (kind == 4) {
                                value = pnm.bit(x);
                            } else if (raw) {
                                value = pnm.rawSample(maximum);
                            } else {
                                value = kind == 1 ? pnm.plainBit() : pnm.header();
                            }
                            if (value > maximum) {
                                throw new IllegalArgumentException("sample " + value + " exceeds its largest, " + maximum);
                            }
                            // A bitmap's 1 is black.
                            sample[c] = bitmap ? (value == 1 ? 0 : 255) : (int) Math.round(value * 255.0 / maximum);
                        }
                        int gray = sample[0];
                        rgb[y * width + x] = channels == 3 ? sample[0] << 16 | sample[1] << 8 | sample[2]
                                : gray << 16 | gray << 8 | gray;
                    }
                    if (kind == 4) {
                        pnm.at += (width + 7) / 8;
                    }
                }
                return new Pixels(width, height, rgb, channels == 1);
            } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
                throw context.error("cannot decode its P" + kind + " image (" + bytes.length + " bytes): "
                        + (e instanceof ArrayIndexOutOfBoundsException ? "it ends early" : e.getMessage()));
            }
        }

        /** A decimal number of the header (or a plain image's sample), after whitespace and comments. */
        private int header() {
            while (Character.isWhitespace(bytes[at]) || bytes[at] == '#') {
                if (bytes[at] == '#') {
                    while (bytes[at] != '\n' && bytes[at] != '\r') {
                        at++;
                    }
                }
                at++;
            }
            long value = 0;
            int start = at;
            while (at < bytes.length && bytes[at] >= '0' && bytes[at] <= '9') {
                value = value * 10 + bytes[at++] - '0';
                if (value > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("a number of its header is too large");
                }
            }
            if (at == start) {
                throw new IllegalArgumentException("byte " + at + " is not a number");
            }
            return (int) value;
        }

        /** A plain bitmap's next 0 or 1, which need no whitespace between them. */
        private int plainBit() {
            while (Character.isWhitespace(bytes[at])) {
                at++;
            }
            int value = bytes[at++] - '0';
            if (value != 0 && value != 1) {
                throw new IllegalArgumentException("byte " + (at - 1) + " is not a bit");
            }
            return value;
        }

        private int rawSample(int maximum) {
            return maximum < 256 ? bytes[at++] & 0xFF : (bytes[at++] & 0xFF) << 8 | bytes[at++] & 0xFF;
        }

        /** Bit x of a raw bitmap's row, which starts at {@code at} (its rows padded to whole bytes). */
        private int bit(int x) {
            return bytes[at + x / 8] >> (7 - x % 8) & 1;
        }
    }
}
