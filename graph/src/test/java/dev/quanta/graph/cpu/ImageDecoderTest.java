package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quanta.graph.Graph;
import dev.quanta.graph.GraphException;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.ImageDecoder;
import dev.quanta.graph.ops.ImageDecoder.PixelFormat;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.TensorArena;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * ImageDecoder on images written here: Netpbm's six kinds, PNGs in colour with alpha and in gray
 * (kept as they are, not brightened as sRGB), each pixel format; and what it cannot read.
 */
class ImageDecoderTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void netpbmImagesOfEveryKindAreRead() {
        // A 3×2 bitmap, plain (digits need no spaces) and raw (rows padded to whole bytes); 1 is black.
        assertThat(decode(ascii("P1\n# a comment\n3 2\n101\n0 1 0\n"), PixelFormat.GRAYSCALE))
                .containsExactly(0, 255, 0, 255, 0, 255);
        assertThat(decode(bytes(ascii("P4 3 2\n"), new byte[] {(byte) 0b1010_0000, (byte) 0b0100_0000}), PixelFormat.RGB))
                .containsExactly(0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255);
        // Gray of largest sample 15, scaled to 0..255.
        assertThat(decode(ascii("P2 2 1 15 0 #comment\n 7"), PixelFormat.GRAYSCALE)).containsExactly(0, 119);
        assertThat(decode(ascii("P3 1 1 255 10 20 30"), PixelFormat.BGR)).containsExactly(30, 20, 10);
        // Raw gray in 16 bits, big-endian.
        assertThat(decode(bytes(ascii("P5 2 1 65535\n"), new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0x80, 0}),
                PixelFormat.RGB)).containsExactly(255, 255, 255, 128, 128, 128);
        assertThat(decode(bytes(ascii("P6 1 2 255\n"), new byte[] {1, 2, 3, (byte) 250, (byte) 251, (byte) 252}),
                PixelFormat.RGB)).containsExactly(1, 2, 3, 250, 251, 252);
    }

    @Test
    void colourImagesDropAlphaAndGrayOnesKeepTheirValues() throws IOException {
        BufferedImage colour = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        colour.setRGB(0, 0, 0x80_10_20_30);
        colour.setRGB(1, 0, 0xFF_FF_80_00);
        byte[] png = png(colour);
        assertThat(decode(png, PixelFormat.RGB)).containsExactly(0x10, 0x20, 0x30, 0xFF, 0x80, 0x00);
        assertThat(decode(png, PixelFormat.BGR)).containsExactly(0x30, 0x20, 0x10, 0x00, 0x80, 0xFF);
        // PIL's luma: (19595·R + 38470·G + 7471·B + 2^15) >> 16.
        assertThat(decode(png, PixelFormat.GRAYSCALE)).containsExactly(
                (0x10 * 19595 + 0x20 * 38470 + 0x30 * 7471 + 0x8000) >> 16, (0xFF * 19595 + 0x80 * 38470 + 0x8000) >> 16);
        BufferedImage gray = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSamples(0, 0, 3, 1, 0, new int[] {0, 64, 200});
        assertThat(decode(png(gray), PixelFormat.GRAYSCALE)).containsExactly(0, 64, 200);
        assertThat(decode(png(gray), PixelFormat.RGB)).containsExactly(0, 0, 0, 64, 64, 64, 200, 200, 200);
    }

    @Test
    void whatCannotBeReadIsNamed() {
        assertThatThrownBy(() -> decode(ascii("RIFF\0\0\0\0WEBPVP8 "), PixelFormat.RGB))
                .isInstanceOf(GraphException.class).hasMessageContaining("'decode'").hasMessageContaining("not WebP");
        assertThatThrownBy(() -> decode(new byte[0], PixelFormat.RGB)).isInstanceOf(GraphException.class)
                .hasMessageContaining("(empty)");
        assertThatThrownBy(() -> decode(bytes(ascii("P6 2 2 255\n"), new byte[5]), PixelFormat.RGB))
                .isInstanceOf(GraphException.class).hasMessageContaining("ends early");
        assertThatThrownBy(() -> decode(ascii("P2 1 1 15 16"), PixelFormat.RGB)).isInstanceOf(GraphException.class)
                .hasMessageContaining("exceeds its largest");
        // Refused from its header, before anything the size of the image is allocated.
        assertThatThrownBy(() -> decode(ascii("P6 100000 100000 255\n"), PixelFormat.RGB))
                .isInstanceOf(GraphException.class).hasMessageContaining("100000×100000");
        byte[] truncatedPng = Arrays.copyOf(png(new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB)), 60);
        assertThatThrownBy(() -> decode(truncatedPng, PixelFormat.RGB)).isInstanceOf(GraphException.class)
                .hasMessageContaining("'decode'").hasMessageContaining("cannot decode");
    }

    private int[] decode(byte[] encoded, PixelFormat format) {
        Value input = new Value("encoded", null);
        Value y = new Value("y", null);
        Graph graph = Graph.builder("image").input(input)
                .node(new Node("decode", new ImageDecoder(format), List.of(input), List.of(y), "test")).output(y).build();
        try (Session session = new Session(graph, new SessionOptions(1, false));
                Outputs outputs = session.run(Map.of("encoded", arena.fromBytes(DType.UINT8, encoded, encoded.length)))) {
            assertThat(outputs.get("y").shape().size(2)).isEqualTo(format == PixelFormat.GRAYSCALE ? 1 : 3);
            return Arrays.stream(outputs.get("y").toLongArray()).mapToInt(value -> (int) value).toArray();
        }
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] bytes(byte[] header, byte[] data) {
        byte[] joined = Arrays.copyOf(header, header.length + data.length);
        System.arraycopy(data, 0, joined, header.length, data.length);
        return joined;
    }

    private static byte[] png(BufferedImage image) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }
}
