package dev.quanta.kernels.simd;

import dev.quanta.tensor.Layouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.Vector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * float32 matrix product C = A·B (or C += A·B) on row-major operands with arbitrary row strides.
 * Blocked the usual way for caches: per {@link #DEPTH}-deep slice of K (deeper for integer
 * products with a packed B, up to {@link #MAX_DEPTH}), a chunk of B's columns is
 * packed into panels two vectors wide and a chunk of A's rows into blocks of {@link #ROWS} rows,
 * both contiguous and zero-padded, so the micro-kernel streams them. The micro-kernel holds
 * {@link #ROWS} rows of C by two vectors in registers: each loaded B vector serves every row and
 * each broadcast A element two vectors. Offsets and strides are in elements.
 */
public final class FloatGemm {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> INT_SPECIES = IntVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    /**
     * Rows of C per micro-kernel. Eight with AVX-512: sixteen accumulators, two B vectors and a
     * broadcast, within its 32 registers; on a Xeon with AMX (two 512-bit ports, which also take the
     * loop's scalar work) eight rows did 175–183 GFLOP/s a core where six did 156–170, in a
     * throwaway loop (bench/RESULTS.md, twentieth session). Six with AVX2, whose sixteen registers
     * hold twelve accumulators, two B vectors and a broadcast: eight spilled (51 GFLOP/s against
     * 78 with -XX:UseAVX=2). {@link #kernel} takes eight, {@link #kernelFromSegment} six.
     */
    public static final int ROWS = SPECIES.vectorBitSize() >= 512 ? 8 : 6;
    /** The most rows a micro-kernel tile has. */
    private static final int MOST_ROWS = 8;
    /** Rows of {@link #halfKernel}'s tile. */
    private static final int HALF_ROWS = MOST_ROWS / 2;
    /** Columns of C per micro-kernel and per packed panel of B: a product narrower than this wastes lanes. */
    public static final int PANEL = 2 * LANES;
    /** Columns of C per step of {@link #rowWide}, few rows of A against B where it lies. */
    static final int WIDE_PANEL = 4 * PANEL;
    /** Depth of a packed slice: a panel of B is 16 KiB with AVX2, 32 KiB with AVX-512, within an L1 data cache. */
    static final int DEPTH = 256;
    /**
     * The deepest slice of an integer product with B packed whole, where its values' range lets the
     * sums stay exact that long (see {@link #exactDepth}): each slice's sums go through the
     * micro-kernel's tile and are added into C as int32, and K = 384 in one slice instead of two ran
     * 10–15% faster. Float filters over a padded image take slices this deep too ({@link #packFilters}).
     */
    static final int MAX_DEPTH = 1024;
    /** Sums of integers up to this magnitude are exact in float. */
    private static final int EXACT_FLOAT_INTEGERS = 1 << 24;
    /**
     * Rows of A packed at a time (72 KiB at 256 deep, 288 KiB at 1024: in L2), reused across a whole
     * chunk of B's columns: whole tiles of either height.
     */
    static final int ROW_CHUNK = 72;
    /** Columns of B packed at a time (512 KiB with AVX2, in L2), reused across every row of A. */
    static final int COLUMN_CHUNK = 32 * PANEL;
    /** Columns per step of the streaming kernel: one vector of bytes, four vectors of floats. */
    private static final int STREAM_WIDTH = 4 * LANES;
    /**
     * Fewer rows than this stream B where it lies: packing it would cost about what the product does
     * (a constant int8 B has {@link Int8Gemv} for them, which reads a quarter of the bytes).
     */
    public static final int PACKING_MIN_ROWS = 4;

    // A chunk of A in a heap array: C2 drops the bounds checks of the micro-kernel's broadcasts from
    // it, where from a segment each broadcast kept a compare and a branch, which took issue slots
    // from the multiply-adds. B stays off-heap and 64-byte aligned: a vector load from a float[] may
    // straddle cache lines, and the byte-indexed segment loop compiled measurably better than the
    // array one (see bench/RESULTS.md).
    private static final ThreadLocal<float[]> PACKED_A = ThreadLocal.withInitial(() -> new float[ROW_CHUNK * MAX_DEPTH]);
    private static final ThreadLocal<MemorySegment> PACKED_B = ThreadLocal.withInitial(() -> buffer(DEPTH * COLUMN_CHUNK));
    /** An off-heap copy of A's chunk for {@link #kernelFromSegment} (AVX2). */
    private static final ThreadLocal<MemorySegment> OFF_HEAP_A = ThreadLocal.withInitial(() -> buffer(ROW_CHUNK * MAX_DEPTH));
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[ROWS * PANEL]);
    /** Where each tap of a slice starts in a padded image, for the panel at hand. */
    private static final ThreadLocal<int[]> TAP_STARTS = ThreadLocal.withInitial(() -> new int[MAX_DEPTH]);
    /** A vector of integer sums on its way to {@link #storeSums}. */
    private static final ThreadLocal<int[]> CONVERTED = ThreadLocal.withInitial(() -> new int[LANES]);
    /**
     * The {@link #ROWS} rows of A as converted, each in an array of its own, then interleaved into
     * the packed chunk; a panel of a B stored by columns is gathered in {@code panel}, a column at a
     * time in the first row's array.
     */
    private record PackingScratch(float[][] rows, float[] panel) {
    }

    private static final ThreadLocal<PackingScratch> PACKING = ThreadLocal.withInitial(() -> new PackingScratch(
            new float[MOST_ROWS][MAX_DEPTH], new float[PANEL * DEPTH]));

    private FloatGemm() {
    }

    private static MemorySegment buffer(int floats) {
        return Arena.ofAuto().allocate(floats * 4L, 64);
    }

    /**
     * An operand of the product: float32 ({@link Matrix}), float32 stored by columns ({@link
     * ByColumns}, as B only), a convolution's patches read from its image ({@link Patches}, as B
     * only) or int8/uint8 with zero points ({@link Int8Matrix}).
     */
    public sealed interface Operand permits Matrix, ByColumns, Patches, Int8Matrix {
    }

    /**
     * The patch matrix of a 2-D float32 convolution (im2col), read from the image as B is packed,
     * never written out: row (c·kernelHeight + ky)·kernelWidth + kx, column j is channel c's input at
     * the tap (ky, kx) of output position {@code firstPosition + j} (row-major over rows of
     * {@code outWidth}), 0 in the padding. Channel c's plane starts at float {@code offset + c·height·width}.
     */
    public record Patches(MemorySegment segment, long offset, int height, int width, int kernelHeight, int kernelWidth,
            int strideHeight, int strideWidth, int dilationHeight, int dilationWidth, int padTop, int padLeft,
            int outWidth, long firstPosition) implements Operand {

        /** The same window over the image whose first channel's plane starts at float {@code offset}. */
        public Patches at(long offset) {
            return new Patches(segment, offset, height, width, kernelHeight, kernelWidth, strideHeight, strideWidth,
                    dilationHeight, dilationWidth, padTop, padLeft, outWidth, firstPosition);
        }

        /** The same patches from {@code columns} positions further on. */
        public Patches from(long columns) {
            return new Patches(segment, offset, height, width, kernelHeight, kernelWidth, strideHeight, strideWidth,
                    dilationHeight, dilationWidth, padTop, padLeft, outWidth, firstPosition + columns);
        }
    }

    /**
     * A zero-padded image read in place as B, never packed: row p, column j is {@code values[j +
     * taps[p]]}. For a convolution of stride 1 over channel planes padded to {@code paddedWidth}
     * columns, output position (y, x) is column y·paddedWidth + x and tap p = (c, ky, kx) lies
     * c·plane + ky·dilation·paddedWidth + kx·dilation further on; the columns past each output row's
     * width are the padding's, which the caller drops. Every column a product reads, rounded up to
     * whole panels, must lie in {@code values} with each tap.
     */
    public static final class PaddedImage {
        private final float[] values;
        private final int[] taps;
        private final int farthestTap;

        public PaddedImage(float[] values, int[] taps) {
            int nearest = Arrays.stream(taps).min().orElse(0);
            if (nearest < 0) {
                throw new IllegalArgumentException("tap at " + nearest + " lies before the image");
            }
            this.values = values;
            this.taps = taps.clone();
            this.farthestTap = Arrays.stream(taps).max().orElse(0);
        }
    }

    /** Row-major float32 matrix: element (i, j) at {@code offset + i·rowStride + j}. */
    public record Matrix(MemorySegment segment, long offset, long rowStride) implements Operand {
        long byteAt(long row, long column) {
            return (offset + row * rowStride + column) * 4;
        }
    }

    /**
     * A float32 matrix stored column by column: element (i, j) at {@code offset + j·columnStride + i},
     * the transpose of a row-major matrix (attention's Kᵀ, a view of K), packed from where it lies.
     */
    public record ByColumns(MemorySegment segment, long offset, long columnStride) implements Operand {
        long byteAt(long row, long column) {
            return (offset + column * columnStride + row) * 4;
        }
    }

    /**
     * Row-major int8 or uint8 matrix, element (i, j) at byte {@code offset + i·rowStride + j}, taken
     * as its value minus a zero point: {@code zeroPoints[0]} for all when it holds one, else
     * {@code zeroPoints[first + j]} per column when {@code perColumn}, {@code zeroPoints[first + i]}
     * per row otherwise. {@code first} places a block of a larger matrix in its zero points.
     */
    public record Int8Matrix(MemorySegment segment, long offset, long rowStride, boolean unsigned, int[] zeroPoints,
            boolean perColumn, int first) implements Operand {

        long byteAt(long row, long column) {
            return offset + row * rowStride + column;
        }

        int zeroPoint(int index) {
            return zeroPoints.length == 1 ? zeroPoints[0] : zeroPoints[first + index];
        }

        /** The value at (row, column) minus its zero point. */
        float shifted(int row, int column) {
            byte value = segment.get(ValueLayout.JAVA_BYTE, byteAt(row, column));
            return (unsigned ? value & 0xFF : value) - zeroPoint(perColumn ? column : row);
        }
    }

    /**
     * A constant B[k×n] packed once as the micro-kernel reads it: converted to float (int8 less its
     * zero points), its columns in panels of {@link #PANEL} padded with zeros, each panel's rows
     * contiguous over all of K, so that a slice of any depth is one stretch of it. Products with few
     * rows of A still read {@code source}, which streams faster.
     */
    public static final class PackedB {
        private final Operand source;
        private final MemorySegment data;
        private final int k;
        /** For an int8 B, the largest magnitude of a value less its zero point. */
        private final int widest;

        private PackedB(Operand source, MemorySegment data, int k, int widest) {
            this.source = source;
            this.data = data;
            this.k = k;
            this.widest = widest;
        }

        /** Byte offset of the panel holding column {@code column} (a multiple of PANEL), from depth {@code depth}. */
        private long at(int depth, int column) {
            return ((long) (column / PANEL) * k + depth) * PANEL * 4;
        }
    }

    /** Bytes {@link #pack} would take for a k×n matrix. */
    public static long packedBytes(int k, int n) {
        return (long) k * Math.ceilDiv(n, PANEL) * PANEL * 4;
    }

    /** Packs a constant B[k×n] once, for any number of products; int8 B takes its zero points per column. */
    public static PackedB pack(Operand b, int k, int n) {
        return pack(b, k, n, Arena.ofAuto().allocate(Math.max(packedBytes(k, n), 4), 64));
    }

    /**
     * As {@link #pack(Operand, int, int)}, into {@code data} (at least {@link #packedBytes} from
     * offset 0, 64-byte aligned), which the caller keeps alive while the packed B is used: a B packed
     * for one run only, in that run's memory, where memory of its own lasts until the GC frees it.
     */
    public static PackedB pack(Operand b, int k, int n, MemorySegment data) {
        if (data.byteSize() < packedBytes(k, n) || data.address() % 64 != 0) {
            throw new IllegalArgumentException("packing B takes " + packedBytes(k, n) + " bytes from a 64-byte boundary, not "
                    + data.byteSize() + " at " + data.address());
        }
        if (b instanceof Int8Matrix bytes && !bytes.perColumn() && bytes.zeroPoints().length != 1) {
            throw new IllegalArgumentException("B's zero points go per column");
        }
        int widest = 0;
        if (b instanceof Int8Matrix bytes) {
            for (int p = 0; p < k; p++) {
                for (int j = 0; j < n; j++) {
                    widest = Math.max(widest, (int) Math.abs(bytes.shifted(p, j)));
                }
            }
        }
        PackedB packed = new PackedB(b, data, k, widest);
        for (int depth = 0; depth < k; depth += DEPTH) {
            packB(b, depth, Math.min(DEPTH, k - depth), 0, n, k, data.asSlice(packed.at(depth, 0)));
        }
        return packed;
    }

    /**
     * An A[m×k] packed as the micro-kernel reads it, for products with many Bs or many blocks of
     * B's columns: slice after slice of the depth, each slice's rows (m rounded up to whole tiles)
     * in chunks of {@link #ROW_CHUNK}. Either float filters in a segment the caller keeps (a
     * convolution's, against each block of its patches: each task had packed the same filters
     * again, 8% of a float16 ISNet's samples, JFR), or the rows of a product with a packed B in a
     * heap array, which the micro-kernel reads where it lies ({@link #packA(Operand, int, int,
     * PackedB, float[])}).
     */
    public static final class PackedA {
        private final Operand source;
        private final MemorySegment data;
        private final float[] values;
        /** The packed B the rows were packed for, when they were. */
        private final PackedB forB;
        private final int m;
        private final int k;
        /** Depth of each slice. */
        private final int step;

        private PackedA(Operand source, MemorySegment data, float[] values, PackedB forB, int m, int k, int step) {
            this.source = source;
            this.data = data;
            this.values = values;
            this.forB = forB;
            this.m = m;
            this.k = k;
            this.step = step;
        }

        /** Offset in floats of the chunk of rows from {@code chunk} in the slice from {@code depth}, {@code rows} deep. */
        private long at(int depth, int chunk, int rows) {
            return (long) roundedRows(m) * depth + (long) chunk * rows;
        }

        /** Parts of the packing, each a chunk of rows in a slice of the depth, packed by one call of {@link #fill}. */
        public int parts() {
            return Math.ceilDiv(m, ROW_CHUNK) * Math.max(1, Math.ceilDiv(k, step));
        }

        /**
         * Packs part {@code index} (from 0, under {@link #parts()}): parts may be filled on different
         * threads, so that few rows of a deep product (the MiniLM's 128 rows 1,536 deep: two chunks
         * by six slices) are packed by all of them.
         */
        public void fill(int index) {
            int slices = Math.max(1, Math.ceilDiv(k, step));
            int chunk = index / slices * ROW_CHUNK;
            int depth = index % slices * step;
            if (values == null || index < 0 || chunk >= m) {
                throw new IllegalArgumentException("part " + index + " of " + parts() + (values == null ? " packed already" : ""));
            }
            int height = Math.min(ROW_CHUNK, m - chunk);
            int rows = Math.min(step, k - depth);
            packA(source, chunk, height, depth, rows, values, Math.toIntExact(at(depth, chunk, rows)));
        }
    }

    private static int roundedRows(int m) {
        return Math.ceilDiv(m, ROWS) * ROWS;
    }

    /** Bytes {@link #packA(Matrix, int, int, MemorySegment)} takes for an m×k A. */
    public static long packedABytes(int m, int k) {
        return Math.max(4, (long) roundedRows(m) * k * 4);
    }

    /** Packs A[m×k] into {@code data} (at least {@link #packedABytes} from offset 0), which the caller keeps alive. */
    public static PackedA packA(Matrix a, int m, int k, MemorySegment data) {
        if (data.byteSize() < packedABytes(m, k)) {
            throw new IllegalArgumentException("packing A takes " + packedABytes(m, k) + " bytes, not " + data.byteSize());
        }
        PackedA packed = new PackedA(a, data, null, null, m, k, DEPTH);
        if (m >= PACKING_MIN_ROWS) {
            float[] chunkA = PACKED_A.get();
            for (int depth = 0; depth < k; depth += DEPTH) {
                int rows = Math.min(DEPTH, k - depth);
                for (int chunk = 0; chunk < m; chunk += ROW_CHUNK) {
                    int height = Math.min(ROW_CHUNK, m - chunk);
                    packA(a, chunk, height, depth, rows, chunkA, 0);
                    MemorySegment.copy(chunkA, 0, data, Layouts.FLOAT, packed.at(depth, chunk, rows) * 4,
                            roundedRows(height) * rows);
                }
            }
        }
        return packed;
    }

    /** Floats {@link #packA(Operand, int, int, PackedB, float[])} takes for an m×k A. */
    public static long packedAFloats(int m, int k) {
        return (long) roundedRows(m) * k;
    }

    /**
     * Room in {@code values} (at least {@link #packedAFloats} of them) for A[m×k], float or int8 less
     * its zero points ({@link #PACKING_MIN_ROWS} rows or more), packed for products with the packed
     * B {@code b}: the caller fills each of its {@link PackedA#parts()}, on any threads, then
     * multiplies it by any blocks of b's columns ({@link #multiply(PackedA, PackedB, int, Matrix, int,
     * Dequantization)}), which then all read the one packed A.
     */
    public static PackedA packA(Operand a, int m, int k, PackedB b, float[] values) {
        boolean integers = a instanceof Int8Matrix;
        if (integers != b.source instanceof Int8Matrix || !(integers || a instanceof Matrix)) {
            throw new IllegalArgumentException("A and a packed B are both float or both int8, and A lies by rows");
        }
        if (a instanceof Int8Matrix bytes && bytes.perColumn()) {
            throw new IllegalArgumentException("zero points go per row of A and per column of B");
        }
        if (m < PACKING_MIN_ROWS || k != b.k || values.length < packedAFloats(m, k)) {
            throw new IllegalArgumentException("a packed A of " + m + "×" + k + " (at least " + PACKING_MIN_ROWS
                    + " rows) for a B " + b.k + " deep takes " + packedAFloats(m, k) + " floats, not " + values.length);
        }
        return new PackedA(a, null, values, b, m, k, integers ? exactDepth((Int8Matrix) a, b) : DEPTH);
    }

    /**
     * C[m×n] = A·B for an A packed by {@link #packA(Operand, int, int, PackedB, float[])} and
     * columns {@code firstColumn..} (a multiple of {@link #PANEL}) of the B it was packed for; an
     * integer product's sums as int32, or as floats through {@code then} when it is not null.
     */
    public static void multiply(PackedA a, PackedB b, int firstColumn, Matrix c, int n, Dequantization then) {
        if (a.forB != b) {
            throw new IllegalArgumentException("A was packed for another B");
        }
        boolean integers = a.source instanceof Int8Matrix;
        if (then != null && !integers) {
            throw new IllegalArgumentException("a float product has no dequantization");
        }
        multiply(a.source, shifted(b.source, firstColumn), b, firstColumn, c, a.m, n, a.k, false, integers, then, a);
    }

    /** As {@link #multiply(Matrix, Matrix, Matrix, int, int, int, boolean)} with an A packed once. */
    public static void multiply(PackedA a, Matrix b, Matrix c, int n, boolean accumulate) {
        multiply(a.source, b, null, 0, c, a.m, n, a.k, accumulate, false, null, a);
    }

    /** Whether {@link #multiply(PackedA, PaddedImage, int, Matrix, int)} runs here: its micro-kernel takes eight rows (AVX-512). */
    public static final boolean READS_PADDED_IMAGES = ROWS == MOST_ROWS;

    /** Whether this is an AMD core, where padded images were measured against the patch matrix on narrow planes too. */
    public static final boolean AMD = Cpu.vendor().equals(Cpu.AMD);

    /**
     * Filters W[m×k] packed once into a heap array, for products with padded images: float, or
     * int8 less their zero points (per row), whose products then sum exactly into int32.
     */
    public static PackedA packFilters(Operand w, int m, int k) {
        if (!(w instanceof Matrix) && !(w instanceof Int8Matrix bytes && !bytes.perColumn())) {
            throw new IllegalArgumentException("filters lie by rows, float or int8 with zero points per row");
        }
        // Float filters in slices of up to MAX_DEPTH taps: each slice's sums are added into C once more,
        // and at DEPTH the float 3×3 convolutions over 256×256 (32 and 64 channels) and 128×128 (128) took
        // 4–6% longer on one thread (a throwaway harness, the two alternating). Integer ones stay exact
        // only within DEPTH.
        int step = w instanceof Matrix ? MAX_DEPTH : DEPTH;
        PackedA packed = new PackedA(w, null, new float[Math.toIntExact(packedAFloats(m, k))], null, m, k, step);
        for (int part = 0; part < packed.parts(); part++) {
            packed.fill(part);
        }
        return packed;
    }

    /**
     * C[m×n] = A·B for filters packed by {@link #packFilters} and columns {@code first..first + n}
     * of a padded image: the micro-kernel loads each tap's two vectors where they lie, so the
     * patches are neither gathered nor packed (a 64→64 3×3 convolution over 56×56 positions had
     * spent more time gathering and packing them than multiplying). For int8 filters the image
     * holds integers of magnitude 255 at most (an int8 image less its zero point) and C gets int32
     * sums, exact: each slice of {@link #DEPTH} taps sums within 2^24 in float.
     */
    public static void multiply(PackedA a, PaddedImage b, int first, Matrix c, int n) {
        if (!READS_PADDED_IMAGES || a.values == null || a.forB != null || b.taps.length != a.k) {
            throw new IllegalArgumentException("a padded image of " + b.taps.length + " taps takes filters packed for it, "
                    + a.k + " deep, and eight rows a tile");
        }
        long last = (long) first + Math.ceilDiv(n, PANEL) * PANEL - 1 + b.farthestTap;
        if (first < 0 || n < 0 || last >= b.values.length) {
            throw new IllegalArgumentException("columns " + first + "+" + n + " read past the padded image's "
                    + b.values.length + " values");
        }
        boolean integers = a.source instanceof Int8Matrix;
        float[] tile = TILE.get();
        int[] starts = TAP_STARTS.get();
        for (int depth = 0; depth < a.k; depth += a.step) {
            int rows = Math.min(a.step, a.k - depth);
            // Each panel's taps stay in cache while every tile of filters meets them.
            for (int column = 0; column < n; column += PANEL) {
                for (int i = 0; i < rows; i++) {
                    starts[i] = first + column + b.taps[depth + i];
                }
                for (int chunk = 0; chunk < a.m; chunk += ROW_CHUNK) {
                    int height = Math.min(ROW_CHUNK, a.m - chunk);
                    int aAt = Math.toIntExact(a.at(depth, chunk, rows));
                    for (int block = 0; block * ROWS < height; block++) {
                        kernelFromImage(a.values, aAt + block * ROWS * rows, b.values, starts, rows, tile, c,
                                chunk + block * ROWS, Math.min(ROWS, height - block * ROWS), column, n, depth > 0, integers);
                    }
                }
            }
        }
    }

    /**
     * C[m×n] = A·B for filters packed once and a convolution's patches read from its image as they
     * are packed ({@link #PACKING_MIN_ROWS} filters or more).
     */
    public static void multiply(PackedA a, Patches b, Matrix c, int n) {
        if (a.m < PACKING_MIN_ROWS) {
            throw new IllegalArgumentException("patches read from the image need " + PACKING_MIN_ROWS
                    + " rows of A or more, not " + a.m);
        }
        multiply(a.source, b, null, 0, c, a.m, n, a.k, false, false, null, a);
    }

    /** C[m×n] = A[m×k]·B[k×n], or C += A·B when {@code accumulate}. */
    public static void multiply(Matrix a, Matrix b, Matrix c, int m, int n, int k, boolean accumulate) {
        multiply(a, b, null, 0, c, m, n, k, accumulate, false, null, null);
    }

    /**
     * As {@link #multiply(Matrix, Matrix, Matrix, int, int, int, boolean)} for a B stored by columns,
     * packed as it is read; {@link #PACKING_MIN_ROWS} rows of A or more.
     */
    public static void multiply(Matrix a, ByColumns b, Matrix c, int m, int n, int k, boolean accumulate) {
        if (m < PACKING_MIN_ROWS) {
            throw new IllegalArgumentException("a B stored by columns needs " + PACKING_MIN_ROWS
                    + " rows of A or more, not " + m);
        }
        multiply(a, b, null, 0, c, m, n, k, accumulate, false, null, null);
    }

    /** As {@link #multiply(Matrix, Matrix, Matrix, int, int, int, boolean)}, columns {@code firstColumn..} of a packed B. */
    public static void multiply(Matrix a, PackedB b, int firstColumn, Matrix c, int m, int n, int k, boolean accumulate) {
        if (!(b.source instanceof Matrix || b.source instanceof ByColumns)) {
            throw new IllegalArgumentException("a float product needs a float B");
        }
        multiply(a, shifted(b.source, firstColumn), b, firstColumn, c, m, n, k, accumulate, false, null, null);
    }

    /**
     * C[m×n] = (A − zero points)·(B − zero points) in int32, for int8/uint8 A (zero points per
     * tensor or per row) and B (per tensor or per column). The shifted operands are integers of
     * magnitude at most 255, converted to float as they are packed: a block of {@link #DEPTH}
     * products sums below 2^24 (256·255² = 16,646,400), so every fused multiply-add is exact, and each block's sums are
     * converted to int32 and added to C. Bit-exact, whatever the summation order.
     */
    public static void multiplyIntegers(Int8Matrix a, Int8Matrix b, Matrix c, int m, int n, int k) {
        if (a.perColumn() || !b.perColumn()) {
            throw new IllegalArgumentException("zero points go per row of A and per column of B");
        }
        multiply(a, b, null, 0, c, m, n, k, false, true, null, null);
    }

    /**
     * As {@link #multiplyIntegers(Int8Matrix, Int8Matrix, Matrix, int, int, int)}, columns
     * {@code firstColumn..} (a multiple of {@link #PANEL}) of a packed int8 B; the blocks go as deep
     * as B's values and A's zero points keep the sums within 2^24 (see {@link #MAX_DEPTH}).
     */
    public static void multiplyIntegers(Int8Matrix a, PackedB b, int firstColumn, Matrix c, int m, int n, int k) {
        multiplyIntegers(a, b, firstColumn, c, m, n, k, null);
    }

    /**
     * What an integer product's sums become as they are stored: float, times {@code scale} (one
     * value, or one per column of B) plus {@code bias} (one per column of B, or null), the product
     * and the sum each rounded, as separate Cast, Mul and Add nodes round them.
     */
    public record Dequantization(float[] scale, float[] bias) {
    }

    /**
     * As {@link #multiplyIntegers(Int8Matrix, PackedB, int, Matrix, int, int, int)}, C as float32
     * through {@code then} (none when null): with rows enough for the packed kernel, as the last slice
     * of sums leaves the micro-kernel, where a pass over C afterwards read and wrote it all again.
     */
    public static void multiplyIntegers(Int8Matrix a, PackedB b, int firstColumn, Matrix c, int m, int n, int k,
            Dequantization then) {
        if (!(b.source instanceof Int8Matrix source)) {
            throw new IllegalArgumentException("an integer product needs an int8 B");
        }
        if (a.perColumn()) {
            throw new IllegalArgumentException("zero points go per row of A and per column of B");
        }
        multiply(a, shifted(source, firstColumn), b, firstColumn, c, m, n, k, false, true, then, null);
        if (then != null && (m < PACKING_MIN_ROWS || k == 0)) {
            FloatRows.dequantize(c.segment(), c.offset() * 4, c.rowStride(), m, n, then.scale(), then.bias(), firstColumn);
        }
    }

    /** A panel-aligned column block's view of a packed B's source. */
    private static Operand shifted(Operand source, int firstColumn) {
        if (firstColumn % PANEL != 0) {
            throw new IllegalArgumentException("a packed B is read from a multiple of " + PANEL + " columns, not "
                    + firstColumn);
        }
        return switch (source) {
            case Matrix floats -> new Matrix(floats.segment(), floats.offset() + firstColumn, floats.rowStride());
            case ByColumns byColumns -> new ByColumns(byColumns.segment(),
                    byColumns.offset() + firstColumn * byColumns.columnStride(), byColumns.columnStride());
            case Int8Matrix bytes -> new Int8Matrix(bytes.segment(), bytes.offset() + firstColumn, bytes.rowStride(),
                    bytes.unsigned(), bytes.zeroPoints(), bytes.perColumn(), bytes.first() + firstColumn);
            case Patches patches -> patches.from(firstColumn);
        };
    }

    /**
     * With {@code packed}, B's panels are read from it ({@code b} is then its column block, for few
     * rows of A); with {@code packedA}, A's chunks are read from it instead of packed here.
     */
    private static void multiply(Operand a, Operand b, PackedB packed, int firstColumn, Matrix c, int m, int n, int k,
            boolean accumulate, boolean integers, Dequantization then, PackedA packedA) {
        if (k == 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) {
                    c.segment().asSlice(c.byteAt(i, 0), n * 4L).fill((byte) 0); // 0 as float and as int32
                }
            }
            return;
        }
        int step = packedA != null ? packedA.step
                : integers && packed != null && m >= PACKING_MIN_ROWS ? exactDepth((Int8Matrix) a, packed) : DEPTH;
        for (int depth = 0; depth < k; depth += step) {
            int rows = Math.min(step, k - depth);
            boolean add = accumulate || depth > 0;
            float[] tile = TILE.get();
            if (m < PACKING_MIN_ROWS) {
                for (int row = 0; row < m; row++) {
                    if (packed != null && !integers) {
                        // A float B packed once, whatever its source: its panels, each slice one contiguous run.
                        int column = 0;
                        for (; column + WIDE_PANEL <= n; column += WIDE_PANEL) {
                            rowPackedWide((Matrix) a, packed, tile, c, row, depth, rows, firstColumn + column, column, n, add);
                        }
                        for (; column < n; column += PANEL) {
                            rowPacked((Matrix) a, packed, tile, c, row, depth, rows, firstColumn + column, column, n, add, false);
                        }
                        continue;
                    }
                    switch (b) {
                        case Matrix floats -> {
                            int column = 0;
                            for (; column + WIDE_PANEL <= n; column += WIDE_PANEL) {
                                rowWide((Matrix) a, floats, tile, c, row, depth, rows, column, n, add, integers);
                            }
                            for (; column < n; column += PANEL) {
                                if (packed != null && column + PANEL > n) {
                                    // The last, partial panel from its zero-padded packed copy: masked loads
                                    // cost 2–6 µs a product here (m = 3, k = 256, two columns past 256).
                                    rowPacked((Matrix) a, packed, tile, c, row, depth, rows, firstColumn + column, column, n,
                                            add, integers);
                                } else {
                                    rowUnpacked((Matrix) a, floats, tile, c, row, depth, rows, column, n, add, integers);
                                }
                            }
                        }
                        case Int8Matrix bytes -> rowStreamed((Int8Matrix) a, bytes, tile, c, row, depth, rows, n, add);
                        case ByColumns byColumns -> throw new IllegalArgumentException("B by columns for few rows");
                        case Patches patches -> throw new IllegalArgumentException("patches for few rows");
                    }
                }
                continue;
            }
            float[] chunkA = PACKED_A.get();
            if (packed != null) {
                // B is packed whole: each chunk of A is packed once and meets every panel, which
                // streams from the outer caches while the chunk of A stays in L2.
                for (int chunk = 0; chunk < m; chunk += ROW_CHUNK) {
                    int height = Math.min(ROW_CHUNK, m - chunk);
                    float[] aValues = chunkOfA(a, packedA, chunk, height, depth, rows, chunkA);
                    int aAt = aValues == chunkA ? 0 : Math.toIntExact(packedA.at(depth, chunk, rows));
                    MemorySegment offHeapA = offHeapChunk(aValues, aAt, roundedRows(height) * rows);
                    Dequantization last = depth + rows == k ? then : null;
                    for (int column = 0; column < n; column += PANEL) {
                        long bAt = packed.at(depth, firstColumn + column);
                        for (int block = 0; block * ROWS < height; block++) {
                            multiplyTile(aValues, aAt, offHeapA, block * ROWS * rows, packed.data, bAt, rows, tile, c,
                                    chunk + block * ROWS, Math.min(ROWS, height - block * ROWS), column, n, add, integers, last,
                                    firstColumn);
                        }
                    }
                }
                continue;
            }
            MemorySegment packedB = PACKED_B.get();
            for (int columns = 0; columns < n; columns += COLUMN_CHUNK) {
                int width = Math.min(COLUMN_CHUNK, n - columns);
                packB(b, depth, rows, columns, width, rows, packedB);
                for (int chunk = 0; chunk < m; chunk += ROW_CHUNK) {
                    int height = Math.min(ROW_CHUNK, m - chunk);
                    float[] aValues = chunkOfA(a, packedA, chunk, height, depth, rows, chunkA);
                    int aAt = aValues == chunkA ? 0 : Math.toIntExact(packedA.at(depth, chunk, rows));
                    MemorySegment offHeapA = offHeapChunk(aValues, aAt, roundedRows(height) * rows);
                    for (int panel = 0; panel * PANEL < width; panel++) {
                        int column = columns + panel * PANEL;
                        for (int block = 0; block * ROWS < height; block++) {
                            multiplyTile(aValues, aAt, offHeapA, block * ROWS * rows, packedB, panel * PANEL * rows * 4L, rows,
                                    tile, c, chunk + block * ROWS, Math.min(ROWS, height - block * ROWS), column, n, add, integers,
                                    null, 0);
                        }
                    }
                }
            }
        }
    }

    /**
     * One tile of {@code valid} rows from {@code row}, its packed values {@code blockAt} floats past
     * the chunk's start ({@code aAt} in {@code aValues}, or the start of {@code offHeapA}), by one
     * panel of B: from the off-heap copy with six rows a tile, else on the half-height kernel when
     * the rows fill half a tile or less, else on the whole one.
     */
    private static void multiplyTile(float[] aValues, int aAt, MemorySegment offHeapA, int blockAt, MemorySegment packedB,
            long bAt, int rows, float[] tile, Matrix c, int row, int valid, int column, int n, boolean add, boolean integers,
            Dequantization then, int firstColumn) {
        if (offHeapA != null) {
            kernelFromSegment(offHeapA, blockAt * 4L, packedB, bAt, rows, tile, c, row, valid, column, n, add, integers, then,
                    firstColumn);
        } else if (valid <= HALF_ROWS) {
            halfKernel(aValues, aAt + blockAt, packedB, bAt, rows, tile, c, row, valid, column, n, add, integers, then,
                    firstColumn);
        } else {
            kernel(aValues, aAt + blockAt, packedB, bAt, rows, tile, c, row, valid, column, n, add, integers, then, firstColumn);
        }
    }

    /**
     * The array holding the chunk of A's rows from {@code chunk} in the slice from {@code depth}: a
     * packed A's own heap array, which the micro-kernel reads where it lies, else {@code chunkA}, into
     * which the rows are copied from a packed A's segment or packed from {@code a}.
     */
    private static float[] chunkOfA(Operand a, PackedA packedA, int chunk, int height, int depth, int rows, float[] chunkA) {
        if (packedA != null && packedA.values != null) {
            return packedA.values;
        }
        if (packedA != null) {
            MemorySegment.copy(packedA.data, Layouts.FLOAT, packedA.at(depth, chunk, rows) * 4, chunkA, 0,
                    roundedRows(height) * rows);
        } else {
            packA(a, chunk, height, depth, rows, chunkA, 0);
        }
        return chunkA;
    }

    /** With six rows a tile (AVX2), the chunk's {@code count} values from {@code values[at]} copied off-heap for {@link #kernelFromSegment}; else null. */
    private static MemorySegment offHeapChunk(float[] values, int at, int count) {
        if (ROWS == MOST_ROWS) {
            return null;
        }
        MemorySegment chunk = OFF_HEAP_A.get();
        MemorySegment.copy(values, at, chunk, Layouts.FLOAT, 0, count);
        return chunk;
    }

    /**
     * The deepest slice (at least {@link #DEPTH}, at most {@link #MAX_DEPTH}) over which the products
     * of A's values and a packed int8 B's, less their zero points, sum exactly in float: A's zero
     * points bound its values' magnitudes, B's were measured when it was packed.
     */
    private static int exactDepth(Int8Matrix a, PackedB b) {
        int low = a.unsigned() ? 0 : Byte.MIN_VALUE;
        int high = low + 255;
        int widestA = 0;
        for (int zeroPoint : a.zeroPoints()) {
            widestA = Math.max(widestA, Math.max(zeroPoint - low, high - zeroPoint));
        }
        long largestProduct = Math.max(1, (long) widestA * b.widest);
        return (int) Math.clamp(EXACT_FLOAT_INTEGERS / largestProduct, DEPTH, MAX_DEPTH);
    }

    /**
     * Panel p of the chunk: packed[p·PANEL·panelRows + i·PANEL + j] = B[depth + i, columns + p·PANEL + j],
     * zero past the chunk ({@code panelRows} is {@code rows}, or all of K when B is packed whole).
     */
    private static void packB(Operand b, int depth, int rows, int columns, int width, int panelRows,
            MemorySegment packed) {
        switch (b) {
            case Matrix floats -> packB(floats, depth, rows, columns, width, panelRows, packed);
            case Int8Matrix bytes -> packB(bytes, depth, rows, columns, width, panelRows, packed);
            case ByColumns byColumns -> packB(byColumns, depth, rows, columns, width, panelRows, packed);
            case Patches patches -> packB(patches, depth, rows, columns, width, panelRows, packed);
        }
    }

    /**
     * Patches straight from the image into the panels. A panel row's positions lie in one output row
     * or a few; along each, at stride 1, the taps are one run of an input row, of which the lanes
     * inside the image are loaded under a mask (lanes outside it, in the padding, load as 0): a panel
     * row wholly inside one input row is two plain vector copies. Gathered into a patch matrix and
     * packed from there, the patches took a fifth of a float16 ISNet's run (JFR: the copies 9%,
     * packing 11%); gathered element by element at the rows' ends, their bounds checks took 15%.
     */
    private static void packB(Patches b, int depth, int rows, int columns, int width, int panelRows,
            MemorySegment packed) {
        if (b.strideWidth() != 1) {
            throw new IllegalArgumentException("patches are read from the image at a stride of 1 along its rows");
        }
        packed = Segments.exact(packed);
        MemorySegment image = Segments.exact(b.segment());
        int taps = b.kernelHeight() * b.kernelWidth();
        FloatVector zero = FloatVector.zero(SPECIES);
        for (int first = 0; first < width; first += PANEL) {
            int count = Math.min(PANEL, width - first);
            long position = b.firstPosition() + columns + first;
            int outRow = Math.toIntExact(position / b.outWidth());
            int outColumn = (int) (position % b.outWidth());
            boolean oneRow = count == PANEL && outColumn + PANEL <= b.outWidth();
            long to = (long) first * panelRows * 4;
            for (int i = 0; i < rows; i++, to += PANEL * 4L) {
                int row = depth + i;
                long plane = b.offset() + (long) (row / taps) * b.height() * b.width();
                int rowShift = row % taps / b.kernelWidth() * b.dilationHeight() - b.padTop();
                int columnShift = row % b.kernelWidth() * b.dilationWidth() - b.padLeft();
                int inRow = outRow * b.strideHeight() + rowShift;
                int inColumn = outColumn + columnShift;
                if (oneRow && inRow >= 0 && inRow < b.height() && inColumn >= 0 && inColumn + PANEL <= b.width()) {
                    long from = (plane + (long) inRow * b.width() + inColumn) * 4;
                    FloatVector.fromMemorySegment(SPECIES, image, from, Layouts.ORDER).intoMemorySegment(packed, to, Layouts.ORDER);
                    FloatVector.fromMemorySegment(SPECIES, image, from + LANES * 4L, Layouts.ORDER)
                            .intoMemorySegment(packed, to + LANES * 4L, Layouts.ORDER);
                    continue;
                }
                FloatVector low = zero;
                FloatVector high = zero;
                // Runs of positions along one output row each: lanes [lane, lane + length).
                for (int lane = 0, r = outRow, column = outColumn; lane < count; lane += b.outWidth() - column, column = 0, r++) {
                    int length = Math.min(count - lane, b.outWidth() - column);
                    int y = r * b.strideHeight() + rowShift;
                    int x = column + columnShift;
                    // Lanes [inside, end) read input columns within [0, width).
                    int inside = lane + Math.max(0, -x);
                    int end = lane + Math.min(length, b.width() - x);
                    if (y < 0 || y >= b.height() || inside >= end) {
                        continue;
                    }
                    // Where lane 0 would read, the run's lanes then reading their own input columns.
                    long base = (plane + (long) y * b.width() + x - lane) * 4;
                    // Blended, not added, so that a −0 of the image stays −0.
                    if (inside < LANES) {
                        VectorMask<Float> lanes = SPECIES.indexInRange(-inside, end - inside);
                        low = low.blend(FloatVector.fromMemorySegment(SPECIES, image, base, Layouts.ORDER, lanes), lanes);
                    }
                    if (end > LANES) {
                        VectorMask<Float> lanes = SPECIES.indexInRange(LANES - inside, end - inside);
                        high = high.blend(FloatVector.fromMemorySegment(SPECIES, image, base + LANES * 4L, Layouts.ORDER,
                                lanes), lanes);
                    }
                }
                low.intoMemorySegment(packed, to, Layouts.ORDER);
                high.intoMemorySegment(packed, to + LANES * 4L, Layouts.ORDER);
            }
        }
    }

    private static void packB(Matrix b, int depth, int rows, int columns, int width, int panelRows,
            MemorySegment packed) {
        packed = Segments.exact(packed);
        MemorySegment segment = Segments.exact(b.segment());
        for (int panel = 0; panel * PANEL < width; panel++) {
            int first = panel * PANEL;
            VectorMask<Float> mask0 = SPECIES.indexInRange(first, width);
            VectorMask<Float> mask1 = SPECIES.indexInRange(first + LANES, width);
            long to = (long) first * panelRows * 4;
            long from = b.byteAt(depth, columns + first);
            long rowBytes = b.rowStride() * 4;
            boolean whole = first + PANEL <= width;
            for (int i = 0; i < rows; i++, to += PANEL * 4L, from += rowBytes) {
                FloatVector first0 = whole ? FloatVector.fromMemorySegment(SPECIES, segment, from, Layouts.ORDER)
                        : FloatVector.fromMemorySegment(SPECIES, segment, from, Layouts.ORDER, mask0);
                FloatVector first1 = whole ? FloatVector.fromMemorySegment(SPECIES, segment, from + LANES * 4L, Layouts.ORDER)
                        : FloatVector.fromMemorySegment(SPECIES, segment, from + LANES * 4L, Layouts.ORDER, mask1);
                first0.intoMemorySegment(packed, to, Layouts.ORDER);
                first1.intoMemorySegment(packed, to + LANES * 4L, Layouts.ORDER);
            }
        }
    }

    /**
     * B by columns: each column's depths (contiguous) copied by vectors into a heap array, spread
     * into the panel there, the panel copied out whole.
     */
    private static void packB(ByColumns b, int depth, int rows, int columns, int width, int panelRows,
            MemorySegment packed) {
        PackingScratch scratch = PACKING.get();
        float[] column = scratch.rows()[0];
        float[] panel = scratch.panel();
        for (int first = 0; first < width; first += PANEL) {
            for (int j = 0; j < PANEL; j++) {
                if (first + j < width) {
                    FloatRows.copyToArray(b.segment(), b.byteAt(depth, columns + first + j), column, 0, rows);
                    for (int i = 0; i < rows; i++) {
                        panel[i * PANEL + j] = column[i];
                    }
                } else {
                    for (int i = 0; i < rows; i++) {
                        panel[i * PANEL + j] = 0;
                    }
                }
            }
            MemorySegment.copy(panel, 0, packed, Layouts.FLOAT, (long) first * panelRows * 4, PANEL * rows);
        }
    }

    /** B's bytes to float as they are packed, less the columns' zero points; whole panels by vectors. */
    private static void packB(Int8Matrix b, int depth, int rows, int columns, int width, int panelRows,
            MemorySegment packed) {
        packed = Segments.exact(packed);
        MemorySegment segment = Segments.exact(b.segment());
        for (int panel = 0; panel * PANEL < width; panel++) {
            int first = panel * PANEL;
            long to = (long) first * panelRows * 4;
            long from = b.byteAt(depth, columns + first);
            if (first + PANEL > width) {
                for (int i = 0; i < rows; i++, to += PANEL * 4L) {
                    for (int j = 0; j < PANEL; j++) {
                        float value = first + j < width ? b.shifted(depth + i, columns + first + j) : 0;
                        packed.set(Layouts.FLOAT, to + j * 4L, value);
                    }
                }
                continue;
            }
            FloatVector zero0 = zeroPoints(b, columns + first);
            FloatVector zero1 = zeroPoints(b, columns + first + LANES);
            // The loads and conversions stay in the loop (see FloatRows.BYTES): each conversion a
            // constant in its branch, as C2 needs to intrinsify it.
            for (int i = 0; i < rows; i++, to += PANEL * 4L, from += b.rowStride()) {
                ByteVector low = FloatRows.BYTES_FILL_A_VECTOR
                        ? ByteVector.fromMemorySegment(FloatRows.BYTES, segment, from, Layouts.ORDER)
                        : ByteVector.fromMemorySegment(FloatRows.BYTES, segment, from, Layouts.ORDER, FloatRows.BYTE_LANES);
                ByteVector high = FloatRows.BYTES_FILL_A_VECTOR
                        ? ByteVector.fromMemorySegment(FloatRows.BYTES, segment, from + LANES, Layouts.ORDER)
                        : ByteVector.fromMemorySegment(FloatRows.BYTES, segment, from + LANES, Layouts.ORDER,
                                FloatRows.BYTE_LANES);
                Vector<Integer> lowValues = b.unsigned()
                        ? low.convertShape(VectorOperators.ZERO_EXTEND_B2I, INT_SPECIES, 0)
                        : low.convertShape(VectorOperators.B2I, INT_SPECIES, 0);
                Vector<Integer> highValues = b.unsigned()
                        ? high.convertShape(VectorOperators.ZERO_EXTEND_B2I, INT_SPECIES, 0)
                        : high.convertShape(VectorOperators.B2I, INT_SPECIES, 0);
                ((FloatVector) lowValues.convert(VectorOperators.I2F, 0)).sub(zero0)
                        .intoMemorySegment(packed, to, Layouts.ORDER);
                ((FloatVector) highValues.convert(VectorOperators.I2F, 0)).sub(zero1)
                        .intoMemorySegment(packed, to + LANES * 4L, Layouts.ORDER);
            }
        }
    }

    /** A vector of B's zero points from column {@code column} on. */
    private static FloatVector zeroPoints(Int8Matrix b, int column) {
        if (b.zeroPoints().length == 1) {
            return FloatVector.broadcast(SPECIES, b.zeroPoints()[0]);
        }
        return (FloatVector) IntVector.fromArray(INT_SPECIES, b.zeroPoints(), b.first() + column).convert(VectorOperators.I2F, 0);
    }

    /**
     * Block q of the chunk: packed[at + q·ROWS·rows + i·ROWS + r] = A[first + q·ROWS + r, depth + i],
     * zero past the chunk. Each row is converted by vectors into a heap array of its own, then
     * interleaved: element by element into a segment, packing took about twice the share of a JFR
     * profile of 128×384×384. The interleaving reads arrays whose lengths are checked once, so that
     * C2 drops the loop's bounds checks: 0.7–0.8 → 0.35–0.5 ns an element, against one array read at
     * six offsets (a throwaway loop, 6×384).
     */
    private static void packA(Operand a, int first, int height, int depth, int rows, float[] packed, int at) {
        float[][] converted = PACKING.get().rows();
        for (int base = 0; base < height; base += ROWS) {
            for (int r = 0; r < ROWS; r++) {
                int row = base + r;
                if (row >= height) {
                    Arrays.fill(converted[r], 0, rows, 0f);
                    continue;
                }
                switch (a) {
                    case Matrix floats -> FloatRows.copyToArray(floats.segment(), floats.byteAt(first + row, depth),
                            converted[r], 0, rows);
                    case ByColumns byColumns -> throw new IllegalArgumentException("A is read by rows");
                    case Patches patches -> throw new IllegalArgumentException("patches are only B");
                    case Int8Matrix bytes -> FloatRows.bytesToArray(bytes.segment(), bytes.byteAt(first + row, depth),
                            bytes.unsigned(), bytes.zeroPoint(first + row), converted[r], 0, rows);
                }
            }
            interleave(converted, rows, packed, at + base * rows);
        }
    }

    /** packed[from + i·ROWS + r] = rows[r][i], for the {@link #ROWS} rows of a micro-kernel tile ({@code rows} holds eight). */
    private static void interleave(float[][] rows, int count, float[] packed, int from) {
        float[] row0 = rows[0], row1 = rows[1], row2 = rows[2], row3 = rows[3];
        float[] row4 = rows[4], row5 = rows[5], row6 = rows[6], row7 = rows[7];
        if (row0.length < count || row1.length < count || row2.length < count || row3.length < count
                || row4.length < count || row5.length < count || row6.length < count || row7.length < count
                || packed.length < from + ROWS * count) {
            throw new IllegalArgumentException(count + " values a row exceed the packing scratch");
        }
        int i = 0;
        if (TRANSPOSES) {
            for (; i + LANES <= count; i += LANES) {
                transpose(row0, row1, row2, row3, row4, row5, row6, row7, i, packed, from + i * ROWS);
            }
        }
        for (; i < count; i++) {
            int at = from + i * ROWS;
            packed[at] = row0[i];
            packed[at + 1] = row1[i];
            packed[at + 2] = row2[i];
            packed[at + 3] = row3[i];
            packed[at + 4] = row4[i];
            packed[at + 5] = row5[i];
            if (ROWS == MOST_ROWS) {
                packed[at + 6] = row6[i];
                packed[at + 7] = row7[i];
            }
        }
    }

    /** Eight rows by sixteen lanes: {@link #interleave} by vectors (AVX-512), one row's value at a time otherwise. */
    private static final boolean TRANSPOSES = ROWS == MOST_ROWS && LANES == 16;

    /**
     * Lane indices into a pair of vectors (16 and up: the second) that interleave their halves in
     * units of {@code unit} lanes: the lower halves, or the upper.
     */
    private static IntVector interleaving(int unit, boolean upper) {
        int[] lanes = new int[INT_SPECIES.length()];
        for (int lane = 0; lane < lanes.length; lane++) {
            int second = lane / unit % 2;
            lanes[lane] = second * lanes.length + (upper ? lanes.length / 2 : 0) + lane / (2 * unit) * unit + lane % unit;
        }
        return IntVector.fromArray(INT_SPECIES, lanes, 0);
    }

    private static final IntVector LOWER_SINGLES = TRANSPOSES ? interleaving(1, false) : null;
    private static final IntVector UPPER_SINGLES = TRANSPOSES ? interleaving(1, true) : null;
    private static final IntVector LOWER_PAIRS = TRANSPOSES ? interleaving(2, false) : null;
    private static final IntVector UPPER_PAIRS = TRANSPOSES ? interleaving(2, true) : null;
    private static final IntVector LOWER_QUADS = TRANSPOSES ? interleaving(4, false) : null;
    private static final IntVector UPPER_QUADS = TRANSPOSES ? interleaving(4, true) : null;

    /**
     * packed[at + j·8 + r] = row r[i + j] for sixteen j: three rounds of two-vector permutes
     * ({@code vpermt2d}), pairs of rows, then of pairs, then of quadruples. As ints, whose index
     * vectors need no conversion: 0.07 ns an element against 0.26–0.31 one value at a time and 0.13
     * with float indices (a throwaway loop, 8×384).
     */
    private static void transpose(float[] row0, float[] row1, float[] row2, float[] row3, float[] row4, float[] row5,
            float[] row6, float[] row7, int i, float[] packed, int at) {
        IntVector r0 = lanes(row0, i), r1 = lanes(row1, i), r2 = lanes(row2, i), r3 = lanes(row3, i);
        IntVector r4 = lanes(row4, i), r5 = lanes(row5, i), r6 = lanes(row6, i), r7 = lanes(row7, i);
        IntVector t0 = LOWER_SINGLES.selectFrom(r0, r1), t1 = UPPER_SINGLES.selectFrom(r0, r1);
        IntVector t2 = LOWER_SINGLES.selectFrom(r2, r3), t3 = UPPER_SINGLES.selectFrom(r2, r3);
        IntVector t4 = LOWER_SINGLES.selectFrom(r4, r5), t5 = UPPER_SINGLES.selectFrom(r4, r5);
        IntVector t6 = LOWER_SINGLES.selectFrom(r6, r7), t7 = UPPER_SINGLES.selectFrom(r6, r7);
        IntVector u0 = LOWER_PAIRS.selectFrom(t0, t2), u1 = UPPER_PAIRS.selectFrom(t0, t2);
        IntVector u2 = LOWER_PAIRS.selectFrom(t1, t3), u3 = UPPER_PAIRS.selectFrom(t1, t3);
        IntVector u4 = LOWER_PAIRS.selectFrom(t4, t6), u5 = UPPER_PAIRS.selectFrom(t4, t6);
        IntVector u6 = LOWER_PAIRS.selectFrom(t5, t7), u7 = UPPER_PAIRS.selectFrom(t5, t7);
        storeLanes(LOWER_QUADS.selectFrom(u0, u4), packed, at);
        storeLanes(UPPER_QUADS.selectFrom(u0, u4), packed, at + LANES);
        storeLanes(LOWER_QUADS.selectFrom(u1, u5), packed, at + 2 * LANES);
        storeLanes(UPPER_QUADS.selectFrom(u1, u5), packed, at + 3 * LANES);
        storeLanes(LOWER_QUADS.selectFrom(u2, u6), packed, at + 4 * LANES);
        storeLanes(UPPER_QUADS.selectFrom(u2, u6), packed, at + 5 * LANES);
        storeLanes(LOWER_QUADS.selectFrom(u3, u7), packed, at + 6 * LANES);
        storeLanes(UPPER_QUADS.selectFrom(u3, u7), packed, at + 7 * LANES);
    }

    private static IntVector lanes(float[] row, int i) {
        return FloatVector.fromArray(SPECIES, row, i).reinterpretAsInts();
    }

    private static void storeLanes(IntVector lanes, float[] packed, int at) {
        lanes.reinterpretAsFloats().intoArray(packed, at);
    }

    /**
     * C[row.., column..] (= or +=) eight packed rows of A (from {@code packedA[aAt]}; AVX-512) times a packed
     * panel of B; only {@code valid} rows are stored, integer sums through {@code then} unless it is
     * null.
     */
    private static void kernel(float[] packedA, int aAt, MemorySegment packedB, long bAt, int rows, float[] tile,
            Matrix c, int row, int valid, int column, int n, boolean accumulate, boolean integers, Dequantization then,
            int firstColumn) {
        packedB = Segments.exact(packedB);
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00;
        FloatVector c70 = c00, c71 = c00;
        // An int-counted loop: C2 turned the same loop counting bytes in a long, by a constant step,
        // into a nest of loops with conditional moves, unrolled twice (disassembly), and float
        // products ran 4–14% slower (128×384×1536 and 512×1024×1024, one thread, alternating JVMs).
        for (int i = 0; i < rows; i++) {
            int at = aAt + i * MOST_ROWS;
            long bt = bAt + i * (PANEL * 4L);
            FloatVector b0 = FloatVector.fromMemorySegment(SPECIES, packedB, bt, Layouts.ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(SPECIES, packedB, bt + LANES * 4, Layouts.ORDER);
            FloatVector value = FloatVector.broadcast(SPECIES, packedA[at]);
            c00 = value.fma(b0, c00);
            c01 = value.fma(b1, c01);
            value = FloatVector.broadcast(SPECIES, packedA[at + 1]);
            c10 = value.fma(b0, c10);
            c11 = value.fma(b1, c11);
            value = FloatVector.broadcast(SPECIES, packedA[at + 2]);
            c20 = value.fma(b0, c20);
            c21 = value.fma(b1, c21);
            value = FloatVector.broadcast(SPECIES, packedA[at + 3]);
            c30 = value.fma(b0, c30);
            c31 = value.fma(b1, c31);
            value = FloatVector.broadcast(SPECIES, packedA[at + 4]);
            c40 = value.fma(b0, c40);
            c41 = value.fma(b1, c41);
            value = FloatVector.broadcast(SPECIES, packedA[at + 5]);
            c50 = value.fma(b0, c50);
            c51 = value.fma(b1, c51);
            value = FloatVector.broadcast(SPECIES, packedA[at + 6]);
            c60 = value.fma(b0, c60);
            c61 = value.fma(b1, c61);
            value = FloatVector.broadcast(SPECIES, packedA[at + 7]);
            c70 = value.fma(b0, c70);
            c71 = value.fma(b1, c71);
        }
        if (!integers && !accumulate && valid == ROWS && column + PANEL <= n) {
            // A whole tile of float sums goes straight to C: for attention's 32-deep products the
            // round trip through the array cost about as much as the multiply-adds.
            MemorySegment out = Segments.exact(c.segment());
            long at = c.byteAt(row, column);
            long stride = c.rowStride() * 4;
            c00.intoMemorySegment(out, at, Layouts.ORDER);
            c01.intoMemorySegment(out, at + LANES * 4, Layouts.ORDER);
            c10.intoMemorySegment(out, at + stride, Layouts.ORDER);
            c11.intoMemorySegment(out, at + stride + LANES * 4, Layouts.ORDER);
            c20.intoMemorySegment(out, at + 2 * stride, Layouts.ORDER);
            c21.intoMemorySegment(out, at + 2 * stride + LANES * 4, Layouts.ORDER);
            c30.intoMemorySegment(out, at + 3 * stride, Layouts.ORDER);
            c31.intoMemorySegment(out, at + 3 * stride + LANES * 4, Layouts.ORDER);
            c40.intoMemorySegment(out, at + 4 * stride, Layouts.ORDER);
            c41.intoMemorySegment(out, at + 4 * stride + LANES * 4, Layouts.ORDER);
            c50.intoMemorySegment(out, at + 5 * stride, Layouts.ORDER);
            c51.intoMemorySegment(out, at + 5 * stride + LANES * 4, Layouts.ORDER);
            c60.intoMemorySegment(out, at + 6 * stride, Layouts.ORDER);
            c61.intoMemorySegment(out, at + 6 * stride + LANES * 4, Layouts.ORDER);
            c70.intoMemorySegment(out, at + 7 * stride, Layouts.ORDER);
            c71.intoMemorySegment(out, at + 7 * stride + LANES * 4, Layouts.ORDER);
            return;
        }
        // The sums leave through an array: vectors passed to a method C2 does not inline would be boxed.
        c00.intoArray(tile, 0);
        c01.intoArray(tile, LANES);
        c10.intoArray(tile, PANEL);
        c11.intoArray(tile, PANEL + LANES);
        c20.intoArray(tile, 2 * PANEL);
        c21.intoArray(tile, 2 * PANEL + LANES);
        c30.intoArray(tile, 3 * PANEL);
        c31.intoArray(tile, 3 * PANEL + LANES);
        c40.intoArray(tile, 4 * PANEL);
        c41.intoArray(tile, 4 * PANEL + LANES);
        c50.intoArray(tile, 5 * PANEL);
        c51.intoArray(tile, 5 * PANEL + LANES);
        c60.intoArray(tile, 6 * PANEL);
        c61.intoArray(tile, 6 * PANEL + LANES);
        c70.intoArray(tile, 7 * PANEL);
        c71.intoArray(tile, 7 * PANEL + LANES);
        store(tile, 0, valid, c, row, column, n, accumulate, integers, then, firstColumn);
    }

    /**
     * {@link #kernel} for a tile of at most {@link #HALF_ROWS} rows (a Linear layer's batch of four,
     * a product's last rows): half the multiply-adds, where the whole tile's would be wasted. At 4×192
     * by 192×192 on one thread it took 3.2 µs against the whole tile's 5.7. A loop of its own, as
     * {@link #kernelFromImage}'s: a row count chosen inside {@link #kernel}'s loop would cost every product.
     */
    private static void halfKernel(float[] packedA, int aAt, MemorySegment packedB, long bAt, int rows, float[] tile,
            Matrix c, int row, int valid, int column, int n, boolean accumulate, boolean integers, Dequantization then,
            int firstColumn) {
        packedB = Segments.exact(packedB);
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00;
        for (int i = 0; i < rows; i++) {
            int at = aAt + i * MOST_ROWS;
            long bt = bAt + i * (PANEL * 4L);
            FloatVector b0 = FloatVector.fromMemorySegment(SPECIES, packedB, bt, Layouts.ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(SPECIES, packedB, bt + LANES * 4, Layouts.ORDER);
            FloatVector value = FloatVector.broadcast(SPECIES, packedA[at]);
            c00 = value.fma(b0, c00);
            c01 = value.fma(b1, c01);
            value = FloatVector.broadcast(SPECIES, packedA[at + 1]);
            c10 = value.fma(b0, c10);
            c11 = value.fma(b1, c11);
            value = FloatVector.broadcast(SPECIES, packedA[at + 2]);
            c20 = value.fma(b0, c20);
            c21 = value.fma(b1, c21);
            value = FloatVector.broadcast(SPECIES, packedA[at + 3]);
            c30 = value.fma(b0, c30);
            c31 = value.fma(b1, c31);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, LANES);
        c10.intoArray(tile, PANEL);
        c11.intoArray(tile, PANEL + LANES);
        c20.intoArray(tile, 2 * PANEL);
        c21.intoArray(tile, 2 * PANEL + LANES);
        c30.intoArray(tile, 3 * PANEL);
        c31.intoArray(tile, 3 * PANEL + LANES);
        store(tile, 0, valid, c, row, column, n, accumulate, integers, then, firstColumn);
    }

    /**
     * {@link #kernel} with B's row i read from a padded image at {@code image[starts[i]]} (the
     * panel's first column plus the tap's offset); the sums always leave through {@code tile}, once
     * a tile of many taps. The loop repeats {@link #kernel}'s: a B chosen inside one loop would cost
     * every product.
     */
    private static void kernelFromImage(float[] packedA, int aAt, float[] image, int[] starts, int rows, float[] tile,
            Matrix c, int row, int valid, int column, int n, boolean accumulate, boolean integers) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00;
        FloatVector c70 = c00, c71 = c00;
        for (int i = 0; i < rows; i++) {
            int a = aAt + i * MOST_ROWS;
            int bt = starts[i];
            FloatVector b0 = FloatVector.fromArray(SPECIES, image, bt);
            FloatVector b1 = FloatVector.fromArray(SPECIES, image, bt + LANES);
            FloatVector value = FloatVector.broadcast(SPECIES, packedA[a]);
            c00 = value.fma(b0, c00);
            c01 = value.fma(b1, c01);
            value = FloatVector.broadcast(SPECIES, packedA[a + 1]);
            c10 = value.fma(b0, c10);
            c11 = value.fma(b1, c11);
            value = FloatVector.broadcast(SPECIES, packedA[a + 2]);
            c20 = value.fma(b0, c20);
            c21 = value.fma(b1, c21);
            value = FloatVector.broadcast(SPECIES, packedA[a + 3]);
            c30 = value.fma(b0, c30);
            c31 = value.fma(b1, c31);
            value = FloatVector.broadcast(SPECIES, packedA[a + 4]);
            c40 = value.fma(b0, c40);
            c41 = value.fma(b1, c41);
            value = FloatVector.broadcast(SPECIES, packedA[a + 5]);
            c50 = value.fma(b0, c50);
            c51 = value.fma(b1, c51);
            value = FloatVector.broadcast(SPECIES, packedA[a + 6]);
            c60 = value.fma(b0, c60);
            c61 = value.fma(b1, c61);
            value = FloatVector.broadcast(SPECIES, packedA[a + 7]);
            c70 = value.fma(b0, c70);
            c71 = value.fma(b1, c71);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, LANES);
        c10.intoArray(tile, PANEL);
        c11.intoArray(tile, PANEL + LANES);
        c20.intoArray(tile, 2 * PANEL);
        c21.intoArray(tile, 2 * PANEL + LANES);
        c30.intoArray(tile, 3 * PANEL);
        c31.intoArray(tile, 3 * PANEL + LANES);
        c40.intoArray(tile, 4 * PANEL);
        c41.intoArray(tile, 4 * PANEL + LANES);
        c50.intoArray(tile, 5 * PANEL);
        c51.intoArray(tile, 5 * PANEL + LANES);
        c60.intoArray(tile, 6 * PANEL);
        c61.intoArray(tile, 6 * PANEL + LANES);
        c70.intoArray(tile, 7 * PANEL);
        c71.intoArray(tile, 7 * PANEL + LANES);
        store(tile, 0, valid, c, row, column, n, accumulate, integers, null, 0);
    }

    /**
     * {@link #kernel} for six rows with AVX2, A read from an off-heap copy of its chunk (byte offset
     * {@code aAt}): from a heap array, with AVX2, the six-row loop ran at 66–69 GFLOP/s against 89–98
     * from a segment in a throwaway loop, and the GEMM at 57–62 against 78 (-XX:UseAVX=2, twentieth
     * session), where with AVX-512 the heap array is the faster.
     */
    private static void kernelFromSegment(MemorySegment packedA, long aAt, MemorySegment packedB, long bAt, int rows, float[] tile,
            Matrix c, int row, int valid, int column, int n, boolean accumulate, boolean integers, Dequantization then,
            int firstColumn) {
        packedA = Segments.exact(packedA);
        packedB = Segments.exact(packedB);
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES), c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES), c31 = FloatVector.zero(SPECIES);
        FloatVector c40 = FloatVector.zero(SPECIES), c41 = FloatVector.zero(SPECIES);
        FloatVector c50 = FloatVector.zero(SPECIES), c51 = FloatVector.zero(SPECIES);
        // An int-counted loop: C2 turned the same loop counting bytes in a long, by a constant step,
        // into a nest of loops with conditional moves, unrolled twice (disassembly), and float
        // products ran 4–14% slower (128×384×1536 and 512×1024×1024, one thread, alternating JVMs).
        for (int i = 0; i < rows; i++) {
            long at = aAt + i * (ROWS * 4L);
            long bt = bAt + i * (PANEL * 4L);
            FloatVector b0 = FloatVector.fromMemorySegment(SPECIES, packedB, bt, Layouts.ORDER);
            FloatVector b1 = FloatVector.fromMemorySegment(SPECIES, packedB, bt + LANES * 4, Layouts.ORDER);
            FloatVector value = FloatVector.broadcast(SPECIES, packedA.get(Layouts.FLOAT, at));
            c00 = value.fma(b0, c00);
            c01 = value.fma(b1, c01);
            value = FloatVector.broadcast(SPECIES, packedA.get(Layouts.FLOAT, at + 4));
            c10 = value.fma(b0, c10);
            c11 = value.fma(b1, c11);
            value = FloatVector.broadcast(SPECIES, packedA.get(Layouts.FLOAT, at + 8));
            c20 = value.fma(b0, c20);
            c21 = value.fma(b1, c21);
            value = FloatVector.broadcast(SPECIES, packedA.get(Layouts.FLOAT, at + 12));
            c30 = value.fma(b0, c30);
            c31 = value.fma(b1, c31);
            value = FloatVector.broadcast(SPECIES, packedA.get(Layouts.FLOAT, at + 16));
            c40 = value.fma(b0, c40);
            c41 = value.fma(b1, c41);
            value = FloatVector.broadcast(SPECIES, packedA.get(Layouts.FLOAT, at + 20));
            c50 = value.fma(b0, c50);
            c51 = value.fma(b1, c51);
        }
        if (!integers && !accumulate && valid == ROWS && column + PANEL <= n) {
            // A whole tile of float sums goes straight to C: for attention's 32-deep products the
            // round trip through the array cost about as much as the multiply-adds.
            MemorySegment out = Segments.exact(c.segment());
            long at = c.byteAt(row, column);
            long stride = c.rowStride() * 4;
            c00.intoMemorySegment(out, at, Layouts.ORDER);
            c01.intoMemorySegment(out, at + LANES * 4, Layouts.ORDER);
            c10.intoMemorySegment(out, at + stride, Layouts.ORDER);
            c11.intoMemorySegment(out, at + stride + LANES * 4, Layouts.ORDER);
            c20.intoMemorySegment(out, at + 2 * stride, Layouts.ORDER);
            c21.intoMemorySegment(out, at + 2 * stride + LANES * 4, Layouts.ORDER);
            c30.intoMemorySegment(out, at + 3 * stride, Layouts.ORDER);
            c31.intoMemorySegment(out, at + 3 * stride + LANES * 4, Layouts.ORDER);
            c40.intoMemorySegment(out, at + 4 * stride, Layouts.ORDER);
            c41.intoMemorySegment(out, at + 4 * stride + LANES * 4, Layouts.ORDER);
            c50.intoMemorySegment(out, at + 5 * stride, Layouts.ORDER);
            c51.intoMemorySegment(out, at + 5 * stride + LANES * 4, Layouts.ORDER);
            return;
        }
        // The sums leave through an array: vectors passed to a method C2 does not inline would be boxed.
        c00.intoArray(tile, 0);
        c01.intoArray(tile, LANES);
        c10.intoArray(tile, PANEL);
        c11.intoArray(tile, PANEL + LANES);
        c20.intoArray(tile, 2 * PANEL);
        c21.intoArray(tile, 2 * PANEL + LANES);
        c30.intoArray(tile, 3 * PANEL);
        c31.intoArray(tile, 3 * PANEL + LANES);
        c40.intoArray(tile, 4 * PANEL);
        c41.intoArray(tile, 4 * PANEL + LANES);
        c50.intoArray(tile, 5 * PANEL);
        c51.intoArray(tile, 5 * PANEL + LANES);
        store(tile, 0, valid, c, row, column, n, accumulate, integers, then, firstColumn);
    }

    /** The most rows of A that {@link #multiplyByRowsOfB} takes: each reads B's four rows at a time from cache again. */
    public static final int DOT_ROWS = 8;

    /**
     * C[m×n] = A·Bᵀ for B given as its n rows of k (a Linear layer's weights as they lie), m at most
     * {@link #DOT_ROWS}: each output a dot product, four rows of B at a time against every row of A,
     * so that B streams once from memory in the order it lies. Through a transposed copy read a
     * panel of columns at a time, each of B's rows came a page apart (TopPIC's EnvCNN, 2048×9600
     * weights at four rows).
     */
    public static void multiplyByRowsOfB(Matrix a, Matrix b, Matrix c, int m, int n, int k) {
        if (m > DOT_ROWS) {
            throw new IllegalArgumentException(m + " rows of A, where the dot products take at most " + DOT_ROWS);
        }
        MemorySegment as = Segments.exact(a.segment());
        MemorySegment bs = Segments.exact(b.segment());
        MemorySegment cs = Segments.exact(c.segment());
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            for (int i = 0; i < m; i++) {
                dots4(as, a.byteAt(i, 0), bs, b.byteAt(j, 0), b.rowStride() * 4, k, cs, c.byteAt(i, j));
            }
        }
        for (; j < n; j++) {
            for (int i = 0; i < m; i++) {
                cs.set(Layouts.FLOAT, c.byteAt(i, j), dot(as, a.byteAt(i, 0), bs, b.byteAt(j, 0), k));
            }
        }
    }

    /** Four dot products of one row of A with four rows of B, {@code bRow} bytes apart, into four floats of C. */
    private static void dots4(MemorySegment a, long aAt, MemorySegment b, long bAt, long bRow, int k, MemorySegment c,
            long cAt) {
        FloatVector sum0 = FloatVector.zero(SPECIES), sum1 = sum0, sum2 = sum0, sum3 = sum0;
        int p = 0;
        for (; p + LANES <= k; p += LANES) {
            long at = p * 4L;
            FloatVector x = FloatVector.fromMemorySegment(SPECIES, a, aAt + at, Layouts.ORDER);
            sum0 = x.fma(FloatVector.fromMemorySegment(SPECIES, b, bAt + at, Layouts.ORDER), sum0);
            sum1 = x.fma(FloatVector.fromMemorySegment(SPECIES, b, bAt + bRow + at, Layouts.ORDER), sum1);
            sum2 = x.fma(FloatVector.fromMemorySegment(SPECIES, b, bAt + 2 * bRow + at, Layouts.ORDER), sum2);
            sum3 = x.fma(FloatVector.fromMemorySegment(SPECIES, b, bAt + 3 * bRow + at, Layouts.ORDER), sum3);
        }
        // The rest one float at a time: with masked vectors for it, C1 gave up on the method ("out of
        // virtual registers"), which then ran interpreted, its vectors a hundred times slower, until
        // C2 took it seconds later (MobileNetV3's classifier: 3.9 ms of a one-thread run, 0.66 so).
        float tail0 = 0, tail1 = 0, tail2 = 0, tail3 = 0;
        for (; p < k; p++) {
            long at = p * 4L;
            float x = a.get(Layouts.FLOAT, aAt + at);
            tail0 = Math.fma(x, b.get(Layouts.FLOAT, bAt + at), tail0);
            tail1 = Math.fma(x, b.get(Layouts.FLOAT, bAt + bRow + at), tail1);
            tail2 = Math.fma(x, b.get(Layouts.FLOAT, bAt + 2 * bRow + at), tail2);
            tail3 = Math.fma(x, b.get(Layouts.FLOAT, bAt + 3 * bRow + at), tail3);
        }
        c.set(Layouts.FLOAT, cAt, sum0.reduceLanes(VectorOperators.ADD) + tail0);
        c.set(Layouts.FLOAT, cAt + 4, sum1.reduceLanes(VectorOperators.ADD) + tail1);
        c.set(Layouts.FLOAT, cAt + 8, sum2.reduceLanes(VectorOperators.ADD) + tail2);
        c.set(Layouts.FLOAT, cAt + 12, sum3.reduceLanes(VectorOperators.ADD) + tail3);
    }

    private static float dot(MemorySegment a, long aAt, MemorySegment b, long bAt, int k) {
        FloatVector sum = FloatVector.zero(SPECIES);
        for (int p = 0; p < k; p += LANES) {
            VectorMask<Float> valid = SPECIES.indexInRange(p, k);
            sum = FloatVector.fromMemorySegment(SPECIES, a, aAt + p * 4L, Layouts.ORDER, valid)
                    .fma(FloatVector.fromMemorySegment(SPECIES, b, bAt + p * 4L, Layouts.ORDER, valid), sum);
        }
        return sum.reduceLanes(VectorOperators.ADD);
    }

    /**
     * One row of C by eight vectors of columns ({@link #WIDE_PANEL}), B read where it lies: eight
     * chains of multiply-adds, where two waited on their latency, and each row of B read a kilobyte
     * at a time. One thread, µs a product, in panels of two vectors and so: 1×384×384 5.97–6.05 and
     * 5.63–5.79, 1×384×1536 49.1–49.5 and 29.9, 1×1024×1024 155 and 54.3 (a throwaway harness,
     * builds alternating; bench/RESULTS.md, twelfth session).
     */
    private static void rowWide(Matrix a, Matrix b, float[] tile, Matrix c, int row, int depth, int rows, int column,
            int n, boolean accumulate, boolean integers) {
        wideRow(Segments.exact(a.segment()), a.byteAt(row, depth), Segments.exact(b.segment()), b.byteAt(depth, column),
                b.rowStride() * 4, PANEL * 4L, rows, tile, c, row, column, n, accumulate, integers);
    }

    /**
     * One row of C by four panels of two vectors, eight chains of multiply-adds: A's values from
     * {@code aAt}, B's rows {@code rowStep} bytes apart from {@code bAt}, its panels {@code panelStep}
     * bytes apart within a row (B where it lies: the next two vectors; packed: the next panel's slice).
     */
    private static void wideRow(MemorySegment as, long aAt, MemorySegment bs, long bAt, long rowStep, long panelStep,
            int rows, float[] tile, Matrix c, int row, int column, int n, boolean accumulate, boolean integers) {
        FloatVector sum0 = FloatVector.zero(SPECIES), sum1 = sum0, sum2 = sum0, sum3 = sum0;
        FloatVector sum4 = sum0, sum5 = sum0, sum6 = sum0, sum7 = sum0;
        long vector = LANES * 4L;
        for (int p = 0; p < rows; p++) {
            long at = bAt + p * rowStep;
            FloatVector value = FloatVector.broadcast(SPECIES, as.get(Layouts.FLOAT, aAt + p * 4L));
            sum0 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, at, Layouts.ORDER), sum0);
            sum1 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, at + vector, Layouts.ORDER), sum1);
            sum2 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, at + panelStep, Layouts.ORDER), sum2);
            sum3 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, at + panelStep + vector, Layouts.ORDER), sum3);
            sum4 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, at + 2 * panelStep, Layouts.ORDER), sum4);
            sum5 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, at + 2 * panelStep + vector, Layouts.ORDER), sum5);
            sum6 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, at + 3 * panelStep, Layouts.ORDER), sum6);
            sum7 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, at + 3 * panelStep + vector, Layouts.ORDER), sum7);
        }
        // Four panels of two vectors each through the tile, as the packed kernel's rows go.
        sum0.intoArray(tile, 0);
        sum1.intoArray(tile, LANES);
        sum2.intoArray(tile, PANEL);
        sum3.intoArray(tile, PANEL + LANES);
        sum4.intoArray(tile, 2 * PANEL);
        sum5.intoArray(tile, 2 * PANEL + LANES);
        sum6.intoArray(tile, 3 * PANEL);
        sum7.intoArray(tile, 3 * PANEL + LANES);
        for (int panel = 0; panel < WIDE_PANEL / PANEL; panel++) {
            store(tile, panel * PANEL, 1, c, row, column + panel * PANEL, n, accumulate, integers, null, 0);
        }
    }

    /** One row of C by two vectors of columns, B read where it lies (masked in the last panel). */
    private static void rowUnpacked(Matrix a, Matrix b, float[] tile, Matrix c, int row, int depth, int rows, int column,
            int n, boolean accumulate, boolean integers) {
        VectorMask<Float> mask0 = SPECIES.indexInRange(column, n);
        VectorMask<Float> mask1 = SPECIES.indexInRange(column + LANES, n);
        FloatVector sum0 = FloatVector.zero(SPECIES);
        FloatVector sum1 = FloatVector.zero(SPECIES);
        MemorySegment as = Segments.exact(a.segment());
        MemorySegment bs = Segments.exact(b.segment());
        long aAt = a.byteAt(row, depth);
        long bAt = b.byteAt(depth, column);
        long bRow = b.rowStride() * 4;
        if (column + PANEL <= n) {
            for (int p = 0; p < rows; p++, bAt += bRow) {
                FloatVector value = FloatVector.broadcast(SPECIES, as.get(Layouts.FLOAT, aAt + p * 4L));
                sum0 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, bAt, Layouts.ORDER), sum0);
                sum1 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, bAt + LANES * 4L, Layouts.ORDER), sum1);
            }
        } else {
            for (int p = 0; p < rows; p++, bAt += bRow) {
                FloatVector value = FloatVector.broadcast(SPECIES, as.get(Layouts.FLOAT, aAt + p * 4L));
                sum0 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, bAt, Layouts.ORDER, mask0), sum0);
                sum1 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, bAt + LANES * 4L, Layouts.ORDER, mask1), sum1);
            }
        }
        sum0.intoArray(tile, 0);
        sum1.intoArray(tile, LANES);
        store(tile, 0, 1, c, row, column, n, accumulate, integers, null, 0);
    }

    /**
     * One row of C by four packed panels ({@link #WIDE_PANEL} columns), float B: eight chains of
     * multiply-adds, each panel's slice one contiguous run. The few-row products of a constant B
     * read it so, not where it lies: the float all-MiniLM-L6-v2 at one token took 4.2–4.6 ms a run on
     * one thread with B read where it lies (a page between rows of a panel), 2.5–3.3 from the packed
     * panels (bench/RESULTS.md, eighteenth session).
     */
    private static void rowPackedWide(Matrix a, PackedB b, float[] tile, Matrix c, int row, int depth, int rows,
            int packedColumn, int column, int n, boolean accumulate) {
        long bAt = b.at(depth, packedColumn);
        wideRow(Segments.exact(a.segment()), a.byteAt(row, depth), Segments.exact(b.data), bAt, PANEL * 4L,
                b.at(depth, packedColumn + PANEL) - bAt, rows, tile, c, row, column, n, accumulate, false);
    }

    /** As {@link #rowUnpacked}, one panel of a packed B: whole vectors, its columns past B's zero. */
    private static void rowPacked(Matrix a, PackedB b, float[] tile, Matrix c, int row, int depth, int rows,
            int packedColumn, int column, int n, boolean accumulate, boolean integers) {
        FloatVector sum0 = FloatVector.zero(SPECIES);
        FloatVector sum1 = FloatVector.zero(SPECIES);
        MemorySegment as = Segments.exact(a.segment());
        MemorySegment bs = Segments.exact(b.data);
        long aAt = a.byteAt(row, depth);
        long bAt = b.at(depth, packedColumn);
        for (int p = 0; p < rows; p++, bAt += PANEL * 4L) {
            FloatVector value = FloatVector.broadcast(SPECIES, as.get(Layouts.FLOAT, aAt + p * 4L));
            sum0 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, bAt, Layouts.ORDER), sum0);
            sum1 = value.fma(FloatVector.fromMemorySegment(SPECIES, bs, bAt + LANES * 4L, Layouts.ORDER), sum1);
        }
        sum0.intoArray(tile, 0);
        sum1.intoArray(tile, LANES);
        store(tile, 0, 1, c, row, column, n, accumulate, integers, null, 0);
    }

    /**
     * One row of (A − zeros)·(B − zeros), B's bytes streamed where they lie: the memory-bound M = 1
     * case reads a quarter of the bytes float weights would. A step loads four vectors' worth of
     * bytes as int lanes and takes byte q of every lane by shifts (cheaper than widening each
     * quarter), so sum q holds columns 4i + q, put back in order at the end. Two depths per step
     * go to separate sums: eight independent chains of multiply-adds hide their latency. B's zero
     * points come off at the end as zero·ΣA; every step is exact.
     */
    private static void rowStreamed(Int8Matrix a, Int8Matrix b, float[] tile, Matrix c, int row, int depth, int rows,
            int n, boolean accumulate) {
        float[] values = new float[rows];
        float rowSum = 0;
        for (int p = 0; p < rows; p++) {
            values[p] = a.shifted(row, depth + p);
            rowSum += values[p];
        }
        FloatVector negatedSum = FloatVector.broadcast(SPECIES, -rowSum);
        MemorySegment bs = Segments.exact(b.segment());
        boolean unsigned = b.unsigned();
        long stride = b.rowStride();
        float[] interleaved = new float[STREAM_WIDTH];
        int column = 0;
        for (; column + STREAM_WIDTH <= n; column += STREAM_WIDTH) {
            FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0, s2 = s0, s3 = s0;
            FloatVector t0 = s0, t1 = s0, t2 = s0, t3 = s0;
            long at = b.byteAt(depth, column);
            int p = 0;
            for (; p + 1 < rows; p += 2, at += 2 * stride) {
                FloatVector even = FloatVector.broadcast(SPECIES, values[p]);
                FloatVector odd = FloatVector.broadcast(SPECIES, values[p + 1]);
                IntVector evenBytes = IntVector.fromMemorySegment(INT_SPECIES, bs, at, Layouts.ORDER);
                IntVector oddBytes = IntVector.fromMemorySegment(INT_SPECIES, bs, at + stride, Layouts.ORDER);
                s0 = even.fma(byteOf(evenBytes, 0, unsigned), s0);
                s1 = even.fma(byteOf(evenBytes, 1, unsigned), s1);
                s2 = even.fma(byteOf(evenBytes, 2, unsigned), s2);
                s3 = even.fma(byteOf(evenBytes, 3, unsigned), s3);
                t0 = odd.fma(byteOf(oddBytes, 0, unsigned), t0);
                t1 = odd.fma(byteOf(oddBytes, 1, unsigned), t1);
                t2 = odd.fma(byteOf(oddBytes, 2, unsigned), t2);
                t3 = odd.fma(byteOf(oddBytes, 3, unsigned), t3);
            }
            if (p < rows) {
                FloatVector even = FloatVector.broadcast(SPECIES, values[p]);
                IntVector evenBytes = IntVector.fromMemorySegment(INT_SPECIES, bs, at, Layouts.ORDER);
                s0 = even.fma(byteOf(evenBytes, 0, unsigned), s0);
                s1 = even.fma(byteOf(evenBytes, 1, unsigned), s1);
                s2 = even.fma(byteOf(evenBytes, 2, unsigned), s2);
                s3 = even.fma(byteOf(evenBytes, 3, unsigned), s3);
            }
            // Each partial sum is exact, and so is their total: all lie below 2^24.
            s0.add(t0).intoArray(interleaved, 0);
            s1.add(t1).intoArray(interleaved, LANES);
            s2.add(t2).intoArray(interleaved, 2 * LANES);
            s3.add(t3).intoArray(interleaved, 3 * LANES);
            for (int q = 0; q < 4; q++) {
                for (int i = 0; i < LANES; i++) {
                    tile[4 * i + q] = interleaved[q * LANES + i];
                }
            }
            for (int v = 0; v < 4; v++) {
                zeroPoints(b, column + v * LANES).fma(negatedSum, FloatVector.fromArray(SPECIES, tile, v * LANES))
                        .intoArray(tile, v * LANES);
            }
            store(tile, 0, 1, c, row, column, n, accumulate, true, null, 0);
            store(tile, PANEL, 1, c, row, column + PANEL, n, accumulate, true, null, 0);
        }
        for (; column < n; column += PANEL) {
            for (int j = 0; j < PANEL; j++) {
                float sum = 0;
                for (int p = 0; column + j < n && p < rows; p++) {
                    sum = Math.fma(values[p], b.shifted(depth + p, column + j), sum);
                }
                tile[j] = sum;
            }
            store(tile, 0, 1, c, row, column, n, accumulate, true, null, 0);
        }
    }

    /** Byte {@code part} of every int lane, sign- or zero-extended, as floats. */
    private static FloatVector byteOf(IntVector words, int part, boolean unsigned) {
        IntVector value = unsigned ? words.lanewise(VectorOperators.LSHR, 8 * part).and(0xFF)
                : words.lanewise(VectorOperators.LSHL, 24 - 8 * part).lanewise(VectorOperators.ASHR, 24);
        return (FloatVector) value.convert(VectorOperators.I2F, 0);
    }

    /**
     * C[row.., column..] (= or +=) a panel's width of sums for each of {@code rows} rows, row r from
     * {@code sums[from + r·PANEL..]}, up to column n; integer sums through {@code then} unless it is
     * null, its columns from {@code firstColumn}. A tile's rows go in one call: the segment is typed
     * once (see {@link Segments}), where a call a row had that check as 4% of a profile of the MiniLM.
     */
    private static void store(float[] sums, int from, int rows, Matrix c, int row, int column, int n,
            boolean accumulate, boolean integers, Dequantization then, int firstColumn) {
        MemorySegment segment = Segments.exact(c.segment());
        int[] converted = integers ? CONVERTED.get() : null;
        for (int r = 0; r < rows; r++) {
            for (int half = 0; half < PANEL && column + half < n; half += LANES) {
                long at = c.byteAt(row + r, column + half);
                FloatVector value = FloatVector.fromArray(SPECIES, sums, from + r * PANEL + half);
                boolean whole = column + half + LANES <= n;
                if (integers) {
                    IntVector sum = (IntVector) value.convert(VectorOperators.F2I, 0);
                    if (accumulate) {
                        sum = sum.add(whole ? IntVector.fromMemorySegment(INT_SPECIES, segment, at, Layouts.ORDER)
                                : IntVector.fromMemorySegment(INT_SPECIES, segment, at, Layouts.ORDER,
                                        INT_SPECIES.indexInRange(column + half, n)));
                    }
                    sum.intoArray(converted, 0);
                    storeSums(converted, 0, segment, at, column + half, n, then, firstColumn + column + half);
                } else if (whole) {
                    if (accumulate) {
                        value = value.add(FloatVector.fromMemorySegment(SPECIES, segment, at, Layouts.ORDER));
                    }
                    value.intoMemorySegment(segment, at, Layouts.ORDER);
                } else {
                    // Element by element: a masked store that reaches past the segment's end (C's last
                    // row) takes the Vector API's slow path, 1–2 µs.
                    for (int j = 0; column + half + j < n; j++) {
                        float sum = sums[from + r * PANEL + half + j];
                        long element = at + j * 4L;
                        segment.set(Layouts.FLOAT, element, accumulate ? segment.get(Layouts.FLOAT, element) + sum : sum);
                    }
                }
            }
        }
    }

    /**
     * A vector's worth of int32 sums, from {@code sums[from]}, into C at byte {@code at}, its first
     * lane column {@code column} (lanes past n left out): as they are, or through {@code then}, its
     * scales and biases read from {@code scaleAt}. The sums come in an array, not a vector: a vector
     * argument is boxed at each call wherever C2 does not inline the method.
     */
    static void storeSums(int[] sums, int from, MemorySegment segment, long at, int column, int n, Dequantization then,
            int scaleAt) {
        IntVector sum = IntVector.fromArray(INT_SPECIES, sums, from);
        boolean whole = column + LANES <= n;
        if (then == null) {
            if (whole) {
                sum.intoMemorySegment(segment, at, Layouts.ORDER);
            } else {
                sum.intoMemorySegment(segment, at, Layouts.ORDER, INT_SPECIES.indexInRange(column, n));
            }
            return;
        }
        if (!whole) {
            // The last, partial vector of a row: element by element, as FloatRows.dequantize's tail.
            int[] partial = sum.toArray();
            for (int j = 0; column + j < n; j++) {
                float result = partial[j] * then.scale()[then.scale().length == 1 ? 0 : scaleAt + j];
                if (then.bias() != null) {
                    result += then.bias()[scaleAt + j];
                }
                segment.set(Layouts.FLOAT, at + 4L * j, result);
            }
            return;
        }
        FloatVector result = ((FloatVector) sum.convert(VectorOperators.I2F, 0)).mul(then.scale().length == 1
                ? FloatVector.broadcast(SPECIES, then.scale()[0]) : FloatVector.fromArray(SPECIES, then.scale(), scaleAt));
        if (then.bias() != null) {
            result = result.add(FloatVector.fromArray(SPECIES, then.bias(), scaleAt));
        }
        result.intoMemorySegment(segment, at, Layouts.ORDER);
    }

    /** The definition, in double precision: the tests' reference. */
    public static void reference(Matrix a, Matrix b, Matrix c, int m, int n, int k, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = accumulate ? c.segment().get(Layouts.FLOAT, c.byteAt(i, j)) : 0;
                for (int p = 0; p < k; p++) {
                    sum += (double) a.segment().get(Layouts.FLOAT, a.byteAt(i, p))
                            * b.segment().get(Layouts.FLOAT, b.byteAt(p, j));
                }
                c.segment().set(Layouts.FLOAT, c.byteAt(i, j), (float) sum);
            }
        }
    }
}
