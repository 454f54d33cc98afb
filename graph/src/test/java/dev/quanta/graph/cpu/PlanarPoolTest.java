package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Pool;
import dev.quanta.graph.ops.Window;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * 1-D and 2-D float max and average pools, plane by plane (sliding each kernel tap along an output row,
 * or window by window where MaxPool gives its indices): against the general loop, which runs for
 * float64, over random kernels, strides, dilations, padding, ceil mode and count_include_pad, on
 * one thread and two. Maxima and indices exactly (ties among them too); averages within float rounding.
 */
class PlanarPoolTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void planesMatchTheGeneralLoop() {
        check(new SplittableRandom(0x9001L), 120, false);
    }

    /**
     * 1-D pools whose rows are stacked a few to a plane (the planes' size lowered so that the rows
     * split into several planes, their count a divisor of the rows'), over more rows than above.
     */
    @Test
    void stackedRowsMatchTheGeneralLoop() {
        long values = ConvKernels.stackedPoolValues;
        ConvKernels.stackedPoolValues = 60;
        try {
            check(new SplittableRandom(0x9002L), 60, true);
            // No rows at all: an empty output of its shape.
            Window window = new Window(new long[] {2}, new long[] {2}, new long[] {1}, new long[] {0, 0}, Window.AutoPad.NOTSET,
                    false);
            for (long[] sizes : new long[][] {{0, 3, 10}, {2, 0, 10}}) {
                Tensor[] empty = pool(new Pool(Pool.Kind.MAX, window, false, 0, false), arena.fromFloats(new float[0], sizes),
                        false, 2);
                assertThat(empty[0].shape()).isEqualTo(Shape.of(sizes[0], sizes[1], 5));
            }
        } finally {
            ConvKernels.stackedPoolValues = values;
        }
    }

    /** Random pools, all 1-D ({@code oneDimensional}, batches of up to 3 × 7 channels) or a third of them. */
    private void check(SplittableRandom random, int trials, boolean oneDimensional) {
        for (int trial = 0; trial < trials; trial++) {
            boolean max = trial % 2 == 0;
            boolean withIndices = max && trial % 4 == 0;
            // A third of the trials 1-D, which runs as 2-D of height 1.
            int rank = oneDimensional || trial % 3 == 1 ? 1 : 2;
            long[] kernel = new long[rank];
            long[] strides = new long[rank];
            long[] dilations = new long[rank];
            long[] pads = new long[2 * rank];
            long[] sizes = new long[2 + rank];
            sizes[0] = 1 + random.nextInt(oneDimensional ? 3 : 2);
            sizes[1] = 1 + random.nextInt(oneDimensional ? 7 : 3);
            for (int d = 0; d < rank; d++) {
                kernel[d] = 1 + random.nextInt(4);
                strides[d] = 1 + random.nextInt(3);
                dilations[d] = max ? 1 + random.nextInt(2) : 1;
                // A pad below the kernel's extent, as ONNX requires.
                pads[d] = random.nextInt((int) ((kernel[d] - 1) * dilations[d] + 1));
                pads[rank + d] = random.nextInt((int) ((kernel[d] - 1) * dilations[d] + 1));
                sizes[2 + d] = kernel[d] * dilations[d] + random.nextInt(12);
            }
            Window window = new Window(kernel, strides, dilations, pads, Window.AutoPad.NOTSET, random.nextBoolean());
            Pool op = new Pool(max ? Pool.Kind.MAX : Pool.Kind.AVERAGE, window, trial % 3 == 0, 0, false);
            float[] values = new float[(int) Arrays.stream(sizes).reduce(1, Math::multiplyExact)];
            for (int i = 0; i < values.length; i++) {
                // Half the indexed trials in steps of a half, so that maxima tie and the first must win.
                double value = random.nextGaussian();
                values[i] = (float) (withIndices && trial % 8 == 0 ? Math.round(value * 2) / 2.0 : value);
            }
            Tensor floats = arena.fromFloats(values, sizes);
            Tensor doubles = arena.allocate(DType.DOUBLE, Shape.of(sizes));
            for (int i = 0; i < values.length; i++) {
                doubles.storeDouble(i, values[i]);
            }
            String what = op.kind() + " " + Arrays.toString(sizes) + " kernel " + Arrays.toString(kernel) + " strides "
                    + Arrays.toString(strides) + " dilations " + Arrays.toString(dilations) + " pads " + Arrays.toString(pads)
                    + " ceil " + window.ceilMode() + " include pad " + op.countIncludePad();
            Tensor[] expected = pool(op, doubles, withIndices, 1);
            for (int threads : new int[] {1, 2}) {
                Tensor[] actual = pool(op, floats, withIndices, threads);
                assertThat(actual[0].shape()).as(what).isEqualTo(expected[0].shape());
                double[] got = actual[0].toDoubleArray();
                double[] want = expected[0].toDoubleArray();
                for (int i = 0; i < want.length; i++) {
                    assertThat(got[i]).as("%s at %d, %d threads", what, i, threads)
                            .isCloseTo(want[i], org.assertj.core.data.Offset.offset(max ? 0 : 1e-6 * (1 + Math.abs(want[i]))));
                }
                if (withIndices) {
                    assertThat(actual[1].toLongArray()).as("%s indices", what).containsExactly(expected[1].toLongArray());
                }
            }
        }
    }

    private Tensor[] pool(Pool op, Tensor x, boolean withIndices, int threads) {
        Value input = new Value("x", null);
        Value y = new Value("y", null);
        Value indices = new Value("indices", null);
        List<Value> outputs = withIndices ? List.of(y, indices) : List.of(y);
        Graph.Builder builder = Graph.builder("pool").input(input).node(new Node("pool", op, List.of(input), outputs, "test"));
        outputs.forEach(builder::output);
        try (Session session = new Session(builder.build(), new SessionOptions(threads, false));
                Outputs result = session.run(Map.of("x", x))) {
            return outputs.stream().map(output -> arena.copyOf(result.get(output.name()))).toArray(Tensor[]::new);
        }
    }
}
