package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Concat;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Concat against its definition: every output element is the element of the input whose range
 * of the axis holds it. Ranks 1 to 4, every axis (negative too), inputs empty along the axis,
 * several dtypes, outputs large enough that threads split their bytes (blocks cut mid-way), and
 * strided inputs, which take the element-wise copy; one thread and two.
 */
class ConcatTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void everyElementComesFromTheInputThatHoldsIt() {
        SplittableRandom random = new SplittableRandom(0xC0CA7L);
        DType[] dtypes = {DType.FLOAT, DType.UINT8, DType.INT64, DType.FLOAT16};
        for (int trial = 0; trial < 60; trial++) {
            int rank = 1 + trial % 4;
            int axis = random.nextInt(rank);
            boolean large = trial % 5 == 0;
            long[] sizes = new long[rank];
            for (int d = 0; d < rank; d++) {
                sizes[d] = large && d >= rank - 2 ? 150 + random.nextInt(150) : 1 + random.nextInt(5);
            }
            DType dtype = dtypes[trial % dtypes.length];
            int count = 1 + random.nextInt(4);
            List<Tensor> inputs = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                long[] own = sizes.clone();
                own[axis] = trial % 7 == 3 && i == 1 ? 0 : 1 + random.nextInt(large ? 40 : 5);
                inputs.add(filled(dtype, own, random, trial % 6 == 5 && i == 0 && rank >= 2));
            }
            int attribute = random.nextBoolean() ? axis : axis - rank;
            String what = "trial " + trial + " " + dtype + " " + inputs + " axis " + attribute;
            double[] expected = definition(inputs, axis);
            for (int threads : new int[] {1, 2}) {
                assertThat(concat(inputs, attribute, threads)).as("%s, %d threads", what, threads).isEqualTo(expected);
            }
        }
    }

    /** Values that every dtype holds exactly; transposed is a strided view of the same shape. */
    private Tensor filled(DType dtype, long[] sizes, SplittableRandom random, boolean transposed) {
        long[] stored = sizes.clone();
        if (transposed) {
            stored[0] = sizes[1];
            stored[1] = sizes[0];
        }
        Tensor tensor = arena.allocate(dtype, stored);
        for (long i = 0; i < tensor.elementCount(); i++) {
            tensor.storeDouble(i, random.nextInt(200));
        }
        if (!transposed) {
            return tensor;
        }
        int[] order = new int[sizes.length];
        for (int d = 0; d < order.length; d++) {
            order[d] = d;
        }
        order[0] = 1;
        order[1] = 0;
        return tensor.permute(order);
    }

    private static double[] definition(List<Tensor> inputs, int axis) {
        List<double[]> values = inputs.stream().map(Tensor::toDoubleArray).toList();
        long[] sizes = inputs.get(0).shape().sizes().clone();
        long outer = 1;
        for (int d = 0; d < axis; d++) {
            outer *= sizes[d];
        }
        long inner = 1;
        for (int d = axis + 1; d < sizes.length; d++) {
            inner *= sizes[d];
        }
        List<Double> out = new ArrayList<>();
        for (long o = 0; o < outer; o++) {
            for (int i = 0; i < inputs.size(); i++) {
                long block = inputs.get(i).size(axis) * inner;
                for (long e = 0; e < block; e++) {
                    out.add(values.get(i)[(int) (o * block + e)]);
                }
            }
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double[] concat(List<Tensor> inputs, int axis, int threads) {
        List<Value> values = new ArrayList<>();
        Graph.Builder builder = Graph.builder("concat");
        Map<String, Tensor> feeds = new HashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            Value value = new Value("x" + i, null);
            values.add(value);
            builder.input(value);
            feeds.put("x" + i, inputs.get(i));
        }
        Value y = new Value("y", null);
        Graph graph = builder.node(new Node("concat", new Concat(axis), values, List.of(y), "test")).output(y).build();
        try (Session session = new Session(graph, new SessionOptions(threads, false)); Outputs outputs = session.run(feeds)) {
            return outputs.get("y").toDoubleArray();
        }
    }
}
