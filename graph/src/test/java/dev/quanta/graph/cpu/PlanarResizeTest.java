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
 * Float resizes of the last two axes, plane by plane: every bit as the general loop gives them,
 * which runs for float64 (the float result is the float64 one rounded), over linear and cubic
 * modes, every coordinate transform, antialiasing, up- and downsampling, ranks 3 to 5 (a third
 * axis resized now and then, left to the general loop), a strided input, on one thread and two.
 * The bilinear resizes of rank-4 images that take ONNX Runtime's float arithmetic instead (its
 * bits are checked against it in the bench module's ContribOpsTest) lie within a few float
 * roundings of the general loop's.
 */
class PlanarResizeTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void planesMatchTheGeneralLoopBitForBit() {
        SplittableRandom random = new SplittableRandom(0x9E5L);
        Resize.Transform[] transforms = {Resize.Transform.HALF_PIXEL, Resize.Transform.PYTORCH_HALF_PIXEL,
            Resize.Transform.ALIGN_CORNERS, Resize.Transform.ASYMMETRIC, Resize.Transform.HALF_PIXEL_SYMMETRIC};
        for (int trial = 0; trial < 60; trial++) {
            Resize.Mode mode = trial % 2 == 0 ? Resize.Mode.LINEAR : Resize.Mode.CUBIC;
            Resize.Transform transform = transforms[trial % transforms.length];
            boolean antialias = trial % 7 == 0;
            int rank = 3 + trial % 3;
            long[] sizes = new long[rank];
            double[] scales = new double[rank];
            for (int d = 0; d < rank; d++) {
                sizes[d] = d < rank - 2 ? 1 + random.nextInt(3) : 1 + random.nextInt(9);
                // Now and then the axis before the planes resizes too: the general loop's case.
                scales[d] = d < rank - 3 || d == rank - 3 && trial % 4 != 3 ? 1 : new double[] {0.5, 0.75, 1.5, 2, 3}[random.nextInt(5)];
            }
            float[] values = new float[(int) Arrays.stream(sizes).reduce(1, Math::multiplyExact)];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextGaussian();
            }
            Resize op = new Resize(mode, transform, Resize.NearestMode.ROUND_PREFER_FLOOR, -0.75, trial % 5 == 0, 0,
                    antialias, null, Resize.AspectPolicy.STRETCH);
            Tensor floats = arena.fromFloats(values, sizes);
            Tensor doubles = arena.allocate(DType.DOUBLE, sizes);
            for (int i = 0; i < values.length; i++) {
                doubles.storeDouble(i, values[i]);
            }
            double[] expected = resize(op, doubles, scales, 1);
            String what = op + " " + Arrays.toString(sizes) + " scales " + Arrays.toString(scales);
            boolean asOnnxRuntime = rank == 4 && mode == Resize.Mode.LINEAR && !antialias
                    && transform != Resize.Transform.HALF_PIXEL_SYMMETRIC && scales[rank - 3] == 1;
            for (int threads : new int[] {1, 2}) {
                double[] actual = resize(op, floats, scales, threads);
                assertThat(actual).as("%s, %d threads", what, threads).hasSameSizeAs(expected);
                for (int i = 0; i < expected.length; i++) {
                    if (asOnnxRuntime) {
                        assertThat(actual[i]).as("%s at %d", what, i)
                                .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-6 * (1 + Math.abs(expected[i]))));
                    } else {
                        assertThat(Float.floatToIntBits((float) actual[i])).as("%s at %d", what, i)
                                .isEqualTo(Float.floatToIntBits((float) expected[i]));
                    }
                }
            }
        }
    }

    @Test
    void aStridedImageResizesAsItsCopy() {
        float[] values = new float[2 * 3 * 4 * 5];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.25f - 7;
        }
        Tensor view = arena.fromFloats(values, 2, 3, 5, 4).permute(0, 1, 3, 2);
        Resize op = new Resize(Resize.Mode.LINEAR, Resize.Transform.HALF_PIXEL, Resize.NearestMode.ROUND_PREFER_FLOOR,
                -0.75, false, 0, false, null, Resize.AspectPolicy.STRETCH);
        double[] scales = {1, 1, 2, 1.5};
        assertThat(resize(op, view, scales, 2)).isEqualTo(resize(op, arena.copyOf(view), scales, 1));
    }

    private double[] resize(Resize op, Tensor x, double[] scales, int threads) {
        Value xValue = new Value("x", null);
        Value roi = new Value("roi", null);
        Value scalesValue = new Value("scales", null);
        Value y = new Value("y", null);
        float[] scaleFloats = new float[scales.length];
        for (int i = 0; i < scales.length; i++) {
            scaleFloats[i] = (float) scales[i];
        }
        Graph graph = Graph.builder("resize").input(xValue).constant(roi, arena.allocate(DType.FLOAT, 0))
                .constant(scalesValue, arena.fromFloats(scaleFloats, scales.length))
                .node(new Node("resize", op, List.of(xValue, roi, scalesValue), List.of(y), "test")).output(y).build();
        try (Session session = new Session(graph, new SessionOptions(threads, false)); Outputs outputs = session.run(Map.of("x", x))) {
            return outputs.get("y").toDoubleArray();
        }
    }
}
