package dev.quanta.graph.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.Einsum;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two-operand float einsums, which run as batched MatMuls where their labels allow (batch, rows,
 * depth and columns in any order, ellipses, an implicit output) and by direct summation where they
 * do not (a label broadcast, summed away in one operand, repeated in one): against the definition,
 * summed in double, on one thread and two.
 */
class EinsumKernelTest {

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void productsMatchTheDefinition() {
        check("bhid,bhjd->bhij", Map.of('b', 2L, 'h', 3L, 'i', 17L, 'j', 19L, 'd', 8L));
        check("bhij,bhjd->bhid", Map.of('b', 2L, 'h', 3L, 'i', 17L, 'j', 19L, 'd', 8L));
        check("ij,jk->ik", Map.of('i', 33L, 'j', 40L, 'k', 7L));
        check("ij,kj->ki", Map.of('i', 5L, 'j', 40L, 'k', 9L));
        check("i,i->", Map.of('i', 50L));
        check("i,j->ji", Map.of('i', 6L, 'j', 4L));
        check("nchw,oc->nohw", Map.of('n', 2L, 'c', 5L, 'h', 4L, 'w', 3L, 'o', 6L));
        check("ij,ji->", Map.of('i', 7L, 'j', 9L));
        check("abc,cd", Map.of('a', 3L, 'b', 4L, 'c', 5L, 'd', 6L));
        check("xij,jk->xik", Map.of('x', 4L, 'i', 0L, 'j', 3L, 'k', 2L));
        check(",i->i", Map.of('i', 5L)); // a scalar operand
    }

    @Test
    void ellipsesAndWhatNoMatMulTakesMatchTheDefinition() {
        // The ellipsis as two leading labels of both operands.
        checkShapes("...ij,...jk->...ik", "pqij,pqjk->pqik", new long[] {2, 3, 4, 5}, new long[] {2, 3, 5, 6});
        // A batch label broadcast from 1, a label summed away in the first operand, a diagonal.
        checkShapes("bij,bjk->bik", "bij,bjk->bik", new long[] {1, 4, 5}, new long[] {3, 5, 2});
        checkShapes("ij,jk->k", "ij,jk->k", new long[] {4, 5}, new long[] {5, 3});
        checkShapes("ii,ij->ij", "ii,ij->ij", new long[] {4, 4}, new long[] {4, 3});
    }

    private void check(String equation, Map<Character, Long> sizes) {
        String[] terms = equation.split("->")[0].split(",");
        checkShapes(equation, equation, shape(terms[0], sizes), shape(terms[1], sizes));
    }

    /** {@code labelled} spells out {@code equation}'s ellipsis in letters for the reference. */
    private void checkShapes(String equation, String labelled, long[] aSizes, long[] bSizes) {
        SplittableRandom random = new SplittableRandom(equation.hashCode());
        float[] a = values(random, aSizes);
        float[] b = values(random, bSizes);
        double[] expected = reference(labelled, a, aSizes, b, bSizes);
        for (int threads : new int[] {1, 2}) {
            float[] actual = run(equation, arena.fromFloats(a, aSizes), arena.fromFloats(b, bSizes), threads);
            assertThat(actual).as("%s, %d threads", equation, threads).hasSize(expected.length);
            for (int i = 0; i < expected.length; i++) {
                assertThat((double) actual[i]).as("%s at %d", equation, i)
                        .isCloseTo(expected[i], Offset.offset(1e-4 * (1 + Math.abs(expected[i]))));
            }
        }
    }

    private static long[] shape(String term, Map<Character, Long> sizes) {
        return term.chars().mapToLong(c -> sizes.get((char) c)).toArray();
    }

    private static float[] values(SplittableRandom random, long[] sizes) {
        float[] values = new float[(int) java.util.Arrays.stream(sizes).reduce(1, Math::multiplyExact)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    /** Σ over every assignment of the labels of the product, into the output's labels (implicit: those seen once, sorted). */
    private static double[] reference(String equation, float[] a, long[] aSizes, float[] b, long[] bSizes) {
        String[] sides = equation.split("->", -1);
        String[] terms = sides[0].split(",");
        Map<Character, Long> sizes = new LinkedHashMap<>();
        for (int i = 0; i < terms[0].length(); i++) {
            sizes.merge(terms[0].charAt(i), aSizes[i], Math::max);
        }
        for (int i = 0; i < terms[1].length(); i++) {
            sizes.merge(terms[1].charAt(i), bSizes[i], Math::max);
        }
        String out = sides.length > 1 ? sides[1] : sizes.keySet().stream()
                .filter(c -> (terms[0] + terms[1]).chars().filter(x -> x == c).count() == 1).sorted()
                .map(String::valueOf).reduce("", String::concat);
        List<Character> labels = new ArrayList<>(sizes.keySet());
        long outCount = out.chars().mapToLong(c -> sizes.get((char) c)).reduce(1, Math::multiplyExact);
        double[] result = new double[(int) outCount];
        long[] index = new long[labels.size()];
        long total = labels.stream().mapToLong(sizes::get).reduce(1, Math::multiplyExact);
        for (long step = 0; step < total; step++) {
            long rest = step;
            for (int l = labels.size() - 1; l >= 0; l--) {
                index[l] = rest % sizes.get(labels.get(l));
                rest /= sizes.get(labels.get(l));
            }
            result[(int) flat(out, labels, index, sizes, null)] +=
                    (double) a[(int) flat(terms[0], labels, index, sizes, aSizes)] * b[(int) flat(terms[1], labels, index, sizes, bSizes)];
        }
        return result;
    }

    /** The flat position of the labels' current values in a term's tensor; a size-1 axis broadcasts. */
    private static long flat(String term, List<Character> labels, long[] index, Map<Character, Long> sizes, long[] own) {
        long position = 0;
        for (int i = 0; i < term.length(); i++) {
            long size = own == null ? sizes.get(term.charAt(i)) : own[i];
            position = position * size + (size == 1 ? 0 : index[labels.indexOf(term.charAt(i))]);
        }
        return position;
    }

    private float[] run(String equation, Tensor a, Tensor b, int threads) {
        Value x = new Value("a", null);
        Value y = new Value("b", null);
        Value z = new Value("z", null);
        Graph graph = Graph.builder("einsum").input(x).input(y)
                .node(new Node("einsum", new Einsum(equation), List.of(x, y), List.of(z), "test")).output(z).build();
        try (Session session = new Session(graph, new SessionOptions(threads, false));
                Outputs outputs = session.run(Map.of("a", a, "b", b))) {
            return outputs.get("z").toFloatArray();
        }
    }
}
