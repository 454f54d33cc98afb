package dev.quanta.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Views against materialized copies: random chains of view operations applied to a tensor and,
 * by plain index arithmetic, to a dense reference array; both must hold the same elements.
 */
class TensorViewTest {

    private static final long SEED = 0x7E45_0A11L;
    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    /** A dense row-major array of element ids: the reference the views are checked against. */
    record Dense(long[] sizes, long[] values) {
        static Dense iota(long... sizes) {
            long[] values = new long[Math.toIntExact(Shape.of(sizes).elementCount())];
            Arrays.setAll(values, i -> i);
            return new Dense(sizes, values);
        }

        /** The array of shape {@code outSizes} whose element at each index is this one's at {@code source(index)}. */
        Dense gather(long[] outSizes, Function<long[], long[]> source) {
            long[] out = new long[Math.toIntExact(Shape.of(outSizes).elementCount())];
            long[] index = new long[outSizes.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = values[(int) flat(source.apply(index))];
                for (int axis = outSizes.length - 1; axis >= 0; axis--) {
                    if (++index[axis] < outSizes[axis]) {
                        break;
                    }
                    index[axis] = 0;
                }
            }
            return new Dense(outSizes, out);
        }

        long flat(long[] index) {
            long flat = 0;
            for (int axis = 0; axis < sizes.length; axis++) {
                flat = flat * sizes[axis] + index[axis];
            }
            return flat;
        }
    }

    enum Storage { FLOAT, INT16, INT4, STRING }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void randomChainsOfViewsMatchTheirReference(Storage storage) {
        SplittableRandom random = new SplittableRandom(SEED + storage.ordinal());
        for (int trial = 0; trial < 400; trial++) {
            int rank = random.nextInt(1, 5);
            long[] sizes = new long[rank];
            for (int axis = 0; axis < rank; axis++) {
                sizes[axis] = random.nextInt(10) == 0 ? 0 : random.nextInt(1, 6);
            }
            Dense reference = Dense.iota(sizes);
            Tensor tensor = filled(storage, reference);
            List<String> steps = new ArrayList<>();
            for (int step = 0; step < 4; step++) {
                Object[] applied = applyRandomView(random, tensor, reference);
                if (applied == null) {
                    continue;
                }
                tensor = (Tensor) applied[0];
                reference = (Dense) applied[1];
                steps.add((String) applied[2]);
                String what = "seed " + Long.toHexString(SEED) + " trial " + trial + " " + Arrays.toString(sizes) + " " + steps;
                assertThat(tensor.shape()).as(what).isEqualTo(Shape.of(reference.sizes()));
                assertThat(ids(storage, tensor)).as(what).containsExactly(expectedIds(storage, reference.values()));
                Tensor contiguous = tensor.contiguous();
                assertThat(contiguous.isContiguous()).as(what).isTrue();
                assertThat(contiguous == tensor).as(what + " copies only when needed").isEqualTo(tensor.isContiguous());
                assertThat(ids(storage, contiguous)).as(what).containsExactly(expectedIds(storage, reference.values()));
            }
        }
    }

    private static Object[] applyRandomView(SplittableRandom random, Tensor tensor, Dense ref) {
        long[] sizes = ref.sizes();
        int rank = sizes.length;
        switch (random.nextInt(7)) {
            case 0 -> { // slice, forwards or backwards
                if (rank == 0) {
                    return null;
                }
                int axis = random.nextInt(rank);
                long size = sizes[axis];
                long step = random.nextBoolean() ? random.nextInt(1, 4) : -random.nextInt(1, 4);
                long start;
                long end;
                if (step > 0) {
                    start = random.nextLong(0, size + 1);
                    end = random.nextLong(start, size + 1);
                } else {
                    if (size == 0) {
                        return null;
                    }
                    start = random.nextLong(0, size);
                    end = random.nextLong(-1, start + 1);
                }
                long length = step > 0 ? Math.ceilDiv(end - start, step) : Math.ceilDiv(start - end, -step);
                long[] out = sizes.clone();
                out[axis] = length;
                long from = start;
                Dense result = ref.gather(out, index -> with(index, axis, from + index[axis] * step));
                return new Object[] {tensor.slice(axis, start, end, step), result,
                    "slice(" + axis + ", " + start + ", " + end + ", " + step + ")"};
            }
            case 1 -> { // permute
                int[] order = shuffledAxes(random, rank);
                long[] out = new long[rank];
                for (int i = 0; i < rank; i++) {
                    out[i] = sizes[order[i]];
                }
                Dense result = ref.gather(out, index -> {
                    long[] source = new long[rank];
                    for (int i = 0; i < rank; i++) {
                        source[order[i]] = index[i];
                    }
                    return source;
                });
                return new Object[] {tensor.permute(order), result, "permute" + Arrays.toString(order)};
            }
            case 2 -> { // reshape to a random factorization of the element count
                long count = Shape.of(sizes).elementCount();
                long[] out = factorize(random, count);
                return new Object[] {tensor.reshape(out), new Dense(out, ref.values()), "reshape" + Arrays.toString(out)};
            }
            case 3 -> { // broadcast: a new leading axis, and size-1 axes stretched
                long[] out = new long[rank + 1];
                out[0] = random.nextInt(1, 4);
                for (int axis = 0; axis < rank; axis++) {
                    out[axis + 1] = sizes[axis] == 1 ? random.nextInt(1, 4) : sizes[axis];
                }
                Dense result = ref.gather(out, index -> {
                    long[] source = new long[rank];
                    for (int axis = 0; axis < rank; axis++) {
                        source[axis] = sizes[axis] == 1 ? 0 : index[axis + 1];
                    }
                    return source;
                });
                return new Object[] {tensor.broadcastTo(out), result, "broadcastTo" + Arrays.toString(out)};
            }
            case 4 -> { // unsqueeze one axis
                int axis = random.nextInt(-(rank + 1), rank + 1);
                int position = axis < 0 ? axis + rank + 1 : axis;
                long[] out = new long[rank + 1];
                for (int i = 0, source = 0; i < rank + 1; i++) {
                    out[i] = i == position ? 1 : sizes[source++];
                }
                return new Object[] {tensor.unsqueeze(axis), new Dense(out, ref.values()), "unsqueeze(" + axis + ")"};
            }
            case 5 -> { // squeeze every size-1 axis
                long[] out = Arrays.stream(sizes).filter(size -> size != 1).toArray();
                return new Object[] {tensor.squeeze(), new Dense(out, ref.values()), "squeeze()"};
            }
            default -> { // select one index of an axis
                if (rank < 2) {
                    return null;
                }
                int axis = random.nextInt(rank);
                if (sizes[axis] == 0) {
                    return null;
                }
                long index = random.nextLong(sizes[axis]);
                long[] out = new long[rank - 1];
                for (int i = 0, source = 0; i < rank; i++) {
                    if (i != axis) {
                        out[source++] = sizes[i];
                    }
                }
                Dense result = ref.gather(out, outIndex -> {
                    long[] source = new long[rank];
                    for (int i = 0, o = 0; i < rank; i++) {
                        source[i] = i == axis ? index : outIndex[o++];
                    }
                    return source;
                });
                return new Object[] {tensor.select(axis, index), result, "select(" + axis + ", " + index + ")"};
            }
        }
    }

    @Test
    void viewsShareStorageWithTheirSource() {
        Tensor matrix = arena.fromFloats(new float[] {0, 1, 2, 3, 4, 5}, 2, 3);
        Tensor column = matrix.permute(1, 0).select(0, 2);
        column.setFloat(42, 1);
        assertThat(matrix.getFloat(1, 2)).isEqualTo(42);
        assertThat(matrix.reshape(3, 2).segment()).isSameAs(matrix.segment());
        assertThat(matrix.permute(1, 0).reshape(6).segment()).isNotSameAs(matrix.segment()); // had to copy
    }

    @Test
    void broadcastAxesHaveZeroStride() {
        Tensor row = arena.fromFloats(new float[] {1, 2, 3}, 1, 3);
        Tensor grid = row.broadcastTo(4, 2, 3);
        assertThat(grid.strides()).containsExactly(0, 0, 1);
        assertThat(grid.getFloat(3, 1, 2)).isEqualTo(3);
        assertThatThrownBy(() -> row.broadcastTo(2, 4)).isInstanceOf(ShapeException.class);
    }

    @Test
    void copyToPairsDifferentLayouts() {
        Tensor source = arena.fromFloats(new float[] {0, 1, 2, 3, 4, 5}, 2, 3);
        Tensor target = arena.allocate(DType.FLOAT, 3, 4);
        source.permute(1, 0).copyTo(target.slice(1, 1, 3));
        assertThat(target.toFloatArray()).containsExactly(0, 0, 3, 0, 0, 1, 4, 0, 0, 2, 5, 0);
        assertThatThrownBy(() -> source.copyTo(target)).isInstanceOf(ShapeException.class);
    }

    @Test
    void invalidViewsAreRefusedClearly() {
        Tensor tensor = arena.allocate(DType.FLOAT, 2, 3);
        assertThatThrownBy(() -> tensor.slice(1, 0, 4)).isInstanceOf(ShapeException.class).hasMessageContaining("size 3");
        assertThatThrownBy(() -> tensor.slice(0, 0, 1, 0)).isInstanceOf(ShapeException.class);
        assertThatThrownBy(() -> tensor.permute(0, 0)).isInstanceOf(ShapeException.class);
        assertThatThrownBy(() -> tensor.reshape(4, 2)).isInstanceOf(ShapeException.class).hasMessageContaining("6 elements");
        assertThatThrownBy(() -> tensor.squeeze(0)).isInstanceOf(ShapeException.class);
        assertThatThrownBy(() -> tensor.unsqueeze(0, 0)).isInstanceOf(ShapeException.class);
        assertThatThrownBy(() -> tensor.select(0, 2)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> tensor.permute(1, 0).data()).isInstanceOf(QuantaException.class)
                .hasMessageContaining("contiguous()");
    }

    @Test
    void dataOfAContiguousViewIsExactlyItsBytes() {
        Tensor tensor = arena.fromFloats(new float[] {0, 1, 2, 3, 4, 5}, 2, 3);
        Tensor secondRow = tensor.select(0, 1);
        assertThat(secondRow.data().byteSize()).isEqualTo(12);
        assertThat(secondRow.byteOffset()).isEqualTo(12);
        assertThat(secondRow.data().get(Layouts.FLOAT, 0)).isEqualTo(3);
    }

    @Test
    void arraysOfContiguousViewsCopyJustTheirElementsInBulk() {
        Tensor floats = arena.fromFloats(new float[] {0, 1, 2, Float.NaN, -0f, 5}, 2, 3);
        assertThat(floats.select(0, 1).toFloatArray()).containsExactly(Float.NaN, -0f, 5);
        assertThat(floats.select(0, 1).toDoubleArray()).containsExactly(Double.NaN, -0d, 5);
        assertThat(floats.slice(1, 1, 3).toFloatArray()).containsExactly(1, 2, -0f, 5); // strided, element by element
        Tensor doubles = arena.fromDoubles(new double[] {1e300, 2, 3, -4}, 2, 2);
        assertThat(doubles.select(0, 1).toDoubleArray()).containsExactly(3, -4);
        assertThat(doubles.select(0, 0).toFloatArray()).containsExactly(Float.POSITIVE_INFINITY, 2);
    }

    // ---------------------------------------------------------------- helpers

    private Tensor filled(Storage storage, Dense reference) {
        long[] ids = reference.values();
        Tensor tensor = arena.allocate(switch (storage) {
            case FLOAT -> DType.FLOAT;
            case INT16 -> DType.INT16;
            case INT4 -> DType.INT4;
            case STRING -> DType.STRING;
        }, reference.sizes());
        Tensor flat = tensor.reshape(ids.length);
        for (int i = 0; i < ids.length; i++) {
            switch (storage) {
                case STRING -> flat.setString("s" + ids[i], i);
                case INT4 -> flat.setLong(ids[i] % 16 - 8, i);
                default -> flat.setLong(ids[i], i);
            }
        }
        return tensor;
    }

    /** The element ids a tensor holds, decoded from how {@link #filled} stored them. */
    private static long[] ids(Storage storage, Tensor tensor) {
        return switch (storage) {
            case STRING -> Arrays.stream(tensor.toStringArray()).mapToLong(s -> Long.parseLong(s.substring(1))).toArray();
            case INT4 -> Arrays.stream(tensor.toLongArray()).map(v -> v + 8).toArray();
            default -> tensor.toLongArray();
        };
    }

    /** With int4 only ids modulo 16 survive; references are compared the same way. */
    private static long[] expectedIds(Storage storage, long[] reference) {
        return storage == Storage.INT4 ? Arrays.stream(reference).map(v -> v % 16).toArray() : reference;
    }

    private static long[] with(long[] index, int axis, long value) {
        long[] copy = index.clone();
        copy[axis] = value;
        return copy;
    }

    private static int[] shuffledAxes(SplittableRandom random, int rank) {
        int[] order = new int[rank];
        Arrays.setAll(order, i -> i);
        for (int i = rank - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        return order;
    }

    private static long[] factorize(SplittableRandom random, long count) {
        List<Long> factors = new ArrayList<>();
        if (count == 0) {
            factors.add(0L);
            factors.add((long) random.nextInt(1, 4));
        } else {
            long rest = count;
            for (long p = 2; p <= rest; p++) {
                while (rest % p == 0) {
                    factors.add(p);
                    rest /= p;
                }
            }
        }
        List<Long> out = new ArrayList<>();
        for (long factor : factors) {
            if (!out.isEmpty() && random.nextBoolean()) {
                out.set(out.size() - 1, out.get(out.size() - 1) * factor);
            } else {
                out.add(factor);
            }
        }
        if (random.nextBoolean()) {
            out.add(random.nextInt(out.size() + 1), 1L);
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"INT8", "INT16", "INT32", "INT64"})
    void transposedViewsCopyElementForElementAtEverySize(DType dtype) {
        long[] values = new long[3 * 5 * 7];
        Arrays.setAll(values, i -> i - 50);
        Tensor tensor = arena.fromLongs(dtype, values, 3, 5, 7);
        // Last axis strided (a transpose's rows), and then contiguous again after a second permute.
        for (int[] order : new int[][] {{0, 2, 1}, {2, 1, 0}, {1, 0, 2}}) {
            Tensor view = tensor.permute(order);
            Tensor copy = view.contiguous();
            assertThat(copy.isContiguous()).isTrue();
            long[] sizes = view.shape().sizes();
            int flat = 0;
            for (long i = 0; i < sizes[0]; i++) {
                for (long j = 0; j < sizes[1]; j++) {
                    for (long k = 0; k < sizes[2]; k++, flat++) {
                        long[] index = new long[3];
                        index[order[0]] = i;
                        index[order[1]] = j;
                        index[order[2]] = k;
                        assertThat(copy.loadLong(copy.offset() + flat)).as("%s %s at %d", dtype, Arrays.toString(order), flat)
                                .isEqualTo(values[(int) ((index[0] * 5 + index[1]) * 7 + index[2])]);
                    }
                }
            }
        }
    }
}
