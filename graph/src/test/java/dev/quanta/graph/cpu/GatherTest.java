package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quanta.graph.Graph;
import dev.quanta.graph.GraphException;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Gather;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Gather along every axis, with negative indices, from dense data (copied as bytes) and from a view. */
class GatherTest {

    private static final long[] SIZES = {4, 5, 3};
    private static final long[] INDICES = {-1, 2, 0, -3};

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    /** Distinct, every byte in use (an odd multiplier is a bijection), so that a short copy shows. */
    private static long value(long i, long j, long l) {
        return (i * 100 + j * 10 + l + 1) * 0x0101_0101_0101_0101L;
    }

    @Test
    void denseDataAndAViewGiveTheSlabsOfTheIndices() {
        long[] dense = new long[60];
        long[] transposed = new long[60];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 5; j++) {
                for (int l = 0; l < 3; l++) {
                    dense[(i * 5 + j) * 3 + l] = value(i, j, l);
                    transposed[(l * 5 + j) * 4 + i] = value(i, j, l);
                }
            }
        }
        Tensor denseData = arena.fromLongs(DType.INT64, dense, SIZES);
        Tensor view = arena.fromLongs(DType.INT64, transposed, 3, 5, 4).permute(2, 1, 0);
        assertThat(view.isContiguous()).isFalse();
        for (int axis = -3; axis < 3; axis++) {
            int positive = axis < 0 ? axis + 3 : axis;
            long[] expected = expected(positive);
            for (Tensor data : new Tensor[] {denseData, view}) {
                Tensor out = gather(axis, data, arena.fromLongs(DType.INT64, INDICES, 2, 2));
                long[] outSizes = new long[4];
                for (int d = 0, o = 0; d < 3; d++) {
                    if (d == positive) {
                        outSizes[o++] = 2;
                        outSizes[o++] = 2;
                    } else {
                        outSizes[o++] = SIZES[d];
                    }
                }
                assertThat(out.shape().sizes()).as("axis %d, contiguous %b", axis, data.isContiguous()).containsExactly(outSizes);
                assertThat(out.toLongArray()).as("axis %d, contiguous %b", axis, data.isContiguous()).containsExactly(expected);
            }
        }
    }

    @Test
    void anIndexOutOfRangeIsNamed() {
        Tensor data = arena.fromLongs(DType.INT64, new long[60], SIZES);
        assertThatThrownBy(() -> gather(1, data, arena.fromLongs(DType.INT64, new long[] {1, -6}, 2)))
                .isInstanceOf(GraphException.class).hasMessageContaining("index -6 is out of range for axis 1 of size 5");
    }

    /** The gathered values in row-major order: the data's index along {@code axis} taken from INDICES. */
    private static long[] expected(int axis) {
        long[] out = new long[60 / (int) SIZES[axis] * INDICES.length];
        int next = 0;
        long[] ranges = SIZES.clone();
        ranges[axis] = INDICES.length;
        for (long a = 0; a < ranges[0]; a++) {
            for (long b = 0; b < ranges[1]; b++) {
                for (long c = 0; c < ranges[2]; c++) {
                    long[] at = {a, b, c};
                    long index = INDICES[(int) at[axis]];
                    at[axis] = index < 0 ? index + SIZES[axis] : index;
                    out[next++] = value(at[0], at[1], at[2]);
                }
            }
        }
        return out;
    }

    private Tensor gather(int axis, Tensor data, Tensor indices) {
        Value x = new Value("x", null);
        Value i = new Value("i", null);
        Value y = new Value("y", null);
        Graph graph = Graph.builder("gather").input(x).input(i)
                .node(new Node("g", new Gather(axis), List.of(x, i), List.of(y), "test")).output(y).build();
        try (Session session = new Session(graph, new SessionOptions(1, false));
                Outputs outputs = session.run(Map.of("x", data, "i", indices))) {
            return arena.copyOf(outputs.get("y"));
        }
    }
}
