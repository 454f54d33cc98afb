package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.ConvInteger;
import dev.quanta.graph.ops.Dequantize;
import dev.quanta.graph.ops.Identity;
import dev.quanta.graph.ops.QLinearConv;
import dev.quanta.graph.ops.Quantize;
import dev.quanta.graph.ops.Unary;
import dev.quanta.graph.ops.Window;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The one-node QLinearConv against the steps it replaces (ConvInteger, the bias added in int32, the
 * multiplier (xScale·wScale)/yScale, a dequantization, a Relu when it clamps, and a quantization),
 * bit for bit. Both share the integer convolution, which ConvIntegerTest checks against the
 * definition; ContribOpsTest and QdqModelsTest hold the whole node to ONNX Runtime.
 */
class QLinearConvTest {

    private final TensorArena arena = TensorArena.ofShared();
    private final SplittableRandom random = new SplittableRandom(0x0C0_41E7L);

    @AfterEach
    void close() {
        arena.close();
    }

    /**
     * One case: x's shape, w's shape, group, strides, dilations, pads (begins then ends); with
     * {@code leastOften}, every fifth weight its type's least value, which keeps the weights off the
     * 16-bit lanes (the float trick, and its padded image over wide planes).
     */
    private record Case(long[] x, long[] w, int group, long[] strides, long[] dilations, long[] pads, boolean leastOften) {
        Case(long[] x, long[] w, int group, long[] strides, long[] dilations, long[] pads) {
            this(x, w, group, strides, dilations, pads, false);
        }
    }

    @Test
    void givesTheBitsOfTheStepsItReplaces() {
        List<Case> cases = List.of(
                new Case(new long[] {1, 4, 9, 9}, new long[] {6, 4, 3, 3}, 1, new long[] {1, 1}, new long[] {1, 1},
                        new long[] {1, 1, 1, 1}),
                // Grouped, batched, strided and dilated, padded unevenly.
                new Case(new long[] {2, 6, 7, 8}, new long[] {6, 2, 3, 2}, 3, new long[] {2, 1}, new long[] {2, 1},
                        new long[] {1, 0, 1, 1}),
                // ResNet's first layer (7×7 over RGB at stride 2), plane by plane.
                new Case(new long[] {1, 3, 19, 21}, new long[] {5, 3, 7, 7}, 1, new long[] {2, 2}, new long[] {1, 1},
                        new long[] {3, 3, 3, 3}),
                // Depthwise: on two threads the groups go to the threads whole.
                new Case(new long[] {1, 8, 12, 12}, new long[] {8, 1, 3, 3}, 8, new long[] {1, 1}, new long[] {1, 1},
                        new long[] {1, 1, 1, 1}),
                // 1-D, and a plane large enough that the product splits by blocks of output positions.
                new Case(new long[] {1, 3, 20}, new long[] {5, 3, 4}, 1, new long[] {1}, new long[] {1}, new long[] {0, 2}),
                new Case(new long[] {1, 16, 30, 30}, new long[] {32, 16, 3, 3}, 1, new long[] {1, 1}, new long[] {1, 1},
                        new long[] {1, 1, 1, 1}),
                // A wide plane, the weights on the float trick: the padded image where it runs (AVX-512).
                new Case(new long[] {1, 5, 6, 44}, new long[] {7, 5, 3, 3}, 1, new long[] {1, 1}, new long[] {1, 1},
                        new long[] {1, 1, 1, 1}, true));
        int trial = 0;
        for (Case c : cases) {
            for (DType xType : new DType[] {DType.UINT8, DType.INT8}) {
                for (DType yType : new DType[] {DType.UINT8, DType.INT8}) {
                    DType wType = trial % 3 == 0 ? DType.UINT8 : DType.INT8;
                    boolean perChannel = trial % 2 == 0;
                    boolean bias = trial % 4 != 3;
                    boolean relu = trial % 5 == 2;
                    check(c, xType, wType, yType, perChannel, bias, relu, "trial " + trial);
                    trial++;
                }
            }
        }
    }

    @Test
    void refusesABiasOfTheWrongLength() {
        Case c = new Case(new long[] {1, 2, 5, 5}, new long[] {3, 2, 3, 3}, 1, new long[] {1, 1}, new long[] {1, 1},
                new long[] {0, 0, 0, 0});
        Tensor[] tensors = inputs(c, DType.UINT8, DType.INT8, DType.UINT8, false, true);
        tensors[8] = arena.fromInts(new int[] {1, 2}, 2);
        Value[] in = values();
        Value y = new Value("y", null);
        Graph.Builder builder = Graph.builder("bias").input(in[0]);
        for (int i = 1; i < in.length; i++) {
            builder.constant(in[i], tensors[i]);
        }
        Graph graph = builder.node(new Node("q", new QLinearConv(window(c), c.group(), false), Arrays.asList(in), List.of(y), "test"))
                .output(y).build();
        try (Session session = new Session(graph, new SessionOptions(1, false))) {
            assertThatThrownBy(() -> session.run(Map.of("x", tensors[0])).close())
                    .hasMessageContaining("q").hasMessageContaining("bias").hasMessageContaining("output channel (3)");
        }
    }

    private void check(Case c, DType xType, DType wType, DType yType, boolean perChannel, boolean withBias, boolean relu,
            String label) {
        Tensor[] tensors = inputs(c, xType, wType, yType, perChannel, withBias);
        Value[] in = values();
        Value fused = new Value("fused", null);
        Value accumulated = new Value("acc", null);
        Value biased = new Value("biased", null);
        Value channelBias = new Value("channelBias", null);
        Value product = new Value("product", null);
        Value multiplier = new Value("multiplier", null);
        Value scaled = new Value("scaled", null);
        Value rectified = new Value("rectified", null);
        Value one = new Value("one", null);
        Value steps = new Value("steps", null);
        Window window = window(c);
        Graph.Builder builder = Graph.builder("qlinearconv").input(in[0])
                .constant(one, arena.fromFloats(new float[] {1f}));
        for (int i = 1; i < in.length; i++) {
            if (tensors[i] != null) {
                builder.constant(in[i], tensors[i]);
            }
        }
        List<Value> fusedInputs = new ArrayList<>(Arrays.asList(in));
        if (!withBias) {
            fusedInputs.set(8, null);
        }
        builder.node(new Node("fused", new QLinearConv(window, c.group(), relu), fusedInputs, List.of(fused), "test"))
                .node(new Node("acc", new ConvInteger(window, c.group()), List.of(in[0], in[1], in[2], in[3]),
                        List.of(accumulated), "test"));
        if (withBias) {
            long[] perFilter = new long[c.x().length - 1];
            Arrays.fill(perFilter, 1);
            perFilter[0] = c.w()[0];
            builder.constant(channelBias, tensors[8].reshape(perFilter))
                    .node(new Node("biased", new Binary(Binary.Kind.ADD), List.of(accumulated, channelBias), List.of(biased),
                            "test"));
        }
        Graph graph = builder
                .node(new Node("product", new Binary(Binary.Kind.MUL), List.of(in[4], in[5]), List.of(product), "test"))
                .node(new Node("multiplier", new Binary(Binary.Kind.DIV), List.of(product, in[6]), List.of(multiplier), "test"))
                .node(new Node("scaled", new Dequantize(1, 0, null), List.of(withBias ? biased : accumulated, multiplier),
                        List.of(scaled), "test"))
                .node(new Node("rectified", relu ? new Unary(Unary.Kind.RELU, 0, 0) : new Identity(), List.of(scaled),
                        List.of(rectified), "test"))
                .node(new Node("steps", new Quantize(1, 0, true, null), List.of(rectified, one, in[7]), List.of(steps), "test"))
                .output(fused).output(steps).build();
        for (int threads : new int[] {1, 2}) {
            try (Session session = new Session(graph, new SessionOptions(threads, false));
                    Outputs outputs = session.run(Map.of("x", tensors[0]))) {
                Tensor expected = outputs.get("steps");
                Tensor actual = outputs.get("fused");
                String what = String.format("%s: %s %s * %s %s, group %d → %s, per channel %b, bias %b, relu %b, %d threads",
                        label, xType, Arrays.toString(c.x()), wType, Arrays.toString(c.w()), c.group(), yType, perChannel,
                        withBias, relu, threads);
                assertThat(actual.dtype()).as(what).isEqualTo(yType);
                assertThat(actual.shape().sizes()).as(what).containsExactly(expected.shape().sizes());
                assertThat(actual.toLongArray()).as(what).containsExactly(expected.toLongArray());
            }
        }
    }

    /** (x, w, x0, w0, xScale, wScale, yScale, y0, bias), the scales wide enough to saturate some outputs. */
    private Tensor[] inputs(Case c, DType xType, DType wType, DType yType, boolean perChannel, boolean withBias) {
        long filters = c.w()[0];
        int[] bias = new int[(int) filters];
        for (int f = 0; f < filters; f++) {
            // Every third filter's bias as large as int32 allows at times: a depthwise product adds a
            // bias to its float sums only within 2^24 of them, and takes such a one through int32.
            bias[f] = f % 3 == 2 ? random.nextInt() >> random.nextInt(8) : random.nextInt(-5000, 5000);
        }
        Tensor w = bytes(wType, c.w());
        for (long i = 0; c.leastOften() && i < w.elementCount(); i += 5) {
            w.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, w.byteOffset() + i, wType == DType.INT8 ? Byte.MIN_VALUE : 0);
        }
        return new Tensor[] {bytes(xType, c.x()), w, bytes(xType), bytes(wType, perChannel ? filters : 1),
            scales(1), scales(perChannel ? filters : 1), arena.fromFloats(new float[] {(float) (0.5 + random.nextDouble() * 4)}),
            bytes(yType), withBias ? arena.fromInts(bias, filters) : null};
    }

    private static Value[] values() {
        String[] names = {"x", "w", "x0", "w0", "sx", "sw", "sy", "y0", "bias"};
        Value[] in = new Value[names.length];
        for (int i = 0; i < in.length; i++) {
            in[i] = new Value(names[i], null);
        }
        return in;
    }

    private static Window window(Case c) {
        return new Window(null, c.strides(), c.dilations(), c.pads(), Window.AutoPad.NOTSET, false);
    }

    private Tensor bytes(DType type, long... shape) {
        long count = Arrays.stream(shape).reduce(1, Math::multiplyExact);
        byte[] values = new byte[(int) count];
        random.nextBytes(values);
        return arena.fromBytes(type, values, shape);
    }

    private Tensor scales(long count) {
        float[] values = new float[(int) count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (0.001 + random.nextDouble() * 0.05);
        }
        return arena.fromFloats(values, count);
    }
}
