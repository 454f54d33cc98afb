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
    void fewRowsMatchTheReferenceAcrossWidePanels() {
        // Under PACKING_MIN_ROWS rows B is read where it lies, eight vectors of columns at a time
        // and the rest by two: widths past several such steps, with a remainder, at depths within
        // one slice and across slices.
        SplittableRandom random = new SplittableRandom(SEED + 4);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 40; trial++) {
                int m = random.nextInt(1, FloatGemm.PACKING_MIN_ROWS);
                int n = random.nextInt(FloatGemm.WIDE_PANEL - 3, 3 * FloatGemm.WIDE_PANEL + 40);
                int k = trial % 4 == 0 ? random.nextInt(FloatGemm.DEPTH, 2 * FloatGemm.DEPTH + 9) : random.nextInt(0, 60);
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

    /**
     * A B stored by columns (a transposed view) gives the bits of the same B stored by rows: the
     * packed panels are the same, so is the kernel's order of operations.
     */
    /**
     * An A packed once gives the bits of A packed per product: rows under a tile, one tile, across
     * chunks of rows, depths within one slice and across several with a short last one, strided A.
     */
    @Test
    void aPackedOnceGivesTheBitsOfPackingPerProduct() {
        SplittableRandom random = new SplittableRandom(SEED + 4);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 80; trial++) {
                int m = trial % 10 == 0 ? random.nextInt(1, FloatGemm.PACKING_MIN_ROWS)
                        : random.nextInt(FloatGemm.PACKING_MIN_ROWS, trial % 3 == 0 ? 3 * FloatGemm.ROW_CHUNK : 40);
                int n = random.nextInt(1, 90);
                int k = trial % 4 == 0 ? random.nextInt(FloatGemm.DEPTH, 3 * FloatGemm.DEPTH + 9) : random.nextInt(1, 70);
                boolean accumulate = random.nextBoolean();
                FloatGemm.Matrix a = matrix(arena, random, m, k + random.nextInt(3), 1);
                FloatGemm.Matrix b = matrix(arena, random, k, n, 0);
                FloatGemm.Matrix perProduct = matrix(arena, random, m, n, 2);
                FloatGemm.Matrix once = copy(arena, perProduct, m, n);
                FloatGemm.multiply(a, b, perProduct, m, n, k, accumulate);
                MemorySegment packed = arena.allocate(FloatGemm.packedABytes(m, k), 64);
                FloatGemm.multiply(FloatGemm.packA(a, m, k, packed), b, once, n, accumulate);
                assertSameBits(perProduct, once, m, n, "trial " + trial + " m=" + m + " n=" + n + " k=" + k);
            }
            FloatGemm.Matrix a = matrix(arena, random, 8, 8, 0);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> FloatGemm.packA(a, 8, 8, arena.allocate(16)))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    /**
     * A padded image read in place gives the bits of the definition over its patches: each output a
     * chain of fused multiply-adds over a slice of {@link FloatGemm#MAX_DEPTH} taps in order, the
     * slices' sums added up: rows under a tile and across chunks, depths across slices, columns in
     * part of a panel, taps in any order; columns that would read past the values are refused.
     * Skipped where the micro-kernel takes six rows (AVX2), which has no such product.
     */
    @Test
    void aPaddedImageGivesTheBitsOfTheDefinitionInSlices() {
        org.junit.jupiter.api.Assumptions.assumeTrue(FloatGemm.READS_PADDED_IMAGES, "eight rows a tile (AVX-512)");
        SplittableRandom random = new SplittableRandom(SEED + 9);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 40; trial++) {
                int m = random.nextInt(1, trial % 3 == 0 ? 2 * FloatGemm.ROW_CHUNK : 20);
                int n = random.nextInt(1, 100);
                int k = trial % 4 == 0 ? random.nextInt(FloatGemm.MAX_DEPTH - 9, 2 * FloatGemm.MAX_DEPTH + 9)
                        : random.nextInt(1, 60);
                int first = random.nextInt(0, 50);
                float[] values = new float[first + n + FloatGemm.PANEL + 400];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) random.nextGaussian();
                }
                int[] taps = new int[k];
                float[] gathered = new float[k * n];
                for (int p = 0; p < k; p++) {
                    taps[p] = random.nextInt(0, 400);
                    for (int j = 0; j < n; j++) {
                        gathered[p * n + j] = values[first + j + taps[p]];
                    }
                }
                FloatGemm.Matrix a = matrix(arena, random, m, k, 0);
                FloatGemm.Matrix expected = matrix(arena, random, m, n, 0);
                FloatGemm.Matrix actual = matrix(arena, random, m, n, 0);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        float sum = 0;
                        for (int slice = 0; slice < k; slice += FloatGemm.MAX_DEPTH) {
                            float chain = 0;
                            for (int p = slice; p < Math.min(k, slice + FloatGemm.MAX_DEPTH); p++) {
                                chain = Math.fma(a.segment().get(Layouts.FLOAT, a.byteAt(i, p)), gathered[p * n + j], chain);
                            }
                            sum = slice == 0 ? chain : sum + chain;
                        }
                        expected.segment().set(Layouts.FLOAT, expected.byteAt(i, j), sum);
                    }
                }
                FloatGemm.multiply(FloatGemm.packFilters(a, m, k), new FloatGemm.PaddedImage(values, taps), first, actual, n);
                assertSameBits(expected, actual, m, n, "trial " + trial + " m=" + m + " n=" + n + " k=" + k);
            }
            FloatGemm.PackedA filters = FloatGemm.packFilters(matrix(arena, random, 8, 2, 0), 8, 2);
            FloatGemm.PaddedImage image = new FloatGemm.PaddedImage(new float[100], new int[] {0, 50});
            FloatGemm.Matrix c = matrix(arena, random, 8, 32, 0);
            FloatGemm.multiply(filters, image, 18, c, 32);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> FloatGemm.multiply(filters, image, 19, c, 32))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("past the padded image");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> FloatGemm.multiply(filters,
                    new FloatGemm.PaddedImage(new float[100], new int[] {0}), 0, c, 32))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("taps");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new FloatGemm.PaddedImage(new float[100], new int[] {-1}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("before the image");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> FloatGemm.packFilters(new FloatGemm.Int8Matrix(
                    arena.allocate(16), 0, 2, false, new int[] {0, 0}, true, 0), 8, 2))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("per row");
        }
    }

    @Test
    void bStoredByColumnsGivesTheBitsOfBStoredByRows() {
        SplittableRandom random = new SplittableRandom(SEED + 3);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 120; trial++) {
                int m = random.nextInt(FloatGemm.PACKING_MIN_ROWS, 30);
                int n = random.nextInt(1, 80);
                int k = trial % 8 == 0 ? random.nextInt(FloatGemm.DEPTH, 2 * FloatGemm.DEPTH + 9) : random.nextInt(1, 70);
                int pad = random.nextInt(4);
                boolean accumulate = random.nextBoolean();
                FloatGemm.Matrix a = matrix(arena, random, m, k, 2);
                FloatGemm.Matrix b = matrix(arena, random, k, n, 0);
                // The same values column by column, each column's k values then pad unused ones.
                MemorySegment columns = arena.allocate(4L * n * (k + pad) + 4, 4);
                for (int j = 0; j < n; j++) {
                    for (int i = 0; i < k; i++) {
                        columns.set(Layouts.FLOAT, 4L * (j * (k + pad) + i), b.segment().get(Layouts.FLOAT, b.byteAt(i, j)));
                    }
                }
                FloatGemm.Matrix byRows = matrix(arena, random, m, n, 1);
                FloatGemm.Matrix byColumns = copy(arena, byRows, m, n);
                FloatGemm.multiply(a, b, byRows, m, n, k, accumulate);
                FloatGemm.multiply(a, new FloatGemm.ByColumns(columns, 0, k + pad), byColumns, m, n, k, accumulate);
                assertSameBits(byRows, byColumns, m, n, "trial " + trial + " m=" + m + " n=" + n + " k=" + k);
                // Packed once from its columns, B serves few rows too, with the bits of B packed from its rows.
                int few = 1 + trial % (FloatGemm.PACKING_MIN_ROWS - 1);
                FloatGemm.Matrix fromRows = new FloatGemm.Matrix(arena.allocate(4L * few * n, 64), 0, n);
                FloatGemm.Matrix fromColumns = new FloatGemm.Matrix(arena.allocate(4L * few * n, 64), 0, n);
                FloatGemm.multiply(a, FloatGemm.pack(b, k, n), 0, fromRows, few, n, k, false);
                FloatGemm.multiply(a, FloatGemm.pack(new FloatGemm.ByColumns(columns, 0, k + pad), k, n), 0, fromColumns, few,
                        n, k, false);
                assertSameBits(fromRows, fromColumns, few, n, "trial " + trial + " few rows " + few);
            }
            FloatGemm.Matrix one = matrix(arena, random, 1, 4, 0);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> FloatGemm.multiply(one,
                    new FloatGemm.ByColumns(one.segment(), 0, 4), one, 1, 1, 4, false))
                    .isInstanceOf(IllegalArgumentException.class);
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
    void int8ProductsAreExactInInt32() {
        SplittableRandom random = new SplittableRandom(SEED + 1);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 160; trial++) {
                // M = 1 (the streaming path), tiny and odd shapes, depths past one and several blocks,
                // and two trials past a chunk of rows and of columns. Every signedness pairing; zero
                // points per tensor, per row and per column. A third of the trials take the extremes:
                // operands all at one end of their range, zero points at the other.
                boolean large = trial >= 158;
                int m = large ? FloatGemm.ROW_CHUNK + 7 : trial % 5 == 0 ? 1 : random.nextInt(1, 19);
                int n = large ? FloatGemm.COLUMN_CHUNK + 5 : random.nextInt(1, 53);
                int k = trial % 4 == 0 ? random.nextInt(FloatGemm.DEPTH - 1, 4 * FloatGemm.DEPTH + 3) : random.nextInt(0, 40);
                boolean extreme = trial % 3 == 0;
                boolean aUnsigned = random.nextBoolean();
                boolean bUnsigned = random.nextBoolean();
                int[] a = bytes(random, m * k, aUnsigned, extreme, true);
                int[] b = bytes(random, k * n, bUnsigned, extreme, false);
                int[] aZeros = bytes(random, random.nextBoolean() ? 1 : m, aUnsigned, extreme, false);
                int[] bZeros = bytes(random, random.nextBoolean() ? 1 : n, bUnsigned, extreme, true);
                FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(4L * m * n + 4, 64), 0, n);
                c.segment().fill((byte) 0x5A);
                FloatGemm.multiplyIntegers(
                        new FloatGemm.Int8Matrix(bytesIn(arena, a), 0, k, aUnsigned, aZeros, false, 0),
                        new FloatGemm.Int8Matrix(bytesIn(arena, b), 0, n, bUnsigned, bZeros, true, 0), c, m, n, k);
                assertExactProduct(a, aZeros, b, bZeros, c, m, n, k,
                        String.format("seed %x trial %d m=%d n=%d k=%d", SEED + 1, trial, m, n, k));
            }
        }
    }

    @Test
    void int8BlocksOfALargerMatrixTakeTheirOwnZeroPoints() {
        // A block starting at row 2 and column 3, as the executor hands each thread: its zero points
        // are those of its rows and columns in the whole matrix. One row streams B, six pack it.
        int m = 8, n = 20, k = 5;
        try (Arena arena = Arena.ofConfined()) {
            int[] a = new int[m * k];
            int[] b = new int[k * n];
            java.util.Arrays.fill(a, 1);
            java.util.Arrays.fill(b, 1);
            int[] aZeros = {0, 0, 3, 5, 7, 11, 13, 17};
            int[] bZeros = new int[n];
            for (int j = 0; j < n; j++) {
                bZeros[j] = -j;
            }
            for (int rows : new int[] {1, 6}) {
                FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(4L * rows * 17, 64), 0, 17);
                FloatGemm.multiplyIntegers(
                        new FloatGemm.Int8Matrix(bytesIn(arena, a), 2L * k, k, false, aZeros, false, 2),
                        new FloatGemm.Int8Matrix(bytesIn(arena, b), 3, n, false, bZeros, true, 3), c, rows, 17, k);
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < 17; j++) {
                        assertThat(c.segment().get(Layouts.INT32, c.byteAt(i, j))).as("%d rows: (%d, %d)", rows, i, j)
                                .isEqualTo(k * (1 - aZeros[2 + i]) * (1 + 3 + j));
                    }
                }
            }
        }
    }

    @Test
    void aPackedBGivesTheUnpackedBitsForEveryColumnBlock() {
        // Constant weights packed once, read by blocks of columns as the executor splits them: the
        // same bits as packing per product (or B where it lies, for few rows), float and int8.
        SplittableRandom random = new SplittableRandom(SEED + 3);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 40; trial++) {
                int m = trial % 4 == 0 ? random.nextInt(1, 4) : random.nextInt(4, FloatGemm.ROW_CHUNK + 9);
                int n = trial == 39 ? FloatGemm.COLUMN_CHUNK + 37 : random.nextInt(1, 6 * FloatGemm.PANEL + 5);
                int k = trial % 3 == 0 ? random.nextInt(FloatGemm.DEPTH + 1, 3 * FloatGemm.DEPTH) : random.nextInt(1, 60);
                // Blocks of one panel to six: few rows read four packed panels at a time.
                int blockColumns = FloatGemm.PANEL * random.nextInt(1, 7);
                boolean unsigned = random.nextBoolean();
                int[] aBytes = bytes(random, m * k, true, false, false);
                int[] bBytes = bytes(random, k * n, unsigned, trial % 5 == 0, true);
                int[] bZeros = bytes(random, random.nextBoolean() ? 1 : n, unsigned, false, false);
                FloatGemm.Int8Matrix a = new FloatGemm.Int8Matrix(bytesIn(arena, aBytes), 0, k, true, new int[] {3}, false, 0);
                FloatGemm.Int8Matrix b = new FloatGemm.Int8Matrix(bytesIn(arena, bBytes), 0, n, unsigned, bZeros, true, 0);
                FloatGemm.Matrix af = matrix(arena, random, m, k, 0);
                FloatGemm.Matrix bf = matrix(arena, random, k, n, 0);
                FloatGemm.PackedB packedInts = FloatGemm.pack(b, k, n);
                FloatGemm.PackedB packedFloats = FloatGemm.pack(bf, k, n);
                FloatGemm.Matrix expectedInts = new FloatGemm.Matrix(arena.allocate(4L * m * n, 64), 0, n);
                FloatGemm.Matrix expectedFloats = new FloatGemm.Matrix(arena.allocate(4L * m * n, 64), 0, n);
                FloatGemm.multiplyIntegers(a, b, expectedInts, m, n, k);
                FloatGemm.multiply(af, bf, expectedFloats, m, n, k, false);
                FloatGemm.Matrix ints = new FloatGemm.Matrix(arena.allocate(4L * m * n, 64), 0, n);
                FloatGemm.Matrix floats = new FloatGemm.Matrix(arena.allocate(4L * m * n, 64), 0, n);
                for (int first = 0; first < n; first += blockColumns) {
                    int width = Math.min(blockColumns, n - first);
                    FloatGemm.multiplyIntegers(a, packedInts, first, new FloatGemm.Matrix(ints.segment(), first, n), m,
                            width, k);
                    FloatGemm.multiply(af, packedFloats, first, new FloatGemm.Matrix(floats.segment(), first, n), m,
                            width, k, false);
                }
                String label = String.format("seed %x trial %d m=%d n=%d k=%d blocks of %d", SEED + 3, trial, m, n, k,
                        blockColumns);
                assertThat(ints.segment().toArray(java.lang.foreign.ValueLayout.JAVA_INT)).as(label)
                        .containsExactly(expectedInts.segment().toArray(java.lang.foreign.ValueLayout.JAVA_INT));
                assertThat(floats.segment().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT)).as(label)
                        .containsExactly(expectedFloats.segment().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT));
            }
        }
    }

    @Test
    void anAPackedOnceForAPackedBGivesTheBitsOfEachBlocksProduct() {
        // The rows packed once, chunk by chunk in any order, then read by every block of columns:
        // the bits of each block packing its own rows, float and int8 (zero points per row, narrow B
        // for slices deeper than DEPTH, dequantized or int32).
        SplittableRandom random = new SplittableRandom(SEED + 6);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 40; trial++) {
                int m = random.nextInt(FloatGemm.PACKING_MIN_ROWS, trial % 4 == 0 ? 3 * FloatGemm.ROW_CHUNK + 5 : 40);
                int n = random.nextInt(1, 6 * FloatGemm.PANEL + 5);
                int k = trial % 3 == 0 ? random.nextInt(FloatGemm.DEPTH + 1, 2 * FloatGemm.MAX_DEPTH + 9) : random.nextInt(1, 60);
                int blockColumns = FloatGemm.PANEL * random.nextInt(1, 4);
                boolean unsigned = random.nextBoolean();
                int[] aZeros = bytes(random, m, true, false, false);
                FloatGemm.Int8Matrix a = new FloatGemm.Int8Matrix(bytesIn(arena, bytes(random, m * k, true, false, false)), 0,
                        k, true, aZeros, false, 0);
                int[] bBytes = new int[k * n];
                for (int i = 0; i < bBytes.length; i++) {
                    bBytes[i] = trial % 2 == 0 ? random.nextInt(-20, 21) : random.nextInt(unsigned ? 0 : -128, unsigned ? 256 : 128);
                }
                FloatGemm.PackedB packedInts = FloatGemm.pack(new FloatGemm.Int8Matrix(bytesIn(arena, bBytes), 0, n, unsigned,
                        new int[] {unsigned ? 128 : 0}, true, 0), k, n);
                FloatGemm.Matrix af = matrix(arena, random, m, k + random.nextInt(3), 0);
                FloatGemm.PackedB packedFloats = FloatGemm.pack(matrix(arena, random, k, n, 0), k, n);
                FloatGemm.Dequantization then = random.nextBoolean() ? null
                        : new FloatGemm.Dequantization(new float[] {(float) random.nextDouble(1e-4, 1e-2)}, null);
                FloatGemm.PackedA onceInts = FloatGemm.packA(a, m, k, packedInts,
                        new float[Math.toIntExact(FloatGemm.packedAFloats(m, k)) + random.nextInt(5)]);
                FloatGemm.PackedA onceFloats = FloatGemm.packA(af, m, k, packedFloats,
                        new float[Math.toIntExact(FloatGemm.packedAFloats(m, k))]);
                for (int part = onceInts.parts() - 1; part >= 0; part--) {
                    onceInts.fill(part);
                }
                for (int part = onceFloats.parts() - 1; part >= 0; part--) {
                    onceFloats.fill(part);
                }
                FloatGemm.Matrix[] outputs = new FloatGemm.Matrix[4];
                for (int i = 0; i < outputs.length; i++) {
                    outputs[i] = new FloatGemm.Matrix(arena.allocate(4L * m * n, 64), 0, n);
                }
                for (int first = 0; first < n; first += blockColumns) {
                    int width = Math.min(blockColumns, n - first);
                    FloatGemm.multiplyIntegers(a, packedInts, first, new FloatGemm.Matrix(outputs[0].segment(), first, n), m,
                            width, k, then);
                    FloatGemm.multiply(onceInts, packedInts, first, new FloatGemm.Matrix(outputs[1].segment(), first, n), width,
                            then);
                    FloatGemm.multiply(af, packedFloats, first, new FloatGemm.Matrix(outputs[2].segment(), first, n), m, width,
                            k, false);
                    FloatGemm.multiply(onceFloats, packedFloats, first, new FloatGemm.Matrix(outputs[3].segment(), first, n),
                            width, null);
                }
                String label = String.format("seed %x trial %d m=%d n=%d k=%d blocks of %d", SEED + 6, trial, m, n, k,
                        blockColumns);
                assertThat(outputs[1].segment().toArray(java.lang.foreign.ValueLayout.JAVA_INT)).as(label)
                        .containsExactly(outputs[0].segment().toArray(java.lang.foreign.ValueLayout.JAVA_INT));
                assertThat(outputs[3].segment().toArray(java.lang.foreign.ValueLayout.JAVA_INT)).as(label)
                        .containsExactly(outputs[2].segment().toArray(java.lang.foreign.ValueLayout.JAVA_INT));
            }
        }
    }

    @Test
    void anAPackedForAPackedBRefusesWhatItCannotTake() {
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom random = new SplittableRandom(SEED + 7);
            FloatGemm.Matrix a = matrix(arena, random, 8, 16, 0);
            FloatGemm.PackedB b = FloatGemm.pack(matrix(arena, random, 16, 8, 0), 16, 8);
            FloatGemm.PackedB other = FloatGemm.pack(matrix(arena, random, 16, 8, 0), 16, 8);
            FloatGemm.PackedB ints = FloatGemm.pack(new FloatGemm.Int8Matrix(arena.allocate(128), 0, 8, false, new int[] {0},
                    true, 0), 16, 8);
            float[] room = new float[Math.toIntExact(FloatGemm.packedAFloats(8, 16))];
            FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(4L * 64), 0, 8);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> FloatGemm.packA(a, 8, 16, b, new float[room.length - 1]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("floats");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> FloatGemm.packA(a, 3, 16, b, room))
                    .isInstanceOf(IllegalArgumentException.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> FloatGemm.packA(a, 8, 15, b, room))
                    .isInstanceOf(IllegalArgumentException.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> FloatGemm.packA(a, 8, 16, ints, room))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("both float or both int8");
            FloatGemm.PackedA packed = FloatGemm.packA(a, 8, 16, b, room);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> packed.fill(packed.parts()))
                    .isInstanceOf(IllegalArgumentException.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> FloatGemm.multiply(packed, other, 0, c, 8, null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("another B");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> FloatGemm.multiply(packed, b, 0, c, 8,
                    new FloatGemm.Dequantization(new float[] {1}, null))).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void aPackedBOfFewValuesSumsExactlyInDeeperSlices() {
        // B within ±w of its zero points lets a slice run 2^24 / (255·w) deep (up to MAX_DEPTH). With
        // every product at its largest, of one sign and odd, each slice's sum lies just below 2^24,
        // where one step deeper would round; random values and zero points per row and column besides.
        SplittableRandom random = new SplittableRandom(SEED + 4);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 12; trial++) {
                boolean extreme = trial % 2 == 0;
                int widest = trial < 4 ? 2 * random.nextInt(0, 32) + 1 : 2 * random.nextInt(32, 64) + 1;
                int m = random.nextInt(FloatGemm.PACKING_MIN_ROWS, 3 * FloatGemm.ROWS + 2);
                int n = random.nextInt(1, 2 * FloatGemm.PANEL + 3);
                int k = extreme ? 2 * FloatGemm.MAX_DEPTH + random.nextInt(1, 40) : random.nextInt(FloatGemm.DEPTH, 3000);
                boolean unsigned = random.nextBoolean();
                int low = unsigned ? 0 : -128;
                int[] aZeros = extreme ? new int[] {low} : bytes(random, random.nextBoolean() ? 1 : m, unsigned, false, false);
                int[] bZeros = extreme ? new int[] {0} : new int[n];
                int[] a = new int[m * k];
                int[] b = new int[k * n];
                for (int i = 0; i < a.length; i++) {
                    a[i] = extreme ? low + 255 : random.nextInt(low, low + 256);
                }
                for (int j = 0; j < bZeros.length && !extreme; j++) {
                    bZeros[j] = random.nextInt(-128 + widest, 128 - widest);
                }
                for (int p = 0; p < k; p++) {
                    for (int j = 0; j < n; j++) {
                        int zero = bZeros[bZeros.length == 1 ? 0 : j];
                        b[p * n + j] = extreme ? widest : zero + random.nextInt(-widest, widest + 1);
                    }
                }
                FloatGemm.Int8Matrix bMatrix = new FloatGemm.Int8Matrix(bytesIn(arena, b), 0, n, false, bZeros, true, 0);
                FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(4L * m * n, 64), 0, n);
                FloatGemm.multiplyIntegers(new FloatGemm.Int8Matrix(bytesIn(arena, a), 0, k, unsigned, aZeros, false, 0),
                        FloatGemm.pack(bMatrix, k, n), 0, c, m, n, k);
                assertExactProduct(a, aZeros, b, bZeros, c, m, n, k,
                        String.format("seed %x trial %d m=%d n=%d k=%d B within ±%d", SEED + 4, trial, m, n, k, widest));
            }
        }
    }

    @Test
    void sumsDequantizedAsTheyAreStoredMatchAPassAfterwards() {
        // The fused epilogue against the int32 product followed by FloatRows.dequantize: the same bits
        // for few rows and many, deep and shallow K, blocks of columns, scale one or per column, with
        // and without a bias.
        SplittableRandom random = new SplittableRandom(SEED + 5);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 40; trial++) {
                int m = trial % 5 == 0 ? random.nextInt(1, FloatGemm.PACKING_MIN_ROWS) : random.nextInt(1, 40);
                int n = random.nextInt(1, 4 * FloatGemm.PANEL + 3);
                int k = trial % 4 == 0 ? random.nextInt(FloatGemm.DEPTH, 3 * FloatGemm.DEPTH) : random.nextInt(0, 50);
                int blockColumns = FloatGemm.PANEL * random.nextInt(1, 4);
                int[] a = bytes(random, m * k, true, false, false);
                int[] b = bytes(random, k * n, false, trial % 3 == 0, true);
                float[] scale = new float[random.nextBoolean() ? 1 : n];
                for (int j = 0; j < scale.length; j++) {
                    scale[j] = (float) random.nextDouble(1e-5, 1e-2);
                }
                float[] bias = null;
                if (random.nextBoolean()) {
                    bias = new float[n];
                    for (int j = 0; j < n; j++) {
                        bias[j] = (float) random.nextDouble(-3, 3);
                    }
                }
                FloatGemm.Int8Matrix aMatrix = new FloatGemm.Int8Matrix(bytesIn(arena, a), 0, k, true, new int[] {7}, false, 0);
                FloatGemm.PackedB packed = FloatGemm.pack(
                        new FloatGemm.Int8Matrix(bytesIn(arena, b), 0, n, false, new int[] {-5}, true, 0), k, n);
                FloatGemm.Matrix fused = new FloatGemm.Matrix(arena.allocate(4L * m * n + 4, 64), 0, n);
                FloatGemm.Matrix separate = new FloatGemm.Matrix(arena.allocate(4L * m * n + 4, 64), 0, n);
                for (int first = 0; first < n; first += blockColumns) {
                    int width = Math.min(blockColumns, n - first);
                    FloatGemm.multiplyIntegers(aMatrix, packed, first, new FloatGemm.Matrix(fused.segment(), first, n), m,
                            width, k, new FloatGemm.Dequantization(scale, bias));
                    FloatGemm.multiplyIntegers(aMatrix, packed, first, new FloatGemm.Matrix(separate.segment(), first, n), m,
                            width, k);
                    FloatRows.dequantize(separate.segment(), first * 4L, n, m, width, scale, bias, first);
                }
                assertThat(fused.segment().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT))
                        .as("seed %x trial %d m=%d n=%d k=%d blocks of %d, %d scales, bias %b", SEED + 5, trial, m, n, k,
                                blockColumns, scale.length, bias != null)
                        .containsExactly(separate.segment().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT));
            }
        }
    }

    /** C holds (A − zero points)·(B − zero points) in int32, wrapped as the 64-bit sums wrap; zero points one or per row / column. */
    private static void assertExactProduct(int[] a, int[] aZeros, int[] b, int[] bZeros, FloatGemm.Matrix c, int m, int n,
            int k, String label) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                long sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += (long) (a[i * k + p] - aZeros[aZeros.length == 1 ? 0 : i])
                            * (b[p * n + j] - bZeros[bZeros.length == 1 ? 0 : j]);
                }
                assertThat(c.segment().get(Layouts.INT32, c.byteAt(i, j))).as("%s at (%d, %d)", label, i, j)
                        .isEqualTo((int) sum);
            }
        }
    }

    /** Values of int8 or uint8; with {@code extreme}, all at the low end of the range, or all at the high end. */
    private static int[] bytes(SplittableRandom random, int count, boolean unsigned, boolean extreme, boolean high) {
        int low = unsigned ? 0 : -128;
        int[] values = new int[count];
        for (int i = 0; i < count; i++) {
            values[i] = extreme ? (high ? low + 255 : low) : random.nextInt(low, low + 256);
        }
        return values;
    }

    private static MemorySegment bytesIn(Arena arena, int[] values) {
        MemorySegment segment = arena.allocate(Math.max(1, values.length), 64);
        for (int i = 0; i < values.length; i++) {
            segment.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) values[i]);
        }
        return segment;
    }

    private static void assertSameBits(FloatGemm.Matrix expected, FloatGemm.Matrix actual, int m, int n, String label) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                assertThat(actual.segment().get(Layouts.INT32, actual.byteAt(i, j))).as("%s at (%d, %d)", label, i, j)
                        .isEqualTo(expected.segment().get(Layouts.INT32, expected.byteAt(i, j)));
            }
        }
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
