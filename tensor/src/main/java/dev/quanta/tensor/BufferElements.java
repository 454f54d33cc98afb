package dev.quanta.tensor;

import java.nio.Buffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.lang.foreign.ValueLayout;

/** The element type of a typed NIO buffer, its layout in the buffer's byte order and in a tensor's. */
record BufferElements(DType dtype, ValueLayout layout, ValueLayout tensorLayout) {

    static BufferElements of(Buffer buffer) {
        return switch (buffer) {
            case FloatBuffer floats -> new BufferElements(DType.FLOAT,
                    ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(floats.order()), Layouts.FLOAT);
            case DoubleBuffer doubles -> new BufferElements(DType.DOUBLE,
                    ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(doubles.order()), Layouts.DOUBLE);
            case LongBuffer longs -> new BufferElements(DType.INT64,
                    ValueLayout.JAVA_LONG_UNALIGNED.withOrder(longs.order()), Layouts.INT64);
            case IntBuffer ints -> new BufferElements(DType.INT32,
                    ValueLayout.JAVA_INT_UNALIGNED.withOrder(ints.order()), Layouts.INT32);
            case ShortBuffer shorts -> new BufferElements(DType.INT16,
                    ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(shorts.order()), Layouts.INT16);
            default -> throw new QuantaException("a " + buffer.getClass().getSimpleName() + " has no single element"
                    + " type; use a float, double, long, int or short buffer (or fromBuffer(dtype, bytes) for raw bytes)");
        };
    }
}
