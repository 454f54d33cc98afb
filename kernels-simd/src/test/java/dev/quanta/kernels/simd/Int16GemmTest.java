package dev.quanta.kernels.simd;

import static dev.quanta.kernels.simd.Int8GemvTest.bytesIn;
import static dev.quanta.kernels.simd.Int8GemvTest.definition;
import static dev.quanta.kernels.simd.Int8GemvTest.products;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import dev.quanta.tensor.Layouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The 16-bit lane product of a narrow B, bit for bit against the definition in 64-bit integers. */
class Int16GemmTest {

    private static final long SEED = 0x1616_0003L;

    @Test
    void matchesTheDefinitionOnRandomShapesSignednessesAndZeroPoints() {
        SplittableRandom random = new SplittableRandom(SEED);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 160; trial++) {
                // Rows past a chunk of A and partial tiles; columns over several panels and a partial
                // one; depths not a multiple of the four a widening takes, and some deep ones. Half the
                // trials have B's columns span at most SPAN (unsigned halves), half up to WIDE_SPAN
                // (signed halves). A third put A at the end of its range where two products fill a
                // 16-bit half (255 as unsigned, −128 as signed) and B at an end of its columns' spans.
                int m = trial % 9 == 0 ? random.nextInt(60, 140) : random.nextInt(1, 14);
                int n = random.nextInt(1, 3 * Int16Gemm.PANEL + 7);
                int k = trial % 5 == 0 ? random.nextInt(300, 1100) : random.nextInt(0, 45);
                boolean extreme = trial % 3 == 0;
                boolean wide = trial % 2 == 0;
                int span = !wide ? Int16Gemm.SPAN
                        : extreme ? Int16Gemm.WIDE_SPAN : random.nextInt(Int16Gemm.SPAN + 1, Int16Gemm.WIDE_SPAN + 1);
                boolean aUnsigned = random.nextBoolean();
                boolean bUnsigned = random.nextBoolean();
                int aLow = aUnsigned ? 0 : -128;
                int[] a = new int[m * k];
                int[] aZeros = new int[random.nextBoolean() ? 1 : m];
                for (int i = 0; i < a.length; i++) {
                    a[i] = extreme ? aLow + (wide ? 0 : 255) : aLow + random.nextInt(256);
                }
                for (int i = 0; i < aZeros.length; i++) {
                    aZeros[i] = extreme ? aLow + (wide ? 255 : 0) : aLow + random.nextInt(256);
                }
                // Each column of B spans at most `span` values, anywhere in its type, its zero point
                // anywhere too (in the span or outside it). Extremes: one depth at one end, the rest at
                // the other.
                int bLow = bUnsigned ? 0 : -128;
                int[] bZeros = new int[random.nextBoolean() ? 1 : n];
                for (int j = 0; j < bZeros.length; j++) {
                    bZeros[j] = bLow + random.nextInt(256);
                }
                int[] lowest = new int[n];
                for (int j = 0; j < n; j++) {
                    lowest[j] = bLow + random.nextInt(256 - span);
                }
                boolean top = !wide || random.nextBoolean();
                int[] b = new int[k * n];
                for (int i = 0; i < b.length; i++) {
                    int j = i % n;
                    b[i] = lowest[j] + (extreme ? (i < n == top ? 0 : span) : random.nextInt(span + 1));
                }
                FloatGemm.Int8Matrix bMatrix = new FloatGemm.Int8Matrix(bytesIn(arena, b), 0, n, bUnsigned, bZeros, true, 0);
                Int16Gemm.Packed packed = Int16Gemm.pack(bMatrix, k, n);
                assertThat(packed).isNotNull();
                FloatGemm.Dequantization then = random.nextBoolean() ? null : dequantization(random, n);
                // Blocks of rows and columns as the executor hands them to threads, each written where it lies.
                int rowBlock = random.nextInt(1, 2 * Int16Gemm.ROWS + 3);
                int columnBlock = Int16Gemm.PANEL * random.nextInt(1, 4);
                var aBytes = bytesIn(arena, a);
                FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(4L * m * n + 64, 64), 0, n);
                c.segment().fill((byte) 0x5A);
                for (int row = 0; row < m; row += rowBlock) {
                    for (int first = 0; first < n; first += columnBlock) {
                        Int16Gemm.multiply(new FloatGemm.Int8Matrix(aBytes, (long) row * k, k, aUnsigned, aZeros, false, row),
                                packed, first, new FloatGemm.Matrix(c.segment(), (long) row * n + first, n),
                                Math.min(rowBlock, m - row), Math.min(columnBlock, n - first), k, then);
                    }
                }
                String label = String.format("seed %x trial %d m=%d n=%d k=%d extreme %b", SEED, trial, m, n, k, extreme);
                int[] expected = definition(a, aZeros, b, bZeros, m, n, k);
                if (then == null) {
                    assertThat(products(c, m, n)).as(label).containsExactly(expected);
                } else {
                    float[] values = c.segment().asSlice(0, 4L * m * n).toArray(Layouts.FLOAT);
                    assertThat(values).as(label).containsExactly(dequantized(expected, n, then));
                }
                assertThat(c.segment().get(Layouts.INT32, 4L * m * n)).as(label + ": past C").isEqualTo(0x5A5A5A5A);
            }
        }
    }

    @Test
    void packsAnyBWholeSignedOrUnsigned() {
        SplittableRandom random = new SplittableRandom(SEED + 1);
        try (Arena arena = Arena.ofConfined()) {
            Int16Gemm.Packed scratch = null;
            for (int trial = 0; trial < 60; trial++) {
                // B (a convolution's patches) anything, a third of the trials at the ends of its range.
                // Packed signed, against an A (its weights) within ±127 as signed values; packed unsigned
                // into the same scratch, against an A whose rows each lie within SPAN of a lowest of their
                // own (7-bit filters), narrowed to 0..SPAN, zero points per tensor or per row, in the
                // extreme trials at the ends of the rows' spans, where two products fill an unsigned half.
                int m = random.nextInt(1, 14);
                int n = random.nextInt(1, 3 * Int16Gemm.PANEL + 7);
                int k = trial % 5 == 0 ? random.nextInt(300, 700) : random.nextInt(0, 45);
                boolean extreme = trial % 3 == 0;
                boolean aUnsigned = random.nextBoolean();
                boolean bUnsigned = random.nextBoolean();
                int aLow = aUnsigned ? 0 : -128;
                int bLow = bUnsigned ? 0 : -128;
                int[] b = new int[k * n];
                for (int i = 0; i < b.length; i++) {
                    b[i] = bLow + (extreme ? (trial % 2 == 0 ? 0 : 255) : random.nextInt(256));
                }
                int[] bZeros = new int[random.nextBoolean() ? 1 : n];
                for (int j = 0; j < bZeros.length; j++) {
                    bZeros[j] = bLow + random.nextInt(256);
                }
                FloatGemm.Int8Matrix bMatrix = new FloatGemm.Int8Matrix(bytesIn(arena, b), 0, n, bUnsigned, bZeros, true, 0);
                String label = String.format("seed %x trial %d m=%d n=%d k=%d", SEED + 1, trial, m, n, k);

                int[] a = new int[m * k];
                for (int i = 0; i < a.length; i++) {
                    a[i] = aLow + (extreme ? 1 : random.nextInt(1, 256));
                }
                int[] aZeros = {aLow + random.nextInt(256)};
                scratch = Int16Gemm.packWhole(bMatrix, k, n, false, scratch);
                FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(4L * m * n, 64), 0, n);
                Int16Gemm.multiply(new FloatGemm.Int8Matrix(bytesIn(arena, a), 0, k, aUnsigned, aZeros, false, 0), scratch,
                        0, c, m, n, k, null);
                assertThat(products(c, m, n)).as(label + ", signed").containsExactly(definition(a, aZeros, b, bZeros, m, n, k));

                for (int i = 0; i < m; i++) {
                    int lowest = aLow + random.nextInt(256 - Int16Gemm.SPAN);
                    for (int p = 0; p < k; p++) {
                        a[i * k + p] = lowest + (extreme ? (random.nextBoolean() ? 0 : Int16Gemm.SPAN)
                                : random.nextInt(Int16Gemm.SPAN + 1));
                    }
                }
                int[] rowZeros = new int[random.nextBoolean() ? 1 : m];
                for (int i = 0; i < rowZeros.length; i++) {
                    rowZeros[i] = aLow + random.nextInt(256);
                }
                int[] lowest = new int[m];
                MemorySegment narrowed = Int16Gemm.narrowed(
                        new FloatGemm.Int8Matrix(bytesIn(arena, a), 0, k, aUnsigned, rowZeros, false, 0), m, k, lowest);
                int[] narrowedZeros = new int[m];
                for (int i = 0; i < m; i++) {
                    narrowedZeros[i] = rowZeros[rowZeros.length == 1 ? 0 : i] - lowest[i];
                    for (int p = 0; p < k; p++) {
                        assertThat(narrowed.get(ValueLayout.JAVA_BYTE, (long) i * k + p) & 0xFF).isBetween(0, Int16Gemm.SPAN);
                    }
                }
                scratch = Int16Gemm.packWhole(bMatrix, k, n, true, scratch);
                Int16Gemm.multiply(new FloatGemm.Int8Matrix(narrowed, 0, k, true, narrowedZeros, false, 0), scratch, 0, c, m, n,
                        k, null);
                assertThat(products(c, m, n)).as(label + ", unsigned").containsExactly(definition(a, rowZeros, b, bZeros, m, n, k));
            }
            // takesWholeB finds −128 (as signed) at any place of a row longer than a vector.
            for (boolean unsigned : new boolean[] {false, true}) {
                int[] values = new int[200];
                Arrays.fill(values, unsigned ? 1 : -127);
                assertThat(Int16Gemm.takesWholeB(bytesIn(arena, values), 0, values.length, unsigned)).isTrue();
                for (int at : new int[] {0, 63, 64, 199}) {
                    values[at] = unsigned ? 0 : -128;
                    assertThat(Int16Gemm.takesWholeB(bytesIn(arena, values), 0, values.length, unsigned)).as("at %d", at)
                            .isFalse();
                    values[at] = unsigned ? 1 : -127;
                }
            }
            // An A that takes −128 is refused against a B packed signed.
            int[] zeros = {0};
            Int16Gemm.Packed packed = Int16Gemm.packWhole(
                    new FloatGemm.Int8Matrix(bytesIn(arena, new int[] {-128, 127, 5, 6}), 0, 2, false, zeros, true, 0), 2, 2,
                    false, null);
            FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(16, 64), 0, 2);
            assertThatIllegalArgumentException().isThrownBy(() -> Int16Gemm.multiply(
                    new FloatGemm.Int8Matrix(bytesIn(arena, new int[] {3, -128}), 0, 2, false, zeros, false, 0), packed, 0, c,
                    1, 2, 2, null));
            // A row wider than SPAN is not narrowed.
            int[] wide = new int[Int16Gemm.SPAN + 2];
            Arrays.setAll(wide, i -> i - 64);
            assertThatIllegalArgumentException().isThrownBy(() -> Int16Gemm.narrowed(
                    new FloatGemm.Int8Matrix(bytesIn(arena, wide), 0, wide.length, false, zeros, false, 0), 1, wide.length,
                    new int[1]));
        }
    }

    @Test
    void packsOnlyBWhoseColumnsSpanAtMostTheWidestSpan() {
        try (Arena arena = Arena.ofConfined()) {
            for (int span : new int[] {Int16Gemm.SPAN, Int16Gemm.SPAN + 1, Int16Gemm.WIDE_SPAN, Int16Gemm.WIDE_SPAN + 1}) {
                for (boolean unsigned : new boolean[] {false, true}) {
                    int low = unsigned ? 0 : -128;
                    // The second column spans `span`, away from the zero point; the first is constant.
                    int[] b = {low + 255, low, low + 255, low + span, low + 255, low + 7};
                    var packed = Int16Gemm.pack(
                            new FloatGemm.Int8Matrix(bytesIn(arena, b), 0, 2, unsigned, new int[] {low + 200}, true, 0),
                            3, 2);
                    assertThat(packed != null).as("span %d unsigned %b", span, unsigned)
                            .isEqualTo(span <= Int16Gemm.WIDE_SPAN);
                }
            }
        }
    }

    @Test
    void sumsPastInt32WrapAsTheDefinitionDoes() {
        // The largest products, A's 255 (uint8, zero point 0) by B's 127 (int8, zero point −128 and
        // columns spanning SPAN or WIDE_SPAN from 127), over a depth whose sums pass 2^31.
        int k = 40_001;
        int n = Int16Gemm.PANEL + 3;
        try (Arena arena = Arena.ofConfined()) {
            for (int span : new int[] {Int16Gemm.SPAN, Int16Gemm.WIDE_SPAN}) {
                int[] a = new int[k];
                int[] b = new int[k * n];
                Arrays.fill(a, 255);
                Arrays.fill(b, 127);
                Arrays.fill(b, 0, n, 127 - span);
                int[] aZeros = {0};
                int[] bZeros = {-128};
                Int16Gemm.Packed packed = Int16Gemm.pack(
                        new FloatGemm.Int8Matrix(bytesIn(arena, b), 0, n, false, bZeros, true, 0), k, n);
                FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(4L * n, 64), 0, n);
                Int16Gemm.multiply(new FloatGemm.Int8Matrix(bytesIn(arena, a), 0, k, true, aZeros, false, 0), packed, 0,
                        c, 1, n, k, null);
                int[] expected = definition(a, aZeros, b, bZeros, 1, n, k);
                assertThat((long) k * 255 * 255).isGreaterThan(Integer.MAX_VALUE);
                assertThat(products(c, 1, n)).as("span %d", span).containsExactly(expected);
            }
        }
    }

    @Test
    void refusesBlocksOffThePanelsAndTheShape() {
        try (Arena arena = Arena.ofConfined()) {
            int n = 2 * Int16Gemm.PANEL;
            int[] zeros = {0};
            Int16Gemm.Packed packed = Int16Gemm.pack(
                    new FloatGemm.Int8Matrix(bytesIn(arena, new int[4 * n]), 0, n, false, zeros, true, 0), 4, n);
            FloatGemm.Int8Matrix a = new FloatGemm.Int8Matrix(bytesIn(arena, new int[4]), 0, 4, false, zeros, false, 0);
            FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(4L * n, 64), 0, n);
            assertThatIllegalArgumentException().isThrownBy(() -> Int16Gemm.multiply(a, packed, 1, c, 1, 8, 4, null));
            assertThatIllegalArgumentException()
                    .isThrownBy(() -> Int16Gemm.multiply(a, packed, Int16Gemm.PANEL, c, 1, n, 4, null));
            assertThatIllegalArgumentException().isThrownBy(() -> Int16Gemm.multiply(a, packed, 0, c, 1, n, 3, null));
        }
    }

    @Test
    void aPaddedImageGivesTheConvolutionsSums() {
        SplittableRandom random = new SplittableRandom(SEED + 4);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 120; trial++) {
                // Odd channel counts (a plane's high half past the image) and many channels; windows of
                // one row or column, dilated ones, padding on any side; a third of the trials with every
                // value at an end of its range (x's 0 or 255 against zero points at the other end).
                int channels = trial % 7 == 0 ? random.nextInt(30, 75) : random.nextInt(1, 10);
                int height = random.nextInt(1, 12);
                int width = random.nextInt(1, 40);
                int kernelHeight = random.nextInt(1, 4);
                int kernelWidth = random.nextInt(1, 4);
                int dilation = random.nextInt(1, 3);
                // Strides of 1 (the contiguous copy), 2 (the vector split into phases) and 3 (lane by lane).
                int strideHeight = random.nextInt(1, 4);
                int strideWidth = trial % 3 + 1;
                int top = random.nextInt(0, 3);
                int left = random.nextInt(0, 3);
                int bottom = Math.max(random.nextInt(0, 3), dilation * (kernelHeight - 1) + 1 - height - top);
                int right = Math.max(random.nextInt(0, 3), dilation * (kernelWidth - 1) + 1 - width - left);
                int outHeight = (height + top + bottom - dilation * (kernelHeight - 1) - 1) / strideHeight + 1;
                int outWidth = (width + left + right - dilation * (kernelWidth - 1) - 1) / strideWidth + 1;
                Depthwise.Shape shape = new Depthwise.Shape(height, width, kernelHeight, kernelWidth, strideHeight,
                        strideWidth, dilation, dilation, top, left, bottom, right, outHeight, outWidth);
                int filters = random.nextInt(1, 3 * Int16Gemm.ROWS + 2);
                boolean extreme = trial % 3 == 0;
                boolean xUnsigned = random.nextBoolean();
                boolean wUnsigned = random.nextBoolean();
                int xLow = xUnsigned ? 0 : -128;
                int wLow = wUnsigned ? 0 : -128;
                int xZero = extreme ? xLow + 255 : xLow + random.nextInt(256);
                int[] x = new int[channels * height * width];
                for (int i = 0; i < x.length; i++) {
                    x[i] = extreme ? xLow : xLow + random.nextInt(256);
                }
                int taps = kernelHeight * kernelWidth;
                int[] w = new int[filters * channels * taps];
                int[] wZeros = new int[random.nextBoolean() ? 1 : filters];
                // Half the trials narrow: each filter within SPAN values from a lowest of its own (unsigned
                // products), at its ends in the extreme trials. The others never take the least value: two
                // products of −128 by −128 overflow a signed half.
                boolean narrow = trial % 2 == 1;
                for (int f = 0; f < filters; f++) {
                    int lowest = wLow + random.nextInt(256 - Int16Gemm.SPAN);
                    for (int i = f * channels * taps; i < (f + 1) * channels * taps; i++) {
                        w[i] = narrow ? lowest + (extreme ? (random.nextBoolean() ? 0 : Int16Gemm.SPAN) : random.nextInt(Int16Gemm.SPAN + 1))
                                : extreme ? wLow + (random.nextBoolean() ? 1 : 255) : wLow + random.nextInt(1, 256);
                    }
                }
                for (int f = 0; f < wZeros.length; f++) {
                    wZeros[f] = trial % 4 == 0 ? (wUnsigned ? 128 : 0) : wLow + random.nextInt(256);
                }
                FloatGemm.Int8Matrix wMatrix = new FloatGemm.Int8Matrix(bytesIn(arena, w), 0, (long) channels * taps, wUnsigned,
                        wZeros, false, 0);
                // (Signed trials' filters may be narrow too by chance; they are packed signed, as wide ones.)
                assertThat(!narrow || Int16Gemm.Filters.narrow(wMatrix, filters, (long) channels * taps)).isTrue();
                Int16Gemm.Filters packed = Int16Gemm.packFilters(wMatrix, filters, channels, taps, narrow);
                short[] values = new short[Int16Gemm.PaddedImage.shorts(channels, shape)];
                Arrays.fill(values, (short) 0x5A5A);
                Int16Gemm.PaddedImage image = new Int16Gemm.PaddedImage(values, channels, shape, xUnsigned, xZero,
                        packed.signed());
                var xBytes = bytesIn(arena, x);
                for (int pair = 0; pair < image.planes(); pair++) {
                    image.copyChannels(pair, xBytes, 0, (long) height * width, xUnsigned);
                }
                if (packed.needsColumnSums()) {
                    image.sumChannels();
                }
                int columns = image.columns();
                assertThat(columns).isEqualTo((outHeight - 1) * image.columnWidth() + outWidth);
                FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(4L * filters * columns + 64, 64), 0, columns);
                c.segment().fill((byte) 0x5A);
                // Blocks of columns and of filters as the threads take them, each written where it lies.
                int filterBlock = Int16Gemm.ROWS * random.nextInt(1, 4);
                for (int first = 0; first < columns; ) {
                    int count = Math.min(columns - first, random.nextInt(1, 3 * Int16Gemm.PANEL));
                    for (int f = 0; f < filters; f += filterBlock) {
                        Int16Gemm.multiply(packed, f, Math.min(filterBlock, filters - f), image, first,
                                new FloatGemm.Matrix(c.segment(), (long) f * columns + first, columns), count);
                    }
                    first += count;
                }
                String label = String.format("seed %x trial %d: %d channels %dx%d, %d %s filters, %s", SEED, trial,
                        channels, height, width, filters, narrow ? "narrow" : "signed", shape);
                for (int f = 0; f < filters; f++) {
                    int wZero = wZeros[wZeros.length == 1 ? 0 : f];
                    for (int oy = 0; oy < outHeight; oy++) {
                        for (int ox = 0; ox < outWidth; ox++) {
                            long sum = 0;
                            for (int ch = 0; ch < channels; ch++) {
                                for (int t = 0; t < taps; t++) {
                                    int iy = oy * strideHeight + t / kernelWidth * dilation - top;
                                    int ix = ox * strideWidth + t % kernelWidth * dilation - left;
                                    int value = iy >= 0 && iy < height && ix >= 0 && ix < width
                                            ? x[(ch * height + iy) * width + ix] : xZero;
                                    sum += (long) (value - xZero) * (w[(f * channels + ch) * taps + t] - wZero);
                                }
                            }
                            assertThat(c.segment().get(Layouts.INT32, 4L * ((long) f * columns + oy * image.columnWidth() + ox)))
                                    .as("%s: filter %d at (%d, %d)", label, f, oy, ox).isEqualTo((int) sum);
                        }
                    }
                }
                assertThat(c.segment().get(Layouts.INT32, 4L * filters * columns)).as(label + ": past C").isEqualTo(0x5A5A5A5A);
            }
        }
    }

    @Test
    void refusesFiltersAndImagesThatDoNotFit() {
        try (Arena arena = Arena.ofConfined()) {
            int[] zeros = {0};
            FloatGemm.Int8Matrix least = new FloatGemm.Int8Matrix(bytesIn(arena, new int[] {3, -128}), 0, 2, false, zeros,
                    false, 0);
            assertThatIllegalArgumentException().isThrownBy(() -> Int16Gemm.packFilters(least, 1, 1, 2, false))
                    .withMessageContaining("filter 0 holds −128");
            // Two channels of 2×3 padded to 4×4, a window of one row by two columns (taps 0 and 1): 3×3 outputs.
            Depthwise.Shape shape = new Depthwise.Shape(2, 3, 1, 2, 1, 1, 1, 1, 1, 0, 1, 1, 4, 3);
            assertThatIllegalArgumentException().isThrownBy(() -> new Int16Gemm.PaddedImage(new short[8], 1, shape, true, 0, true))
                    .withMessageContaining("values for 1 channels");
            int size = Int16Gemm.PaddedImage.shorts(2, shape);
            assertThatIllegalArgumentException().isThrownBy(() -> new Int16Gemm.PaddedImage(new short[size], 2,
                    new Depthwise.Shape(2, 3, 1, 2, 1, 1, 1, 1, 1, 0, 1, 1, 4, 4), true, 0, true)).withMessageContaining("reaches past");
            assertThatIllegalArgumentException().isThrownBy(() -> new Int16Gemm.PaddedImage(new short[size], 2,
                    new Depthwise.Shape(2, 3, 1, 2, 1, 1, 1, 1, -1, 0, 1, 1, 2, 3), true, 0, true)).withMessageContaining("negative");
            Int16Gemm.PaddedImage image = new Int16Gemm.PaddedImage(new short[size], 2, shape, true, 0, true);
            FloatGemm.Int8Matrix fours = new FloatGemm.Int8Matrix(bytesIn(arena, new int[4]), 0, 4, false, zeros, false, 0);
            Int16Gemm.Filters filters = Int16Gemm.packFilters(fours, 1, 2, 2, false);
            assertThatIllegalArgumentException().isThrownBy(() -> Int16Gemm.multiply(Int16Gemm.packFilters(fours, 1, 2, 2, true),
                    0, 1, image, 0, new FloatGemm.Matrix(arena.allocate(64, 64), 0, 16), 11))
                    .withMessageContaining("narrow filters against a signed image");
            FloatGemm.Int8Matrix wide = new FloatGemm.Int8Matrix(bytesIn(arena, new int[] {-64, 65}), 0, 2, false, zeros, false, 0);
            assertThat(Int16Gemm.Filters.narrow(wide, 1, 2)).isFalse();
            assertThatIllegalArgumentException().isThrownBy(() -> Int16Gemm.packFilters(wide, 1, 1, 2, true))
                    .withMessageContaining("wider than the 128");
            FloatGemm.Matrix c = new FloatGemm.Matrix(arena.allocate(4L * 16, 64), 0, 16);
            Int16Gemm.multiply(filters, 0, 1, image, 0, c, 11);
            assertThatIllegalArgumentException().isThrownBy(() -> Int16Gemm.multiply(filters, 0, 1, image, 16, c, 11))
                    .withMessageContaining("columns 16..27");
            assertThatIllegalArgumentException().isThrownBy(() -> Int16Gemm.multiply(filters, 0, 2, image, 0, c, 11))
                    .withMessageContaining("filters 0..2 of 1");
            assertThatIllegalArgumentException().isThrownBy(() -> Int16Gemm.multiply(Int16Gemm.packFilters(
                    new FloatGemm.Int8Matrix(bytesIn(arena, new int[3]), 0, 3, false, zeros, false, 0), 1, 3, 1, false), 0, 1, image,
                    0, c, 4)).withMessageContaining("3 channels");
            FloatGemm.Int8Matrix uint8 = new FloatGemm.Int8Matrix(bytesIn(arena, new int[] {5, 5, 5, 5}), 0, 4, true,
                    new int[] {7}, false, 0);
            assertThatIllegalStateException().isThrownBy(() -> Int16Gemm.multiply(Int16Gemm.packFilters(uint8, 1, 2, 2, false), 0, 1,
                    image, 0, c, 4)).withMessageContaining("not summed");
        }
    }

    /** A scale per column or one for all, and a bias per column or none. */
    private static FloatGemm.Dequantization dequantization(SplittableRandom random, int n) {
        float[] scale = new float[random.nextBoolean() ? 1 : n];
        for (int j = 0; j < scale.length; j++) {
            scale[j] = (float) random.nextDouble(1e-4, 1e-2);
        }
        float[] bias = null;
        if (random.nextBoolean()) {
            bias = new float[n];
            for (int j = 0; j < n; j++) {
                bias[j] = (float) random.nextGaussian();
            }
        }
        return new FloatGemm.Dequantization(scale, bias);
    }

    /** Each sum as float, times its scale, plus its bias: each step rounded, as the fused epilogue rounds them. */
    private static float[] dequantized(int[] sums, int n, FloatGemm.Dequantization then) {
        float[] values = new float[sums.length];
        for (int i = 0; i < sums.length; i++) {
            int j = i % n;
            values[i] = (float) sums[i] * then.scale()[then.scale().length == 1 ? 0 : j];
            if (then.bias() != null) {
                values[i] += then.bias()[j];
            }
        }
        return values;
    }
}
