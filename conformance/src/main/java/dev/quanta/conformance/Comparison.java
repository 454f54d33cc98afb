package dev.quanta.conformance;

import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import java.util.Arrays;

/**
 * Compares an output with the expected tensor as the ONNX backend runner does: floating-point
 * elements within {@code atol + rtol·|expected|} (NaN equal to NaN, infinities equal by sign),
 * everything else exactly.
 */
public final class Comparison {
    public static final double RTOL = 1e-3;
    public static final double ATOL = 1e-7;

    private Comparison() {
    }

    /** Null when equal, else what differs. */
    public static String difference(Tensor actual, Tensor expected) {
        if (actual.dtype() != expected.dtype()) {
            return "type " + actual.dtype() + " where " + expected.dtype() + " is expected";
        }
        if (!actual.shape().equals(expected.shape())) {
            return "shape " + actual.shape() + " where " + expected.shape() + " is expected";
        }
        DType dtype = expected.dtype();
        if (dtype.isString()) {
            String[] a = actual.toStringArray();
            String[] e = expected.toStringArray();
            for (int i = 0; i < e.length; i++) {
                if (!Arrays.equals(actual.contiguous().loadStringBytes(i), expected.contiguous().loadStringBytes(i))) {
                    return "element " + i + " is \"" + a[i] + "\" where \"" + e[i] + "\" is expected";
                }
            }
            return null;
        }
        if (dtype.isComplex()) {
            return Arrays.equals(actual.contiguous().data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                    expected.contiguous().data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)) ? null
                    : "complex elements differ";
        }
        if (dtype.isFloatingPoint()) {
            double[] a = actual.toDoubleArray();
            double[] e = expected.toDoubleArray();
            int mismatches = 0;
            int first = -1;
            for (int i = 0; i < e.length; i++) {
                if (!close(a[i], e[i])) {
                    mismatches++;
                    first = first < 0 ? i : first;
                }
            }
            return mismatches == 0 ? null : mismatches + " of " + e.length + " elements differ; element " + first
                    + " is " + a[first] + " where " + e[first] + " is expected";
        }
        long[] a = actual.toLongArray();
        long[] e = expected.toLongArray();
        for (int i = 0; i < e.length; i++) {
            if (a[i] != e[i]) {
                return "element " + i + " is " + a[i] + " where " + e[i] + " is expected";
            }
        }
        return null;
    }

    static boolean close(double actual, double expected) {
        if (Double.isNaN(expected) || Double.isNaN(actual)) {
            return Double.isNaN(expected) && Double.isNaN(actual);
        }
        if (Double.isInfinite(expected) || Double.isInfinite(actual)) {
            return actual == expected;
        }
        return Math.abs(actual - expected) <= ATOL + RTOL * Math.abs(expected);
    }
}
