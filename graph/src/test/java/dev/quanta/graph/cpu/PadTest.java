package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Pad;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Pad, row by row, against the definition element by element: every mode, pads that grow and that
 * crop (negative), a pad value or none, over random shapes of rank 1 to 4, for float, int64,
 * bool, 4-bit and string elements, and from a strided view.
 */
class PadTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void everyModeMatchesTheDefinitionOverRandomShapes() {
        SplittableRandom random = new SplittableRandom(0x9AD0L);
        DType[] types = {DType.FLOAT, DType.INT64, DType.BOOL, DType.INT4, DType.STRING};
        for (int trial = 0; trial < 300; trial++) {
            Pad.Mode mode = Pad.Mode.values()[trial % 4];
            DType dtype = types[trial / 4 % types.length];
            int rank = 1 + random.nextInt(4);
            long[] sizes = new long[rank];
            long[] pads = new long[2 * rank];
            for (int d = 0; d < rank; d++) {
                sizes[d] = 1 + random.nextInt(5);
                // Reflection reaches at most size − 1 past an edge in ONNX Runtime; crop at most the axis.
                long reach = mode == Pad.Mode.REFLECT ? sizes[d] - 1 : 6;
                pads[d] = random.nextInt(3) == 0 ? -random.nextInt((int) sizes[d]) / 2 : random.nextInt((int) reach + 1);
                pads[rank + d] = random.nextInt(3) == 0 ? -random.nextInt((int) sizes[d]) / 2 : random.nextInt((int) reach + 1);
            }
            long count = Arrays.stream(sizes).reduce(1, Math::multiplyExact);
            Tensor x = values(dtype, count, random, sizes);
            Tensor value = mode == Pad.Mode.CONSTANT && random.nextBoolean() ? values(dtype, 1, random) : null;
            check(mode, x, pads, value);
        }
    }

    @Test
    void aStridedViewPadsAsItsCopy() {
        Tensor x = arena.fromFloats(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 3, 4).permute(1, 0);
        for (Pad.Mode mode : Pad.Mode.values()) {
            check(mode, x, new long[] {1, 2, 2, 1}, null);
        }
    }

    @Test
    void silerosReflectedFrameKeepsItsInsideAndMirrorsItsEdges() {
        float[] frame = new float[512];
        for (int i = 0; i < frame.length; i++) {
            frame[i] = i;
        }
        float[] padded = pad(Pad.Mode.REFLECT, arena.fromFloats(frame, 1, 512), new long[] {0, 0, 0, 64}, null).toFloatArray();
        assertThat(padded).hasSize(576);
        assertThat(Arrays.copyOf(padded, 512)).isEqualTo(frame);
        assertThat(padded[512]).isEqualTo(510);
        assertThat(padded[575]).isEqualTo(447);
    }

    private Tensor values(DType dtype, long count, SplittableRandom random, long... sizes) {
        if (dtype == DType.STRING) {
            String[] strings = new String[(int) count];
            Arrays.setAll(strings, i -> "s" + random.nextInt(1000));
            return arena.fromStrings(strings, sizes);
        }
        Tensor tensor = arena.allocate(dtype, sizes);
        for (long i = 0; i < count; i++) {
            switch (dtype) {
                case FLOAT -> tensor.storeDouble(i, random.nextGaussian());
                case BOOL -> tensor.storeLong(i, random.nextInt(2));
                case INT4 -> tensor.storeLong(i, random.nextInt(-8, 8));
                default -> tensor.storeLong(i, random.nextLong());
            }
        }
        return tensor;
    }

    private Tensor pad(Pad.Mode mode, Tensor x, long[] pads, Tensor value) {
        Value xValue = new Value("x", null);
        Value padsValue = new Value("pads", null);
        Value valueValue = new Value("value", null);
        Value y = new Value("y", null);
        Graph.Builder builder = Graph.builder("pad").input(xValue).input(padsValue);
        Map<String, Tensor> feeds = new HashMap<>(Map.of("x", x, "pads", arena.fromLongs(DType.INT64, pads, pads.length)));
        List<Value> inputs = value == null ? List.of(xValue, padsValue) : List.of(xValue, padsValue, valueValue);
        if (value != null) {
            builder.input(valueValue);
            feeds.put("value", value);
        }
        Graph graph = builder.node(new Node("pad", new Pad(mode), inputs, List.of(y), "test")).output(y).build();
        try (Session session = new Session(graph, new SessionOptions(1, false)); Outputs outputs = session.run(feeds)) {
            return arena.copyOf(outputs.get("y"));
        }
    }

    private void check(Pad.Mode mode, Tensor x, long[] pads, Tensor value) {
        Tensor padded = pad(mode, x, pads, value);
        int rank = x.rank();
        long[] outSizes = new long[rank];
        for (int d = 0; d < rank; d++) {
            outSizes[d] = x.size(d) + pads[d] + pads[rank + d];
        }
        String description = mode + " " + x + " pads " + Arrays.toString(pads) + (value == null ? "" : " value " + value);
        assertThat(padded.shape().sizes()).as(description).containsExactly(outSizes);
        long[] index = new long[rank];
        long[] source = new long[rank];
        for (long at = 0; at < padded.elementCount(); at++) {
            long rest = at;
            for (int d = rank - 1; d >= 0; d--) {
                index[d] = rest % outSizes[d];
                rest /= outSizes[d];
            }
            boolean inside = true;
            for (int d = 0; d < rank; d++) {
                long size = x.size(d);
                long c = index[d] - pads[d];
                if (c < 0 || c >= size) {
                    switch (mode) {
                        case CONSTANT -> inside = false;
                        case EDGE -> c = Math.max(0, Math.min(size - 1, c));
                        case WRAP -> c = Math.floorMod(c, size);
                        case REFLECT -> c = size == 1 ? 0 : c < 0 ? -c : 2 * (size - 1) - c;
                    }
                }
                source[d] = c;
            }
            Object expected = inside ? element(x, source) : value == null ? zero(x.dtype()) : element(value, new long[value.rank()]);
            assertThat(element(padded, index)).as("%s at %s", description, Arrays.toString(index)).isEqualTo(expected);
        }
    }

    private static Object zero(DType dtype) {
        return dtype == DType.STRING ? "" : dtype == DType.FLOAT ? (Object) 0.0 : (Object) 0L;
    }

    private static Object element(Tensor tensor, long[] index) {
        long position = tensor.offset();
        for (int d = 0; d < index.length; d++) {
            position += index[d] * tensor.strides()[d];
        }
        return switch (tensor.dtype()) {
            case STRING -> {
                byte[] bytes = tensor.loadStringBytes(position);
                yield bytes == null ? "" : new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
            }
            case FLOAT -> tensor.loadDouble(position);
            default -> tensor.loadLong(position);
        };
    }
}
