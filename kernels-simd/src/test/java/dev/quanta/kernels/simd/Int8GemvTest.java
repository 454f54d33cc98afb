package dev.quanta.kernels.simd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.tensor.Layouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The few-row int8 product over packed bytes, bit for bit against the definition in 64-bit integers. */
class Int8GemvTest {

    private static final long SEED = 0x6E44_0077L;

    @Test
    void matchesTheDefinitionOnRandomShapesSignednessesAndZeroPoints() {
        SplittableRandom random = new SplittableRandom(SEED);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 240; trial++) {
                // Few rows and some more; columns across several strips and a partial one; depths not
                // a multiple of four, and some deep ones. B's values span 7 bits (the narrow kernel),
                // 8 bits (the wide one) or sit at one end of their range; a third of the trials put A
                // at its extremes and the zero points at the other end.
                int m = trial % 7 == 0 ? random.nextInt(4, 9) : random.nextInt(1, 4);
                int n = random.nextInt(1, 4 * Int8Gemv.STRIP + 7);
                int k = trial % 5 == 0 ? random.nextInt(300, 1100) : random.nextInt(0, 45);
                boolean extreme = trial % 3 == 0;
                boolean aUnsigned = random.nextBoolean();
                boolean bUnsigned = random.nextBoolean();
                int span = switch (trial % 4) {
                    case 0 -> 256;
                    case 1 -> Int8Gemv.NARROW_SPAN + 1;
                    case 2 -> 1;
                    default -> Int8Gemv.NARROW_SPAN;
                };
                int[] a = values(random, m * k, aUnsigned, 256, extreme, true);
                int[] b = values(random, k * n, bUnsigned, span, false, random.nextBoolean());
                int[] aZeros = values(random, random.nextBoolean() ? 1 : m, aUnsigned, 256, extreme, false);
                int[] bZeros = values(random, random.nextBoolean() ? 1 : n, bUnsigned, 256, extreme, true);
                FloatGemm.Int8Matrix aMatrix = new FloatGemm.Int8Matrix(bytesIn(arena, a), 0, k, aUnsigned, aZeros, false, 0);
                FloatGemm.Int8Matrix bMatrix = new FloatGemm.Int8Matrix(bytesIn(arena, b), 0, n, bUnsigned, bZeros, true, 0);
                Int8Gemv.Packed packed = Int8Gemv.pack(bMatrix, k, n);
                int spanned = k * n == 0 ? 0 : java.util.Arrays.stream(b).max().getAsInt() - java.util.Arrays.stream(b).min().getAsInt();
                assertThat(packed.narrow()).as("trial %d span %d", trial, spanned).isEqualTo(spanned <= Int8Gemv.NARROW_SPAN);
                // Blocks of columns as the executor hands them to threads, each written where it lies.
                int block = Int8Gemv.STRIP * random.nextInt(1, 4);
                FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(4L * m * n + 64, 64), 0, n);
                c.segment().fill((byte) 0x5A);
                for (int first = 0; first < n; first += block) {
                    Int8Gemv.multiply(aMatrix, packed, first, new FloatGemm.Matrix(c.segment(), first, n), m,
                            Math.min(block, n - first), k);
                }
                String label = String.format("seed %x trial %d m=%d n=%d k=%d span %d", SEED, trial, m, n, k, span);
                assertThat(products(c, m, n)).as(label).containsExactly(definition(a, aZeros, b, bZeros, m, n, k));
                assertThat(c.segment().get(Layouts.INT32, 4L * m * n)).as(label + ": past C").isEqualTo(0x5A5A5A5A);
            }
        }
    }

    @Test
    void largestProductsAndSumsPastInt32WrapAsTheDefinitionDoes() {
        // 255·255 in every product of the wide kernel, 255·128 in the narrow one's, over a depth whose
        // sums pass 2^31: the lanes wrap, and so does the definition's int32 result.
        int k = 40_003;
        int n = Int8Gemv.STRIP + 3;
        try (Arena arena = Arena.ofConfined()) {
            for (int largest : new int[] {255, Int8Gemv.NARROW_SPAN}) {
                int[] a = new int[k];
                int[] b = new int[k * n];
                java.util.Arrays.fill(a, 255);
                java.util.Arrays.fill(b, largest);
                b[0] = 0; // B's smallest is 0, so its span is `largest`
                int[] zeros = {0};
                Int8Gemv.Packed packed = Int8Gemv.pack(
                        new FloatGemm.Int8Matrix(bytesIn(arena, b), 0, n, true, zeros, true, 0), k, n);
                assertThat(packed.narrow()).isEqualTo(largest <= Int8Gemv.NARROW_SPAN);
                FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(4L * n, 64), 0, n);
                Int8Gemv.multiply(new FloatGemm.Int8Matrix(bytesIn(arena, a), 0, k, true, zeros, false, 0), packed, 0,
                        c, 1, n, k);
                assertThat(products(c, 1, n)).as("largest %d", largest)
                        .containsExactly(definition(a, zeros, b, zeros, 1, n, k));
            }
        }
    }

    @Test
    void refusesBlocksOffTheStripsAndTheShape() {
        try (Arena arena = Arena.ofConfined()) {
            int n = 2 * Int8Gemv.STRIP;
            int[] zeros = {0};
            Int8Gemv.Packed packed = Int8Gemv.pack(
                    new FloatGemm.Int8Matrix(bytesIn(arena, new int[4 * n]), 0, n, false, zeros, true, 0), 4, n);
            FloatGemm.Int8Matrix a = new FloatGemm.Int8Matrix(bytesIn(arena, new int[4]), 0, 4, false, zeros, false, 0);
            FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(4L * n, 64), 0, n);
            org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                    .isThrownBy(() -> Int8Gemv.multiply(a, packed, 1, c, 1, 8, 4));
            org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                    .isThrownBy(() -> Int8Gemv.multiply(a, packed, Int8Gemv.STRIP, c, 1, n, 4));
            org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                    .isThrownBy(() -> Int8Gemv.multiply(a, packed, 0, c, 1, n, 3));
        }
    }

    /**
     * Values of int8 or uint8 within {@code span} consecutive values placed at random in the range;
     * with {@code extreme}, all at the range's low end, or all at its high end.
     */
    private static int[] values(SplittableRandom random, int count, boolean unsigned, int span, boolean extreme,
            boolean high) {
        int low = unsigned ? 0 : -128;
        int from = low + random.nextInt(257 - span);
        int[] values = new int[count];
        for (int i = 0; i < count; i++) {
            values[i] = extreme ? (high ? low + 255 : low) : from + random.nextInt(span);
        }
        return values;
    }

    static int[] definition(int[] a, int[] aZeros, int[] b, int[] bZeros, int m, int n, int k) {
        int[] sums = new int[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                long sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += (long) (a[i * k + p] - aZeros[aZeros.length == 1 ? 0 : i])
                            * (b[p * n + j] - bZeros[bZeros.length == 1 ? 0 : j]);
                }
                sums[i * n + j] = (int) sum;
            }
        }
        return sums;
    }

    static int[] products(FloatGemm.Matrix c, int m, int n) {
        return c.segment().asSlice(0, 4L * m * n).toArray(ValueLayout.JAVA_INT);
    }

    static MemorySegment bytesIn(Arena arena, int[] values) {
        MemorySegment segment = arena.allocate(Math.max(1, values.length), 64);
        for (int i = 0; i < values.length; i++) {
            segment.set(ValueLayout.JAVA_BYTE, i, (byte) values[i]);
        }
        return segment;
    }
}
