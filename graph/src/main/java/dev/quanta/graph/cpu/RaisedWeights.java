package dev.quanta.graph.cpu;

import dev.quanta.kernels.simd.FloatGemm;
import dev.quanta.kernels.simd.Int16Gemm;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Layouts;
import dev.quanta.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

/**
 * An integer convolution's weights as {@link Int16Gemm} takes them: any value but its type's
 * least (int8 −128, uint8 0: −128 once signed), as two products of −128 by −128 overflow a 16-bit
 * half. Where few weights are that value (ONNX Runtime's asymmetric uint8 weights map their
 * minimum to 0: one or two weights a tensor in imgly's int8 ISNet), a copy holds them raised by
 * one, and {@link Weights#correct} takes each raised weight's extra product back out of the
 * sums. Filters of 7-bit range are also kept {@link #narrowed}, for patches taken unsigned. Kept
 * across runs for constant weights.
 */
final class RaisedWeights {

    /** At most one weight in this many raised; past that the float kernel's integer mode multiplies. */
    private static final long MAX_SHARE = 64;

    private Tensor source;
    private Weights cached;
    /** The kept weights narrowed ({@link #narrowed}), null when they are not narrow, and those weights. */
    private Narrowed narrowedCopy;
    private Tensor narrowedFrom;
    /** The kept weights' filters packed for {@link Int16Gemm.PaddedImage}'s product, a group each, and those weights. */
    private Int16Gemm.Filters[] packedFilters;
    private Weights packedFrom;

    /**
     * The weights of filters [F, ...] to multiply on 16-bit lanes, their bytes from offset 0 of
     * {@code segment}; and the raised ones, each by filter and tap (its place in the filter).
     */
    record Weights(MemorySegment segment, int[] filters, int[] taps) {

        /**
         * Takes the raised weights' extra products out of a block of sums: filters [firstFilter,
         * firstFilter + count) by {@code width} columns of {@code patches} (x's values, less its one
         * zero point), which the weights multiplied into {@code sums} (int32).
         */
        void correct(FloatGemm.Int8Matrix patches, FloatGemm.Matrix sums, int firstFilter, int count, int width) {
            int zeroPoint = patches.zeroPoints()[0];
            for (int r = 0; r < filters.length; r++) {
                int row = filters[r] - firstFilter;
                if (row < 0 || row >= count) {
                    continue;
                }
                long from = patches.offset() + taps[r] * patches.rowStride();
                long to = (sums.offset() + row * sums.rowStride()) * 4;
                for (int j = 0; j < width; j++) {
                    byte value = patches.segment().get(ValueLayout.JAVA_BYTE, from + j);
                    int x = (patches.unsigned() ? value & 0xFF : value) - zeroPoint;
                    sums.segment().set(Layouts.INT32, to + j * 4L, sums.segment().get(Layouts.INT32, to + j * 4L) - x);
                }
            }
        }

        /** As the other form, for a block of columns first..first + width of a padded image. */
        void correct(Int16Gemm.PaddedImage image, FloatGemm.Matrix sums, int first, int firstFilter, int count, int width) {
            for (int r = 0; r < filters.length; r++) {
                int row = filters[r] - firstFilter;
                if (row < 0 || row >= count) {
                    continue;
                }
                int channel = taps[r] / image.taps();
                int tap = taps[r] % image.taps();
                long to = (sums.offset() + row * sums.rowStride()) * 4;
                for (int j = 0; j < width; j++) {
                    sums.segment().set(Layouts.INT32, to + j * 4L,
                            sums.segment().get(Layouts.INT32, to + j * 4L) - image.valueAt(channel, tap, first + j));
                }
            }
        }
    }

    /**
     * Filters [F, ...] each within {@link Int16Gemm#SPAN} values (ONNX Runtime's 7-bit weights), as
     * uint8 less each filter's smallest value ({@link Int16Gemm#narrowed}), from offset 0 of {@code
     * segment}, and those smallest values.
     */
    record Narrowed(MemorySegment segment, int[] lowest) {
        /** The filters' zero points (one, or one per filter), less each filter's smallest value. */
        int[] zeroPoints(int[] zeroPoints) {
            int[] shifted = new int[lowest.length];
            Arrays.setAll(shifted, f -> zeroPoints[zeroPoints.length == 1 ? 0 : f] - lowest[f]);
            return shifted;
        }
    }

    /** The weights narrowed, or null where a filter spans more than {@link Int16Gemm#SPAN}; kept for constant weights. */
    synchronized Narrowed narrowed(Tensor w, boolean constant) {
        if (constant && narrowedFrom == w) {
            return narrowedCopy;
        }
        int filters = Math.toIntExact(w.size(0));
        long patch = filters == 0 ? 0 : w.elementCount() / filters;
        FloatGemm.Int8Matrix all = new FloatGemm.Int8Matrix(w.segment(), w.byteOffset(), patch, w.dtype() == DType.UINT8,
                new int[1], false, 0);
        Narrowed narrowed = null;
        if (Int16Gemm.Filters.narrow(all, filters, patch)) {
            int[] lowest = new int[filters];
            narrowed = new Narrowed(Int16Gemm.narrowed(all, filters, patch, lowest), lowest);
        }
        if (constant) {
            narrowedFrom = w;
            narrowedCopy = narrowed;
        }
        return narrowed;
    }

    /** The weights for the 16-bit lanes, or null where too many take the least value. */
    synchronized Weights of(Tensor w, boolean constant) {
        if (constant && source == w) {
            return cached;
        }
        Weights weights = raise(w);
        if (constant) {
            source = w;
            cached = weights;
        }
        return weights;
    }

    /**
     * Each group's filters of {@code weights} packed by {@code pack} for the padded image's product:
     * once for constant weights (those {@link #of} keeps), at each call for others.
     */
    synchronized Int16Gemm.Filters[] packedFilters(Weights weights, int groups, IntFunction<Int16Gemm.Filters> pack) {
        if (weights == packedFrom) {
            return packedFilters;
        }
        Int16Gemm.Filters[] filters = new Int16Gemm.Filters[groups];
        Arrays.setAll(filters, pack::apply);
        if (weights == cached) {
            packedFilters = filters;
            packedFrom = weights;
        }
        return filters;
    }

    private static Weights raise(Tensor w) {
        long count = w.elementCount();
        boolean unsigned = w.dtype() == DType.UINT8;
        MemorySegment bytes = w.segment().asSlice(w.byteOffset(), count);
        if (Int16Gemm.takesWholeB(bytes, 0, count, unsigned)) {
            return new Weights(bytes, new int[0], new int[0]);
        }
        byte least = (byte) (unsigned ? 0 : -128);
        List<Long> positions = new ArrayList<>();
        for (long i = 0; i < count && positions.size() * MAX_SHARE <= count; i++) {
            if (bytes.get(ValueLayout.JAVA_BYTE, i) == least) {
                positions.add(i);
            }
        }
        if (positions.size() * MAX_SHARE > count) {
            return null;
        }
        MemorySegment copy = Arena.ofAuto().allocate(count, 64);
        copy.copyFrom(bytes);
        long patch = count / w.size(0);
        int[] filters = new int[positions.size()];
        int[] taps = new int[positions.size()];
        for (int r = 0; r < filters.length; r++) {
            long at = positions.get(r);
            copy.set(ValueLayout.JAVA_BYTE, at, (byte) (least + 1));
            filters[r] = (int) (at / patch);
            taps[r] = (int) (at % patch);
        }
        return new Weights(copy, filters, taps);
    }
}
