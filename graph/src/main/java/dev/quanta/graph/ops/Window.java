package dev.quanta.graph.ops;

import dev.quanta.graph.GraphException;
import java.util.Arrays;

/**
 * The sliding-window geometry shared by convolutions and pools: kernel, strides, dilations and
 * padding, explicit or automatic. Arrays may be null: kernel from the weights, strides and
 * dilations 1, pads 0.
 */
public record Window(long[] kernel, long[] strides, long[] dilations, long[] pads, AutoPad autoPad, boolean ceilMode) {

    /** ONNX's auto_pad: explicit pads, or computed to keep the size (extra at the end or start), or none. */
    public enum AutoPad { NOTSET, SAME_UPPER, SAME_LOWER, VALID }

    /** Per spatial axis: output size and padding before it, for these input sizes. */
    public record Geometry(long[] kernel, long[] strides, long[] dilations, long[] padBefore, long[] padAfter,
            long[] outSizes) {
    }

    public Geometry resolve(long[] input, long[] kernelFromWeights) {
        int rank = input.length;
        long[] k = kernel != null ? kernel : kernelFromWeights;
        if (k == null || k.length != rank) {
            throw new GraphException("kernel shape " + Arrays.toString(k) + " does not match " + rank + " spatial axes");
        }
        long[] s = strides != null ? strides : ones(rank);
        long[] d = dilations != null ? dilations : ones(rank);
        if (s.length != rank || d.length != rank || (pads != null && pads.length != 2 * rank)) {
            throw new GraphException("strides " + Arrays.toString(s) + ", dilations " + Arrays.toString(d) + " and pads "
                    + Arrays.toString(pads) + " must have one value per spatial axis (" + rank + "), pads two");
        }
        long[] before = new long[rank];
        long[] after = new long[rank];
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            if (s[i] <= 0 || d[i] <= 0 || k[i] <= 0) {
                throw new GraphException("strides, dilations and kernel sizes must be positive");
            }
            long extent = (k[i] - 1) * d[i] + 1;
            switch (autoPad) {
                case SAME_UPPER, SAME_LOWER -> {
                    out[i] = Math.ceilDiv(input[i], s[i]);
                    long total = Math.max(0, (out[i] - 1) * s[i] + extent - input[i]);
                    before[i] = autoPad == AutoPad.SAME_UPPER ? total / 2 : total - total / 2;
                    after[i] = total - before[i];
                    continue;
                }
                case VALID -> {
                    before[i] = 0;
                    after[i] = 0;
                }
                case NOTSET -> {
                    before[i] = pads == null ? 0 : pads[i];
                    after[i] = pads == null ? 0 : pads[i + rank];
                    if (before[i] < 0 || after[i] < 0) {
                        throw new GraphException("pads " + Arrays.toString(pads) + " must not be negative");
                    }
                }
            }
            long span = input[i] + before[i] + after[i] - extent;
            if (span < 0) {
                throw new GraphException("a window of extent " + extent + " does not fit an input of " + input[i]
                        + " with padding " + before[i] + "+" + after[i]);
            }
            out[i] = (ceilMode ? Math.ceilDiv(span, s[i]) : span / s[i]) + 1;
            if (ceilMode && (out[i] - 1) * s[i] >= input[i] + before[i]) {
                out[i]--; // the last window would start in the right padding
            }
        }
        return new Geometry(k, s, d, before, after, out);
    }

    /**
     * The same window over one more spatial axis in front, of kernel, stride and dilation 1 and no
     * padding: a 1-D window as a 2-D one of height 1.
     */
    public Window withLeadingAxis() {
        long[] padsWithAxis = null;
        if (pads != null) {
            int rank = pads.length / 2;
            padsWithAxis = new long[pads.length + 2];
            System.arraycopy(pads, 0, padsWithAxis, 1, rank);
            System.arraycopy(pads, rank, padsWithAxis, rank + 2, pads.length - rank);
        }
        return new Window(withOne(kernel), withOne(strides), withOne(dilations), padsWithAxis, autoPad, ceilMode);
    }

    private static long[] withOne(long[] values) {
        if (values == null) {
            return null;
        }
        long[] longer = new long[values.length + 1];
        longer[0] = 1;
        System.arraycopy(values, 0, longer, 1, values.length);
        return longer;
    }

    private static long[] ones(int rank) {
        long[] values = new long[rank];
        Arrays.fill(values, 1);
        return values;
    }
}
