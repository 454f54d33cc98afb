package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Reduce;
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
 * Float ReduceSum, ReduceMean and ReduceMax over trailing axes (rows by vectors, across the
 * threads) against the general loop in double: rows off the vector length and of 200,000 values far
 * from zero, a NaN in a max, leading axes reduced too (the general loop's), keepdims either way.
 */
class ReduceTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void floatRowsMatchTheGeneralLoop() {
        SplittableRandom random = new SplittableRandom(0x5EDL);
        Reduce.Kind[] kinds = {Reduce.Kind.SUM, Reduce.Kind.MEAN, Reduce.Kind.MAX};
        for (int trial = 0; trial < 45; trial++) {
            Reduce.Kind kind = kinds[trial % 3];
            long[] sizes = trial < 3 ? new long[] {2, 1, 400, 500}
                    : new long[] {1 + random.nextInt(3), 1 + random.nextInt(8), 1 + random.nextInt(30), 1 + random.nextInt(30)};
            long[] axes = trial % 5 == 4 ? new long[] {1} : trial % 2 == 0 ? new long[] {2, 3} : new long[] {-1};
            boolean keepDims = trial % 4 < 2;
            double offset = trial % 3 == 1 ? 100 : 0;
            float[] values = new float[Math.toIntExact(Arrays.stream(sizes).reduce(1, Math::multiplyExact))];
            Tensor doubles = arena.allocate(DType.DOUBLE, Shape.of(sizes));
            for (int i = 0; i < values.length; i++) {
                values[i] = trial % 9 == 5 && i == values.length / 2 ? Float.NaN : (float) (offset + random.nextGaussian());
                doubles.storeDouble(i, values[i]);
            }
            Reduce op = new Reduce(kind, keepDims, false);
            String what = String.format("trial %d %s %s over %s", trial, kind, Arrays.toString(sizes), Arrays.toString(axes));
            Tensor expected = run(op, doubles, axes, 1);
            // Rounding scales with the magnitudes summed, not with the sum: Σ|x| per output (per value, for a mean).
            double[] magnitudes = run(new Reduce(Reduce.Kind.L1, keepDims, false), doubles, axes, 1).toDoubleArray();
            long count = values.length / Math.max(1, magnitudes.length);
            for (int threads : new int[] {1, 2}) {
                Tensor actual = run(op, arena.fromFloats(values, sizes), axes, threads);
                assertThat(actual.shape()).as(what).isEqualTo(expected.shape());
                double[] want = expected.toDoubleArray();
                float[] got = actual.toFloatArray();
                for (int i = 0; i < want.length; i++) {
                    if (Double.isNaN(want[i])) {
                        assertThat(got[i]).as("%s at %d", what, i).isNaN();
                    } else {
                        assertThat((double) got[i]).as("%s at %d, %d threads", what, i, threads)
                                .isCloseTo(want[i], Offset.offset(1e-6 * (1 + Math.abs(want[i])
                                        + (kind == Reduce.Kind.MAX ? 0 : magnitudes[i] / (kind == Reduce.Kind.MEAN ? count : 1)))));
                    }
                }
            }
        }
    }

    private Tensor run(Reduce op, Tensor x, long[] axes, int threads) {
        Value input = new Value("x", null);
        Value axesValue = new Value("axes", null);
        Value y = new Value("y", null);
        Graph graph = Graph.builder("reduce").input(input).constant(axesValue, arena.fromLongs(DType.INT64, axes, axes.length))
                .node(new Node("reduce", op, List.of(input, axesValue), List.of(y), "test")).output(y).build();
        try (Session session = new Session(graph, new SessionOptions(threads, false)); Outputs outputs = session.run(Map.of("x", x))) {
            return arena.copyOf(outputs.get("y"));
        }
    }
}
