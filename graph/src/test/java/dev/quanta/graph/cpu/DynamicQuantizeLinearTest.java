package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.DynamicQuantize;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** DynamicQuantizeLinear against its definition, and where the range of x is empty. */
class DynamicQuantizeLinearTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void quantizesOverTheRangeOfXAndZeroOnAnyNumberOfThreads() {
        SplittableRandom random = new SplittableRandom(0xD9_4A);
        float[] values = new float[97 * 61];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * 3 + 1);
        }
        float min = 0;
        float max = 0;
        for (float value : values) {
            min = Math.min(min, value);
            max = Math.max(max, value);
        }
        float scale = (max - min) / 255;
        long zero = (long) Math.max(0, Math.min(255, Math.rint(-min / scale)));
        for (int threads : new int[] {1, 2, 3}) {
            Result result = run(arena.fromFloats(values, 97, 61), threads);
            assertThat(result.scale()).isEqualTo(scale);
            assertThat(result.zeroPoint()).isEqualTo(zero);
            for (int i = 0; i < values.length; i++) {
                long expected = (long) Math.max(0, Math.min(255, Math.rint(values[i] / scale) + zero));
                assertThat(result.y()[i]).as("%d threads: quantize(%s)", threads, values[i]).isEqualTo(expected);
            }
        }
    }

    @Test
    void aRangeOfZeroTakesAScaleOfOneAsOnnxRuntimeDoes() {
        for (Tensor x : new Tensor[] {arena.fromFloats(new float[6 * 5], 6, 5), arena.fromFloats(new float[0], 0, 4)}) {
            Result result = run(x, 2);
            assertThat(result.scale()).as("scale of %s", x).isEqualTo(1f);
            assertThat(result.zeroPoint()).isZero();
            assertThat(result.y()).hasSize((int) x.elementCount()).containsOnly(new long[result.y().length]);
        }
    }

    private record Result(long[] y, float scale, long zeroPoint) {
    }

    private Result run(Tensor input, int threads) {
        Value x = new Value("x", null);
        Value y = new Value("y", null);
        Value scale = new Value("scale", null);
        Value zero = new Value("zero", null);
        Graph graph = Graph.builder("dql").input(x)
                .node(new Node("dql", new DynamicQuantize(), List.of(x), List.of(y, scale, zero), "test"))
                .output(y).output(scale).output(zero).build();
        try (Session session = new Session(graph, new SessionOptions(threads, false));
                Outputs outputs = session.run(Map.of("x", input))) {
            return new Result(outputs.get("y").toLongArray(), outputs.get("scale").toFloatArray()[0],
                    outputs.get("zero").toLongArray()[0]);
        }
    }
}
