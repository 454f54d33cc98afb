package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.ops.Col2Im;
import dev.quanta.graph.ops.Conv;
import dev.quanta.graph.ops.ConvInteger;
import dev.quanta.graph.ops.ConvIntegerToFloat;
import dev.quanta.graph.ops.ConvTranspose;
import dev.quanta.graph.ops.GlobalPool;
import dev.quanta.graph.ops.Pool;
import dev.quanta.graph.ops.QLinearConv;
import dev.quanta.graph.ops.Window;
import dev.quanta.kernels.simd.Depthwise;
import dev.quanta.kernels.simd.FloatGemm;
import dev.quanta.kernels.simd.FloatRows;
import dev.quanta.kernels.simd.Int16Gemm;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Layouts;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.LongUnaryOperator;
import java.util.function.Supplier;

/**
 * Convolutions and pools over any number of spatial axes. float32 convolution lowers each
 * group to im2col and the vector GEMM (or, with few output positions, to rows of patches against
 * the filters); other types and the transpose sum directly.
 */
final class ConvKernels {

    private ConvKernels() {
    }

    private static long[] spatial(Tensor tensor) {
        return Arrays.copyOfRange(tensor.shape().sizes(), 2, tensor.rank());
    }

    private static long product(long[] values) {
        long product = 1;
        for (long value : values) {
            product = Math.multiplyExact(product, value);
        }
        return product;
    }

    /** Advances a row-major index over {@code sizes}; false once it wraps around. */
    private static boolean advance(long[] index, long[] sizes) {
        for (int d = sizes.length - 1; d >= 0; d--) {
            if (++index[d] < sizes[d]) {
                return true;
            }
            index[d] = 0;
        }
        return false;
    }

    // ---------------------------------------------------------------- convolution

    /**
     * A grouped convolution's sizes, checked: per group, {@code groupFilters} filters read
     * {@code patch} = channels × kernel taps at each of {@code outPlane} output positions.
     */
    private record Lowering(long batch, long channels, long filters, int group, long groupChannels, long groupFilters,
            long[] inSpatial, Window.Geometry geometry, long inPlane, long outPlane, long patch, Shape outShape) {

        static Lowering of(KernelContext context, String op, Tensor x, Tensor w, Window window, int group) {
            if (x.rank() < 3 || w.rank() != x.rank()) {
                throw context.error(op + " needs x [N, C, ...] and w [M, C/group, ...] of one rank, not " + x + " and " + w);
            }
            long channels = x.size(1);
            long filters = w.size(0);
            if (channels % group != 0 || filters % group != 0 || w.size(1) * group != channels) {
                throw context.error("channels " + channels + " and filters " + filters + " do not split into " + group
                        + " groups for weights " + w);
            }
            long[] inSpatial = spatial(x);
            Window.Geometry g = window.resolve(inSpatial, spatial(w));
            long[] outSizes = new long[x.rank()];
            outSizes[0] = x.size(0);
            outSizes[1] = filters;
            System.arraycopy(g.outSizes(), 0, outSizes, 2, g.outSizes().length);
            return new Lowering(x.size(0), channels, filters, group, channels / group, filters / group, inSpatial, g,
                    product(inSpatial), product(g.outSizes()), channels / group * product(g.kernel()), Shape.of(outSizes));
        }

        /** Where group {@code gi} of image {@code n} starts in x (elements past x's offset) and in y. */
        long inBase(Tensor x, long n, int gi) {
            return x.offset() + (n * channels + gi * groupChannels) * inPlane;
        }

        long outBase(long n, int gi) {
            return (n * filters + gi * groupFilters) * outPlane;
        }
    }

    static Kernel conv(Conv op) {
        TransposedFilters transposed = new TransposedFilters();
        PlanarKernel planarKernel = new PlanarKernel();
        Window planar = op.window().withLeadingAxis();
        return (context, inputs) -> {
            Tensor filters = inputs[1].contiguous();
            Tensor bias = inputs.length > 2 ? inputs[2] : null;
            if (inputs[0].rank() == 5 && filters.rank() == 5 && inputs[0].dtype() == DType.FLOAT && filters.dtype() == DType.FLOAT
                    && (bias == null || bias.dtype() == DType.FLOAT)) {
                return new Tensor[] {byDepth(context, op, inputs[0].contiguous(), filters, bias, planarKernel)};
            }
            // A 1-D convolution runs as a 2-D one of height 1, where the depthwise and planar paths are.
            boolean flat = inputs[0].rank() == 3 && filters.rank() == 3;
            Tensor x = flat ? inputs[0].contiguous().unsqueeze(2) : inputs[0].contiguous();
            Tensor w = flat ? filters.unsqueeze(2) : filters;
            Lowering l = Lowering.of(context, "Conv", x, w, flat ? planar : op.window(), op.group());
            Tensor planes = context.allocateForOverwrite(x.dtype(), l.outShape());
            Tensor y = flat ? planes.reshape(planes.size(0), planes.size(1), planes.size(3)) : planes;
            boolean fast = x.dtype() == DType.FLOAT && w.dtype() == DType.FLOAT && (bias == null || bias.dtype() == DType.FLOAT);
            if (fast) {
                // Each task adds the bias to the block it has just computed, while the block is in its cache
                // (a separate pass, element by element, took a fifth of a 3×3 convolution's time).
                Tensor biases = bias == null ? null : checkedBias(context, bias, l.filters()).contiguous();
                if (depthwise(l)) {
                    if (l.outPlane() < FloatGemm.PANEL) {
                        fewPositionsDepthwise(l, x, w.toFloatArray(), y, biases);
                    } else {
                        depthwise(context, l, x, w.toFloatArray(), y, biases);
                    }
                    return new Tensor[] {y};
                }
                if (byPositions(l)) {
                    // Keyed by the node's own filters: the height-1 view is a new tensor at each run.
                    byPositions(context, l, x, transposed.of(context, filters, context.isConstant(1), l), y, biases);
                    return new Tensor[] {y};
                }
                if (fewChannels(l)) {
                    fewChannels(context, l, x, w.toFloatArray(), y, biases);
                    return new Tensor[] {y};
                }
                if (fromPaddedImage(l, FLOAT_PADDING_SHARE, Float.BYTES)) {
                    fromPaddedImage(context, l, x, w, y, biases);
                    return new Tensor[] {y};
                }
                // Each group's filters packed once for all of its tasks' products.
                int groupFilters = Math.toIntExact(l.groupFilters());
                int patch = Math.toIntExact(l.patch());
                Tensor packing = context.allocateForOverwrite(DType.FLOAT,
                        Shape.of(l.group(), FloatGemm.packedABytes(groupFilters, patch) / 4));
                FloatGemm.PackedA[] packedFilters = new FloatGemm.PackedA[l.group()];
                context.parallel(l.group(), gi -> packedFilters[(int) gi] = FloatGemm.packA(
                        new FloatGemm.Matrix(w.segment(), w.offset() + gi * groupFilters * l.patch(), l.patch()),
                        groupFilters, patch, packing.segment().asSlice(packing.byteOffset()
                                + gi * FloatGemm.packedABytes(groupFilters, patch), FloatGemm.packedABytes(groupFilters, patch))));
                if (patchesFromImage(context, l, x)) {
                    // Blocks small enough that their outputs stay in cache from one slice of the depth to
                    // the next: blocks of a quarter of a plane wrote and reread 33 MB at each slice of a
                    // 64-filter layer of 1024×1024 positions, and the stores doubled (JFR).
                    long blocks = Math.max(positionBlocks(context, 2 * l.groupFilters() * l.outPlane() * l.patch(), l.outPlane()),
                            Math.ceilDiv(l.outPlane(), Math.max(MIN_COLUMNS_PER_TASK, BLOCK_OUTPUT_FLOATS / l.groupFilters())));
                    FloatGemm.Patches patches = patches(l, x);
                    for (long n = 0; n < l.batch(); n++) {
                        long image = n;
                        for (int gi = 0; gi < l.group(); gi++) {
                            int group = gi;
                            FloatGemm.Patches groupPatches = patches.at(l.inBase(x, image, group));
                            context.parallel(blocks, block -> {
                                long first = blockStart(block, blocks, l.outPlane());
                                int count = (int) (blockStart(block + 1, blocks, l.outPlane()) - first);
                                FloatGemm.multiply(packedFilters[group], groupPatches.from(first),
                                        new FloatGemm.Matrix(y.segment(), l.outBase(image, group) + first, l.outPlane()), count);
                                addBiases(l, biases, y, image, group, first, count);
                            });
                        }
                    }
                    return new Tensor[] {y};
                }
                lowered(context, l, x, 0, 0, (columns, n, gi, patches, stride, first, count, firstFilter, filterCount) -> {
                    FloatGemm.multiply(packedFilters[gi], new FloatGemm.Matrix(columns.segment(), patches, stride),
                            new FloatGemm.Matrix(y.segment(), l.outBase(n, gi) + first, l.outPlane()), count, false);
                    addBiases(l, biases, y, n, gi, first, count);
                });
                return new Tensor[] {y};
            }
            for (long n = 0; n < l.batch(); n++) {
                for (int gi = 0; gi < l.group(); gi++) {
                    direct(x, l.inBase(x, n, gi), l.inSpatial(), l.groupChannels(), w,
                            w.offset() + gi * l.groupFilters() * l.patch(), l.groupFilters(), l.geometry(), y,
                            l.outBase(n, gi));
                }
            }
            addBias(y, bias, context);
            return new Tensor[] {y};
        };
    }

    /** A 3-D convolution's 2-D kernel, kept from run to run while its window stays, with what it packs. */
    private static final class PlanarKernel {
        private Window window;
        private Kernel kernel;

        synchronized Kernel of(Window planar, int group) {
            if (kernel == null || !Arrays.equals(window.kernel(), planar.kernel()) || !Arrays.equals(window.strides(), planar.strides())
                    || !Arrays.equals(window.dilations(), planar.dilations()) || !Arrays.equals(window.pads(), planar.pads())
                    || window.autoPad() != planar.autoPad() || window.ceilMode() != planar.ceilMode()) {
                window = planar;
                kernel = conv(new Conv(planar, group));
            }
            return kernel;
        }
    }

    /**
     * A 3-D float convolution as a sum over its kernel's depth of 2-D ones: through depth tap dt,
     * output depth t reads input depth t·stride − pad + dt·dilation, so each tap is one 2-D
     * convolution (on the planar paths) of the input depths it reads, a batch of them, by the
     * filters' slice dt, added into the output depths it reaches; then the bias. Lowered whole, the
     * patch matrix of R3D-18's 64→64 3×3×3 layers over 8×56×56 positions (173 MB) was gathered
     * element by element: 0.6 s a layer on two threads.
     */
    private static Tensor byDepth(KernelContext context, Conv op, Tensor x, Tensor w, Tensor bias, PlanarKernel planarKernel) {
        Lowering l = Lowering.of(context, "Conv", x, w, op.window(), op.group());
        Window.Geometry g = l.geometry();
        Window planar = new Window(new long[] {g.kernel()[1], g.kernel()[2]}, new long[] {g.strides()[1], g.strides()[2]},
                new long[] {g.dilations()[1], g.dilations()[2]},
                new long[] {g.padBefore()[1], g.padBefore()[2], g.padAfter()[1], g.padAfter()[2]}, Window.AutoPad.NOTSET, false);
        Kernel planes = planarKernel.of(planar, op.group());
        long batch = l.batch();
        long filters = l.filters();
        long depth = x.size(2);
        long outDepth = g.outSizes()[0];
        long stride = g.strides()[0];
        long outPlane = g.outSizes()[1] * g.outSizes()[2];
        Tensor y = context.allocate(DType.FLOAT, l.outShape());
        // The input as [N, D, C, H, W]: the channels of one depth lie together, as a 2-D image's do.
        Tensor byDepths = context.contiguous(x.permute(0, 2, 1, 3, 4));
        for (long tap = 0; tap < g.kernel()[0]; tap++) {
            // Output depth t reads input depth t·stride + shift; those in [first, end) fall inside.
            long shift = tap * g.dilations()[0] - g.padBefore()[0];
            long first = Math.min(outDepth, shift >= 0 ? 0 : Math.ceilDiv(-shift, stride));
            long end = Math.min(outDepth, shift >= depth ? 0 : Math.floorDiv(depth - 1 - shift, stride) + 1);
            if (end <= first) {
                continue;
            }
            long count = end - first;
            Tensor slices = context.contiguous(byDepths.slice(1, first * stride + shift, (end - 1) * stride + shift + 1, stride))
                    .reshape(batch * count, x.size(1), x.size(3), x.size(4));
            Tensor partial = planes.run(context, new Tensor[] {slices, context.contiguous(w.select(2, tap))})[0];
            long from = first;
            context.parallel(batch * count, task -> {
                long n = task / count;
                for (long f = 0; f < filters; f++) {
                    long to = y.byteOffset() + ((n * filters + f) * outDepth + from + task % count) * outPlane * 4;
                    FloatRows.binary(FloatRows.Op.ADD, y.segment(), to, false, partial.segment(),
                            partial.byteOffset() + (task * filters + f) * outPlane * 4, false, y.segment(), to, outPlane);
                }
            });
        }
        if (bias != null) {
            Tensor biases = checkedBias(context, bias, filters).contiguous();
            long volume = outDepth * outPlane;
            context.parallel(batch * filters, plane -> {
                long at = y.byteOffset() + plane * volume * 4;
                FloatRows.binary(FloatRows.Op.ADD, y.segment(), at, false, biases.segment(),
                        biases.byteOffset() + plane % filters * 4, true, y.segment(), at, volume);
            });
        }
        return y;
    }

    /** Adds each filter's bias to the block of output positions a task has just computed, while it is in cache. */
    private static void addBiases(Lowering l, Tensor biases, Tensor y, long n, int gi, long first, int count) {
        for (long f = 0; f < l.groupFilters() && biases != null; f++) {
            long at = (l.outBase(n, gi) + f * l.outPlane() + first) * 4;
            FloatRows.binary(FloatRows.Op.ADD, y.segment(), at, false, biases.segment(),
                    biases.byteOffset() + (gi * l.groupFilters() + f) * 4, true, y.segment(), at, count);
        }
    }

    /**
     * Whether the GEMM reads a float convolution's patches from its image as it packs them
     * ({@link FloatGemm.Patches}), with no patch matrix: 2-D, not pointwise, four filters a group
     * or more, and output rows of stride 1 wide enough that most panels of positions are one
     * vector copy of an input row ({@link #minImagePatchWidth}).
     */
    private static boolean patchesFromImage(KernelContext context, Lowering l, Tensor x) {
        Window.Geometry g = l.geometry();
        return l.inSpatial().length == 2 && g.strides()[1] == 1 && g.outSizes()[1] >= minImagePatchWidth
                && l.groupFilters() >= FloatGemm.PACKING_MIN_ROWS && !byGroups(context, l)
                && l.inPlane() <= Integer.MAX_VALUE && !Arrays.stream(g.kernel()).allMatch(size -> size == 1)
                && l.groupChannels() * l.inPlane() <= Integer.MAX_VALUE;
    }

    /** A thread's zero-padded copy of an image's channels for {@link #fromPaddedImage}, kept from run to run. */
    private static final ThreadLocal<float[]> PADDED_IMAGE = ThreadLocal.withInitial(() -> new float[0]);

    /** A thread's input row, read before its columns go to their phases at a stride. */
    private static final ThreadLocal<float[]> PADDED_LINE = ThreadLocal.withInitial(() -> new float[0]);

    /** Whether {@link #fromPaddedImage} may run (with AVX-512). Not final: tests turn it off, so that the other paths run too. */
    static boolean readsPaddedImages = FloatGemm.READS_PADDED_IMAGES;

    /** The largest padded copy of a group's channels that {@link #fromPaddedImage} makes (one band's): 64 MB. */
    private static final long MAX_PADDED_BYTES = 1 << 26;

    /**
     * The padded copy's size that {@link #fromPaddedImage} aims at: larger images are copied a band
     * of output rows at a time, each band a copy then its product (bands as large as the filters at
     * least: see {@link #fromPaddedImage(KernelContext, Lowering, Tensor, long, long, Function,
     * SumsOut)}). 1 MB, a core's L2 on a Zen 4: QLinearConv 3×3 over 512×512 on two threads (one
     * JVM alternating, medians of 9 runs) took 93 ms for 64→64 in bands of 1 MB against 107 with the
     * image whole (124 with the patch matrix), 187 against 199 for 128→64 (259), and the float Conv
     * 64→64 109 against 121 (125); bands of 256 KB were slower. Not final: tests lower it, so that
     * small images are split too.
     */
    static long paddedBandBytes = 1L << 20;

    /**
     * Whether a convolution reads its image in place, zero-padded, as the product's B ({@link
     * FloatGemm.PaddedImage}, {@link Int16Gemm.PaddedImage}): 2-D, a window of more than one tap,
     * the padded rows of one output row of a group's channels ({@code bytes} a value) within {@link
     * #MAX_PADDED_BYTES}, and planes wide enough that the columns computed in the padding are at
     * most {@code 1/share} of them (of a phase's, at a stride).
     */
    private static boolean fromPaddedImage(Lowering l, int share, int bytes) {
        Window.Geometry g = l.geometry();
        if (!readsPaddedImages || l.inSpatial().length != 2 || l.groupFilters() == 0 || l.patch() > Integer.MAX_VALUE
                || Arrays.stream(g.kernel()).allMatch(size -> size == 1)
                || !Arrays.stream(g.padBefore()).allMatch(pad -> pad >= 0)
                || !Arrays.stream(g.padAfter()).allMatch(pad -> pad >= 0)) {
            return false;
        }
        long phaseWidth = Math.ceilDiv(paddedWidth(l), g.strides()[1]);
        return (phaseWidth - g.outSizes()[1]) * share <= phaseWidth
                && l.groupChannels() * bandRows(l, 1) * phaseWidth * g.strides()[1] * bytes <= MAX_PADDED_BYTES;
    }

    /** The most output rows (one at least) whose band takes at most {@code budget} bytes, {@code rowBytes} a padded row. */
    private static int tallestBand(Lowering l, long rowBytes, long budget) {
        Window.Geometry g = l.geometry();
        long reach = (g.kernel()[0] - 1) * g.dilations()[0] + 1;
        // (An image of no channels takes no bytes: one band.)
        long rows = rowBytes == 0 ? g.outSizes()[0] : Math.min((budget / rowBytes - reach) / g.strides()[0] + 1, g.outSizes()[0]);
        while (rows > 1 && bandRows(l, rows) * rowBytes > budget) {
            rows--;
        }
        return (int) Math.max(1, rows);
    }

    /** The padded rows a band of {@code rows} output rows reads, rounded up to whole phases of the stride. */
    private static long bandRows(Lowering l, long rows) {
        Window.Geometry g = l.geometry();
        long reach = (rows - 1) * g.strides()[0] + (g.kernel()[0] - 1) * g.dilations()[0] + 1;
        return Math.ceilDiv(reach, g.strides()[0]) * g.strides()[0];
    }

    /**
     * Output rows {@code firstRow..} of a convolution as one of its own over the input rows they
     * read ({@code shape}, its height of them from input row {@code inputRow}) and the padding above
     * and below those: padded row 0 of the band is padded row firstRow·stride of the image, so that
     * the phases of a stride stay as they are.
     */
    private record Band(int firstRow, Depthwise.Shape shape, long inputRow) {
        static Band of(Lowering l, int firstRow, int rows) {
            Depthwise.Shape s = depthwiseShape(l);
            long start = (long) firstRow * s.strideHeight() - s.padTop();
            long end = start + (long) (rows - 1) * s.strideHeight() + (long) (s.kernelHeight() - 1) * s.dilationHeight() + 1;
            long from = Math.clamp(start, 0, s.height());
            long to = Math.clamp(end, from, s.height());
            // A band in the padding alone (pads taller than it) reads no row.
            int top = Math.toIntExact(to > from ? from - start : end - start);
            int bottom = Math.toIntExact(to > from ? end - to : 0);
            return new Band(firstRow, new Depthwise.Shape(Math.toIntExact(to - from), s.width(), s.kernelHeight(),
                    s.kernelWidth(), s.strideHeight(), s.strideWidth(), s.dilationHeight(), s.dilationWidth(), top,
                    s.padLeft(), bottom, s.padRight(), rows, s.outWidth()), from);
        }
    }

    /**
     * The float GEMM's share for {@link #fromPaddedImage(Lowering, int, int)}: against the patch matrix (one
     * JVM alternating the two, medians of 9 passes), 64→64 3×3 over 56×56 (3% in the padding) took
     * 3.1–4.6 ms against 4.6–5.8 on one thread on a Xeon, 2.8 against 4.2 on a Zen 4; over 28×28
     * (7%) it was 5–13% slower on the Xeon. On a Zen 4 it was as fast or faster up to 30% of the
     * columns in the padding, where a narrow plane's patch matrix is gathered in short rows (one
     * thread, medians of 9 passes, ms): MNIST's 8→16 5×5 over 14×14 (22%) 0.036 against 0.041,
     * 32→32 3×3 over 14×14 (12%) 0.068 against 0.095, 128→128 3×3 over 7×7 (22%) 0.399 against
     * 0.417, 256→256 over 4×4 (33%) 0.354 against 0.355, 16→16 7×7 over 14×14 (30%) 0.090 against
     * 0.141; but 64→64 5×5 over 7×7 (36%) 0.386 against 0.361.
     */
    private static final int FLOAT_PADDING_SHARE = FloatGemm.AMD ? 3 : 20;

    /**
     * {@link Int16Gemm}'s share: it gains more, as its patches took packing into 16-bit lanes besides
     * their gathering. ConvInteger 3×3 against the patch matrix on a Zen 4 (one JVM alternating, medians
     * of 10 passes, one thread): 64→64 over 28×28 (7% in the padding) 0.79 against 1.04 ms, 256→256
     * over 14×14 (12%) 2.65 against 3.39, 512→512 over 7×7 (22%) 3.00 against 3.61; at stride 2,
     * 64→128 over 56×56 1.45 against 1.72 and 128→256 over 28×28 1.52 against 1.68.
     */
    private static final int PAIRS_PADDING_SHARE = 4;

    /**
     * The fewest channels a group takes {@link Int16Gemm.PaddedImage} with: each tap's channels run
     * in pairs of pairs, so a few channels leave the kernel's loop short and partly on channels past
     * the image. ConvInteger 3×3 over 256×256 (as above): 3→64 12.5 ms against the patch matrix's
     * 10.2, 8→64 14.6 against 14.3, 16→64 (at stride 2) 6.1 against 6.7.
     */
    private static final long PAIRS_MIN_CHANNELS = 16;

    private static long paddedWidth(Lowering l) {
        return l.inSpatial()[1] + l.geometry().padBefore()[1] + l.geometry().padAfter()[1];
    }

    /** An input row as floats: {@code width} values from element {@code at} of x into {@code padded[to..]}. */
    private interface RowReader {
        void read(long at, float[] padded, int to, int width);
    }

    /**
     * A run of one filter's sums (float, or int32 for integer filters) leaving a task's scratch:
     * {@code count} of them from byte {@code sumAt} of {@code sums}, for output element {@code outAt}
     * (past y's start) of filter {@code filter} of all the groups'.
     */
    private interface SumsOut {
        void write(MemorySegment sums, long sumAt, int filter, long outAt, int count);
    }

    /**
     * What {@link #fromPaddedImage(KernelContext, Lowering, Tensor, long, long, Function, SumsOut)}
     * runs for a band: the copy of a group's image into zero-padded planes, and the product of the
     * group's filters by a block of the planes' columns.
     */
    private interface PaddedProduct {
        /** Tasks the copy of an image takes (a plane each). */
        int planes();

        /** The columns between the starts of two output rows (the padded width, or a phase's at stride 2). */
        int columnWidth();

        /**
         * Copies plane {@code plane} of the group's image (of the band's rows), whose channels' first
         * rows start at element {@code firstInput} of x, a whole input plane apart.
         */
        void copy(long firstInput, int plane);

        /** Runs once the planes are copied, before the products. */
        void copied();

        /** The filters a task's share of a group's is a multiple of. */
        int filterUnit();

        /**
         * The sums of group {@code group}'s filters firstFilter..firstFilter + filters over columns
         * first..first + count, into {@code sums} (their first row the first filter's).
         */
        void multiply(int group, int firstFilter, int filters, int first, FloatGemm.Matrix sums, int count);
    }

    /**
     * The window's taps as offsets in a padded plane split into phases by the strides s × t, as
     * {@link Int16Gemm.PaddedImage} lays them out (phases phaseHeight × phaseWidth), row by row.
     */
    private static int[] windowTaps(Lowering l, int phaseHeight, int phaseWidth) {
        Window.Geometry g = l.geometry();
        int kernelWidth = Math.toIntExact(g.kernel()[1]);
        int strideHeight = Math.toIntExact(g.strides()[0]);
        int strideWidth = Math.toIntExact(g.strides()[1]);
        int[] taps = new int[Math.toIntExact(g.kernel()[0] * kernelWidth)];
        for (int t = 0; t < taps.length; t++) {
            int row = Math.toIntExact(t / kernelWidth * g.dilations()[0]);
            int column = Math.toIntExact(t % kernelWidth * g.dilations()[1]);
            taps[t] = (row % strideHeight * strideWidth + column % strideWidth) * phaseHeight * phaseWidth
                    + row / strideHeight * phaseWidth + column / strideWidth;
        }
        return taps;
    }

    /**
     * A float convolution by {@link #fromPaddedImage(KernelContext, Lowering, Tensor, long, long,
     * Function, SumsOut)}, its bias added as the rows leave.
     */
    private static void fromPaddedImage(KernelContext context, Lowering l, Tensor x, Tensor w, Tensor y, Tensor biases) {
        int filters = Math.toIntExact(l.groupFilters());
        // Segments taken once: each call checks that the run's arena is still open (taken per row and
        // per filter's block, those checks were 3% of a float 3×3 layer's samples).
        MemorySegment input = x.segment();
        MemorySegment output = y.segment();
        MemorySegment biasValues = biases == null ? null : biases.segment();
        fromPaddedImage(context, l, x, gi -> FloatGemm.packFilters(new FloatGemm.Matrix(w.segment(),
                w.offset() + gi * filters * l.patch(), l.patch()), filters, Math.toIntExact(l.patch())),
                (at, padded, to, width) -> MemorySegment.copy(input, Layouts.FLOAT, at * 4, padded, to, width),
                (sums, sumAt, filter, outAt, count) -> {
                    if (biasValues == null) {
                        MemorySegment.copy(sums, sumAt, output, y.byteOffset() + outAt * 4, count * 4L);
                    } else {
                        FloatRows.binary(FloatRows.Op.ADD, sums, sumAt, false, biasValues,
                                biases.byteOffset() + filter * 4L, true, output, y.byteOffset() + outAt * 4, count);
                    }
                });
    }

    /**
     * The float GEMM over a group's channels copied into zero-padded planes ({@link
     * FloatGemm.PaddedImage}), a plane a channel, each filter's taps channel by channel.
     */
    private static void fromPaddedImage(KernelContext context, Lowering l, Tensor x, IntFunction<FloatGemm.PackedA> packFilters,
            RowReader reader, SumsOut out) {
        int width = Math.toIntExact(l.inSpatial()[1]);
        int strideHeight = Math.toIntExact(l.geometry().strides()[0]);
        int strideWidth = Math.toIntExact(l.geometry().strides()[1]);
        int phaseWidth = Math.toIntExact(Math.ceilDiv(paddedWidth(l), strideWidth));
        int channels = Math.toIntExact(l.groupChannels());
        int left = Math.toIntExact(l.geometry().padBefore()[1]);
        FloatGemm.PackedA[] packedFilters = new FloatGemm.PackedA[l.group()];
        context.parallel(l.group(), gi -> packedFilters[(int) gi] = packFilters.apply((int) gi));
        long rowBytes = (long) channels * phaseWidth * strideWidth * Float.BYTES;
        fromPaddedImage(context, l, x, rowBytes, l.groupFilters() * l.patch() * Float.BYTES, band -> {
            Depthwise.Shape shape = band.shape();
            int height = shape.height();
            int top = shape.padTop();
            int phaseHeight = Math.ceilDiv(top + height + shape.padBottom(), strideHeight);
            int phase = phaseHeight * phaseWidth;
            int plane = strideHeight * strideWidth * phase;
            int[] window = windowTaps(l, phaseHeight, phaseWidth);
            int[] taps = new int[Math.toIntExact(l.patch())];
            for (int tap = 0; tap < taps.length; tap++) {
                taps[tap] = tap / window.length * plane + window[tap % window.length];
            }
            // Past the last plane, a panel's room: the last block's columns are read in whole panels
            // (for columns that are dropped, so whatever it holds).
            float[] padded = scratch(PADDED_IMAGE, channels * plane + FloatGemm.PANEL);
            FloatGemm.PaddedImage image = new FloatGemm.PaddedImage(padded, taps);
            return new PaddedProduct() {
                @Override
                public int planes() {
                    return channels;
                }

                @Override
                public int columnWidth() {
                    return phaseWidth;
                }

                @Override
                public void copy(long firstInput, int c) {
                    // The copy is reused from run to run: zeroed, then its rows read in.
                    int planeAt = c * plane;
                    Arrays.fill(padded, planeAt, planeAt + plane, 0f);
                    float[] line = strideWidth == 1 ? null : scratch(PADDED_LINE, width);
                    for (int row = 0; row < height; row++) {
                        int paddedRow = top + row;
                        int rowAt = planeAt + paddedRow % strideHeight * strideWidth * phase + paddedRow / strideHeight * phaseWidth;
                        long at = firstInput + c * l.inPlane() + (long) row * width;
                        if (line == null) {
                            reader.read(at, padded, rowAt + left, width);
                        } else {
                            reader.read(at, line, 0, width);
                            Depthwise.phases(line, 0, width, padded, rowAt, left, strideWidth, phase);
                        }
                    }
                }

                @Override
                public void copied() {
                }

                @Override
                public int filterUnit() {
                    // FloatGemm's padded product takes the filters whole.
                    return Math.toIntExact(l.groupFilters());
                }

                @Override
                public void multiply(int group, int firstFilter, int filters, int first, FloatGemm.Matrix sums, int count) {
                    FloatGemm.multiply(packedFilters[group], image, first, sums, count);
                }
            };
        }, out);
    }

    /**
     * Each group's channels copied into padded planes, which the product reads as B where the taps
     * lie: output position (y, x) is column y·W' + x of planes W' wide, the columns past an output
     * row (x from the output's width on) fall in the padding and are dropped. The threads take
     * blocks of those columns, every filter each, into sums of their own, then hand the output rows'
     * runs to {@code out}. An image whose padded copy takes more than {@link #paddedBandBytes}
     * ({@code rowBytes} a padded row) and than a group's filters ({@code filterBytes} as the
     * product reads them) goes a band of output rows at a time, each band's product from {@code
     * products}. Images of one band, as many as the threads or more, go to the threads whole.
     */
    private static void fromPaddedImage(KernelContext context, Lowering l, Tensor x, long rowBytes, long filterBytes,
            Function<Band, PaddedProduct> products, SumsOut out) {
        Window.Geometry g = l.geometry();
        int outHeight = Math.toIntExact(g.outSizes()[0]);
        int outWidth = Math.toIntExact(g.outSizes()[1]);
        int filters = Math.toIntExact(l.groupFilters());
        // Each band's product reads every filter again: bands at least as large as the filters. (The
        // float Conv 512→512 3×3 over 56×56 on two threads took 94 ms in bands of 1 MB against 85
        // whole, its 9.4 MB of filters read ten times.) Within MAX_PADDED_BYTES, which one output
        // row's band fits, as fromPaddedImage checked; all of about the same height.
        int fit = tallestBand(l, rowBytes, Math.min(MAX_PADDED_BYTES, Math.max(paddedBandBytes, filterBytes)));
        int bandHeight = Math.ceilDiv(outHeight, Math.ceilDiv(outHeight, fit));
        Band[] bands = new Band[Math.ceilDiv(outHeight, bandHeight)];
        for (int b = 0; b < bands.length; b++) {
            bands[b] = Band.of(l, b * bandHeight, Math.min(bandHeight, outHeight - b * bandHeight));
        }
        long images = l.batch() * l.group();
        if (bands.length == 1 && context.threads() > 1 && images >= context.threads()) {
            // Images of one band each, enough for every thread: an image (and group) a task, copied
            // and multiplied by its thread alone, in its own scratch (the inner jobs run on the task's
            // thread). Shared, each image's copy and product were two jobs of a few tasks: TopPIC's
            // EnvCNN at batch 16 spent more of its convolutions' samples waiting at their ends than
            // multiplying (JFR).
            context.parallel(images, task -> {
                PaddedProduct product = products.apply(bands[0]);
                Blocks blocks = Blocks.of(context, l, product, bands[0].shape().outHeight());
                int gi = (int) (task % l.group());
                multiplyBand(context, l, bands[0], product, blocks, l.inBase(x, task / l.group(), gi),
                        l.outBase(task / l.group(), gi), gi, out);
            });
            return;
        }
        PaddedProduct[] bandProducts = new PaddedProduct[bands.length];
        Blocks[] blocks = new Blocks[bands.length];
        for (int b = 0; b < bands.length; b++) {
            bandProducts[b] = products.apply(bands[b]);
            blocks[b] = Blocks.of(context, l, bandProducts[b], bands[b].shape().outHeight());
        }
        for (long n = 0; n < l.batch(); n++) {
            for (int gi = 0; gi < l.group(); gi++) {
                for (int b = 0; b < bands.length; b++) {
                    multiplyBand(context, l, bands[b], bandProducts[b], blocks[b], l.inBase(x, n, gi), l.outBase(n, gi),
                            gi, out);
                }
            }
        }
    }

    /**
     * How the threads share a band's product: blocks of its columns, each blockColumns at most, and
     * (planes too small for a block of columns a thread, 7×7: one block) filterBlocks shares of the
     * filters, blockFilters each.
     */
    private record Blocks(int columns, long blocks, long blockColumns, long filterBlocks, int blockFilters) {
        static Blocks of(KernelContext context, Lowering l, PaddedProduct product, int outRows) {
            int filters = Math.toIntExact(l.groupFilters());
            int columns = Math.toIntExact((outRows - 1L) * product.columnWidth() + l.geometry().outSizes()[1]);
            long blocks = Math.max(positionBlocks(context, 2L * filters * columns * l.patch(), columns),
                    Math.ceilDiv(columns, Math.max(MIN_COLUMNS_PER_TASK, BLOCK_OUTPUT_FLOATS / filters)));
            long blockColumns = Math.min(columns,
                    Math.ceilDiv(Math.ceilDiv(columns, MIN_COLUMNS_PER_TASK), blocks) * MIN_COLUMNS_PER_TASK);
            int units = Math.ceilDiv(filters, product.filterUnit());
            long filterBlocks = blocks >= context.threads() ? 1 : Math.clamp(Math.min(Math.ceilDiv(context.threads(), blocks),
                    2L * filters * columns * l.patch() / MIN_OPERATIONS_PER_TASK / blocks), 1, units);
            int blockFilters = Math.ceilDiv(units, Math.toIntExact(filterBlocks)) * product.filterUnit();
            return new Blocks(columns, blocks, blockColumns, filterBlocks, blockFilters);
        }
    }

    /** A thread's sums of {@link #multiplyBand}'s tasks, reused task after task. */
    private static final ThreadLocal<MemorySegment> TASK_SUMS = ThreadLocal.withInitial(() -> MemorySegment.NULL);

    /** The calling thread's room for {@code floats} sums, off-heap. */
    private static MemorySegment taskSums(long floats) {
        MemorySegment sums = TASK_SUMS.get();
        if (sums.byteSize() < 4 * floats) {
            sums = Arena.ofAuto().allocate(4 * floats, 64);
            TASK_SUMS.set(sums);
        }
        return sums;
    }

    /** One band of group gi's image: copied, then multiplied block by block into sums and out. */
    private static void multiplyBand(KernelContext context, Lowering l, Band band, PaddedProduct product, Blocks b,
            long inBase, long outBase, int gi, SumsOut out) {
        int rowColumns = product.columnWidth();
        int outWidth = Math.toIntExact(l.geometry().outSizes()[1]);
        int filters = Math.toIntExact(l.groupFilters());
        int columns = b.columns();
        long firstInput = inBase + band.inputRow() * l.inSpatial()[1];
        context.parallel(product.planes(), plane -> product.copy(firstInput, (int) plane));
        product.copied();
        context.parallel(b.blocks() * b.filterBlocks(), task -> {
            long block = task / b.filterBlocks();
            int firstFilter = Math.toIntExact(task % b.filterBlocks() * b.blockFilters());
            int lastFilter = Math.min(filters, firstFilter + b.blockFilters());
            int first = (int) blockStart(block, b.blocks(), columns);
            int count = (int) (blockStart(block + 1, b.blocks(), columns) - first);
            if (firstFilter >= lastFilter) {
                return;
            }
            // Rows an odd number of cache lines apart, so that a tile's rows fall in different sets of the L1.
            long stride = (Math.ceilDiv(count, 16) | 1) * 16L;
            MemorySegment sums = taskSums((lastFilter - firstFilter) * stride);
            product.multiply(gi, firstFilter, lastFilter - firstFilter, first, new FloatGemm.Matrix(sums, 0, stride), count);
            for (int f = firstFilter; f < lastFilter; f++) {
                long filterAt = outBase + (long) f * l.outPlane() + (long) band.firstRow() * outWidth;
                for (int outRow = first / rowColumns; outRow * rowColumns < first + count; outRow++) {
                    int from = Math.max(first, outRow * rowColumns);
                    int to = Math.min(first + count, outRow * rowColumns + outWidth);
                    if (from < to) {
                        long outAt = filterAt + (long) outRow * outWidth + from - outRow * rowColumns;
                        out.write(sums, ((f - firstFilter) * stride + from - first) * 4, gi * filters + f,
                                outAt, to - from);
                    }
                }
            }
        });
    }

    /** The most outputs (filters by positions) a task of {@link #patchesFromImage}'s convolution computes: 256 KB. */
    private static final long BLOCK_OUTPUT_FLOATS = 1 << 16;

    /**
     * The narrowest output rows whose patches {@link #patchesFromImage} reads from the image: in
     * narrower ones, panels of positions cross rows or reach the padding too often, and take the
     * element-by-element gather.
     */
    static int minImagePatchWidth = 128;

    /** The patches of {@link #patchesFromImage}'s convolution, from image 0, group 0 (see {@link FloatGemm.Patches#at}). */
    private static FloatGemm.Patches patches(Lowering l, Tensor x) {
        Window.Geometry g = l.geometry();
        return new FloatGemm.Patches(x.segment(), 0, Math.toIntExact(l.inSpatial()[0]), Math.toIntExact(l.inSpatial()[1]),
                Math.toIntExact(g.kernel()[0]), Math.toIntExact(g.kernel()[1]), Math.toIntExact(g.strides()[0]),
                Math.toIntExact(g.strides()[1]), Math.toIntExact(g.dilations()[0]), Math.toIntExact(g.dilations()[1]),
                Math.toIntExact(g.padBefore()[0]), Math.toIntExact(g.padBefore()[1]), Math.toIntExact(g.outSizes()[1]), 0);
    }

    /** A 2-D convolution whose groups read one channel each (depthwise), in int-sized planes. */
    private static boolean depthwise(Lowering l) {
        return l.inSpatial().length == 2 && l.group() > 1 && l.groupChannels() == 1 && l.inPlane() <= Integer.MAX_VALUE
                && l.outPlane() <= Integer.MAX_VALUE;
    }

    /** A thread's padded copy of an input plane of a depthwise convolution. */
    private static final ThreadLocal<float[]> PLANE = ThreadLocal.withInitial(() -> new float[0]);

    private static Depthwise.Shape depthwiseShape(Lowering l) {
        return planeShape(l.inSpatial(), l.geometry());
    }

    /** A 2-D window over planes of {@code inSpatial} as int sizes. */
    private static Depthwise.Shape planeShape(long[] inSpatial, Window.Geometry g) {
        return new Depthwise.Shape(Math.toIntExact(inSpatial[0]), Math.toIntExact(inSpatial[1]),
                Math.toIntExact(g.kernel()[0]), Math.toIntExact(g.kernel()[1]), Math.toIntExact(g.strides()[0]),
                Math.toIntExact(g.strides()[1]), Math.toIntExact(g.dilations()[0]), Math.toIntExact(g.dilations()[1]),
                Math.toIntExact(g.padBefore()[0]), Math.toIntExact(g.padBefore()[1]), Math.toIntExact(g.padAfter()[0]),
                Math.toIntExact(g.padAfter()[1]), Math.toIntExact(g.outSizes()[0]), Math.toIntExact(g.outSizes()[1]));
    }

    /** This thread's buffer for a padded plane, at least {@code size} floats. */
    private static float[] plane(int size) {
        return scratch(PLANE, size);
    }

    /** A thread's output plane of a pool, or output row of a transposed convolution. */
    private static final ThreadLocal<float[]> OUT_PLANE = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] scratchOut(int size) {
        return scratch(OUT_PLANE, size);
    }

    private static float[] scratch(ThreadLocal<float[]> kept, int size) {
        float[] array = kept.get();
        if (array.length < size) {
            array = new float[size];
            kept.set(array);
        }
        return array;
    }

    /** Each output plane from its channel's input plane by {@link Depthwise}, the planes spread over the threads, with its bias. */
    private static void depthwise(KernelContext context, Lowering l, Tensor x, float[] w, Tensor y, Tensor biases) {
        Depthwise.Shape shape = depthwiseShape(l);
        int taps = shape.kernelHeight() * shape.kernelWidth();
        context.parallel(l.batch() * l.filters(), plane -> {
            long n = plane / l.filters();
            long filter = plane % l.filters();
            long channel = filter / l.groupFilters();
            long at = plane * l.outPlane() * 4;
            float[] padded = plane(shape.paddedSize());
            Depthwise.pad(x.segment(), l.inBase(x, n, (int) channel) * 4, shape, 0f, padded, 0);
            float bias = biases == null ? 0f : biases.segment().get(Layouts.FLOAT, biases.byteOffset() + filter * 4);
            Depthwise.plane(padded, 0, 1, w, (int) filter * taps, bias, shape, y.segment(), at);
        });
    }

    /** The calling thread's padded copies of an image's planes, which its tasks read ({@link #fewChannels}). */
    private static final ThreadLocal<float[]> IMAGE_PLANES = ThreadLocal.withInitial(() -> new float[0]);

    /** Input channels a group at most that {@link #fewChannels} convolutions read directly: an RGBA image's four. */
    private static final long FEW_CHANNELS = 4;
    /** The deepest patch {@link #fewChannels} convolutions read directly: ResNet's 7×7 over RGB, 147. */
    private static final long FEW_CHANNELS_PATCH = 4 * 7 * 7;

    /**
     * Whether a 2-D convolution reads few channels a group (a network's first layer, over an RGB
     * image), where the patch matrix is shallow (27 rows for 3×3 over RGB) and the GEMM spends its
     * time gathering, packing and storing: MobileNetV3's first layer, 16 filters 3×3 at stride 2
     * over 224×224, took 0.43 ms on two threads for 5.4 M multiply-adds. A deep patch goes to the
     * GEMM, which reuses each loaded patch value across eight filters: ViT-B/16's 16×16 patch
     * embedding (768 deep, 768 filters) took 30.6 ms a run summed plane by plane.
     */
    private static boolean fewChannels(Lowering l) {
        return l.inSpatial().length == 2 && l.groupChannels() <= FEW_CHANNELS && l.patch() <= FEW_CHANNELS_PATCH
                && l.inPlane() <= Integer.MAX_VALUE && l.outPlane() <= Integer.MAX_VALUE;
    }

    /** Pads channel {@code channel} of image {@code image} into {@code padded} from {@code at} ({@link Depthwise#pad}). */
    private interface PlanePadding {
        void pad(Depthwise.Shape shape, long image, long channel, float[] padded, int at);
    }

    /** What becomes of filter {@code filter}'s output plane of image {@code image}, summed at {@code planeOffset}. */
    private interface PlaneDone {
        void accept(long image, int filter, long planeOffset);
    }

    /**
     * Each output plane summed directly from padded copies of its group's input planes ({@link
     * Depthwise#planes4}, {@link Depthwise#plane}) into {@code sums} (y's shape, from byte {@code
     * sumsOffset}), the copies made once an image and the planes spread over the threads; then each
     * plane goes to {@code done} on the task that summed it. 3×3 over RGB, one thread: 33 GFLOP/s a
     * filter at a time, 56 four at a time; 7×7 (ResNet's first layer): 45 and 93 (a throwaway loop).
     */
    private static void fewChannels(KernelContext context, Lowering l, PlanePadding padding, float[] w, MemorySegment sums,
            long sumsOffset, PlaneDone done) {
        Depthwise.Shape shape = depthwiseShape(l);
        int channels = Math.toIntExact(l.groupChannels());
        int size = shape.paddedSize();
        float[] padded = scratch(IMAGE_PLANES, Math.multiplyExact(Math.toIntExact(l.channels()), size));
        int filterTaps = Math.toIntExact(l.patch());
        for (long n = 0; n < l.batch(); n++) {
            long image = n;
            context.parallel(l.channels(), c -> padding.pad(shape, image, c, padded, (int) c * size));
            // Four filters of a group a task, where the kernel reads each loaded input vector four times.
            long blocks = Math.ceilDiv(l.groupFilters(), 4);
            context.parallel(l.group() * blocks, task -> {
                int group = (int) (task / blocks);
                long first = group * l.groupFilters() + task % blocks * 4;
                long end = Math.min(first + 4, (group + 1) * l.groupFilters());
                int from = group * channels * size;
                long at = sumsOffset + (image * l.filters() + first) * l.outPlane() * 4;
                if (end - first == 4) {
                    Depthwise.planes4(padded, from, channels, w, (int) first * filterTaps, filterTaps, shape, sums, at,
                            l.outPlane() * 4);
                } else {
                    for (long f = first; f < end; f++) {
                        Depthwise.plane(padded, from, channels, w, (int) f * filterTaps, 0f, shape, sums,
                                at + (f - first) * l.outPlane() * 4);
                    }
                }
                for (long f = first; f < end && done != null; f++) {
                    done.accept(image, (int) f, at + (f - first) * l.outPlane() * 4);
                }
            });
        }
    }

    /** {@link #fewChannels} over float planes, each output plane then biased. */
    private static void fewChannels(KernelContext context, Lowering l, Tensor x, float[] w, Tensor y, Tensor biases) {
        fewChannels(context, l, (shape, image, c, padded, at) -> Depthwise.pad(x.segment(),
                (l.inBase(x, image, 0) + c * l.inPlane()) * 4, shape, 0f, padded, at), w, y.segment(), y.byteOffset(),
                biases == null ? null : (image, f, plane) -> FloatRows.binary(FloatRows.Op.ADD, y.segment(), plane, false,
                        biases.segment(), biases.byteOffset() + f * 4, true, y.segment(), plane, l.outPlane()));
    }

    /**
     * A depthwise convolution with fewer output positions than a GEMM panel is wide, by plain loops
     * over heap copies: the vector kernel's set-up per plane (padding it, then its rows) took 40 µs
     * for silero VAD's 258 planes of six positions, five taps each.
     */
    private static void fewPositionsDepthwise(Lowering l, Tensor x, float[] w, Tensor y, Tensor biases) {
        Depthwise.Shape shape = depthwiseShape(l);
        int inPlane = shape.height() * shape.width();
        int outPlane = shape.outHeight() * shape.outWidth();
        int taps = shape.kernelHeight() * shape.kernelWidth();
        int filters = Math.toIntExact(l.filters());
        int planes = Math.toIntExact(l.batch() * filters);
        float[] in = new float[Math.toIntExact(l.batch() * l.channels() * inPlane)];
        MemorySegment.copy(x.segment(), Layouts.FLOAT, x.byteOffset(), in, 0, in.length);
        float[] out = new float[planes * outPlane];
        float[] bias = biases == null ? null : biases.toFloatArray();
        for (int plane = 0; plane < planes; plane++) {
            int filter = plane % filters;
            int inAt = (int) ((plane / filters * l.channels() + filter / l.groupFilters()) * inPlane);
            int wAt = filter * taps;
            for (int oh = 0; oh < shape.outHeight(); oh++) {
                for (int ow = 0; ow < shape.outWidth(); ow++) {
                    float sum = 0;
                    for (int kh = 0; kh < shape.kernelHeight(); kh++) {
                        int ih = oh * shape.strideHeight() - shape.padTop() + kh * shape.dilationHeight();
                        for (int kw = 0; kw < shape.kernelWidth() && ih >= 0 && ih < shape.height(); kw++) {
                            int iw = ow * shape.strideWidth() - shape.padLeft() + kw * shape.dilationWidth();
                            if (iw >= 0 && iw < shape.width()) {
                                sum = Math.fma(in[inAt + ih * shape.width() + iw], w[wAt + kh * shape.kernelWidth() + kw], sum);
                            }
                        }
                    }
                    out[plane * outPlane + oh * shape.outWidth() + ow] = bias == null ? sum : sum + bias[filter];
                }
            }
        }
        MemorySegment.copy(out, 0, y.segment(), Layouts.FLOAT, y.byteOffset(), out.length);
    }

    /**
     * Whether a convolution has fewer output positions than two of W·patches' tasks take, where
     * that product would spend many of each micro-kernel's lanes on padding, run on one thread and
     * pack W at each call: a 1-D convolution over a short frame (silero VAD's 258×256 STFT filters
     * at 3 positions: 108 µs, a fifth of the model's run), the last stage of a CNN (ResNet-18's
     * 512→512 3×3 layers over 7×7 positions: 7.8 ms on two threads, 15 G multiply-adds a second).
     */
    private static boolean byPositions(Lowering l) {
        return l.group() == 1 && l.outPlane() < 2 * MIN_COLUMNS_PER_TASK
                && FloatGemm.packedBytes(Math.toIntExact(l.patch()), Math.toIntExact(l.filters())) <= TransposedFilters.MAX_BYTES;
    }

    /** W transposed to patch × filters and packed for the GEMM: once for a constant W, at each call for another. */
    private static final class TransposedFilters {
        /** W's packed transpose costs eight bytes an element while kept (the transpose and its packing). */
        static final long MAX_BYTES = 64L << 20;
        private Tensor source;
        private FloatGemm.PackedB packed;
        /** Whether the filters have come as another tensor: not kept from run to run then. */
        private boolean changing;

        synchronized FloatGemm.PackedB of(KernelContext context, Tensor w, boolean constant, Lowering l) {
            if (constant && source == w) {
                return packed;
            }
            // Filters marked constant that come as another tensor later are a 3-D convolution's
            // slices of its constant filters, made anew at each run: from then on none is kept.
            if (constant && source != null) {
                changing = true;
                source = null;
                packed = null;
            }
            constant &= !changing;
            int patch = Math.toIntExact(l.patch());
            int filters = Math.toIntExact(l.filters());
            // The packed B keeps reading its source where there are few rows: the transpose lives as
            // long as it. Filters that change from run to run are packed in the run's memory, which
            // its pool takes back, not in memory of their own, which only the GC frees: zeroing fresh
            // pages took 30% of R3D-18's samples.
            MemorySegment transpose = constant ? Arena.ofAuto().allocate(Math.max(4, 4L * patch * filters), 64)
                    : runMemory(context, 4L * patch * filters);
            MemorySegment from = w.segment();
            long fromAt = w.byteOffset();
            for (int f = 0; f < filters; f++) {
                for (int p = 0; p < patch; p++) {
                    transpose.set(Layouts.FLOAT, (p * (long) filters + f) * 4,
                            from.get(Layouts.FLOAT, fromAt + (f * (long) patch + p) * 4));
                }
            }
            FloatGemm.Matrix matrix = new FloatGemm.Matrix(transpose, 0, filters);
            FloatGemm.PackedB result = constant ? FloatGemm.pack(matrix, patch, filters)
                    : FloatGemm.pack(matrix, patch, filters, runMemory(context, FloatGemm.packedBytes(patch, filters)));
            if (constant) {
                source = w;
                packed = result;
            }
            return result;
        }
    }

    /** {@code bytes} (4 at least) of this run's memory, 64-byte aligned. */
    private static MemorySegment runMemory(KernelContext context, long bytes) {
        Tensor room = context.allocateForOverwrite(DType.FLOAT, Shape.of(Math.ceilDiv(Math.max(bytes, 4), 4) + 16));
        long at = room.byteOffset();
        long aligned = (room.segment().address() + at + 63) / 64 * 64 - room.segment().address();
        return room.segment().asSlice(aligned, Math.max(bytes, 4));
    }

    /**
     * y = W·patches as its transpose, patchesᵀ·Wᵀ: a row per output position of every image (im2row),
     * against Wᵀ packed, the filters split across the threads by panels; then each row back into y's
     * planes with its filter's bias.
     */
    private static void byPositions(KernelContext context, Lowering l, Tensor x, FloatGemm.PackedB filters, Tensor y,
            Tensor biases) {
        int rows = Math.toIntExact(l.batch() * l.outPlane());
        int patch = Math.toIntExact(l.patch());
        int count = Math.toIntExact(l.filters());
        Tensor patches = context.allocateForOverwrite(DType.FLOAT, Shape.of(rows, patch));
        im2row(context, x, l, patches);
        Tensor products = context.allocateForOverwrite(DType.FLOAT, Shape.of(rows, count));
        long panels = Math.ceilDiv(count, FloatGemm.PANEL);
        long blocks = Math.clamp(2L * rows * patch * count / MIN_OPERATIONS_PER_TASK, 1, Math.min(panels, 4L * context.threads()));
        context.parallel(blocks, block -> {
            int first = (int) (block * panels / blocks) * FloatGemm.PANEL;
            int end = (int) Math.min(count, (block + 1) * panels / blocks * FloatGemm.PANEL);
            FloatGemm.multiply(new FloatGemm.Matrix(patches.segment(), patches.offset(), patch), filters, first,
                    new FloatGemm.Matrix(products.segment(), products.offset() + first, count), rows, end - first, patch, false);
        });
        MemorySegment from = products.segment();
        MemorySegment to = y.segment();
        long fromAt = products.byteOffset();
        long toAt = y.byteOffset();
        float[] bias = biases == null ? null : biases.toFloatArray();
        for (int r = 0; r < rows; r++) {
            long n = r / l.outPlane();
            long position = r % l.outPlane();
            for (int f = 0; f < count; f++) {
                float value = from.get(Layouts.FLOAT, fromAt + ((long) r * count + f) * 4);
                to.set(Layouts.FLOAT, toAt + ((n * count + f) * l.outPlane() + position) * 4, bias == null ? value : value + bias[f]);
            }
        }
    }

    /**
     * patches[n·P + o, c·K + k] = x[n, c, o·s − pad + k·d], 0 in the padding: a row per output position
     * o of each image, its channels' taps in W's order. Each image's patch matrix comes by columns
     * from im2col (a pointwise convolution's is the image itself), then is transposed: gathering the
     * rows directly cost 30–60 ns a run of taps, 46 µs for silero VAD's 258-channel pointwise layers.
     */
    private static void im2row(KernelContext context, Tensor x, Lowering l, Tensor patches) {
        Window.Geometry g = l.geometry();
        boolean pointwise = Arrays.stream(g.kernel()).allMatch(size -> size == 1)
                && Arrays.stream(g.strides()).allMatch(stride -> stride == 1)
                && Arrays.stream(g.padBefore()).allMatch(pad -> pad == 0)
                && Arrays.stream(g.padAfter()).allMatch(pad -> pad == 0);
        long positions = l.outPlane();
        long patch = l.patch();
        int count = Math.toIntExact(patch * positions);
        if (pointwise) {
            // The images by the threads, each transposing its own: one after the other on the caller, a
            // batch of 8 (256 channels over 7×7) kept two threads at 1.3 times one thread's speed.
            context.parallel(l.batch(), n -> {
                float[] byColumns = plane(count);
                MemorySegment.copy(x.segment(), Layouts.FLOAT, l.inBase(x, n, 0) * 4, byColumns, 0, count);
                transposeInto(byColumns, (int) patch, (int) positions, scratchOut(count), patches, n * count);
            });
            return;
        }
        Tensor columns = context.allocateForOverwrite(DType.FLOAT, Shape.of(patch, positions));
        float[] byColumns = new float[count];
        float[] byRows = new float[count];
        for (long n = 0; n < l.batch(); n++) {
            im2col(context, x, l.inBase(x, n, 0), l.inSpatial(), l.channels(), g, columns, 0, 0, g.outSizes()[0]);
            MemorySegment.copy(columns.segment(), Layouts.FLOAT, columns.byteOffset(), byColumns, 0, count);
            transposeInto(byColumns, (int) patch, (int) positions, byRows, patches, n * count);
        }
    }

    /**
     * A patch × positions matrix on the heap into {@code patches} from element {@code at} as its
     * transpose, through {@code byRows}: transposed on the heap, where the loops compile to plain
     * loads and stores.
     */
    private static void transposeInto(float[] byColumns, int patch, int positions, float[] byRows, Tensor patches, long at) {
        for (int p = 0; p < patch; p++) {
            for (int o = 0; o < positions; o++) {
                byRows[o * patch + p] = byColumns[p * positions + o];
            }
        }
        MemorySegment.copy(byRows, 0, patches.segment(), Layouts.FLOAT, patches.byteOffset() + at * 4, patch * positions);
    }

    /** Multiply-adds (counted twice) below which a block of output positions is not worth another task. */
    private static final long MIN_OPERATIONS_PER_TASK = 1 << 17;
    /** Output positions per task at least: whole panels of the GEMM at any vector width. */
    private static final long MIN_COLUMNS_PER_TASK = 64;

    /**
     * Whether the groups go to the threads whole, each gathering its own patches and multiplying them:
     * for 2-D windows with many small groups (depthwise convolutions, one filter a group), where
     * splitting each group's little product would leave the threads idle between the groups.
     */
    private static boolean byGroups(KernelContext context, Lowering l) {
        return l.inSpatial().length == 2 && l.group() >= 2L * context.threads()
                && 2 * l.groupFilters() * l.outPlane() * l.patch() < 4 * MIN_OPERATIONS_PER_TASK;
    }

    /**
     * Group gi of image n: its filters {@code firstFilter..firstFilter + filters} (counted within the
     * group) times the patches of output positions [first, first + count), which start at element
     * {@code patches} of {@code columns}, in rows {@code stride} long.
     */
    private interface GroupProduct {
        void multiply(Tensor columns, long n, int gi, long patches, long stride, long first, int count, int firstFilter,
                int filters);
    }

    /**
     * Into how many runs of whole units of {@code unit} filters (0: the group's filters whole) a
     * group's product over {@code positionBlocks} blocks of positions splits, so that the threads have
     * tasks enough where the positions are few: a 320→1280 pointwise QLinearConv over 7×7 positions
     * (MobileNetV2's last layer) was one block, and ran on one thread.
     */
    private static int filterRuns(KernelContext context, Lowering l, int unit, long positionBlocks, long positions) {
        if (unit == 0 || positionBlocks >= 2L * context.threads()) {
            return 1;
        }
        long wanted = Math.clamp(2 * l.groupFilters() * positions * l.patch() / MIN_OPERATIONS_PER_TASK, 1, 4L * context.threads());
        return (int) Math.clamp(wanted / positionBlocks, 1, Math.ceilDiv(l.groupFilters(), unit));
    }

    /** The first filter (within its group) of run {@code run} of {@code runs} ({@link #filterRuns}), in whole units. */
    private static int filterRunStart(Lowering l, int unit, int run, int runs) {
        if (runs == 1) {
            return run == 0 ? 0 : Math.toIntExact(l.groupFilters());
        }
        long units = Math.ceilDiv(l.groupFilters(), unit);
        return (int) Math.min(l.groupFilters(), run * units / runs * unit);
    }

    /**
     * Each group's patches gathered (im2col) and multiplied by its filters. Many small groups go to
     * the threads whole, each with rows of its own in the patch matrix; otherwise the groups take
     * turns, each product split across the threads by blocks of output positions (each task reads its
     * columns of the shared patch matrix and writes its own of y), a few tasks a thread: the
     * convolutions ran on the calling thread alone.
     */
    private static void lowered(KernelContext context, Lowering l, Tensor x, long padBits, int filterUnit,
            GroupProduct product) {
        long outPlane = l.outPlane();
        if (outPlane == 0) {
            return;
        }
        boolean whole = byGroups(context, l);
        // A pointwise convolution (1×1 kernel, stride 1, no padding) reads its input as it lies: each
        // group's channels are already the rows of its patch matrix.
        boolean pointwise = Arrays.stream(l.geometry().kernel()).allMatch(size -> size == 1)
                && Arrays.stream(l.geometry().strides()).allMatch(stride -> stride == 1)
                && Arrays.stream(l.geometry().padBefore()).allMatch(pad -> pad == 0)
                && Arrays.stream(l.geometry().padAfter()).allMatch(pad -> pad == 0);
        long outHeight = l.geometry().outSizes()[0];
        long outWidth = outPlane / Math.max(1, outHeight);
        // A large 2-D plane's patches are gathered a band of output rows at a time: gathered whole, a
        // 128-channel 3×3 convolution over 512×512 positions wrote and read 1.2 GB of them a run.
        long bandRows = planar(x, l.inSpatial()) && !pointwise && !whole
                ? Math.clamp(patchBandBytes / Math.max(1, l.patch() * outWidth * x.dtype().byteSize()), 1, outHeight) : outHeight;
        long band = bandRows == outHeight ? outPlane : bandRows * outWidth;
        Tensor columns = pointwise ? x
                : context.allocateForOverwrite(x.dtype(), Shape.of((whole ? l.group() : 1) * l.patch(), band));
        long blockCount = positionBlocks(context, 2 * l.groupFilters() * band * l.patch(), band);
        int runs = whole ? 1 : filterRuns(context, l, filterUnit, blockCount, band);
        long tasks = blockCount * runs;
        if (pointwise) {
            // Every image's blocks in one job: an image at a time, a small plane (7×7) made one task,
            // and a batch of them ran on one thread (256→256 over 7×7 at batch 8: 0.82 ms on one
            // thread, 0.85 on two).
            LongUnaryOperator blockStart = block -> blockStart(block, blockCount, outPlane);
            long perImage = l.group() * tasks;
            context.parallel(l.batch() * perImage, task -> {
                long image = task / perImage;
                int gi = (int) (task % perImage / tasks);
                long block = task % tasks / runs;
                int run = (int) (task % runs);
                long first = blockStart.applyAsLong(block);
                int firstFilter = filterRunStart(l, filterUnit, run, runs);
                product.multiply(x, image, gi, l.inBase(x, image, gi) + first, outPlane, first,
                        (int) (blockStart.applyAsLong(block + 1) - first), firstFilter,
                        filterRunStart(l, filterUnit, run + 1, runs) - firstFilter);
            });
            return;
        }
        for (long n = 0; n < l.batch(); n++) {
            long image = n;
            if (whole) {
                context.parallel(l.group(), group -> {
                    int gi = (int) group;
                    long rows = gi * l.patch();
                    for (long c = 0; c < l.groupChannels(); c++) {
                        im2colPlanar(x, l.inBase(x, image, gi), l.inSpatial(), c, l.geometry(), columns, padBits, rows, 0,
                                outHeight);
                    }
                    product.multiply(columns, image, gi, columns.offset() + rows * outPlane, outPlane, 0, (int) outPlane, 0,
                            Math.toIntExact(l.groupFilters()));
                });
                continue;
            }
            for (int gi = 0; gi < l.group(); gi++) {
                int group = gi;
                for (long firstRow = 0; firstRow < outHeight || firstRow == 0; firstRow += bandRows) {
                    long positions = Math.min(band, outPlane - firstRow * outWidth);
                    long base = band == outPlane ? 0 : firstRow * outWidth;
                    LongUnaryOperator blockStart = block -> blockStart(block, blockCount, positions);
                    im2col(context, x, l.inBase(x, n, gi), l.inSpatial(), l.groupChannels(), l.geometry(), columns, padBits,
                            firstRow, Math.min(bandRows, outHeight - firstRow));
                    context.parallel(tasks, task -> {
                        long block = task / runs;
                        int run = (int) (task % runs);
                        long first = blockStart.applyAsLong(block);
                        int firstFilter = filterRunStart(l, filterUnit, run, runs);
                        product.multiply(columns, image, group, columns.offset() + first, positions, base + first,
                                (int) (blockStart.applyAsLong(block + 1) - first), firstFilter,
                                filterRunStart(l, filterUnit, run + 1, runs) - firstFilter);
                    });
                    if (band == outPlane) {
                        break;
                    }
                }
            }
        }
    }

    /**
     * How many blocks of whole panels of output positions a product of {@code work} operations over
     * {@code positions} splits into: as many as wanted (a multiple of the threads where there are
     * panels enough), the panels spread evenly over them. 56×56 positions in blocks of 448 made 7
     * tasks, of which one of two threads took 4: QLinearConv 64→64 3×3 took 1.53 ms on two threads
     * against 1.40 split so (one JVM alternating the two, medians of 12 passes).
     */
    private static long positionBlocks(KernelContext context, long work, long positions) {
        long wanted = Math.clamp(work / MIN_OPERATIONS_PER_TASK, 1, 4L * context.threads());
        long blocks = Math.min(Math.ceilDiv(positions, MIN_COLUMNS_PER_TASK), wanted);
        return blocks > context.threads() ? blocks - blocks % context.threads() : blocks;
    }

    /** The first position of block {@code block} of {@link #positionBlocks} over {@code positions}. */
    private static long blockStart(long block, long blocks, long positions) {
        return Math.min(positions, block * Math.ceilDiv(positions, MIN_COLUMNS_PER_TASK) / blocks * MIN_COLUMNS_PER_TASK);
    }

    /**
     * Patch matrices larger than this are gathered in bands of output rows. Not final: tests lower
     * it, so that small convolutions of random geometry take the banded path too.
     */
    static long patchBandBytes = 16L << 20;

    /** Whether the patches can be gathered plane by plane, in bands of output rows ({@link #im2colPlanar}). */
    private static boolean planar(Tensor x, long[] inSpatial) {
        return inSpatial.length == 2 && (x.dtype() == DType.FLOAT || x.dtype() == DType.INT8 || x.dtype() == DType.UINT8);
    }

    /**
     * The patch matrix: a row per channel and kernel tap, a column per output position; of the
     * output rows [firstOutRow, firstOutRow + outRows) for {@link #planar} inputs, of all otherwise.
     */
    private static void im2col(KernelContext context, Tensor x, long inBase, long[] inSpatial, long channels,
            Window.Geometry g, Tensor columns, long padBits, long firstOutRow, long outRows) {
        if (planar(x, inSpatial)) {
            context.parallel(channels, c -> im2colPlanar(x, inBase, inSpatial, c, g, columns, padBits, 0, firstOutRow, outRows));
            return;
        }
        int rank = inSpatial.length;
        long[] kernelIndex = new long[rank];
        long[] outIndex = new long[rank];
        long outPlane = product(g.outSizes());
        long row = 0;
        for (long c = 0; c < channels; c++) {
            Arrays.fill(kernelIndex, 0);
            do {
                long column = 0;
                Arrays.fill(outIndex, 0);
                do {
                    long position = inputPosition(inSpatial, g, kernelIndex, outIndex);
                    long bits = position < 0 ? padBits : x.loadBits(inBase + c * product(inSpatial) + position);
                    columns.storeBits(row * outPlane + column++, bits);
                } while (advance(outIndex, g.outSizes()));
                row++;
            } while (advance(kernelIndex, g.kernel()));
        }
    }

    /** A bias with one value per output channel. */
    private static Tensor checkedBias(KernelContext context, Tensor bias, long filters) {
        if (bias.elementCount() != filters) {
            throw context.error("bias " + bias + " must have one element per output channel (" + filters + ")");
        }
        return bias;
    }

    /**
     * An int8 convolution's operands, checked: x and w int8 or uint8, their zero points (x's one
     * value, w's one or one per filter), and the sizes.
     */
    private record IntegerOperands(Tensor x, Tensor w, int[] xZero, int[] wZero, Lowering lowering) {

        /** The filters as floats less their zero points, in W's order. */
        private float[] floatWeights() {
            int taps = (int) lowering.patch();
            float[] weights = new float[(int) lowering.filters() * taps];
            MemorySegment filters = w.segment();
            for (int i = 0; i < weights.length; i++) {
                byte value = filters.get(ValueLayout.JAVA_BYTE, w.offset() + i);
                weights[i] = (w.dtype() == DType.UINT8 ? value & 0xFF : value) - wZero[wZero.length == 1 ? 0 : i / taps];
            }
            return weights;
        }

        /**
         * A plane of exact sums held as floats, from byte {@code offset} of {@code sums} (element {@code
         * at} of the output), to {@code epilogue}: as they are where it takes them, else as int32 first.
         */
        private void floatSumsDone(MemorySegment sums, long offset, int filter, long at, BlockEpilogue epilogue) {
            int count = (int) lowering.outPlane();
            if (epilogue == null || !epilogue.applyToFloatSums(sums, offset, filter, at, count, lowering.patch())) {
                FloatRows.toInts(sums, offset, sums, offset, count);
                if (epilogue != null) {
                    epilogue.apply(sums, offset, filter, at, count);
                }
            }
        }

        /** {@link #convolve} of a depthwise convolution: each plane as floats less its zero point, then the float kernel. */
        private void depthwiseIntegers(KernelContext context, Tensor sums, BlockEpilogue epilogue) {
            Lowering l = lowering;
            int taps = (int) l.patch();
            float[] weights = floatWeights();
            Depthwise.Shape shape = depthwiseShape(l);
            // Segments taken once: each call checks that the run's arena is still open (taken per row,
            // those checks were 3% of a JFR profile of `quanta bench-ops --conv`).
            MemorySegment input = x.segment();
            MemorySegment output = sums.segment();
            context.parallel(l.batch() * l.filters(), plane -> {
                long filter = plane % l.filters();
                long from = l.inBase(x, plane / l.filters(), (int) (filter / l.groupFilters()));
                float[] padded = plane(shape.paddedSize());
                Depthwise.padBytes(input, from, x.dtype() == DType.UINT8, xZero[0], shape, 0f, padded, 0);
                long at = plane * l.outPlane();
                long offset = sums.byteOffset() + at * 4;
                Depthwise.plane(padded, 0, 1, weights, (int) filter * taps, 0f, shape, output, offset);
                floatSumsDone(output, offset, (int) filter, at, epilogue);
            });
        }

        /**
         * {@link #convolve} of a convolution over few channels ({@link #fewChannels}): the planes as
         * floats less their zero points, summed by the float kernel. ResNet-18's first layer as a
         * QLinearConv (7×7 at stride 2 over RGB) took 3.3 ms on two threads through the patch
         * matrix, twice its float Conv.
         */
        private void fewChannelIntegers(KernelContext context, Tensor sums, BlockEpilogue epilogue) {
            Lowering l = lowering;
            MemorySegment input = x.segment();
            MemorySegment output = sums.segment();
            long sumsOffset = sums.byteOffset();
            fewChannels(context, l, (shape, image, c, padded, at) -> Depthwise.padBytes(input, l.inBase(x, image, 0)
                    + c * l.inPlane(), x.dtype() == DType.UINT8, xZero[0], shape, 0f, padded, at), floatWeights(), output,
                    sumsOffset, (image, filter, plane) -> floatSumsDone(output, plane, filter, (plane - sumsOffset) / 4, epilogue));
        }

        static IntegerOperands of(KernelContext context, String op, Window window, int group, Tensor[] inputs) {
            Tensor x = inputs[0].contiguous();
            Tensor w = inputs[1].contiguous();
            for (Tensor operand : new Tensor[] {x, w}) {
                if (operand.dtype() != DType.INT8 && operand.dtype() != DType.UINT8) {
                    throw context.error(op + " needs int8 or uint8 operands, not " + operand.dtype());
                }
            }
            Lowering l = Lowering.of(context, op, x, w, window, group);
            return new IntegerOperands(x, w, zeroPoints(context, inputs.length > 2 ? inputs[2] : null, x, 1, "x"),
                    zeroPoints(context, inputs.length > 3 ? inputs[3] : null, w, l.filters(), "w"), l);
        }

        /**
         * The product on 16-bit lanes over a padded image ({@link Int16Gemm.PaddedImage}, two channels
         * a plane), each task taking the raised weights' extra products out of the block it computed.
         */
        private void fromChannelPairs(KernelContext context, RaisedWeights raised, RaisedWeights.Weights weights, SumsOut out) {
            Lowering l = lowering;
            int channels = Math.toIntExact(l.groupChannels());
            Depthwise.Shape shape = depthwiseShape(l);
            boolean unsigned = x.dtype() == DType.UINT8;
            int filterCount = Math.toIntExact(l.groupFilters());
            FloatGemm.Int8Matrix all = new FloatGemm.Int8Matrix(weights.segment(), 0, l.patch(), w.dtype() == DType.UINT8, wZero,
                    false, 0);
            // Filters of 7-bit range (ONNX Runtime's reduce_range) all together, or none: the image is one
            // for every group. Weighed only when the filters are packed, not at each run of kept ones.
            Int16Gemm.Filters[] filters = raised.packedFilters(weights, l.group(), new IntFunction<>() {
                private Boolean narrow;

                @Override
                public Int16Gemm.Filters apply(int gi) {
                    if (narrow == null) {
                        narrow = Int16Gemm.Filters.narrow(all, Math.toIntExact(l.filters()), l.patch());
                    }
                    return Int16Gemm.packFilters(new FloatGemm.Int8Matrix(weights.segment(), gi * filterCount * l.patch(),
                            l.patch(), w.dtype() == DType.UINT8, wZero, false, gi * filterCount), filterCount, channels,
                            shape.kernelHeight() * shape.kernelWidth(), narrow);
                }
            });
            boolean summed = Arrays.stream(filters).anyMatch(Int16Gemm.Filters::needsColumnSums);
            long rowBytes = (long) Short.BYTES * Int16Gemm.PaddedImage.shorts(channels, shape) / bandRows(l, shape.outHeight());
            // Two bytes a weight: a pair of them a 32-bit lane.
            ConvKernels.fromPaddedImage(context, l, x, rowBytes, l.groupFilters() * l.patch() * Short.BYTES, band -> {
                // Every band's image in the one array: the bands go one after the other.
                short[] values = PADDED_PAIRS.get();
                int size = Int16Gemm.PaddedImage.shorts(channels, band.shape());
                if (values.length < size) {
                    values = new short[size];
                    PADDED_PAIRS.set(values);
                }
                Int16Gemm.PaddedImage image = new Int16Gemm.PaddedImage(values, channels, band.shape(), unsigned, xZero[0],
                        filters[0].signed());
                return new PaddedProduct() {
                    @Override
                    public int planes() {
                        return image.planes();
                    }

                    @Override
                    public int columnWidth() {
                        return image.columnWidth();
                    }

                    @Override
                    public void copy(long firstInput, int pair) {
                        image.copyChannels(pair, x.segment(), firstInput, l.inPlane(), unsigned);
                    }

                    @Override
                    public void copied() {
                        if (summed) {
                            image.sumChannels();
                        }
                    }

                    @Override
                    public int filterUnit() {
                        return Int16Gemm.ROWS;
                    }

                    @Override
                    public void multiply(int group, int firstFilter, int count, int first, FloatGemm.Matrix sums, int width) {
                        Int16Gemm.multiply(filters[group], firstFilter, count, image, first, sums, width);
                        weights.correct(image, sums, first, group * filterCount + firstFilter, count, width);
                    }
                };
            }, out);
        }

        /**
         * Each group's patches gathered as bytes (padding holds x's zero point, so it adds nothing) and
         * multiplied exactly into int32 sums of y's shape (from {@code sumsTensor}, taken only by the
         * paths that need them: a padded image's tasks hand their sums to {@code epilogue} from their
         * own scratch); each block then goes to {@code epilogue}, when there is one, on the task that
         * computed it. Where no weight, or few, is −128 as a signed value
         * (ONNX Runtime's symmetric int8 weights; its asymmetric uint8 ones, whose minimum is 0), each
         * task packs its block of patches into 16-bit lanes for {@link Int16Gemm} (see {@link
         * RaisedWeights}), else, and for patches no deeper than {@link #shallowPatch}, the float
         * GEMM's integer mode multiplies. Depthwise convolutions, and those over few channels ({@link
         * #fewChannels}), go plane by plane through the float kernel instead, on values less their
         * zero points: exact,
         * as no sum of {@link #EXACT_TAPS} products of such values reaches 2^24.
         */
        void convolve(KernelContext context, Supplier<Tensor> sumsTensor, BlockEpilogue epilogue, RaisedWeights raised) {
            Lowering l = lowering;
            if (depthwise(l) && l.patch() <= EXACT_TAPS) {
                depthwiseIntegers(context, sumsTensor.get(), epilogue);
                return;
            }
            if (fewChannels(l) && l.patch() <= EXACT_TAPS) {
                fewChannelIntegers(context, sumsTensor.get(), epilogue);
                return;
            }
            RaisedWeights.Weights weights = Int16Gemm.CHOSEN ? raised.of(w, context.isConstant(1)) : null;
            boolean lanes16 = weights != null;
            if (lanes16 ? l.groupChannels() >= PAIRS_MIN_CHANNELS && fromPaddedImage(l, PAIRS_PADDING_SHARE, Short.BYTES)
                    : fromPaddedImage(l, FLOAT_PADDING_SHARE, Float.BYTES)) {
                // The epilogue straight from the task's sums: through the output and back, the int32 sums
                // of a large layer had left the caches in between.
                Tensor sums = epilogue == null ? sumsTensor.get() : null;
                SumsOut out = (scratch, sumAt, filter, outAt, count) -> {
                    if (epilogue != null) {
                        epilogue.apply(scratch, sumAt, filter, outAt, count);
                    } else {
                        // By vectors: MemorySegment.copy's checks cost more than a row's copy (ConvInteger 64→64
                        // 3×3 over 56×56 on 16-bit lanes, one thread: 2.59 against 2.69 ms, 2.82 against 2.90).
                        FloatRows.copy8(scratch, sumAt, sums.segment(), sums.byteOffset() + outAt * 4, count * 4L);
                    }
                };
                if (lanes16) {
                    fromChannelPairs(context, raised, weights, out);
                    return;
                }
                // The float trick on the padded image less x's zero point (0 in the padding): slices of
                // the depth keep every sum of products of at most 255² exact.
                int filterCount = Math.toIntExact(l.groupFilters());
                fromPaddedImage(context, l, x, gi -> FloatGemm.packFilters(new FloatGemm.Int8Matrix(w.segment(),
                        w.offset() + gi * filterCount * l.patch(), l.patch(), w.dtype() == DType.UINT8, wZero, false,
                        gi * filterCount), filterCount, Math.toIntExact(l.patch())),
                        (at, padded, to, width) -> FloatRows.bytesToArray(x.segment(), at, x.dtype() == DType.UINT8, xZero[0],
                                padded, to, width), out);
                return;
            }
            // Shallow patches go to the float GEMM's integer mode, deeper ones to 16-bit lanes (filters of
            // 7-bit range, ONNX Runtime's reduce_range, less their smallest weight, 0..128, taking the
            // patches unsigned: the kernel without an XOR a lane).
            boolean deep = l.patch() > shallowPatch;
            RaisedWeights.Narrowed narrowed = Int16Gemm.CHOSEN && deep ? raised.narrowed(w, context.isConstant(1)) : null;
            boolean raisedLanes = lanes16 && deep;
            boolean sixteenBits = raisedLanes || narrowed != null;
            MemorySegment filterBytes = narrowed != null ? narrowed.segment() : raisedLanes ? weights.segment() : w.segment();
            long filterOffset = sixteenBits ? 0 : w.offset();
            int[] filterZeros = narrowed != null ? narrowed.zeroPoints(wZero) : wZero;
            boolean unsignedFilters = narrowed != null || w.dtype() == DType.UINT8;
            // With an epilogue, each step's sums go to the thread's scratch, which stays in cache: through
            // a tensor of y's size, a 16→96 pointwise QLinearConv over 112×112 wrote and read 4.8 MB of
            // them a run.
            Tensor sums = epilogue == null ? sumsTensor.get() : null;
            lowered(context, l, x, xZero[0] & 0xFF, Int16Gemm.ROWS, (columns, n, gi, patches, stride, first, count, runStart,
                    filterCount) -> {
                int firstFilter = Math.toIntExact(gi * l.groupFilters() + runStart);
                FloatGemm.Int8Matrix filters = new FloatGemm.Int8Matrix(filterBytes, filterOffset + firstFilter * l.patch(),
                        l.patch(), unsignedFilters, filterZeros, false, firstFilter);
                int patch = Math.toIntExact(l.patch());
                // On 16-bit lanes, a few hundred columns at a time, so that the packed patches stay small;
                // into the scratch, at most BLOCK_OUTPUT_FLOATS sums at a time, so that it stays in cache.
                int step = sixteenBits ? Int16Gemm.wholeColumns(patch) : sums == null
                        ? (int) Math.max(MIN_COLUMNS_PER_TASK, BLOCK_OUTPUT_FLOATS / filterCount / MIN_COLUMNS_PER_TASK
                                * MIN_COLUMNS_PER_TASK) : count;
                for (int from = 0; from < count; from += step) {
                    int width = Math.min(step, count - from);
                    FloatGemm.Int8Matrix block = new FloatGemm.Int8Matrix(columns.segment(), patches + from,
                            stride, x.dtype() == DType.UINT8, xZero, true, (int) (first + from));
                    FloatGemm.Matrix out = sums != null
                            ? new FloatGemm.Matrix(sums.segment(), l.outBase(n, gi) + runStart * l.outPlane() + first + from, l.outPlane())
                            : new FloatGemm.Matrix(taskSums((long) filterCount * width), 0, width);
                    Int16Gemm.Packed packed = sixteenBits
                            ? Int16Gemm.packWhole(block, patch, width, narrowed != null, PACKED_PATCHES.get()) : null;
                    if (packed != null) {
                        PACKED_PATCHES.set(packed);
                        Int16Gemm.multiply(filters, packed, 0, out, filterCount, width, patch, null);
                    } else {
                        FloatGemm.multiplyIntegers(filters, block, out, filterCount, width, patch);
                    }
                    if (raisedLanes && narrowed == null) {
                        weights.correct(block, out, firstFilter, filterCount, width);
                    }
                    for (int f = 0; f < filterCount && epilogue != null; f++) {
                        epilogue.apply(out.segment(), (long) f * width * 4, firstFilter + f,
                                l.outBase(n, gi) + (runStart + f) * l.outPlane() + first + from, width);
                    }
                }
            });
        }
    }

    /** A thread's padded copy of an image's channels for {@link Int16Gemm.PaddedImage}, kept from run to run. */
    private static final ThreadLocal<short[]> PADDED_PAIRS = ThreadLocal.withInitial(() -> new short[0]);

    /** Each thread's last block of patches packed for {@link Int16Gemm}, its arrays reused by the next. */
    private static final ThreadLocal<Int16Gemm.Packed> PACKED_PATCHES = new ThreadLocal<>();

    /**
     * The deepest patch (channels × taps) that the patch matrix's products take through the float
     * GEMM's integer mode rather than on 16-bit lanes, whose widening and stores a tile outweigh
     * their few steps there. MobileNetV2's pointwise QLinearConv layers as ONNX Runtime's quantizer
     * writes them, two threads, per-node times summed over two runs alternating the two kinds:
     * 16 deep 1.48 ms on 16-bit lanes against 1.23 in float, 32 deep 1.24 against 1.07, 96 deep
     * 2.01 against 1.83, 192 deep 0.52 against 0.43; 320 deep 0.73 against 0.82, 960 deep 1.33
     * against 1.88. Not final: tests set it to 0, so that the 16-bit lanes take every depth too.
     */
    static long shallowPatch = 256;

    /** Taps whose products of values less their zero points (at most 255² each) always sum exactly in float. */
    private static final long EXACT_TAPS = (1 << 24) / (255 * 255);

    /** What becomes of a filter's block of sums: {@code count} of them from element {@code at}. */
    private interface BlockEpilogue {
        /** int32 sums from byte {@code fromOffset} of {@code from} become outputs at..at + count of the filter. */
        void apply(MemorySegment from, long fromOffset, int filter, long at, int count);

        /**
         * The same over sums held as floats, each an integer of at most {@code taps}·255² in
         * magnitude (the float depthwise product of a few taps): whether this epilogue took them
         * as they are; when not, they go to int32 and {@link #apply} first.
         */
        default boolean applyToFloatSums(MemorySegment from, long fromOffset, int filter, long at, int count, long taps) {
            return false;
        }
    }

    /** Exact int8 convolution into int32. */
    static Kernel convInteger(ConvInteger op) {
        RaisedWeights raised = new RaisedWeights();
        return (context, inputs) -> {
            IntegerOperands operands = IntegerOperands.of(context, "ConvInteger", op.window(), op.group(), inputs);
            Tensor y = context.allocateForOverwrite(DType.INT32, operands.lowering().outShape());
            operands.convolve(context, () -> y, null, raised);
            return new Tensor[] {y};
        };
    }

    /**
     * ConvIntegerToFloat (see {@link ConvIntegerToFloat}): the int32 sums land in the float output,
     * and each block is converted there, scaled and biased by the task that computed it.
     */
    static Kernel convIntegerToFloat(ConvIntegerToFloat op) {
        RaisedWeights raised = new RaisedWeights();
        return (context, inputs) -> {
            IntegerOperands operands = IntegerOperands.of(context, "ConvIntegerToFloat", op.window(), op.group(), inputs);
            long filters = operands.lowering().filters();
            float[] scales = MathKernels.floats(context, inputs[4], filters, true, "scale", "output channel");
            float[] biases = inputs.length > 5 && inputs[5] != null
                    ? MathKernels.floats(context, inputs[5], filters, false, "bias", "output channel") : null;
            Tensor y = context.allocateForOverwrite(DType.FLOAT, operands.lowering().outShape());
            operands.convolve(context, () -> y, (sums, sumsOffset, filter, at, count) -> FloatRows.dequantizeRow(sums, sumsOffset,
                    y.segment(), y.byteOffset() + at * 4, count, scales[scales.length == 1 ? 0 : filter],
                    biases == null ? 0 : biases[filter], biases != null), raised);
            return new Tensor[] {y};
        };
    }

    /**
     * QLinearConv (see {@link QLinearConv}): the exact int32 convolution, each block requantized with
     * its filters' bias and scale by the task that computed it, while the block is in its cache.
     */
    static Kernel qLinearConv(QLinearConv op) {
        RaisedWeights raised = new RaisedWeights();
        return (context, inputs) -> {
            IntegerOperands operands = IntegerOperands.of(context, "QLinearConv", op.window(), op.group(), inputs);
            long filters = operands.lowering().filters();
            float[] xScale = MathKernels.floats(context, inputs[4], 1, false, "x_scale", "tensor");
            float[] wScales = MathKernels.floats(context, inputs[5], filters, true, "w_scale", "output channel");
            float yScale = MathKernels.floats(context, inputs[6], 1, false, "y_scale", "tensor")[0];
            int zero = MathKernels.outputZeroPoint(context, inputs[7]);
            int low = inputs[7].dtype() == DType.INT8 ? Byte.MIN_VALUE : 0;
            Tensor bias = inputs.length > 8 ? inputs[8] : null;
            int[] biases = bias == null ? null
                    : Arrays.stream(checkedBias(context, bias, filters).toLongArray()).mapToInt(value -> (int) value).toArray();
            Tensor y = context.allocateForOverwrite(inputs[7].dtype(), operands.lowering().outShape());
            int floor = op.relu() ? zero : low;
            BlockEpilogue requantize = new BlockEpilogue() {
                @Override
                public void apply(MemorySegment from, long fromOffset, int filter, long at, int count) {
                    FloatRows.requantize(from, fromOffset, y.segment(), y.byteOffset() + at, count, bias(filter), scale(filter),
                            xScale, yScale, zero, floor, low + 255);
                }

                @Override
                public boolean applyToFloatSums(MemorySegment from, long fromOffset, int filter, long at, int count, long taps) {
                    // The bias added in float only where every sum with it is an integer float holds.
                    if (Math.abs((long) bias(filter)) + taps * 255 * 255 >= 1 << 24) {
                        return false;
                    }
                    FloatRows.requantizeFloatSums(from, fromOffset, y.segment(), y.byteOffset() + at, count, bias(filter),
                            scale(filter), xScale, yScale, zero, floor, low + 255);
                    return true;
                }

                private int bias(int filter) {
                    return biases == null ? 0 : biases[filter];
                }

                private float scale(int filter) {
                    return wScales[wScales.length == 1 ? 0 : filter];
                }
            };
            // int32 sums only for the paths that go through them (the padded image's go straight to y).
            operands.convolve(context, () -> context.allocateForOverwrite(DType.INT32, operands.lowering().outShape()),
                    requantize, raised);
            return new Tensor[] {y};
        };
    }

    /** One zero point, or (when {@code count} allows) one per filter; of the operand's type. */
    private static int[] zeroPoints(KernelContext context, Tensor zeroPoint, Tensor operand, long count, String name) {
        if (zeroPoint == null) {
            return new int[1];
        }
        long values = zeroPoint.elementCount();
        if (zeroPoint.dtype() != operand.dtype() || (values != 1 && values != count)) {
            throw context.error(name + "_zero_point " + zeroPoint + " must be " + operand.dtype() + " with one value"
                    + (count > 1 ? " or one per output channel (" + count + ")" : ""));
        }
        long[] zeros = zeroPoint.contiguous().toLongArray();
        return java.util.Arrays.stream(zeros).mapToInt(value -> (int) value).toArray();
    }

    /**
     * {@link #im2col}'s rows of channel c (from row {@code firstRow} of {@code columns}) for a 2-D
     * window, over {@code outRows} output rows from {@code firstOutRow}, an output row at a time: the taps that
     * fall in the input are one run of it, found once per tap of the kernel, the rest padding.
     * Element by element, the general loop took about 27 ms of a 32 ms convolution of 64×56×56 by
     * 64 3×3 filters (a throwaway harness).
     */
    private static void im2colPlanar(Tensor x, long inBase, long[] inSpatial, long c, Window.Geometry g, Tensor columns,
            long padBits, long firstRow, long firstOutRow, long outRows) {
        if (x.dtype() == DType.FLOAT) {
            im2colPlanarFloats(x, inBase, inSpatial, c, g, columns, Float.intBitsToFloat((int) padBits), firstRow,
                    firstOutRow, outRows);
            return;
        }
        long height = inSpatial[0];
        long width = inSpatial[1];
        long outWidth = g.outSizes()[1];
        long band = outRows * outWidth;
        MemorySegment from = x.segment();
        MemorySegment to = columns.segment();
        long row = firstRow + c * g.kernel()[0] * g.kernel()[1];
        for (long i = 0; i < g.kernel()[0]; i++) {
            for (long j = 0; j < g.kernel()[1]; j++, row++) {
                // Output column ow reads input column ow·stride + start; those in [first, end) fall inside.
                long start = j * g.dilations()[1] - g.padBefore()[1];
                long stride = g.strides()[1];
                long first = Math.min(outWidth, start >= 0 ? 0 : Math.ceilDiv(-start, stride));
                long end = Math.max(first, Math.min(outWidth, start >= width ? 0 : Math.floorDiv(width - 1 - start, stride) + 1));
                for (long oh = 0; oh < outRows; oh++) {
                    long h = (firstOutRow + oh) * g.strides()[0] - g.padBefore()[0] + i * g.dilations()[0];
                    long at = columns.offset() + row * band + oh * outWidth;
                    boolean inside = h >= 0 && h < height;
                    long source = inBase + c * height * width + h * width + start;
                    if (!inside) {
                        to.asSlice(at, outWidth).fill((byte) padBits);
                    } else {
                        // The padding at either end is a tap or two: element stores, where a slice's fill
                        // cost more in its checks (11% of a 3×3 QLinearConv's samples, JFR).
                        for (long ow = 0; ow < first; ow++) {
                            to.set(ValueLayout.JAVA_BYTE, at + ow, (byte) padBits);
                        }
                        for (long ow = end; ow < outWidth; ow++) {
                            to.set(ValueLayout.JAVA_BYTE, at + ow, (byte) padBits);
                        }
                        if (stride == 1) {
                            FloatRows.copy8(from, source + first, to, at + first, end - first);
                        } else {
                            for (long ow = first; ow < end; ow++) {
                                to.set(ValueLayout.JAVA_BYTE, at + ow, from.get(ValueLayout.JAVA_BYTE, source + ow * stride));
                            }
                        }
                    }
                }
            }
        }
    }

    /** A thread's copy of the input rows that a band of float patches reads, with their padding. */
    private static final ThreadLocal<float[]> PADDED_ROWS = ThreadLocal.withInitial(() -> new float[0]);
    /** A thread's patch rows of a channel's taps over a band, gathered on the heap before one bulk copy into the patch matrix. */
    private static final ThreadLocal<float[]> PATCH_ROWS = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * {@link #im2colPlanar} for floats: the input rows the band reads are copied once into a padded
     * heap plane, so that each output row of each tap is one array copy with no padding to test,
     * and each tap's row goes to the patch matrix in one bulk copy. Gathered straight into the matrix,
     * a run of taps and padding stores an output row, MNIST's 5×5 convolutions over 14×14 and 28×28
     * positions spent 58% of the model's run gathering (JFR).
     */
    private static void im2colPlanarFloats(Tensor x, long inBase, long[] inSpatial, long c, Window.Geometry g,
            Tensor columns, float pad, long firstRow, long firstOutRow, long outRows) {
        Depthwise.Shape s = planeShape(inSpatial, g);
        int outWidth = s.outWidth();
        int band = Math.toIntExact(outRows * outWidth);
        // Padded columns from −padLeft: as far as the last tap of the last output reads, the whole row at least.
        int paddedWidth = Math.toIntExact(Math.max((long) s.padLeft() + s.width(),
                (outWidth - 1L) * s.strideWidth() + (s.kernelWidth() - 1L) * s.dilationWidth() + 1));
        int rows = Math.toIntExact((outRows - 1) * s.strideHeight() + (s.kernelHeight() - 1L) * s.dilationHeight() + 1);
        long top = firstOutRow * s.strideHeight() - s.padTop();
        float[] plane = scratch(PADDED_ROWS, Math.multiplyExact(rows, paddedWidth));
        MemorySegment from = x.segment();
        long planeAt = (inBase + c * s.height() * (long) s.width()) * 4;
        for (int r = 0; r < rows; r++) {
            long h = top + r;
            int at = r * paddedWidth;
            if (h < 0 || h >= s.height()) {
                Arrays.fill(plane, at, at + paddedWidth, pad);
                continue;
            }
            Arrays.fill(plane, at, at + s.padLeft(), pad);
            FloatRows.copyToArray(from, planeAt + h * s.width() * 4, plane, at + s.padLeft(), s.width());
            Arrays.fill(plane, at + s.padLeft() + s.width(), at + paddedWidth, pad);
        }
        // The channel's taps are consecutive rows of the patch matrix: gathered on the heap, then one
        // bulk copy for them all (a copy a tap cost more than the gathering on the few positions of
        // silero VAD's 1-D convolutions).
        int taps = s.kernelHeight() * s.kernelWidth();
        float[] patchRows = scratch(PATCH_ROWS, Math.multiplyExact(taps, band));
        for (int i = 0, t = 0; i < s.kernelHeight(); i++) {
            for (int j = 0; j < s.kernelWidth(); j++, t++) {
                for (int oh = 0; oh < outRows; oh++) {
                    int source = (oh * s.strideHeight() + i * s.dilationHeight()) * paddedWidth + j * s.dilationWidth();
                    int at = t * band + oh * outWidth;
                    if (s.strideWidth() == 1) {
                        System.arraycopy(plane, source, patchRows, at, outWidth);
                    } else {
                        for (int ow = 0; ow < outWidth; ow++) {
                            patchRows[at + ow] = plane[source + ow * s.strideWidth()];
                        }
                    }
                }
            }
        }
        MemorySegment.copy(patchRows, 0, columns.segment(), Layouts.FLOAT,
                (columns.offset() + (firstRow + c * taps) * band) * 4, taps * band);
    }

    /** The flat position within one input plane that a kernel tap reads at an output position, or −1 in padding. */
    private static long inputPosition(long[] inSpatial, Window.Geometry g, long[] kernelIndex, long[] outIndex) {
        long position = 0;
        for (int d = 0; d < inSpatial.length; d++) {
            long coordinate = outIndex[d] * g.strides()[d] - g.padBefore()[d] + kernelIndex[d] * g.dilations()[d];
            if (coordinate < 0 || coordinate >= inSpatial[d]) {
                return -1;
            }
            position = position * inSpatial[d] + coordinate;
        }
        return position;
    }

    private static void direct(Tensor x, long inBase, long[] inSpatial, long channels, Tensor w, long weightBase,
            long filters, Window.Geometry g, Tensor y, long outBase) {
        int rank = inSpatial.length;
        long inPlane = product(inSpatial);
        long kernelSize = product(g.kernel());
        long[] outIndex = new long[rank];
        long[] kernelIndex = new long[rank];
        long outPlane = product(g.outSizes());
        for (long f = 0; f < filters; f++) {
            Arrays.fill(outIndex, 0);
            long column = 0;
            do {
                double sum = 0;
                for (long c = 0; c < channels; c++) {
                    Arrays.fill(kernelIndex, 0);
                    long tap = 0;
                    do {
                        long position = inputPosition(inSpatial, g, kernelIndex, outIndex);
                        if (position >= 0) {
                            sum += x.loadDouble(inBase + c * inPlane + position)
                                    * w.loadDouble(weightBase + (f * channels + c) * kernelSize + tap);
                        }
                        tap++;
                    } while (advance(kernelIndex, g.kernel()));
                }
                y.storeDouble(outBase + f * outPlane + column++, sum);
            } while (advance(outIndex, g.outSizes()));
        }
    }

    private static void addBias(Tensor y, Tensor bias, KernelContext context) {
        if (bias == null) {
            return;
        }
        long filters = y.size(1);
        double[] values = checkedBias(context, bias, filters).toDoubleArray();
        long plane = y.elementCount() / Math.max(1, y.size(0) * filters);
        for (long n = 0; n < y.size(0); n++) {
            for (int f = 0; f < filters; f++) {
                long base = (n * filters + f) * plane;
                for (long i = 0; i < plane; i++) {
                    y.storeDouble(base + i, y.loadDouble(base + i) + values[f]);
                }
            }
        }
    }

    static Kernel convTranspose(ConvTranspose op) {
        TransposedTaps transposedTaps = new TransposedTaps();
        return (context, inputs) -> {
            Tensor x = inputs[0].contiguous();
            Tensor w = inputs[1].contiguous();
            Tensor bias = inputs.length > 2 ? inputs[2] : null;
            int group = op.group();
            long batch = x.size(0);
            long channels = x.size(1);
            long groupFilters = w.size(1);
            long filters = groupFilters * group;
            long[] inSpatial = spatial(x);
            int rank = inSpatial.length;
            long[] kernel = op.window().kernel() != null ? op.window().kernel() : spatial(w);
            long[] strides = op.window().strides() != null ? op.window().strides() : filled(rank, 1);
            long[] dilations = op.window().dilations() != null ? op.window().dilations() : filled(rank, 1);
            long[] outputPadding = op.outputPadding() != null ? op.outputPadding() : filled(rank, 0);
            long[] before = new long[rank];
            long[] outSpatial = new long[rank];
            Window.AutoPad autoPad = op.window().autoPad();
            for (int d = 0; d < rank; d++) {
                long full = strides[d] * (inSpatial[d] - 1) + outputPadding[d] + (kernel[d] - 1) * dilations[d] + 1;
                long[] pads = op.window().pads();
                if (op.outputShape() != null || autoPad == Window.AutoPad.SAME_UPPER || autoPad == Window.AutoPad.SAME_LOWER) {
                    outSpatial[d] = op.outputShape() != null ? op.outputShape()[d] : inSpatial[d] * strides[d];
                    long total = full - outSpatial[d];
                    before[d] = autoPad == Window.AutoPad.SAME_UPPER ? Math.floorDiv(total, 2) : total - Math.floorDiv(total, 2);
                } else {
                    before[d] = pads == null || autoPad == Window.AutoPad.VALID ? 0 : pads[d];
                    long after = pads == null || autoPad == Window.AutoPad.VALID ? 0 : pads[d + rank];
                    outSpatial[d] = full - before[d] - after;
                }
            }
            long[] outSizes = new long[rank + 2];
            outSizes[0] = batch;
            outSizes[1] = filters;
            System.arraycopy(outSpatial, 0, outSizes, 2, rank);
            long inPlane = product(inSpatial);
            long outPlane = product(outSpatial);
            long kernelSize = product(kernel);
            long groupChannels = channels / group;
            if (channels % group != 0 || w.size(0) != channels) {
                throw context.error("weights " + w + " do not match " + channels + " channels in " + group + " groups");
            }
            if (x.dtype() == DType.FLOAT && w.dtype() == DType.FLOAT && (bias == null || bias.dtype() == DType.FLOAT)
                    && groupFilters * kernelSize <= Integer.MAX_VALUE && inPlane <= Integer.MAX_VALUE) {
                Tensor y = context.allocate(DType.FLOAT, Shape.of(outSizes));
                MemorySegment transposed = transposedTaps.of(w, context.isConstant(1), group, groupChannels,
                        groupFilters * kernelSize);
                Transposed geometry = new Transposed(inSpatial, outSpatial, kernel, strides, dilations, before);
                for (long n = 0; n < batch; n++) {
                    for (int gi = 0; gi < group; gi++) {
                        columnsToImage(context, x, n, gi, transposed, geometry, groupChannels, groupFilters, y, filters);
                    }
                }
                if (bias != null) {
                    float[] biases = checkedBias(context, bias, filters).toFloatArray();
                    context.parallel(batch * filters, plane -> FloatRows.binaryScalar(FloatRows.Op.ADD, y.segment(),
                            y.byteOffset() + plane * outPlane * 4, biases[(int) (plane % filters)], y.segment(),
                            y.byteOffset() + plane * outPlane * 4, outPlane));
                }
                return new Tensor[] {y};
            }
            double[] sums = new double[Math.toIntExact(Shape.of(outSizes).elementCount())];
            long[] inIndex = new long[rank];
            long[] kernelIndex = new long[rank];
            for (long n = 0; n < batch; n++) {
                for (long c = 0; c < channels; c++) {
                    long gi = c / groupChannels;
                    Arrays.fill(inIndex, 0);
                    long inPosition = 0;
                    do {
                        double value = x.loadDouble(x.offset() + (n * channels + c) * inPlane + inPosition++);
                        Arrays.fill(kernelIndex, 0);
                        long tap = 0;
                        do {
                            long outPosition = 0;
                            boolean inside = true;
                            for (int d = 0; d < rank && inside; d++) {
                                long coordinate = inIndex[d] * strides[d] + kernelIndex[d] * dilations[d] - before[d];
                                inside = coordinate >= 0 && coordinate < outSpatial[d];
                                outPosition = outPosition * outSpatial[d] + coordinate;
                            }
                            if (inside) {
                                for (long m = 0; m < groupFilters; m++) {
                                    double weight = w.loadDouble(w.offset() + (c * groupFilters + m) * kernelSize + tap);
                                    sums[(int) ((n * filters + gi * groupFilters + m) * outPlane + outPosition)] += value * weight;
                                }
                            }
                            tap++;
                        } while (advance(kernelIndex, kernel));
                    } while (advance(inIndex, inSpatial));
                }
            }
            Tensor y = context.allocate(x.dtype(), Shape.of(outSizes));
            for (int i = 0; i < sums.length; i++) {
                y.storeDouble(i, sums[i]);
            }
            addBias(y, bias, context);
            return new Tensor[] {y};
        };
    }

    /**
     * {@link Col2Im}: float images through ConvTranspose's scatter; other numeric types summed in
     * double (integers in long, wrapping as their type does) and stored once.
     */
    static Kernel col2Im(Col2Im op) {
        return (context, inputs) -> {
            Tensor x = inputs[0].contiguous();
            long[] image = axisSizes(context, inputs[1], "image_shape");
            long[] block = axisSizes(context, inputs[2], "block_shape");
            int rank = image.length;
            long[] dilations = op.dilations() != null ? op.dilations() : filled(rank, 1);
            long[] strides = op.strides() != null ? op.strides() : filled(rank, 1);
            long[] pads = op.pads() != null ? op.pads() : new long[2 * rank];
            if (rank == 0 || block.length != rank || dilations.length != rank || strides.length != rank
                    || pads.length != 2 * rank) {
                throw context.error("image_shape " + Arrays.toString(image) + ", block_shape " + Arrays.toString(block)
                        + ", dilations " + Arrays.toString(dilations) + ", strides " + Arrays.toString(strides)
                        + " and pads " + Arrays.toString(pads) + " must give every spatial axis (pads twice), at least one");
            }
            if (x.rank() != 3) {
                throw context.error("input " + x + " must be [N, C·∏block_shape, L]");
            }
            if (x.dtype() == DType.BOOL || x.dtype().isString() || x.dtype().isComplex()) {
                throw context.error("input " + x + " must be real numbers: Col2Im sums overlapping blocks");
            }
            long[] grid = new long[rank];
            for (int d = 0; d < rank; d++) {
                if (image[d] < 1 || block[d] < 1 || dilations[d] < 1 || strides[d] < 1 || pads[d] < 0 || pads[rank + d] < 0) {
                    throw context.error("axis " + d + ": image size " + image[d] + ", block size " + block[d] + ", dilation "
                            + dilations[d] + " and stride " + strides[d] + " must be positive, pads "
                            + pads[d] + " and " + pads[rank + d] + " not negative");
                }
                long span = dilations[d] * (block[d] - 1) + 1;
                long padded = image[d] + pads[d] + pads[rank + d];
                if (span > padded) {
                    throw context.error("axis " + d + ": a block spans " + span + ", more than the padded image's " + padded);
                }
                grid[d] = (padded - span) / strides[d] + 1;
            }
            long blocks = product(grid);
            long kernelSize = product(block);
            long imagePlane = product(image);
            long channels = x.size(1) / kernelSize;
            if (x.size(1) % kernelSize != 0 || x.size(2) != blocks) {
                throw context.error("input " + x + " must be [N, C·" + kernelSize + ", " + blocks + "]: blocks of "
                        + Arrays.toString(block) + " over an image of " + Arrays.toString(image) + " padded by "
                        + Arrays.toString(pads) + " at strides " + Arrays.toString(strides) + " and dilations "
                        + Arrays.toString(dilations) + " make " + Arrays.toString(grid));
            }
            long[] outSizes = new long[rank + 2];
            outSizes[0] = x.size(0);
            outSizes[1] = channels;
            System.arraycopy(image, 0, outSizes, 2, rank);
            Tensor y = context.allocate(x.dtype(), Shape.of(outSizes));
            Transposed geometry = new Transposed(grid, image, block, strides, dilations, Arrays.copyOf(pads, rank));
            if (x.dtype() == DType.FLOAT && x.size(1) <= Integer.MAX_VALUE && blocks <= Integer.MAX_VALUE) {
                for (long n = 0; n < x.size(0); n++) {
                    addColumns(context, x.select(0, n), n, 0, geometry, channels, y, channels);
                }
                return new Tensor[] {y};
            }
            if (imagePlane > Integer.MAX_VALUE) {
                throw context.error("an image of " + Arrays.toString(image) + " is too large for a " + x.dtype() + " Col2Im");
            }
            boolean integers = x.dtype().isInteger();
            long planes = x.size(0) * channels;
            context.parallel(planes, plane -> {
                double[] sums = integers ? null : new double[Math.toIntExact(imagePlane)];
                long[] totals = integers ? new long[Math.toIntExact(imagePlane)] : null;
                long[] tap = new long[rank];
                long[] at = new long[rank];
                for (long k = 0; k < kernelSize; k++) {
                    long rowAt = x.offset() + (plane * kernelSize + k) * blocks;
                    long position = 0;
                    Arrays.fill(at, 0);
                    do {
                        int target = 0;
                        for (int d = 0; d < rank && target >= 0; d++) {
                            long coordinate = at[d] * strides[d] + tap[d] * dilations[d] - pads[d];
                            target = coordinate < 0 || coordinate >= image[d] ? -1 : (int) (target * image[d] + coordinate);
                        }
                        if (target >= 0 && integers) {
                            totals[target] += x.loadLong(rowAt + position);
                        } else if (target >= 0) {
                            sums[target] += x.loadDouble(rowAt + position);
                        }
                        position++;
                    } while (advance(at, grid));
                    advance(tap, block);
                }
                for (int i = 0; i < imagePlane; i++) {
                    if (integers) {
                        y.storeLong(plane * imagePlane + i, totals[i]);
                    } else {
                        y.storeDouble(plane * imagePlane + i, sums[i]);
                    }
                }
            });
            return new Tensor[] {y};
        };
    }

    /** A 1-D int64 tensor of sizes per spatial axis (Col2Im's image_shape and block_shape). */
    private static long[] axisSizes(KernelContext context, Tensor sizes, String name) {
        if (sizes.rank() != 1 || !sizes.dtype().isInteger()) {
            throw context.error(name + " " + sizes + " must be a 1-D integer tensor");
        }
        return sizes.contiguous().toLongArray();
    }

    /** A transposed convolution's sizes per spatial axis. */
    private record Transposed(long[] inSpatial, long[] outSpatial, long[] kernel, long[] strides, long[] dilations,
            long[] before) {
    }

    /**
     * Each group's weights as rows of taps: row m·K + k, column c holds w[c, m, k] (K taps), so that
     * the rows times the group's input planes give each filter tap's contribution at every input
     * position. Once for constant weights.
     */
    private static final class TransposedTaps {
        private Tensor source;
        private MemorySegment rows;

        synchronized MemorySegment of(Tensor w, boolean constant, int group, long groupChannels, long tapRows) {
            if (constant && source == w) {
                return rows;
            }
            float[] weights = w.toFloatArray();
            float[] transposed = new float[weights.length];
            int channels = Math.toIntExact(groupChannels);
            int taps = Math.toIntExact(tapRows);
            for (int gi = 0; gi < group; gi++) {
                int from = gi * channels * taps;
                for (int c = 0; c < channels; c++) {
                    for (int t = 0; t < taps; t++) {
                        transposed[from + t * channels + c] = weights[from + c * taps + t];
                    }
                }
            }
            MemorySegment segment = Arena.ofAuto().allocate(Math.max(4L, 4L * transposed.length), 64);
            MemorySegment.copy(transposed, 0, segment, Layouts.FLOAT, 0, transposed.length);
            if (constant) {
                source = w;
                rows = segment;
            }
            return segment;
        }
    }

    /**
     * Group gi of image n of a float transposed convolution: the group's tap rows times its input
     * planes by the GEMM (split across the threads by blocks of input positions), then each row's
     * products added into the output plane where its tap lands (col2im), the filters spread over
     * the threads. Summing each input position's taps one by one in double took 293 ms for
     * PaddleOCR's detector's first 2×2 upsampling (ONNX Runtime's whole model: 62).
     */
    private static void columnsToImage(KernelContext context, Tensor x, long n, int gi, MemorySegment transposed,
            Transposed t, long groupChannels, long groupFilters, Tensor y, long filters) {
        long inPlane = product(t.inSpatial());
        long kernelSize = product(t.kernel());
        int rows = Math.toIntExact(groupFilters * kernelSize);
        int depth = Math.toIntExact(groupChannels);
        int positions = Math.toIntExact(inPlane);
        Tensor columns = context.allocateForOverwrite(DType.FLOAT, Shape.of(rows, positions));
        long xAt = x.offset() + (n * x.size(1) + gi * groupChannels) * inPlane;
        long blocks = Math.clamp(2L * rows * positions * depth / MIN_OPERATIONS_PER_TASK, 1,
                Math.min(Math.ceilDiv(positions, MIN_COLUMNS_PER_TASK), 4L * context.threads()));
        long panels = Math.ceilDiv(positions, MIN_COLUMNS_PER_TASK);
        context.parallel(blocks, block -> {
            int first = (int) Math.min(positions, block * panels / blocks * MIN_COLUMNS_PER_TASK);
            int end = (int) Math.min(positions, (block + 1) * panels / blocks * MIN_COLUMNS_PER_TASK);
            if (end > first) {
                FloatGemm.multiply(new FloatGemm.Matrix(transposed, (long) gi * rows * depth, depth),
                        new FloatGemm.Matrix(x.segment(), xAt + first, positions),
                        new FloatGemm.Matrix(columns.segment(), columns.offset() + first, positions), rows, end - first,
                        depth, false);
            }
        });
        addColumns(context, columns, n, gi, t, groupFilters, y, filters);
    }

    /**
     * Adds each row of {@code columns} (row m·K + k: filter m's tap k at every input position) into
     * filter m's output plane of group gi of image n where that tap lands (col2im), the filters
     * spread over the threads: ConvTranspose's scatter, and all of Col2Im's.
     */
    private static void addColumns(KernelContext context, Tensor columns, long n, int gi, Transposed t,
            long groupFilters, Tensor y, long filters) {
        long inPlane = product(t.inSpatial());
        long outPlane = product(t.outSpatial());
        long kernelSize = product(t.kernel());
        int rank = t.inSpatial().length;
        if (rank == 2) {
            planesToImage(context, columns, n, gi, t, groupFilters, y, filters);
            return;
        }
        int last = rank - 1;
        long inWidth = t.inSpatial()[last];
        long outWidth = t.outSpatial()[last];
        long[] outerIn = Arrays.copyOf(t.inSpatial(), last);
        context.parallel(groupFilters, m -> {
            long yAt = y.byteOffset() + ((n * filters + gi * groupFilters + m) * outPlane) * 4;
            long[] tap = new long[rank];
            long[] inIndex = new long[last];
            for (long k = 0; k < kernelSize; k++) {
                long rest = k;
                for (int d = last; d >= 0; d--) {
                    tap[d] = rest % t.kernel()[d];
                    rest /= t.kernel()[d];
                }
                long rowAt = columns.byteOffset() + (m * kernelSize + k) * inPlane * 4;
                long shift = tap[last] * t.dilations()[last] - t.before()[last];
                // Input columns whose tap lands inside the output row: iw·stride + shift in [0, outWidth).
                long firstColumn = Math.clamp(Math.ceilDiv(-shift, t.strides()[last]), 0, inWidth);
                long endColumn = Math.clamp(Math.ceilDiv(outWidth - shift, t.strides()[last]), firstColumn, inWidth);
                Arrays.fill(inIndex, 0);
                long inRow = 0;
                do {
                    long outRow = 0;
                    for (int d = 0; d < last && outRow >= 0; d++) {
                        long coordinate = inIndex[d] * t.strides()[d] + tap[d] * t.dilations()[d] - t.before()[d];
                        outRow = coordinate < 0 || coordinate >= t.outSpatial()[d] ? -1 : outRow * t.outSpatial()[d] + coordinate;
                    }
                    if (outRow >= 0) {
                        long from = rowAt + inRow * inWidth * 4;
                        long to = yAt + outRow * outWidth * 4;
                        for (long iw = firstColumn; iw < endColumn; iw++) {
                            long at = to + (iw * t.strides()[last] + shift) * 4;
                            y.segment().set(Layouts.FLOAT, at, y.segment().get(Layouts.FLOAT, at)
                                    + columns.segment().get(Layouts.FLOAT, from + iw * 4));
                        }
                    }
                    inRow++;
                } while (advance(inIndex, outerIn));
            }
        });
    }

    /**
     * {@link #columnsToImage}'s scatter for 2-D images, an output row at a time over heap copies:
     * each input row and kernel row make one output row, into which every kernel column adds its
     * taps. Element by element through the segments, PP-OCRv4's detector spent 14 ms of a 97 ms
     * run in its two 2×2 stride-2 upsamplings. Where kernel rows of neighbouring input rows never
     * meet (a stride of the kernel's extent or more), bands of input rows go to the threads too,
     * not only the filters.
     */
    private static void planesToImage(KernelContext context, Tensor columns, long n, int gi, Transposed t,
            long groupFilters, Tensor y, long filters) {
        int inHeight = Math.toIntExact(t.inSpatial()[0]);
        int inWidth = Math.toIntExact(t.inSpatial()[1]);
        int outHeight = Math.toIntExact(t.outSpatial()[0]);
        int outWidth = Math.toIntExact(t.outSpatial()[1]);
        int kernelHeight = Math.toIntExact(t.kernel()[0]);
        int kernelWidth = Math.toIntExact(t.kernel()[1]);
        int strideHeight = Math.toIntExact(t.strides()[0]);
        int strideWidth = Math.toIntExact(t.strides()[1]);
        long inPlane = (long) inHeight * inWidth;
        long outPlane = (long) outHeight * outWidth;
        boolean disjointRows = (kernelHeight - 1) * t.dilations()[0] < strideHeight;
        long bands = disjointRows ? Math.clamp(Math.ceilDiv(4L * context.threads(), Math.max(1, groupFilters)), 1,
                Math.max(1, inHeight)) : 1;
        MemorySegment from = columns.segment();
        MemorySegment to = y.segment();
        context.parallel(groupFilters * bands, task -> {
            long m = task / bands;
            long band = task % bands;
            int firstRow = (int) (band * inHeight / bands);
            int endRow = (int) ((band + 1) * inHeight / bands);
            float[] in = plane(inWidth);
            float[] out = scratchOut(outWidth);
            long yAt = y.byteOffset() + (n * filters + gi * groupFilters + m) * outPlane * 4;
            for (int ih = firstRow; ih < endRow; ih++) {
                for (int kh = 0; kh < kernelHeight; kh++) {
                    long oh = (long) ih * strideHeight + kh * t.dilations()[0] - t.before()[0];
                    if (oh < 0 || oh >= outHeight) {
                        continue;
                    }
                    long rowAt = yAt + oh * outWidth * 4;
                    MemorySegment.copy(to, Layouts.FLOAT, rowAt, out, 0, outWidth);
                    for (int kw = 0; kw < kernelWidth; kw++) {
                        int shift = Math.toIntExact(kw * t.dilations()[1] - t.before()[1]);
                        // Input columns whose tap lands inside the output row: iw·stride + shift in [0, outWidth).
                        int first = (int) Math.clamp(Math.ceilDiv(-shift, strideWidth), 0, inWidth);
                        int end = (int) Math.clamp(Math.ceilDiv(outWidth - shift, strideWidth), first, inWidth);
                        long tapRow = ((m * kernelHeight + kh) * kernelWidth + kw) * inPlane + (long) ih * inWidth;
                        MemorySegment.copy(from, Layouts.FLOAT, columns.byteOffset() + tapRow * 4, in, 0, inWidth);
                        for (int iw = first; iw < end; iw++) {
                            out[iw * strideWidth + shift] += in[iw];
                        }
                    }
                    MemorySegment.copy(out, 0, to, Layouts.FLOAT, rowAt, outWidth);
                }
            }
        });
    }

    private static long[] filled(int rank, long value) {
        long[] values = new long[rank];
        Arrays.fill(values, value);
        return values;
    }

    // ---------------------------------------------------------------- pooling

    static Kernel pool(Pool op) {
        Window planarWindow = op.window().withLeadingAxis();
        return (context, inputs) -> {
            Tensor x = inputs[0].contiguous();
            long[] inSpatial = spatial(x);
            int rank = inSpatial.length;
            Window.Geometry g = op.window().resolve(inSpatial, null);
            long planes = x.size(0) * x.size(1);
            long inPlane = product(inSpatial);
            long outPlane = product(g.outSizes());
            long[] outSizes = new long[rank + 2];
            outSizes[0] = x.size(0);
            outSizes[1] = x.size(1);
            System.arraycopy(g.outSizes(), 0, outSizes, 2, rank);
            Tensor y = context.allocate(x.dtype(), Shape.of(outSizes));
            // MaxPool's indices only where the node gives them: most models never ask.
            Tensor indices = op.kind() == Pool.Kind.MAX && context.node().outputs().size() > 1
                    ? context.allocate(DType.INT64, Shape.of(outSizes)) : null;
            Tensor[] outputs = indices == null ? new Tensor[] {y} : new Tensor[] {y, indices};
            if (x.dtype() == DType.FLOAT && (rank == 1 || rank == 2) && op.kind() != Pool.Kind.LP && inPlane <= Integer.MAX_VALUE
                    && outPlane <= Integer.MAX_VALUE) {
                // A 1-D pool runs as a 2-D one of height 1 (element by element, a 2-wide max pool of
                // 4×64×300 took 1.06 ms, a fifth of TopPIC's EnvCNN's run), its rows stacked into
                // taller planes where the indices do not number each row's positions on their own: a
                // plane a row, that pool at batch 16 spent 1.7 µs of a thread's time a row of 300.
                long rows = rank == 1 && indices == null && planes > 0 ? stackedRows(planes, inPlane) : 1;
                Tensor planar = rank == 1 ? x.reshape(planes / rows, 1, rows, inPlane) : x;
                Window.Geometry planarGeometry = rank == 1 ? planarWindow.resolve(spatial(planar), null) : g;
                Tensor planarY = rank == 1 ? y.reshape(planes / rows, 1, rows, outPlane) : y;
                context.parallel(planes / rows, plane -> planarPool(op, planar, planarGeometry, plane, planarY, indices));
                return outputs;
            }
            long[] outIndex = new long[rank];
            long[] kernelIndex = new long[rank];
            for (long plane = 0; plane < planes; plane++) {
                long inBase = x.offset() + plane * inPlane;
                Arrays.fill(outIndex, 0);
                long out = plane * outPlane;
                do {
                    double best = Double.NEGATIVE_INFINITY;
                    long bestPosition = -1;
                    double sum = 0;
                    long count = 0;
                    long padded = 0;
                    Arrays.fill(kernelIndex, 0);
                    do {
                        long position = 0;
                        boolean inside = true;
                        boolean inPadding = true;
                        for (int d = 0; d < rank; d++) {
                            long coordinate = outIndex[d] * g.strides()[d] - g.padBefore()[d] + kernelIndex[d] * g.dilations()[d];
                            inside &= coordinate >= 0 && coordinate < inSpatial[d];
                            inPadding &= coordinate >= -g.padBefore()[d] && coordinate < inSpatial[d] + g.padAfter()[d];
                            position = position * inSpatial[d] + coordinate;
                        }
                        if (inPadding) {
                            padded++;
                        }
                        if (!inside) {
                            continue;
                        }
                        double value = x.loadDouble(inBase + position);
                        count++;
                        switch (op.kind()) {
                            case MAX -> {
                                if (value > best || bestPosition < 0) {
                                    best = value;
                                    bestPosition = position;
                                }
                            }
                            case AVERAGE -> sum += value;
                            case LP -> sum += Math.pow(Math.abs(value), op.p());
                        }
                    } while (advance(kernelIndex, g.kernel()));
                    double result = switch (op.kind()) {
                        case MAX -> best;
                        case AVERAGE -> sum / (op.countIncludePad() ? padded : count);
                        case LP -> Math.pow(sum, 1 / op.p());
                    };
                    y.storeDouble(out, result);
                    if (indices != null) {
                        long flat = op.columnMajorIndices() ? columnMajor(bestPosition, inSpatial) : bestPosition;
                        indices.storeLong(out, plane * inPlane + flat);
                    }
                    out++;
                } while (advance(outIndex, g.outSizes()));
            }
            return outputs;
        };
    }

    /**
     * One plane of a 2-D float max or average pool over a heap copy of the plane: a max pool by
     * vectors ({@link Depthwise#maxPlane}; ResNet's 3×3 pool of 64×112×112 took 1.5 ms on two
     * threads by plain loops), one with indices and an average pool by plain loops. Through the
     * general loop (an index array a tap, each element loaded as a double) the max pool of
     * PaddleOCR's direction classifier (2×2, stride 2) had taken 0.66 ms of a 3.4 ms run. Sums in
     * float, as ONNX Runtime does.
     */
    private static void planarPool(Pool op, Tensor x, Window.Geometry g, long plane, Tensor y, Tensor indices) {
        Depthwise.Shape shape = planeShape(new long[] {x.size(2), x.size(3)}, g);
        int width = shape.width();
        int inPlane = shape.height() * width;
        int outPlane = shape.outHeight() * shape.outWidth();
        // A plane of few windows' taps (MNIST's 3×3 pool at stride 3 over 14×14: 16 windows) window by
        // window: the padded copy split into phases cost it 0.5 µs a plane against 0.15.
        boolean fewTaps = (long) outPlane * shape.kernelHeight() * shape.kernelWidth() <= FEW_POOL_TAPS;
        if (op.kind() == Pool.Kind.MAX && indices == null && !fewTaps) {
            Depthwise.Shape reaching = reachingLastWindow(shape);
            float[] padded = plane(reaching.paddedSize());
            Depthwise.pad(x.segment(), x.byteOffset() + plane * inPlane * 4, reaching, Float.NEGATIVE_INFINITY, padded, 0);
            Depthwise.maxPlane(padded, reaching, y.segment(), y.byteOffset() + plane * outPlane * 4);
            return;
        }
        // The thread's scratch planes, reused: not a new pair of plane-sized arrays each plane.
        float[] in = plane(inPlane);
        MemorySegment.copy(x.segment(), Layouts.FLOAT, x.byteOffset() + plane * inPlane * 4, in, 0, inPlane);
        float[] out = scratchOut(outPlane);
        if (op.kind() == Pool.Kind.MAX && indices == null) {
            maxWindows(shape, in, out, null);
        } else if (indices == null) {
            slidingAverage(shape, op.countIncludePad(), in, out);
        } else {
            long[] best = new long[outPlane];
            maxWindows(shape, in, out, best);
            for (int at = 0; at < outPlane; at++) {
                best[at] = plane * inPlane + (op.columnMajorIndices() && best[at] >= 0
                        ? columnMajor(best[at], new long[] {shape.height(), width}) : best[at]);
            }
            MemorySegment.copy(best, 0, indices.segment(), Layouts.INT64, indices.byteOffset() + plane * outPlane * 8, outPlane);
        }
        MemorySegment.copy(out, 0, y.segment(), Layouts.FLOAT, y.byteOffset() + plane * outPlane * 4, outPlane);
    }

    /**
     * How many of a 1-D pool's {@code planes} rows of {@code width} values go in one plane: the most,
     * dividing their number, that keep a plane within {@link #stackedPoolValues} values.
     */
    private static long stackedRows(long planes, long width) {
        long rows = Math.clamp(stackedPoolValues / Math.max(1, width), 1, planes);
        while (planes % rows != 0) {
            rows--;
        }
        return rows;
    }

    /** The values a plane of a 1-D pool's stacked rows holds at most (64 KB of floats). Not final: tests lower it. */
    static long stackedPoolValues = 1 << 14;

    /** A max pool's plane with at most this many taps over all its windows goes window by window. */
    private static final long FEW_POOL_TAPS = 256;

    /** The plane's shape with its bottom and right padding widened to the last window, which ceil mode may take past them. */
    private static Depthwise.Shape reachingLastWindow(Depthwise.Shape s) {
        int bottom = (s.outHeight() - 1) * s.strideHeight() + (s.kernelHeight() - 1) * s.dilationHeight() + 1 - s.height() - s.padTop();
        int right = (s.outWidth() - 1) * s.strideWidth() + (s.kernelWidth() - 1) * s.dilationWidth() + 1 - s.width() - s.padLeft();
        return new Depthwise.Shape(s.height(), s.width(), s.kernelHeight(), s.kernelWidth(), s.strideHeight(), s.strideWidth(),
                s.dilationHeight(), s.dilationWidth(), s.padTop(), s.padLeft(), Math.max(s.padBottom(), bottom),
                Math.max(s.padRight(), right), s.outHeight(), s.outWidth());
    }

    /**
     * An average pool's plane, an output row at a time: each kernel row and column slides along the
     * whole row of outputs, so the innermost loop is long (window by window, the loops of two taps
     * cost more than the taps: a 2×2 pool of 64×512×512 took 94 ms on one thread, 20 so, in a
     * throwaway single-node session). Each output still takes its taps in row-major order, so sums
     * round as before.
     */
    private static void slidingAverage(Depthwise.Shape shape, boolean countIncludePad, float[] in, float[] out) {
        int width = shape.width();
        int outWidth = shape.outWidth();
        int[] first = new int[shape.kernelWidth()];
        int[] end = new int[shape.kernelWidth()];
        for (int kw = 0; kw < shape.kernelWidth(); kw++) {
            // Outputs ow whose tap kw reads column ow·stride − padLeft + kw·dilation inside the row.
            int start = kw * shape.dilationWidth() - shape.padLeft();
            first[kw] = Math.min(outWidth, start >= 0 ? 0 : Math.ceilDiv(-start, shape.strideWidth()));
            end[kw] = Math.max(first[kw], Math.min(outWidth, start >= width ? 0 : Math.floorDiv(width - 1 - start, shape.strideWidth()) + 1));
        }
        for (int oh = 0; oh < shape.outHeight(); oh++) {
            int h0 = oh * shape.strideHeight() - shape.padTop();
            int firstRow = firstTap(h0, shape.dilationHeight(), 0);
            int endRow = endTap(h0, shape.dilationHeight(), shape.height(), shape.kernelHeight());
            int base = oh * outWidth;
            Arrays.fill(out, base, base + outWidth, 0);
            for (int kh = firstRow; kh < endRow; kh++) {
                int row = (h0 + kh * shape.dilationHeight()) * width - shape.padLeft();
                for (int kw = 0; kw < shape.kernelWidth(); kw++) {
                    int at = row + kw * shape.dilationWidth();
                    for (int ow = first[kw]; ow < end[kw]; ow++) {
                        out[base + ow] += in[at + ow * shape.strideWidth()];
                    }
                }
            }
            // An average over the taps inside the plane, or with countIncludePad those inside its padding too.
            int rows = countIncludePad ? Math.max(0, endTap(h0, shape.dilationHeight(), shape.height() + shape.padBottom(),
                    shape.kernelHeight()) - firstTap(h0, shape.dilationHeight(), -shape.padTop())) : Math.max(0, endRow - firstRow);
            for (int ow = 0; ow < outWidth; ow++) {
                int w0 = ow * shape.strideWidth() - shape.padLeft();
                int columns = countIncludePad
                        ? endTap(w0, shape.dilationWidth(), width + shape.padRight(), shape.kernelWidth())
                                - firstTap(w0, shape.dilationWidth(), -shape.padLeft())
                        : endTap(w0, shape.dilationWidth(), width, shape.kernelWidth()) - firstTap(w0, shape.dilationWidth(), 0);
                out[base + ow] /= rows * Math.max(0, columns);
            }
        }
    }

    /**
     * MaxPool window by window. With {@code best}, its indices too: the first of equal maxima, a
     * NaN only where it comes first; -1 where a window holds no input (all padding); positions
     * within the plane. Without, each window's {@link Math#max} (a NaN wins, as in {@link
     * Depthwise#maxPlane}), −∞ for one of padding alone.
     */
    private static void maxWindows(Depthwise.Shape shape, float[] in, float[] out, long[] best) {
        int width = shape.width();
        for (int oh = 0; oh < shape.outHeight(); oh++) {
            int h0 = oh * shape.strideHeight() - shape.padTop();
            int firstRow = firstTap(h0, shape.dilationHeight(), 0);
            int endRow = endTap(h0, shape.dilationHeight(), shape.height(), shape.kernelHeight());
            for (int ow = 0; ow < shape.outWidth(); ow++) {
                int w0 = ow * shape.strideWidth() - shape.padLeft();
                int endColumn = endTap(w0, shape.dilationWidth(), width, shape.kernelWidth());
                float result = Float.NEGATIVE_INFINITY;
                int bestAt = -1;
                for (int kh = firstRow; kh < endRow; kh++) {
                    int row = (h0 + kh * shape.dilationHeight()) * width + w0;
                    for (int kw = firstTap(w0, shape.dilationWidth(), 0); kw < endColumn; kw++) {
                        int at = row + kw * shape.dilationWidth();
                        if (best == null) {
                            result = Math.max(result, in[at]);
                        } else if (in[at] > result || bestAt < 0) {
                            result = in[at];
                            bestAt = at;
                        }
                    }
                }
                out[oh * shape.outWidth() + ow] = result;
                if (best != null) {
                    best[oh * shape.outWidth() + ow] = bestAt;
                }
            }
        }
    }

    /** The first tap k of a window from {@code start} (taps {@code dilation} apart) at or past {@code low}. */
    private static int firstTap(int start, int dilation, int low) {
        return start >= low ? 0 : Math.ceilDiv(low - start, dilation);
    }

    /** One past the last of {@code taps} taps of a window from {@code start} below {@code high}. */
    private static int endTap(int start, int dilation, int high, int taps) {
        return start >= high ? 0 : Math.min(taps, Math.floorDiv(high - 1 - start, dilation) + 1);
    }

    private static long columnMajor(long rowMajor, long[] sizes) {
        long[] coordinates = new long[sizes.length];
        for (int d = sizes.length - 1; d >= 0; d--) {
            coordinates[d] = rowMajor % sizes[d];
            rowMajor /= sizes[d];
        }
        long position = 0;
        for (int d = sizes.length - 1; d >= 0; d--) {
            position = position * sizes[d] + coordinates[d];
        }
        return position;
    }

    static Kernel globalPool(GlobalPool op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            long[] sizes = x.shape().sizes();
            long plane = product(spatial(x));
            long planes = sizes[0] * sizes[1];
            Tensor rows = x.reshape(planes, plane);
            long[] outSizes = sizes.clone();
            Arrays.fill(outSizes, 2, outSizes.length, 1);
            Tensor y = context.allocate(x.dtype(), Shape.of(outSizes));
            if (x.dtype() == DType.FLOAT && op.kind() != Pool.Kind.LP && x.isContiguous()) {
                // By vectors in float, as ONNX Runtime sums: element by element in double, each of PaddleOCR's
                // classifier's global average pools took 0.3–0.5 ms.
                for (long r = 0; r < planes; r++) {
                    long at = x.byteOffset() + r * plane * 4;
                    y.storeDouble(r, op.kind() == Pool.Kind.MAX ? FloatRows.max(x.segment(), at, plane)
                            : FloatRows.sum(x.segment(), at, plane) / plane);
                }
                return new Tensor[] {y};
            }
            for (long r = 0; r < planes; r++) {
                long base = rows.offset() + r * rows.strides()[0];
                double result = op.kind() == Pool.Kind.MAX ? Double.NEGATIVE_INFINITY : 0;
                for (long i = 0; i < plane; i++) {
                    double value = rows.loadDouble(base + i * rows.strides()[1]);
                    result = switch (op.kind()) {
                        case MAX -> Math.max(result, value);
                        case AVERAGE -> result + value;
                        case LP -> result + Math.pow(Math.abs(value), op.p());
                    };
                }
                y.storeDouble(r, switch (op.kind()) {
                    case MAX -> result;
                    case AVERAGE -> result / plane;
                    case LP -> Math.pow(result, 1 / op.p());
                });
            }
            return new Tensor[] {y};
        };
    }
}
