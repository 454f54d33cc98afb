package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.LocalResponseNorm;
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
 * LRN over float planes by vectors (window squares summed in float, the power by the Vector API's
 * pow) against the general loop in double: odd and even window sizes, windows wider than the
 * channels, planes off the vector length, rank 3 to 5, one thread and two.
 */
class LocalResponseNormTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void floatPlanesMatchTheGeneralLoop() {
        SplittableRandom random = new SplittableRandom(0x1A7L);
        for (int trial = 0; trial < 40; trial++) {
            int rank = 3 + trial % 3;
            long[] sizes = new long[rank];
            sizes[0] = 1 + random.nextInt(2);
            sizes[1] = 1 + random.nextInt(9);
            for (int d = 2; d < rank; d++) {
                sizes[d] = 1 + random.nextInt(rank == 3 ? 70 : 9);
            }
            LocalResponseNorm op = new LocalResponseNorm(random.nextDouble(1e-4, 2), random.nextDouble(0.1, 1.5),
                    random.nextDouble(0.5, 3), 1 + random.nextInt(7));
            float[] values = new float[Math.toIntExact(Arrays.stream(sizes).reduce(1, Math::multiplyExact))];
            Tensor doubles = arena.allocate(DType.DOUBLE, Shape.of(sizes));
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (random.nextGaussian() * 3);
                doubles.storeDouble(i, values[i]);
            }
            double[] expected = run(op, doubles, 1).toDoubleArray();
            for (int threads : new int[] {1, 2}) {
                float[] actual = run(op, arena.fromFloats(values, sizes), threads).toFloatArray();
                for (int i = 0; i < expected.length; i++) {
                    assertThat((double) actual[i]).as("trial %d %s %s at %d, %d threads", trial, Arrays.toString(sizes), op, i,
                            threads).isCloseTo(expected[i], Offset.offset(1e-5 * (1 + Math.abs(expected[i]))));
                }
            }
        }
    }

    private Tensor run(LocalResponseNorm op, Tensor x, int threads) {
        Value input = new Value("x", null);
        Value y = new Value("y", null);
        Graph graph = Graph.builder("lrn").input(input).node(new Node("lrn", op, List.of(input), List.of(y), "test")).output(y)
                .build();
        try (Session session = new Session(graph, new SessionOptions(threads, false)); Outputs outputs = session.run(Map.of("x", x))) {
            return arena.copyOf(outputs.get("y"));
        }
    }
}
