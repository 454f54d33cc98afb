package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.ChannelNormalize;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Instance and batch normalization of float planes, by vectors across the threads, against the
 * general loop in double: planes off the vector length and of a quarter of a million values far
 * from zero (the instance statistics summed in float blocks, added in double), the batch norm in
 * inference and in training (its running statistics too).
 */
class ChannelNormalizeTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void floatPlanesMatchTheGeneralLoop() {
        SplittableRandom random = new SplittableRandom(0xB40L);
        for (int trial = 0; trial < 30; trial++) {
            boolean instance = trial % 3 != 2;
            boolean training = !instance && trial % 2 == 0;
            long[] sizes = trial == 0 ? new long[] {1, 2, 500, 500}
                    : new long[] {1 + random.nextInt(3), 1 + random.nextInt(6), 1 + random.nextInt(40), 1 + random.nextInt(40)};
            int channels = (int) sizes[1];
            double offset = trial % 4 == 0 ? 1000 : 0;
            float[] values = new float[Math.toIntExact(Arrays.stream(sizes).reduce(1, Math::multiplyExact))];
            Tensor doubles = arena.allocate(DType.DOUBLE, Shape.of(sizes));
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (offset + random.nextGaussian() * 2);
                doubles.storeDouble(i, values[i]);
            }
            List<float[]> parameters = new ArrayList<>();
            for (int p = 0; p < (instance ? 2 : 4); p++) {
                float[] parameter = new float[channels];
                for (int c = 0; c < channels; c++) {
                    parameter[c] = (float) (p == 3 ? random.nextDouble(0.5, 3) : random.nextGaussian());
                }
                parameters.add(parameter);
            }
            ChannelNormalize op = new ChannelNormalize(1e-5, training, 0.9);
            String what = String.format("trial %d %s%s %s", trial, instance ? "instance" : "batch", training ? " training" : "",
                    Arrays.toString(sizes));
            Tensor[] expected = run(op, doubles, parameters, DType.DOUBLE, 1);
            for (int threads : new int[] {1, 2}) {
                Tensor[] actual = run(op, arena.fromFloats(values, sizes), parameters, DType.FLOAT, threads);
                for (int output = 0; output < expected.length; output++) {
                    double[] want = expected[output].toDoubleArray();
                    float[] got = actual[output].toFloatArray();
                    for (int i = 0; i < want.length; i++) {
                        assertThat((double) got[i]).as("%s output %d at %d, %d threads", what, output, i, threads)
                                .isCloseTo(want[i], Offset.offset(2e-4 * (1 + Math.abs(want[i]))));
                    }
                }
            }
        }
    }

    private Tensor[] run(ChannelNormalize op, Tensor x, List<float[]> parameters, DType type, int threads) {
        Value input = new Value("x", null);
        Graph.Builder builder = Graph.builder("norm").input(input);
        List<Value> inputs = new ArrayList<>(List.of(input));
        for (int p = 0; p < parameters.size(); p++) {
            Value value = new Value("p" + p, null);
            float[] floats = parameters.get(p);
            Tensor tensor = arena.allocate(type, Shape.of(floats.length));
            for (int i = 0; i < floats.length; i++) {
                tensor.storeDouble(i, floats[i]);
            }
            builder.constant(value, tensor);
            inputs.add(value);
        }
        List<Value> outputs = op.training() ? List.of(new Value("y", null), new Value("mean", null), new Value("variance", null))
                : List.of(new Value("y", null));
        builder.node(new Node("norm", op, inputs, outputs, "test"));
        outputs.forEach(builder::output);
        try (Session session = new Session(builder.build(), new SessionOptions(threads, false));
                Outputs result = session.run(Map.of("x", x))) {
            return outputs.stream().map(output -> arena.copyOf(result.get(output.name()))).toArray(Tensor[]::new);
        }
    }
}
