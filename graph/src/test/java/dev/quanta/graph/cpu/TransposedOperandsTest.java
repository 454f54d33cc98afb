package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.Transpose;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Float element-wise products and sums whose operands are transposed views, alone, both, or
 * against a per-channel operand that broadcasts (ConvNeXt's layer scale): each element the one
 * float operation, on one thread and two.
 */
class TransposedOperandsTest {

    private static final int C = 19;
    private static final int H = 6;
    private static final int W = 23;

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void transposedOperandsGiveEachElementsOneOperation() {
        SplittableRandom random = new SplittableRandom(0x7A_05EL);
        float[] x = values(random, H * W * C); // [1, H, W, C], read as [1, C, H, W] through a transpose
        float[] y = values(random, H * W * C);
        float[] scale = values(random, C); // [C, 1, 1]
        for (int threads : new int[] {1, 2}) {
            float[] scaled = run(Binary.Kind.MUL, x, null, scale, threads);
            float[] sums = run(Binary.Kind.ADD, x, y, null, threads);
            for (int c = 0; c < C; c++) {
                for (int p = 0; p < H * W; p++) {
                    int out = c * H * W + p;
                    int in = p * C + c;
                    assertThat(scaled[out]).as("x·scale at %d, %d threads", out, threads).isEqualTo(x[in] * scale[c]);
                    assertThat(sums[out]).as("x + y at %d, %d threads", out, threads).isEqualTo(x[in] + y[in]);
                }
            }
        }
    }

    /** x (and y, when given) transposed from [1, H, W, C] to [1, C, H, W], then combined with y or with a [C, 1, 1] scale. */
    private float[] run(Binary.Kind kind, float[] x, float[] y, float[] scale, int threads) {
        Value xValue = new Value("x", null);
        Value xView = new Value("xt", null);
        Value other = new Value("other", null);
        Value otherView = new Value("ot", null);
        Value result = new Value("z", null);
        Transpose toChannelsFirst = new Transpose(new int[] {0, 3, 1, 2});
        Graph.Builder builder = Graph.builder("binary").input(xValue).input(other)
                .node(new Node("tx", toChannelsFirst, List.of(xValue), List.of(xView), "test"));
        Value second = other;
        if (y != null) {
            builder.node(new Node("ty", toChannelsFirst, List.of(other), List.of(otherView), "test"));
            second = otherView;
        }
        Graph graph = builder.node(new Node("op", new Binary(kind), List.of(xView, second), List.of(result), "test"))
                .output(result).build();
        Map<String, dev.quanta.tensor.Tensor> feeds = Map.of("x", arena.fromFloats(x, 1, H, W, C),
                "other", y != null ? arena.fromFloats(y, 1, H, W, C) : arena.fromFloats(scale, C, 1, 1));
        try (Session session = new Session(graph, new SessionOptions(threads, false)); Outputs outputs = session.run(feeds)) {
            return outputs.get("z").toFloatArray();
        }
    }

    private static float[] values(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
