package dev.quanta.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * An n-dimensional array: a memory segment (or, for strings, a heap array) seen through a
 * dtype, a static shape, strides and an offset, both counted in elements. Views (slices,
 * permutations, reshapes, broadcasts, squeezes) share the storage and copy nothing;
 * {@link #contiguous()} copies only when the layout requires it.
 *
 * <p>Element access by index is for tests and small ops; kernels work on {@link #data()} or
 * on {@link #segment()} with the strides. Data is little-endian; sub-byte elements are packed
 * low bits first, so two threads must not write neighbouring packed elements at once.
 */
public final class Tensor {

    static final byte[] EMPTY_STRING = new byte[0];

    private final TensorArena arena;
    private final DType dtype;
    private final Shape shape;
    private final long[] sizes;
    private final long[] strides;
    private final long offset;
    private final MemorySegment segment;
    private final byte[][] strings;

    /** A contiguous tensor over the start of its storage. */
    Tensor(TensorArena arena, DType dtype, Shape shape, MemorySegment segment, byte[][] strings) {
        this(arena, dtype, shape.sizes(), shape.contiguousStrides(), 0, segment, strings);
    }

    private Tensor(TensorArena arena, DType dtype, long[] sizes, long[] strides, long offset, MemorySegment segment,
            byte[][] strings) {
        this.arena = arena;
        this.dtype = dtype;
        this.shape = Shape.of(sizes);
        this.sizes = sizes;
        this.strides = strides;
        this.offset = offset;
        this.segment = segment;
        this.strings = strings;
    }

    private Tensor view(long[] newSizes, long[] newStrides, long newOffset) {
        return new Tensor(arena, dtype, newSizes, newStrides, newOffset, segment, strings);
    }

    public DType dtype() {
        return dtype;
    }

    public Shape shape() {
        return shape;
    }

    public int rank() {
        return sizes.length;
    }

    public long size(int axis) {
        return shape.size(axis);
    }

    public long elementCount() {
        return shape.elementCount();
    }

    /** Strides in elements, one per axis; 0 on broadcast axes, negative on reversed ones. */
    public long[] strides() {
        return strides.clone();
    }

    /** Position of the first element in the storage, in elements. */
    public long offset() {
        return offset;
    }

    /** Position of the first element in the storage, in bytes (whole-byte types only). */
    public long byteOffset() {
        return Math.multiplyExact(offset, (long) dtype.byteSize());
    }

    /** The whole storage this tensor views, for kernels that walk the strides themselves. */
    public MemorySegment segment() {
        requireSegment();
        checkAlive();
        return segment;
    }

    /** The bytes of a contiguous tensor, exactly; {@link #contiguous()} first for any other. */
    public MemorySegment data() {
        requireSegment();
        checkAlive();
        if (!isContiguous()) {
            throw new QuantaException("tensor " + this + " is a strided view; call contiguous() before data()");
        }
        long bitOffset = Math.multiplyExact(offset, (long) dtype.bitWidth());
        if (bitOffset % 8 != 0) {
            throw new QuantaException("tensor " + this + " starts inside a byte; copy it to read its packed bytes");
        }
        return segment.asSlice(bitOffset / 8, dtype.storageBytes(elementCount()));
    }

    public TensorArena arena() {
        return arena;
    }

    public boolean isReadOnly() {
        return segment != null && segment.isReadOnly();
    }

    /** Whether the elements lie in row-major order without gaps (size-1 axes do not matter). */
    public boolean isContiguous() {
        long expected = 1;
        for (int axis = sizes.length - 1; axis >= 0; axis--) {
            if (sizes[axis] == 0) {
                return true;
            }
            if (sizes[axis] != 1) {
                if (strides[axis] != expected) {
                    return false;
                }
                expected *= sizes[axis];
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- views

    /** Elements {@code start, start + step, ...} before {@code end} along an axis; a negative step walks backwards. */
    public Tensor slice(int axis, long start, long end, long step) {
        checkAxis(axis);
        long size = sizes[axis];
        if (step == 0) {
            throw new ShapeException("slice step must not be 0");
        }
        long length;
        if (step > 0) {
            if (start < 0 || end < start || end > size) {
                throw new ShapeException("slice [" + start + ", " + end + ") is out of range for axis " + axis
                        + " of size " + size + " in " + this);
            }
            length = Math.ceilDiv(end - start, step);
        } else {
            if (end < -1 || start < end || (start >= size && start != end)) {
                throw new ShapeException("reverse slice from " + start + " down to " + end + " is out of range for axis "
                        + axis + " of size " + size + " in " + this);
            }
            length = Math.ceilDiv(start - end, -step);
        }
        long[] newSizes = sizes.clone();
        long[] newStrides = strides.clone();
        newSizes[axis] = length;
        newStrides[axis] = strides[axis] * step;
        return view(newSizes, newStrides, length == 0 ? offset : offset + start * strides[axis]);
    }

    public Tensor slice(int axis, long start, long end) {
        return slice(axis, start, end, 1);
    }

    /** The sub-tensor at one index of an axis, which disappears. */
    public Tensor select(int axis, long index) {
        checkAxis(axis);
        checkIndex(axis, index);
        return view(remove(sizes, axis), remove(strides, axis), offset + index * strides[axis]);
    }

    /** Axes reordered: axis {@code i} of the result is axis {@code order[i]} of this tensor. */
    public Tensor permute(int... order) {
        if (order.length != sizes.length) {
            throw new ShapeException("permutation " + Arrays.toString(order) + " does not have rank " + sizes.length);
        }
        boolean[] seen = new boolean[order.length];
        long[] newSizes = new long[order.length];
        long[] newStrides = new long[order.length];
        for (int i = 0; i < order.length; i++) {
            int axis = order[i];
            if (axis < 0 || axis >= order.length || seen[axis]) {
                throw new ShapeException(Arrays.toString(order) + " is not a permutation of the axes of " + this);
            }
            seen[axis] = true;
            newSizes[i] = sizes[axis];
            newStrides[i] = strides[axis];
        }
        return view(newSizes, newStrides, offset);
    }

    /** The same elements in a new shape: a view when the strides allow it, otherwise a contiguous copy. */
    public Tensor reshape(long... newSizes) {
        Shape target = Shape.of(newSizes);
        if (target.elementCount() != elementCount()) {
            throw new ShapeException("cannot reshape " + this + " (" + elementCount() + " elements) to " + target
                    + " (" + target.elementCount() + " elements)");
        }
        long[] newStrides = reshapeStrides(newSizes);
        if (newStrides != null) {
            return view(newSizes.clone(), newStrides, offset);
        }
        Tensor copy = contiguous();
        return copy.view(newSizes.clone(), target.contiguousStrides(), copy.offset);
    }

    public Tensor reshape(Shape target) {
        return reshape(target.sizes());
    }

    /**
     * Strides that let {@code newSizes} view this tensor's elements in the same order, or null.
     * Groups of old and new axes with equal products must map onto each other, and each old
     * group must be contiguous within itself.
     */
    private long[] reshapeStrides(long[] newSizes) {
        if (elementCount() == 0) {
            return Shape.of(newSizes).contiguousStrides();
        }
        int oldRank = 0;
        long[] oldSizes = new long[sizes.length];
        long[] oldStrides = new long[sizes.length];
        for (int axis = 0; axis < sizes.length; axis++) {
            if (sizes[axis] != 1) {
                oldSizes[oldRank] = sizes[axis];
                oldStrides[oldRank++] = strides[axis];
            }
        }
        long[] newStrides = new long[newSizes.length];
        Arrays.fill(newStrides, 1);
        int oldAxis = 0;
        int newAxis = 0;
        while (newAxis < newSizes.length) {
            if (newSizes[newAxis] == 1) {
                newAxis++;
                continue;
            }
            int oldEnd = oldAxis + 1;
            int newEnd = newAxis + 1;
            long newProduct = newSizes[newAxis];
            long oldProduct = oldSizes[oldAxis];
            while (newProduct != oldProduct) {
                if (newProduct < oldProduct) {
                    newProduct *= newSizes[newEnd++];
                } else {
                    oldProduct *= oldSizes[oldEnd++];
                }
            }
            for (int k = oldAxis; k < oldEnd - 1; k++) {
                if (oldStrides[k] != oldSizes[k + 1] * oldStrides[k + 1]) {
                    return null;
                }
            }
            newStrides[newEnd - 1] = oldStrides[oldEnd - 1];
            for (int k = newEnd - 1; k > newAxis; k--) {
                newStrides[k - 1] = newStrides[k] * newSizes[k];
            }
            newAxis = newEnd;
            oldAxis = oldEnd;
        }
        return newStrides;
    }

    /** This tensor repeated along new leading axes and along its size-1 axes (stride 0), numpy style. */
    public Tensor broadcastTo(Shape target) {
        long[] targetSizes = target.sizes();
        int extra = targetSizes.length - sizes.length;
        if (extra < 0) {
            throw new ShapeException("cannot broadcast " + this + " to the lower rank " + target);
        }
        long[] newStrides = new long[targetSizes.length];
        for (int axis = 0; axis < sizes.length; axis++) {
            long size = sizes[axis];
            long targetSize = targetSizes[axis + extra];
            if (size == targetSize) {
                newStrides[axis + extra] = strides[axis];
            } else if (size != 1) {
                throw new ShapeException("cannot broadcast " + this + " to " + target + ": axis " + axis + " has size "
                        + size + ", not 1 or " + targetSize);
            }
        }
        return view(targetSizes, newStrides, offset);
    }

    public Tensor broadcastTo(long... targetSizes) {
        return broadcastTo(Shape.of(targetSizes));
    }

    /** Removes the given axes, which must have size 1; with no axes, removes every size-1 axis. */
    public Tensor squeeze(int... axes) {
        boolean[] drop = new boolean[sizes.length];
        if (axes.length == 0) {
            for (int axis = 0; axis < sizes.length; axis++) {
                drop[axis] = sizes[axis] == 1;
            }
        }
        for (int axis : axes) {
            int normalized = Shape.normalizeAxis(axis, sizes.length);
            if (sizes[normalized] != 1) {
                throw new ShapeException("cannot squeeze axis " + axis + " of " + this + ": its size is not 1");
            }
            drop[normalized] = true;
        }
        int kept = 0;
        for (boolean d : drop) {
            kept += d ? 0 : 1;
        }
        long[] newSizes = new long[kept];
        long[] newStrides = new long[kept];
        for (int axis = 0, out = 0; axis < sizes.length; axis++) {
            if (!drop[axis]) {
                newSizes[out] = sizes[axis];
                newStrides[out++] = strides[axis];
            }
        }
        return view(newSizes, newStrides, offset);
    }

    /** Inserts size-1 axes at the given positions of the result (negative counting from its end). */
    public Tensor unsqueeze(int... axes) {
        int newRank = sizes.length + axes.length;
        boolean[] inserted = new boolean[newRank];
        for (int axis : axes) {
            int normalized = Shape.normalizeAxis(axis, newRank);
            if (inserted[normalized]) {
                throw new ShapeException("axis " + axis + " appears twice in unsqueeze " + Arrays.toString(axes));
            }
            inserted[normalized] = true;
        }
        long[] newSizes = new long[newRank];
        long[] newStrides = new long[newRank];
        long following = 1; // stride * size of the next axis: keeps the view contiguous where it was
        for (int axis = newRank - 1, source = sizes.length - 1; axis >= 0; axis--) {
            if (inserted[axis]) {
                newSizes[axis] = 1;
                newStrides[axis] = following;
            } else {
                newSizes[axis] = sizes[source];
                newStrides[axis] = strides[source];
                following = strides[source] * sizes[source];
                source--;
            }
        }
        return view(newSizes, newStrides, offset);
    }

    // ---------------------------------------------------------------- copies

    /** This tensor if it is contiguous, otherwise a contiguous copy in the same arena. */
    public Tensor contiguous() {
        checkAlive();
        return isContiguous() ? this : arena.copyOf(this);
    }

    /** Copies every element into {@code target}: same dtype and shape, writable, not overlapping this one. */
    public void copyTo(Tensor target) {
        checkAlive();
        target.checkAlive();
        if (target.dtype != dtype || !target.shape.equals(shape)) {
            throw new ShapeException("cannot copy " + this + " into " + target);
        }
        target.checkWritable();
        int rank = sizes.length;
        if (elementCount() == 0) {
            return;
        }
        if (dtype.isString()) {
            long[] targetPositions = target.positions();
            long[] i = {0};
            forEachPosition(position -> target.strings[(int) targetPositions[(int) i[0]++]] = strings[(int) position]);
            return;
        }
        if (dtype.isPacked()) {
            long[] targetPositions = target.positions();
            long[] i = {0};
            forEachPosition(position -> target.writeBits(targetPositions[(int) i[0]++], readBits(position)));
            return;
        }
        long elementBytes = dtype.byteSize();
        // Row by row along the last axis: one bulk copy where both rows are contiguous, else an
        // element loop (a transpose's rows), never a call per element.
        long rowLength = rank > 0 ? sizes[rank - 1] : 1;
        long sourceStep = rank > 0 ? strides[rank - 1] : 1;
        long targetStep = rank > 0 ? target.strides[rank - 1] : 1;
        int outerRank = Math.max(rank - 1, 0);
        long[] index = new long[outerRank];
        long source = offset;
        long destination = target.offset;
        long rows = elementCount() / rowLength;
        for (long row = 0; row < rows; row++) {
            if (sourceStep == 1 && targetStep == 1) {
                MemorySegment.copy(segment, source * elementBytes, target.segment, destination * elementBytes,
                        rowLength * elementBytes);
            } else {
                copyRow(segment, source, sourceStep, target.segment, destination, targetStep, rowLength, elementBytes);
            }
            for (int axis = outerRank - 1; axis >= 0; axis--) {
                if (++index[axis] < sizes[axis]) {
                    source += strides[axis];
                    destination += target.strides[axis];
                    break;
                }
                source -= strides[axis] * (sizes[axis] - 1);
                destination -= target.strides[axis] * (sizes[axis] - 1);
                index[axis] = 0;
            }
        }
    }

    /** {@code length} elements of {@code elementBytes} each, positions (in elements) stepping by a stride on each side. */
    private static void copyRow(MemorySegment from, long source, long sourceStep, MemorySegment to, long destination,
            long targetStep, long length, long elementBytes) {
        switch ((int) elementBytes) {
            case 1 -> {
                for (long i = 0; i < length; i++) {
                    to.set(ValueLayout.JAVA_BYTE, destination + i * targetStep, from.get(ValueLayout.JAVA_BYTE, source + i * sourceStep));
                }
            }
            case 2 -> {
                for (long i = 0; i < length; i++) {
                    to.set(ValueLayout.JAVA_SHORT_UNALIGNED, (destination + i * targetStep) * 2,
                            from.get(ValueLayout.JAVA_SHORT_UNALIGNED, (source + i * sourceStep) * 2));
                }
            }
            case 4 -> {
                for (long i = 0; i < length; i++) {
                    to.set(ValueLayout.JAVA_INT_UNALIGNED, (destination + i * targetStep) * 4,
                            from.get(ValueLayout.JAVA_INT_UNALIGNED, (source + i * sourceStep) * 4));
                }
            }
            case 8 -> {
                for (long i = 0; i < length; i++) {
                    to.set(ValueLayout.JAVA_LONG_UNALIGNED, (destination + i * targetStep) * 8,
                            from.get(ValueLayout.JAVA_LONG_UNALIGNED, (source + i * sourceStep) * 8));
                }
            }
            default -> {
                for (long i = 0; i < length; i++) {
                    MemorySegment.copy(from, (source + i * sourceStep) * elementBytes, to,
                            (destination + i * targetStep) * elementBytes, elementBytes);
                }
            }
        }
    }

    /** Storage positions of the elements in row-major order (for pairing two layouts in small copies). */
    private long[] positions() {
        long[] positions = new long[Math.toIntExact(TensorArena.requireArraySize(elementCount(), dtype, shape))];
        int[] i = {0};
        forEachPosition(position -> positions[i[0]++] = position);
        return positions;
    }

    /** Visits the storage position of every element in row-major order. */
    private void forEachPosition(LongConsumer action) {
        long count = elementCount();
        int rank = sizes.length;
        long[] index = new long[rank];
        long position = offset;
        for (long i = 0; i < count; i++) {
            action.accept(position);
            for (int axis = rank - 1; axis >= 0; axis--) {
                if (++index[axis] < sizes[axis]) {
                    position += strides[axis];
                    break;
                }
                position -= strides[axis] * (sizes[axis] - 1);
                index[axis] = 0;
            }
        }
    }

    // ---------------------------------------------------------------- element access

    /** The element as a float, converted from any numeric or bool type. */
    public float getFloat(long... index) {
        return (float) getDouble(index);
    }

    /** The element as a double; uint64 is read as unsigned, bool as 0 or 1. */
    public double getDouble(long... index) {
        checkAlive();
        return readDouble(position(index));
    }

    /** The element as a long: integers sign- or zero-extended (uint64 as its bit pattern), floats truncated. */
    public long getLong(long... index) {
        checkAlive();
        return readLong(position(index));
    }

    /** Whether the element is non-zero (NaN counts as true, as ONNX Cast to bool does). */
    public boolean getBoolean(long... index) {
        checkAlive();
        long position = position(index);
        return dtype.isFloatingPoint() ? readDouble(position) != 0 : readLong(position) != 0;
    }

    public String getString(long... index) {
        return new String(stringBytes(index), StandardCharsets.UTF_8);
    }

    public byte[] getStringBytes(long... index) {
        return stringBytes(index).clone();
    }

    private byte[] stringBytes(long... index) {
        checkAlive();
        requireStrings();
        return strings[(int) position(index)];
    }

    /** Stores a value: rounded to nearest even (saturating for float8), or wrapped to an integer type's width. */
    public void setFloat(float value, long... index) {
        setDouble(value, index);
    }

    public void setDouble(double value, long... index) {
        checkAlive();
        checkWritable();
        writeDouble(position(index), value);
    }

    public void setLong(long value, long... index) {
        checkAlive();
        checkWritable();
        writeLong(position(index), value);
    }

    public void setBoolean(boolean value, long... index) {
        setLong(value ? 1 : 0, index);
    }

    public void setString(String value, long... index) {
        setStringBytes(value.getBytes(StandardCharsets.UTF_8), index);
    }

    public void setStringBytes(byte[] value, long... index) {
        checkAlive();
        requireStrings();
        strings[(int) position(index)] = value.clone();
    }

    void writeString(long position, String value) {
        strings[(int) position] = value.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Copies every element, in row-major order, into a buffer of this tensor's element type (float,
     * double, long, int or short buffer, any byte order), at its position, which advances past them.
     */
    public void copyTo(Buffer target) {
        checkAlive();
        BufferElements elements = BufferElements.of(target);
        if (elements.dtype() != dtype) {
            throw new QuantaException("cannot copy a " + dtype + " tensor into a buffer of " + elements.dtype()
                    + "; convert it first (e.g. toFloatArray)");
        }
        if (target.isReadOnly()) {
            throw new QuantaException("the target buffer is read-only");
        }
        int count = arraySize();
        if (target.remaining() < count) {
            throw new QuantaException("the target buffer has room for " + target.remaining() + " elements, not " + count);
        }
        if (isContiguous()) {
            MemorySegment.copy(data(), elements.tensorLayout(), 0, MemorySegment.ofBuffer(target), elements.layout(), 0,
                    count);
            target.position(target.position() + count);
            return;
        }
        // A strided view is gathered element by element rather than copied into its arena.
        switch (target) {
            case java.nio.FloatBuffer floats -> floats.put(toFloatArray());
            case java.nio.DoubleBuffer doubles -> doubles.put(toDoubleArray());
            case java.nio.LongBuffer longs -> longs.put(toLongArray());
            case java.nio.IntBuffer ints -> forEachPosition(position -> ints.put((int) readLong(position)));
            case java.nio.ShortBuffer shorts -> forEachPosition(position -> shorts.put((short) readLong(position)));
            default -> throw new IllegalStateException("unreachable: BufferElements accepted " + target);
        }
    }

    /** Every element as a float, in row-major order. */
    public float[] toFloatArray() {
        checkAlive();
        float[] values = new float[arraySize()];
        if (dtype == DType.FLOAT && isContiguous()) {
            // In bulk: kernels read their constant parameters (a layer norm's scales and biases)
            // this way on every run, and element by element each went through a lambda and a switch.
            MemorySegment.copy(data(), Layouts.FLOAT, 0, values, 0, values.length);
            return values;
        }
        int[] i = {0};
        forEachPosition(position -> values[i[0]++] = (float) readDouble(position));
        return values;
    }

    public double[] toDoubleArray() {
        checkAlive();
        double[] values = new double[arraySize()];
        if (dtype == DType.FLOAT && isContiguous()) {
            float[] floats = toFloatArray();
            for (int i = 0; i < floats.length; i++) {
                values[i] = floats[i];
            }
            return values;
        }
        if (dtype == DType.DOUBLE && isContiguous()) {
            MemorySegment.copy(data(), Layouts.DOUBLE, 0, values, 0, values.length);
            return values;
        }
        int[] i = {0};
        forEachPosition(position -> values[i[0]++] = readDouble(position));
        return values;
    }

    public long[] toLongArray() {
        checkAlive();
        long[] values = new long[arraySize()];
        int[] i = {0};
        forEachPosition(position -> values[i[0]++] = readLong(position));
        return values;
    }

    public String[] toStringArray() {
        checkAlive();
        requireStrings();
        String[] values = new String[arraySize()];
        int[] i = {0};
        forEachPosition(position -> values[i[0]++] = new String(strings[(int) position], StandardCharsets.UTF_8));
        return values;
    }

    private int arraySize() {
        return Math.toIntExact(TensorArena.requireArraySize(elementCount(), dtype, shape));
    }

    /**
     * The element at a storage position ({@code offset() + Σ index·stride}) as a double, for
     * kernels that walk the strides themselves; conversions as {@link #getDouble}.
     */
    public double loadDouble(long position) {
        checkAlive();
        return readDouble(position);
    }

    /** The element at a storage position as a long; conversions as {@link #getLong}. */
    public long loadLong(long position) {
        checkAlive();
        return readLong(position);
    }

    /** Stores at a storage position; conversions as {@link #setDouble}. The caller checks writability. */
    public void storeDouble(long position, double value) {
        checkAlive();
        writeDouble(position, value);
    }

    /** Stores at a storage position; conversions as {@link #setLong}. */
    public void storeLong(long position, long value) {
        checkAlive();
        writeLong(position, value);
    }

    /** The raw encoding of an element of up to 64 bits at a storage position, zero-extended. */
    public long loadBits(long position) {
        checkAlive();
        return readBits(position);
    }

    /** Stores a raw encoding (its low bits) at a storage position. */
    public void storeBits(long position, long bits) {
        checkAlive();
        writeBits(position, bits);
    }

    /** The string at a storage position, as raw bytes (not copied: do not modify). */
    public byte[] loadStringBytes(long position) {
        requireStrings();
        return strings[(int) position];
    }

    /** Stores a string's bytes at a storage position (kept, not copied). */
    public void storeStringBytes(long position, byte[] value) {
        requireStrings();
        strings[(int) position] = value;
    }

    double readDouble(long position) {
        return switch (dtype) {
            case FLOAT -> segment.get(Layouts.FLOAT, position * 4);
            case DOUBLE -> segment.get(Layouts.DOUBLE, position * 8);
            case FLOAT16, BFLOAT16, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ, FLOAT4E2M1 ->
                    dtype.miniFloat().decode((int) readBits(position));
            case FLOAT8E8M0 -> Float8E8M0.decode((int) readBits(position));
            case UINT64 -> unsignedToDouble(readBits(position));
            case UINT8, INT8, UINT16, INT16, INT32, INT64, UINT32, UINT4, INT4, UINT2, INT2, BOOL -> readLong(position);
            case STRING, COMPLEX64, COMPLEX128 -> throw noScalarValue();
        };
    }

    long readLong(long position) {
        if (dtype.isFloatingPoint()) {
            return (long) readDouble(position);
        }
        if (dtype.isString() || dtype.isComplex()) {
            throw noScalarValue();
        }
        long bits = readBits(position);
        if (dtype.isBool()) {
            return bits != 0 ? 1 : 0;
        }
        int unused = 64 - dtype.bitWidth();
        return dtype.isSigned() ? (bits << unused) >> unused : bits;
    }

    void writeDouble(long position, double value) {
        switch (dtype) {
            case FLOAT -> segment.set(Layouts.FLOAT, position * 4, (float) value);
            case DOUBLE -> segment.set(Layouts.DOUBLE, position * 8, value);
            case FLOAT16, BFLOAT16, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ, FLOAT4E2M1 ->
                    writeBits(position, dtype.miniFloat().encode((float) value));
            case FLOAT8E8M0 -> writeBits(position, Float8E8M0.encode((float) value));
            case BOOL -> writeBits(position, value != 0 ? 1 : 0);
            case UINT64 -> writeBits(position, value >= 0x1p63 ? (long) (value - 0x1p63) ^ Long.MIN_VALUE : (long) value);
            case UINT8, INT8, UINT16, INT16, INT32, INT64, UINT32, UINT4, INT4, UINT2, INT2 ->
                    writeBits(position, (long) value);
            case STRING, COMPLEX64, COMPLEX128 -> throw noScalarValue();
        }
    }

    void writeLong(long position, long value) {
        if (dtype.isFloatingPoint()) {
            writeDouble(position, value);
        } else if (dtype.isBool()) {
            writeBits(position, value != 0 ? 1 : 0);
        } else if (dtype.isInteger()) {
            writeBits(position, value);
        } else {
            throw noScalarValue();
        }
    }

    /** The raw bits of an element of up to 64 bits, zero-extended. */
    private long readBits(long position) {
        return switch (dtype.bitWidth()) {
            case 8 -> segment.get(ValueLayout.JAVA_BYTE, position) & 0xFFL;
            case 16 -> segment.get(Layouts.INT16, position * 2) & 0xFFFFL;
            case 32 -> segment.get(Layouts.INT32, position * 4) & 0xFFFF_FFFFL;
            case 64 -> segment.get(Layouts.INT64, position * 8);
            default -> {
                int bits = dtype.bitWidth();
                long bitPosition = position * bits;
                int packed = segment.get(ValueLayout.JAVA_BYTE, bitPosition >>> 3);
                yield (packed >>> (bitPosition & 7)) & ((1 << bits) - 1);
            }
        };
    }

    /** Stores the low bits of {@code value} that fit the element width. */
    private void writeBits(long position, long value) {
        switch (dtype.bitWidth()) {
            case 8 -> segment.set(ValueLayout.JAVA_BYTE, position, (byte) value);
            case 16 -> segment.set(Layouts.INT16, position * 2, (short) value);
            case 32 -> segment.set(Layouts.INT32, position * 4, (int) value);
            case 64 -> segment.set(Layouts.INT64, position * 8, value);
            default -> {
                int bits = dtype.bitWidth();
                long bitPosition = position * bits;
                int shift = (int) (bitPosition & 7);
                int mask = ((1 << bits) - 1) << shift;
                int packed = segment.get(ValueLayout.JAVA_BYTE, bitPosition >>> 3);
                packed = (packed & ~mask) | (((int) value << shift) & mask);
                segment.set(ValueLayout.JAVA_BYTE, bitPosition >>> 3, (byte) packed);
            }
        }
    }

    private static double unsignedToDouble(long bits) {
        // Halving with the low bit folded in keeps round-to-nearest exact for values >= 2^63.
        return bits >= 0 ? bits : ((bits >>> 1) | (bits & 1)) * 2.0;
    }

    private long position(long[] index) {
        if (index.length != sizes.length) {
            throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " has " + index.length
                    + " coordinates; " + this + " has rank " + sizes.length);
        }
        long position = offset;
        for (int axis = 0; axis < index.length; axis++) {
            checkIndex(axis, index[axis]);
            position += index[axis] * strides[axis];
        }
        return position;
    }

    private void checkIndex(int axis, long index) {
        if (index < 0 || index >= sizes[axis]) {
            throw new IndexOutOfBoundsException("index " + index + " is out of bounds for axis " + axis + " of size "
                    + sizes[axis] + " in " + this);
        }
    }

    private void checkAxis(int axis) {
        if (axis < 0 || axis >= sizes.length) {
            throw new ShapeException("axis " + axis + " is out of range for " + this);
        }
    }

    private void checkAlive() {
        if (!arena.isAlive()) { // also guards pooled memory, which would not fail by itself once reused
            throw new IllegalStateException("tensor " + this + " was freed: its TensorArena is closed");
        }
    }

    private void checkWritable() {
        if (isReadOnly()) {
            throw new QuantaException("tensor " + this + " is read-only (memory-mapped from a file)");
        }
    }

    private void requireSegment() {
        if (segment == null) {
            throw new QuantaException("string tensor " + this + " lives on the heap and has no memory segment");
        }
    }

    private void requireStrings() {
        if (strings == null) {
            throw new QuantaException("tensor " + this + " holds " + dtype + ", not strings");
        }
    }

    private QuantaException noScalarValue() {
        return new QuantaException("tensor " + this + " holds " + dtype + " elements, which have no scalar value");
    }

    private static long[] remove(long[] values, int index) {
        long[] result = new long[values.length - 1];
        System.arraycopy(values, 0, result, 0, index);
        System.arraycopy(values, index + 1, result, index, values.length - index - 1);
        return result;
    }

    /** {@code float32[2, 3]}. */
    @Override
    public String toString() {
        return dtype + shape.toString();
    }
}
