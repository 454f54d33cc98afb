package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Quantize;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** QuantizeLinear with one scale and zero point (the vector path) against the definition, split across threads. */
class QuantizeLinearTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void perTensorQuantizationRoundsHalfToEvenAndSaturatesOnAnyNumberOfThreads() {
        SplittableRandom random = new SplittableRandom(0x51A7);
        float scale = 0.0375f;
        // An odd size, so the threads' blocks end inside vectors; ties, saturation and non-finite values.
        float[] values = new float[257 * 131];
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (random.nextInt(6)) {
                case 0 -> (random.nextInt(-400, 400) + 0.5f) * scale;
                case 1 -> new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 1e30f,
                    -1e30f}[random.nextInt(6)];
                default -> (float) random.nextGaussian() * 6;
            };
        }
        Tensor input = arena.fromFloats(values, 257, 131);
        for (DType type : new DType[] {DType.UINT8, DType.INT8}) {
            int lowest = type == DType.INT8 ? -128 : 0;
            for (int zero : new int[] {lowest, lowest + 77, lowest + 255}) {
                Value x = new Value("x", null);
                Value s = new Value("scale", null);
                Value z = new Value("zero", null);
                Value y = new Value("y", null);
                Graph graph = Graph.builder("q").input(x)
                        .constant(s, arena.fromFloats(new float[] {scale}))
                        .constant(z, arena.fromLongs(type, new long[] {zero}))
                        .node(new Node("q", new Quantize(1, 0, true, null), List.of(x, s, z), List.of(y), "test"))
                        .output(y).build();
                for (int threads : new int[] {1, 2, 3}) {
                    try (Session session = new Session(graph, new SessionOptions(threads, false));
                            Outputs outputs = session.run(Map.of("x", input))) {
                        long[] actual = outputs.get("y").toLongArray();
                        for (int i = 0; i < values.length; i++) {
                            long expected = (long) Math.max(lowest, Math.min(lowest + 255, Math.rint(values[i] / scale) + zero));
                            assertThat(actual[i]).as("%s zero %d, %d threads: quantize(%s)", type, zero, threads, values[i])
                                    .isEqualTo(expected);
                        }
                    }
                }
            }
        }
    }
}
