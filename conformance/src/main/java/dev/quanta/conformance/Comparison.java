package dev.quanta.conformance;

import dev.quanta.graph.OptionalValue;
import dev.quanta.graph.TensorSequence;
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

    /** Null when equal, else what differs: tensors, sequences element by element, optionals by presence and content. */
    public static String difference(Object actual, Object expected) {
        if (expected instanceof Tensor tensor) {
            return actual instanceof Tensor actualTensor ? difference(actualTensor, tensor) : "a " + actual + " where a tensor is expected";
        }
        if (expected instanceof TensorSequence sequence) {
            if (!(actual instanceof TensorSequence actualSequence)) {
                return "a " + actual + " where a sequence is expected";
            }
            if (actualSequence.tensors().size() != sequence.tensors().size()) {
                return "a sequence of " + actualSequence.tensors().size() + " where " + sequence.tensors().size() + " are expected";
            }
            for (int i = 0; i < sequence.tensors().size(); i++) {
                String difference = difference(actualSequence.tensors().get(i), sequence.tensors().get(i));
                if (difference != null) {
                    return "sequence element " + i + ": " + difference;
                }
            }
            return null;
        }
        if (expected instanceof OptionalValue optional) {
            if (!(actual instanceof OptionalValue actualOptional)) {
                return "a " + actual + " where an optional is expected";
            }
            if (actualOptional.isPresent() != optional.isPresent()) {
                return actual + " where " + expected + " is expected";
            }
            return optional.isPresent() ? difference(actualOptional.value(), optional.value()) : null;
        }
        return "an unexpected value " + expected;
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
