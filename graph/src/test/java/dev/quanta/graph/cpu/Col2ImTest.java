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
import dev.quanta.graph.ops.Col2Im;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Col2Im against its definition (each block's value added where its tap lands, summed in double or
 * long): random 1-D to 4-D images with strides, dilations and pads, in float (ConvTranspose's
 * scatter), double and int32; two threads give one thread's bits; inconsistent shapes are refused
 * by name.
 */
class Col2ImTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void randomShapesMatchTheDefinition() {
        SplittableRandom random = new SplittableRandom(0xF01DL);
        DType[] types = {DType.FLOAT, DType.FLOAT, DType.DOUBLE, DType.INT32};
        for (int trial = 0; trial < 80; trial++) {
            int rank = 1 + trial % 4;
            long[] image = new long[rank];
            long[] block = new long[rank];
            long[] strides = new long[rank];
            long[] dilations = new long[rank];
            long[] pads = new long[2 * rank];
            for (int d = 0; d < rank; d++) {
                block[d] = 1 + random.nextInt(3);
                strides[d] = 1 + random.nextInt(3);
                dilations[d] = 1 + random.nextInt(2);
                pads[d] = random.nextInt(3);
                pads[rank + d] = random.nextInt(3);
                long span = dilations[d] * (block[d] - 1) + 1;
                image[d] = Math.max(1, span - pads[d] - pads[rank + d]) + random.nextInt(rank <= 2 ? 12 : 4);
            }
            check(types[trial % types.length], 1 + random.nextInt(2), 1 + random.nextInt(3), image, block, strides,
                    dilations, pads, random);
        }
    }

    @Test
    void absentAttributesMeanUnitStridesAndNoPadding() {
        Tensor columns = arena.fromFloats(new float[] {1, 2, 3, 4, 5, 6}, 1, 2, 3);
        float[] y = run(graph(new Col2Im(null, null, null)), columns, new long[] {4}, new long[] {2}, 1);
        // Taps 0 and 1 of blocks at 0, 1, 2: y[i] = tap0[i] + tap1[i − 1].
        assertThat(y).containsExactly(1, 2 + 4, 3 + 5, 6);
    }

    @Test
    void inconsistentShapesAreRefusedByName() {
        Graph graph = graph(new Col2Im(null, null, null));
        Tensor columns = arena.fromFloats(new float[12], 1, 4, 3);
        assertThatThrownBy(() -> run(graph, columns, new long[] {5, 5}, new long[] {2, 2}, 1))
                .isInstanceOf(GraphException.class).hasMessageContaining("fold").hasMessageContaining("[4, 4]");
        assertThatThrownBy(() -> run(graph, columns, new long[] {2}, new long[] {5}, 1))
                .isInstanceOf(GraphException.class).hasMessageContaining("spans 5");
        assertThatThrownBy(() -> run(graph, columns, new long[] {4}, new long[] {2, 2}, 1))
                .isInstanceOf(GraphException.class).hasMessageContaining("every spatial axis");
        assertThatThrownBy(() -> run(graph(new Col2Im(null, new long[] {-1, 0}, null)), columns, new long[] {4},
                new long[] {2}, 1)).isInstanceOf(GraphException.class).hasMessageContaining("not negative");
        assertThatThrownBy(() -> run(graph, arena.fromBooleans(new boolean[4], 1, 2, 2), new long[] {3}, new long[] {2}, 1))
                .isInstanceOf(GraphException.class).hasMessageContaining("real numbers");
    }

    private void check(DType type, int batch, int channels, long[] image, long[] block, long[] strides, long[] dilations,
            long[] pads, SplittableRandom random) {
        int rank = image.length;
        long[] grid = new long[rank];
        for (int d = 0; d < rank; d++) {
            grid[d] = (image[d] + pads[d] + pads[rank + d] - dilations[d] * (block[d] - 1) - 1) / strides[d] + 1;
        }
        int blocks = (int) Arrays.stream(grid).reduce(1, Math::multiplyExact);
        int taps = (int) Arrays.stream(block).reduce(1, Math::multiplyExact);
        int plane = (int) Arrays.stream(image).reduce(1, Math::multiplyExact);
        double[] values = new double[batch * channels * taps * blocks];
        for (int i = 0; i < values.length; i++) {
            values[i] = type == DType.INT32 ? random.nextInt(-1000, 1000) : random.nextGaussian();
        }
        Tensor columns = arena.allocate(type, Shape.of(batch, (long) channels * taps, blocks));
        for (int i = 0; i < values.length; i++) {
            columns.storeDouble(i, values[i]);
        }
        Graph graph = graph(new Col2Im(dilations, pads, strides));
        String what = String.format("%s image %s block %s strides %s dilations %s pads %s", type, Arrays.toString(image),
                Arrays.toString(block), Arrays.toString(strides), Arrays.toString(dilations), Arrays.toString(pads));
        double[] single = runDoubles(graph, columns, image, block, 1);
        assertThat(runDoubles(graph, columns, image, block, 2)).as("two threads, %s", what).isEqualTo(single);
        double[] expected = new double[batch * channels * plane];
        double[] magnitude = new double[expected.length];
        long[] tap = new long[rank];
        long[] at = new long[rank];
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                for (int t = 0; t < taps; t++) {
                    ConvTransposeTest.unflatten(t, block, tap);
                    for (int l = 0; l < blocks; l++) {
                        ConvTransposeTest.unflatten(l, grid, at);
                        long position = ConvTransposeTest.landing(at, tap, strides, dilations, pads, image);
                        if (position >= 0) {
                            double value = type == DType.FLOAT ? (float) values[((n * channels + c) * taps + t) * blocks + l]
                                    : values[((n * channels + c) * taps + t) * blocks + l];
                            expected[(int) ((n * channels + c) * plane + position)] += value;
                            magnitude[(int) ((n * channels + c) * plane + position)] += Math.abs(value);
                        }
                    }
                }
            }
        }
        assertThat(single).as(what).hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            double tolerance = type == DType.FLOAT ? 1e-6 * magnitude[i] : type == DType.DOUBLE ? 1e-14 * magnitude[i] : 0;
            assertThat(single[i]).as("y[%d] of %s", i, what).isCloseTo(expected[i], Offset.offset(tolerance));
        }
    }

    private static Graph graph(Col2Im op) {
        Value columns = new Value("columns", null);
        Value image = new Value("image", null);
        Value block = new Value("block", null);
        Value y = new Value("y", null);
        return Graph.builder("col2im").input(columns).input(image).input(block)
                .node(new Node("fold", op, List.of(columns, image, block), List.of(y), "test"))
                .output(y).build();
    }

    private double[] runDoubles(Graph graph, Tensor columns, long[] image, long[] block, int threads) {
        try (Session session = new Session(graph, new SessionOptions(threads, false));
                Outputs outputs = session.run(feeds(columns, image, block))) {
            return outputs.get("y").toDoubleArray();
        }
    }

    private float[] run(Graph graph, Tensor columns, long[] image, long[] block, int threads) {
        try (Session session = new Session(graph, new SessionOptions(threads, false));
                Outputs outputs = session.run(feeds(columns, image, block))) {
            return outputs.get("y").toFloatArray();
        }
    }

    private Map<String, Tensor> feeds(Tensor columns, long[] image, long[] block) {
        return Map.of("columns", columns, "image", arena.fromLongs(DType.INT64, image, image.length), "block",
                arena.fromLongs(DType.INT64, block, block.length));
    }
}
