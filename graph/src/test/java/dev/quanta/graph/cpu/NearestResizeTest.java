package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Resize;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Nearest resizes, which gather rows of input elements: against the index formulas of ONNX's
 * reference, for elements of 1, 2, 4 and 8 bytes, a strided input, up- and downsampling, an axis
 * left alone (copied whole), on one thread and two.
 */
class NearestResizeTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void everyElementWidthGathersWhatTheFormulasSelect() {
        SplittableRandom random = new SplittableRandom(0x4E5L);
        DType[] types = {DType.UINT8, DType.BOOL, DType.FLOAT16, DType.INT32, DType.FLOAT, DType.INT64, DType.DOUBLE};
        double[][] scaleSets = {{1, 1, 2, 2}, {1, 1, 0.5, 1.5}, {1, 2, 1, 3}, {1, 1, 1, 1}, {1, 1, 0.6, 1}};
        for (int trial = 0; trial < 70; trial++) {
            DType dtype = types[trial % types.length];
            double[] scales = scaleSets[trial / types.length % scaleSets.length];
            boolean floor = trial % 2 == 0;
            long[] sizes = {2, 1 + random.nextInt(3), 1 + random.nextInt(9), 1 + random.nextInt(9)};
            Tensor x = arena.allocate(dtype, sizes[0], sizes[1], sizes[3], sizes[2]);
            for (long i = 0; i < x.elementCount(); i++) {
                x.storeLong(i, dtype == DType.BOOL ? random.nextInt(2) : random.nextInt(100));
            }
            // A strided view: the last two axes swapped.
            check(x.permute(0, 1, 3, 2), scales, floor);
        }
    }

    private void check(Tensor x, double[] scales, boolean floor) {
        Resize op = new Resize(Resize.Mode.NEAREST, floor ? Resize.Transform.ASYMMETRIC : Resize.Transform.HALF_PIXEL,
                floor ? Resize.NearestMode.FLOOR : Resize.NearestMode.ROUND_PREFER_FLOOR, -0.75, false, 0, false, null,
                Resize.AspectPolicy.STRETCH);
        Value xValue = new Value("x", null);
        Value roi = new Value("roi", null);
        Value scalesValue = new Value("scales", null);
        Value y = new Value("y", null);
        Graph graph = Graph.builder("resize").input(xValue).constant(roi, arena.allocate(DType.FLOAT, 0))
                .constant(scalesValue, arena.fromFloats(toFloats(scales), scales.length))
                .node(new Node("resize", op, List.of(xValue, roi, scalesValue), List.of(y), "test")).output(y).build();
        int rank = x.rank();
        long[] outSizes = new long[rank];
        for (int d = 0; d < rank; d++) {
            outSizes[d] = (long) Math.floor(x.size(d) * scales[d]);
        }
        String what = x + " scales " + Arrays.toString(scales) + (floor ? " asymmetric floor" : " half-pixel round");
        for (int threads : new int[] {1, 2}) {
            try (Session session = new Session(graph, new SessionOptions(threads, false));
                    Outputs outputs = session.run(Map.of("x", x))) {
                Tensor result = outputs.get("y");
                assertThat(result.shape().sizes()).as(what).containsExactly(outSizes);
                long[] index = new long[rank];
                long[] source = new long[rank];
                for (long at = 0; at < result.elementCount(); at++) {
                    long rest = at;
                    for (int d = rank - 1; d >= 0; d--) {
                        index[d] = rest % outSizes[d];
                        rest /= outSizes[d];
                        double original = floor ? index[d] / scales[d] : (index[d] + 0.5) / scales[d] - 0.5;
                        double nearest = floor ? Math.floor(original)
                                : original - Math.floor(original) <= 0.5 ? Math.floor(original) : Math.floor(original) + 1;
                        source[d] = Math.max(0, Math.min(x.size(d) - 1, (long) nearest));
                    }
                    long position = x.offset();
                    for (int d = 0; d < rank; d++) {
                        position += source[d] * x.strides()[d];
                    }
                    assertThat(result.loadBits(result.offset() + at)).as("%s at %s, %d threads", what,
                            Arrays.toString(index), threads).isEqualTo(x.loadBits(position));
                }
            }
        }
    }

    private static float[] toFloats(double[] values) {
        float[] floats = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            floats[i] = (float) values[i];
        }
        return floats;
    }
}
