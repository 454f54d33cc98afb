package dev.quanta.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable tensor shape. Dimensions are static sizes or, during shape inference,
 * symbols ({@code batch}) or unknown; a tensor that holds data always has a static shape.
 */
public final class Shape {

    private static final Shape SCALAR = new Shape(new long[0], null);

    private final long[] sizes;
    /** Per axis the symbol of a non-static dimension (null when unknown); null when the shape is static. */
    private final String[] symbols;

    /**
     * The product of a static shape's sizes plus one, worked out at the first call (kernels ask it
     * of every tensor they touch, often several times): 0 before, −1 when it overflows a long. Two
     * threads may both work it out, to the same value (the 64-bit JVMs the Vector API runs on write
     * a long at once).
     */
    private long elementCountPlusOne;

    private Shape(long[] sizes, String[] symbols) {
        this.sizes = sizes;
        this.symbols = symbols;
    }

    /** A static shape; every size must be zero or more. */
    public static Shape of(long... sizes) {
        for (int axis = 0; axis < sizes.length; axis++) {
            if (sizes[axis] < 0) {
                throw new ShapeException("dimension " + axis + " of " + Arrays.toString(sizes) + " is negative");
            }
        }
        return sizes.length == 0 ? SCALAR : new Shape(sizes.clone(), null);
    }

    public static Shape of(Dim... dims) {
        return of(List.of(dims));
    }

    public static Shape of(List<Dim> dims) {
        long[] sizes = new long[dims.size()];
        String[] symbols = null;
        for (int axis = 0; axis < sizes.length; axis++) {
            Dim dim = dims.get(axis);
            sizes[axis] = dim.size();
            if (!dim.isStatic()) {
                if (symbols == null) {
                    symbols = new String[sizes.length];
                }
                symbols[axis] = dim.symbol();
            }
        }
        return sizes.length == 0 ? SCALAR : new Shape(sizes, symbols);
    }

    public static Shape scalar() {
        return SCALAR;
    }

    public int rank() {
        return sizes.length;
    }

    /** Whether every dimension has a known size. */
    public boolean isStatic() {
        return symbols == null;
    }

    public boolean isStatic(int axis) {
        return sizes[checkAxis(axis)] != Dim.UNKNOWN_SIZE;
    }

    public Dim dim(int axis) {
        checkAxis(axis);
        return isStatic(axis) ? Dim.of(sizes[axis]) : Dim.symbol(symbols[axis]);
    }

    public List<Dim> dims() {
        List<Dim> dims = new ArrayList<>(sizes.length);
        for (int axis = 0; axis < sizes.length; axis++) {
            dims.add(dim(axis));
        }
        return dims;
    }

    /** The size of a static dimension. */
    public long size(int axis) {
        checkAxis(axis);
        if (sizes[axis] == Dim.UNKNOWN_SIZE) {
            throw new ShapeException("dimension " + axis + " of " + this + " is not static");
        }
        return sizes[axis];
    }

    /** The sizes of a static shape, as a new array. */
    public long[] sizes() {
        requireStatic();
        return sizes.clone();
    }

    /** The product of the sizes, checked against overflow. */
    public long elementCount() {
        requireStatic();
        if (elementCountPlusOne == 0) {
            long count = 1;
            for (long size : sizes) {
                if (size != 0 && count > (Long.MAX_VALUE - 1) / size) {
                    count = -2;
                    break;
                }
                count *= size;
            }
            elementCountPlusOne = count + 1;
        }
        if (elementCountPlusOne < 0) {
            throw new ShapeException("shape " + this + " has more elements than a 64-bit count holds");
        }
        return elementCountPlusOne - 1;
    }

    /** Row-major (C order) strides, in elements. */
    public long[] contiguousStrides() {
        requireStatic();
        long[] strides = new long[sizes.length];
        long stride = 1;
        for (int axis = sizes.length - 1; axis >= 0; axis--) {
            strides[axis] = stride;
            stride *= Math.max(sizes[axis], 1); // bounded by elementCount, checked by callers that allocate
        }
        return strides;
    }

    /** An axis in {@code [-rank, rank)}, negative counting from the end, as an index in {@code [0, rank)}. */
    public int axis(long axis) {
        return normalizeAxis(axis, sizes.length);
    }

    /** An axis in {@code [-rank, rank)} as an index in {@code [0, rank)}. */
    public static int normalizeAxis(long axis, int rank) {
        if (axis < -rank || axis >= rank) {
            throw new ShapeException("axis " + axis + " is out of range for rank " + rank
                    + " (valid: " + -rank + " to " + (rank - 1) + ")");
        }
        return (int) (axis < 0 ? axis + rank : axis);
    }

    /** This shape with one dimension replaced. */
    public Shape withDim(int axis, Dim dim) {
        List<Dim> dims = dims();
        dims.set(checkAxis(axis), dim);
        return of(dims);
    }

    /**
     * The numpy broadcast of two shapes. With symbols: 1 yields to anything, equal dimensions
     * stay, a symbol meeting a static size n > 1 becomes n (it must be 1 or n at run time), and
     * two different symbols give an unknown dimension.
     */
    public static Shape broadcast(Shape a, Shape b) {
        int rank = Math.max(a.rank(), b.rank());
        List<Dim> dims = new ArrayList<>(rank);
        for (int axis = 0; axis < rank; axis++) {
            int axisA = axis - (rank - a.rank());
            int axisB = axis - (rank - b.rank());
            Dim dimA = axisA < 0 ? Dim.of(1) : a.dim(axisA);
            Dim dimB = axisB < 0 ? Dim.of(1) : b.dim(axisB);
            dims.add(broadcast(dimA, dimB, a, b));
        }
        return of(dims);
    }

    public static Shape broadcast(Shape first, Shape... rest) {
        Shape result = first;
        for (Shape shape : rest) {
            result = broadcast(result, shape);
        }
        return result;
    }

    private static Dim broadcast(Dim a, Dim b, Shape shapeA, Shape shapeB) {
        if (a.equals(b) && (a.isStatic() || a.symbol() != null)) {
            return a;
        }
        if (a.isStatic() && a.size() == 1) {
            return b;
        }
        if (b.isStatic() && b.size() == 1) {
            return a;
        }
        if (a.isStatic() && b.isStatic()) {
            throw new ShapeException("shapes " + shapeA + " and " + shapeB + " cannot be broadcast: "
                    + a.size() + " against " + b.size());
        }
        if (a.isStatic()) {
            return a;
        }
        if (b.isStatic()) {
            return b;
        }
        return Dim.unknown();
    }

    private int checkAxis(int axis) {
        if (axis < 0 || axis >= sizes.length) {
            throw new ShapeException("axis " + axis + " is out of range for " + this);
        }
        return axis;
    }

    private void requireStatic() {
        if (!isStatic()) {
            throw new ShapeException("shape " + this + " is not static");
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Shape shape && Arrays.equals(sizes, shape.sizes) && Arrays.equals(symbols, shape.symbols);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(sizes) + Arrays.hashCode(symbols);
    }

    /** {@code [2, batch, ?]}. */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("[");
        for (int axis = 0; axis < sizes.length; axis++) {
            text.append(axis == 0 ? "" : ", ").append(dim(axis));
        }
        return text.append(']').toString();
    }
}
