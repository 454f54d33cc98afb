package dev.quanta.kernels.simd;

import dev.quanta.tensor.Layouts;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The register-blocked GEMM against its double-precision reference, on random and awkward shapes. */
class FloatGemmTest {

    private static final long SEED = 0x6E44_0001L;

    @Test
    void matchesTheReferenceOnRandomShapesWithStridedRows() {
        SplittableRandom random = new SplittableRandom(SEED);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 300; trial++) {
                // Every tenth product is deep enough to span several packed panels of B.
                int m = random.nextInt(1, 23);
                int n = random.nextInt(1, 70);
                int k = trial % 10 == 0 ? random.nextInt(FloatGemm.DEPTH, 3 * FloatGemm.DEPTH) : random.nextInt(0, 50);
                checkAgainstReference(arena, random, m, n, k, "trial " + trial);
            }
        }
    }

    @Test
    void largeShapesCrossEveryChunkOfRowsAndColumns() {
        SplittableRandom random = new SplittableRandom(SEED + 2);
        try (Arena arena = Arena.ofConfined()) {
            int[][] shapes = {
                {FloatGemm.ROW_CHUNK * 2 + 5, FloatGemm.COLUMN_CHUNK + 2 * FloatGemm.PANEL + 3, FloatGemm.DEPTH + 7},
                {FloatGemm.ROW_CHUNK + 1, FloatGemm.COLUMN_CHUNK * 2 + 1, 9},
                {FloatGemm.ROWS * 3, FloatGemm.COLUMN_CHUNK, 2 * FloatGemm.DEPTH},
            };
            for (int[] shape : shapes) {
                checkAgainstReference(arena, random, shape[0], shape[1], shape[2], java.util.Arrays.toString(shape));
            }
        }
    }

    private static void checkAgainstReference(Arena arena, SplittableRandom random, int m, int n, int k, String label) {
        int padA = random.nextInt(3);
        int padB = random.nextInt(3);
        int padC = random.nextInt(3);
        boolean accumulate = random.nextBoolean();
        FloatGemm.Matrix a = matrix(arena, random, m, k + padA, 2);
        FloatGemm.Matrix b = matrix(arena, random, k, n + padB, 0);
        FloatGemm.Matrix c = matrix(arena, random, m, n + padC, 1);
        FloatGemm.Matrix expected = copy(arena, c, m, n + padC);
        FloatGemm.multiply(a, b, c, m, n, k, accumulate);
        FloatGemm.reference(a, b, expected, m, n, k, accumulate);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float actual = c.segment().get(Layouts.FLOAT, c.byteAt(i, j));
                float wanted = expected.segment().get(Layouts.FLOAT, expected.byteAt(i, j));
                assertThat(actual).as("%s m=%d n=%d k=%d at (%d, %d)", label, m, n, k, i, j)
                        .isCloseTo(wanted, org.assertj.core.data.Offset.offset(1e-4f * (1 + Math.abs(wanted))));
            }
        }
        // Padding beyond n must be untouched.
        for (int i = 0; i < m; i++) {
            for (int j = n; j < n + padC; j++) {
                assertThat(c.segment().get(Layouts.FLOAT, c.byteAt(i, j)))
                        .isEqualTo(expected.segment().get(Layouts.FLOAT, expected.byteAt(i, j)));
            }
        }
    }

    @Test
    void propagatesInfinitiesAndNaN() {
        try (Arena arena = Arena.ofConfined()) {
            FloatGemm.Matrix a = fill(arena, new float[] {Float.MAX_VALUE, Float.MAX_VALUE, 1, Float.NaN}, 2);
            FloatGemm.Matrix b = fill(arena, new float[] {2, 1, 1, 1}, 2);
            FloatGemm.Matrix c = fill(arena, new float[4], 2);
            FloatGemm.multiply(a, b, c, 2, 2, 2, false);
            assertThat(c.segment().get(Layouts.FLOAT, 0)).isEqualTo(Float.POSITIVE_INFINITY);
            assertThat(c.segment().get(Layouts.FLOAT, 8)).isNaN();
        }
    }

    @Test
    void integerProductsAreExactInInt32() {
        SplittableRandom random = new SplittableRandom(SEED + 1);
        int limit = FloatGemm.EXACT_OPERAND_LIMIT;
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 122; trial++) {
                // M = 1, tiny and odd shapes; depths past one and several blocks; the last two trials
                // past a chunk of rows and of columns. A third of the trials fill each operand with one
                // of ±limit: the largest sums, past what float holds exactly.
                boolean large = trial >= 120;
                int m = large ? FloatGemm.ROW_CHUNK + 7 : trial % 7 == 0 ? 1 : random.nextInt(1, 19);
                int n = large ? FloatGemm.COLUMN_CHUNK + 5 : random.nextInt(1, 53);
                int k = trial % 4 == 0 ? random.nextInt(FloatGemm.DEPTH - 1, 4 * FloatGemm.DEPTH + 3) : random.nextInt(0, 40);
                boolean extreme = trial % 3 == 0;
                float[] a = integers(random, m * k, limit, extreme);
                float[] b = integers(random, k * n, limit, extreme);
                FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(4L * m * n + 4, 64), 0, n);
                c.segment().fill((byte) 0x5A);
                FloatGemm.multiplyIntegers(fill(arena, a, k), fill(arena, b, n), c, m, n, k);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        long sum = 0;
                        for (int p = 0; p < k; p++) {
                            sum += (long) a[i * k + p] * (long) b[p * n + j];
                        }
                        assertThat(c.segment().get(Layouts.INT32, c.byteAt(i, j)))
                                .as("seed %x trial %d m=%d n=%d k=%d at (%d, %d)", SEED + 1, trial, m, n, k, i, j)
                                .isEqualTo((int) sum);
                    }
                }
            }
        }
    }

    /** Integers in [-limit, limit], or all one of ±limit when {@code extreme}. */
    private static float[] integers(SplittableRandom random, int count, int limit, boolean extreme) {
        float[] values = new float[count];
        float sign = random.nextBoolean() ? 1 : -1;
        for (int i = 0; i < count; i++) {
            values[i] = extreme ? sign * limit : random.nextInt(-limit, limit + 1);
        }
        return values;
    }

    private static FloatGemm.Matrix matrix(Arena arena, SplittableRandom random, int rows, int stride, long offset) {
        MemorySegment segment = arena.allocate((offset + (long) rows * stride) * 4 + 64, 64);
        for (long i = 0; i < offset + (long) rows * stride; i++) {
            segment.set(Layouts.FLOAT, i * 4, (float) random.nextGaussian());
        }
        return new FloatGemm.Matrix(segment, offset, stride);
    }

    private static FloatGemm.Matrix copy(Arena arena, FloatGemm.Matrix source, int rows, int stride) {
        MemorySegment segment = arena.allocate(source.segment().byteSize(), 64);
        segment.copyFrom(source.segment());
        return new FloatGemm.Matrix(segment, source.offset(), stride);
    }

    private static FloatGemm.Matrix fill(Arena arena, float[] values, int stride) {
        MemorySegment segment = arena.allocate(values.length * 4L, 64);
        MemorySegment.copy(values, 0, segment, Layouts.FLOAT, 0, values.length);
        return new FloatGemm.Matrix(segment, 0, stride);
    }
}
