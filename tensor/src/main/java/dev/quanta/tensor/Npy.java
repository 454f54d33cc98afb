package dev.quanta.tensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and writes numpy's {@code .npy} format: versions 1, 2 and 3, every numeric dtype and
 * bool. Reading accepts big-endian data and Fortran order (both converted); writing produces
 * little-endian, C-order files, replacing the target atomically.
 *
 * <p>Every size in a header is checked against the file before anything is allocated.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Headers past this size are refused: numpy's own headers are a few hundred bytes. */
    static final int MAX_HEADER_BYTES = 1 << 20;
    private static final int ALIGNMENT = 64;
    private static final int CHUNK = 1 << 30;

    private Npy() {
    }

    /** What a header declares. */
    private record Header(DType dtype, boolean bigEndian, boolean fortranOrder, long[] shape) {
    }

    /** Reads a {@code .npy} file into a new tensor of {@code arena}. */
    public static Tensor read(Path file, TensorArena arena) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = channel.size();
            ByteBuffer preamble = readExactly(channel, Math.min(fileSize, 12), file, "preamble");
            preamble.order(ByteOrder.LITTLE_ENDIAN);
            if (preamble.limit() < 10 || !hasMagic(preamble)) {
                throw new NpyFormatException(file + " is not a .npy file: it does not start with \\x93NUMPY");
            }
            int major = preamble.get(6) & 0xFF;
            int minor = preamble.get(7) & 0xFF;
            int preambleSize;
            long headerSize;
            switch (major) {
                case 1 -> {
                    preambleSize = 10;
                    headerSize = preamble.getShort(8) & 0xFFFF;
                }
                case 2, 3 -> {
                    if (preamble.limit() < 12) {
                        throw new NpyFormatException(file + " is truncated inside its preamble");
                    }
                    preambleSize = 12;
                    headerSize = preamble.getInt(8) & 0xFFFF_FFFFL;
                }
                default -> throw new NpyFormatException(file + " uses .npy format version " + major + "." + minor
                        + "; versions 1.0, 2.0 and 3.0 are supported");
            }
            if (headerSize > MAX_HEADER_BYTES) {
                throw new NpyFormatException(file + " declares a header of " + headerSize + " bytes; the limit is "
                        + MAX_HEADER_BYTES);
            }
            if (preambleSize + headerSize > fileSize) {
                throw new NpyFormatException(file + " is truncated: its header needs " + headerSize + " bytes, "
                        + (fileSize - preambleSize) + " follow the preamble");
            }
            channel.position(preambleSize);
            ByteBuffer headerBytes = readExactly(channel, headerSize, file, "header");
            String text = (major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).decode(headerBytes).toString();
            Header header = parseHeader(text, file);

            Shape shape = checkedShape(header.shape, file);
            long elementBytes = header.dtype.byteSize();
            long dataBytes;
            try {
                dataBytes = Math.multiplyExact(shape.elementCount(), elementBytes);
            } catch (ArithmeticException | ShapeException e) {
                throw new NpyFormatException(file + " declares the absurd shape " + shape + " of " + header.dtype);
            }
            long available = fileSize - preambleSize - headerSize;
            if (available != dataBytes) {
                throw new NpyFormatException(file + (available < dataBytes ? " is truncated" : " has extra bytes")
                        + ": its " + header.dtype + shape + " array needs " + dataBytes + " bytes of data, the file has "
                        + available);
            }
            if (!header.fortranOrder) {
                Tensor tensor = arena.allocate(header.dtype, shape);
                readData(channel, tensor.data(), header, file);
                return tensor;
            }
            // Fortran order is row-major order of the reversed shape; read it so, then transpose.
            long[] reversed = reverse(header.shape);
            try (TensorArena scratch = TensorArena.ofConfined()) {
                Tensor columnMajor = scratch.allocate(header.dtype, reversed);
                readData(channel, columnMajor.data(), header, file);
                int[] order = new int[reversed.length];
                for (int axis = 0; axis < order.length; axis++) {
                    order[axis] = order.length - 1 - axis;
                }
                return arena.copyOf(columnMajor.permute(order));
            }
        } catch (NoSuchFileException e) {
            throw new NpyFormatException("file not found: " + file);
        } catch (IOException e) {
            throw new NpyFormatException("cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Writes a tensor of a numeric or bool dtype as a {@code .npy} file, replacing any file there atomically. */
    public static void write(Tensor tensor, Path file) {
        String descr = descr(tensor.dtype());
        byte[] header = header(descr, tensor.shape());
        Path directory = file.toAbsolutePath().getParent();
        Path temporary = null;
        try (TensorArena scratch = TensorArena.ofConfined()) {
            Tensor data = tensor.isContiguous() ? tensor : scratch.copyOf(tensor);
            temporary = Files.createTempFile(directory, "." + file.getFileName(), ".tmp");
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                writeFully(channel, ByteBuffer.wrap(header));
                MemorySegment bytes = data.data();
                for (long start = 0; start < bytes.byteSize(); start += CHUNK) {
                    writeFully(channel, bytes.asSlice(start, Math.min(CHUNK, bytes.byteSize() - start)).asByteBuffer());
                }
            }
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
            temporary = null;
        } catch (IOException e) {
            throw new QuantaException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // the write already failed; that error is the one to report
                }
            }
        }
    }

    /** The numpy type string of a dtype that numpy can represent. */
    static String descr(DType dtype) {
        return switch (dtype) {
            case FLOAT -> "<f4";
            case DOUBLE -> "<f8";
            case FLOAT16 -> "<f2";
            case INT8 -> "|i1";
            case UINT8 -> "|u1";
            case INT16 -> "<i2";
            case UINT16 -> "<u2";
            case INT32 -> "<i4";
            case UINT32 -> "<u4";
            case INT64 -> "<i8";
            case UINT64 -> "<u8";
            case BOOL -> "|b1";
            case COMPLEX64 -> "<c8";
            case COMPLEX128 -> "<c16";
            default -> throw new NpyFormatException(dtype + " has no .npy equivalent; cast it to a numpy type first");
        };
    }

    private static byte[] header(String descr, Shape shape) {
        StringBuilder tuple = new StringBuilder("(");
        for (int axis = 0; axis < shape.rank(); axis++) {
            tuple.append(axis == 0 ? "" : ", ").append(shape.size(axis));
        }
        tuple.append(shape.rank() == 1 ? ",)" : ")");
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + tuple + ", }";
        int preamble = 10; // version 1.0, whose header length is 16 bits; 2.0 when that is not enough
        int padded = paddedSize(preamble, dict.length());
        if (padded - preamble > 0xFFFF) {
            preamble = 12;
            padded = paddedSize(preamble, dict.length());
        }
        int headerLength = padded - preamble;
        ByteBuffer buffer = ByteBuffer.allocate(padded).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(MAGIC).put((byte) (preamble == 10 ? 1 : 2)).put((byte) 0);
        if (preamble == 10) {
            buffer.putShort((short) headerLength);
        } else {
            buffer.putInt(headerLength);
        }
        buffer.put(dict.getBytes(StandardCharsets.ISO_8859_1));
        while (buffer.position() < padded - 1) {
            buffer.put((byte) ' ');
        }
        buffer.put((byte) '\n');
        return buffer.array();
    }

    /** Preamble, dictionary and closing newline, padded with spaces to the alignment numpy uses. */
    private static int paddedSize(int preamble, int dictLength) {
        return Math.toIntExact(Math.ceilDiv((long) preamble + dictLength + 1, ALIGNMENT) * ALIGNMENT);
    }

    private static Header parseHeader(String text, Path file) {
        Map<String, Object> dict = new HeaderParser(text, file).parse();
        if (!dict.keySet().equals(Set.of("descr", "fortran_order", "shape"))) {
            throw new NpyFormatException(file + " has header keys " + dict.keySet()
                    + "; a .npy header has exactly descr, fortran_order and shape");
        }
        if (!(dict.get("descr") instanceof String descr)) {
            throw new NpyFormatException(file + " has a descr that is not a simple type string: " + dict.get("descr")
                    + " (structured arrays are not supported)");
        }
        if (!(dict.get("fortran_order") instanceof Boolean fortranOrder)) {
            throw new NpyFormatException(file + " has a fortran_order that is not True or False");
        }
        if (!(dict.get("shape") instanceof long[] shape)) {
            throw new NpyFormatException(file + " has a shape that is not a tuple of integers");
        }
        if (descr.length() < 3) {
            throw new NpyFormatException(file + " has the unsupported dtype '" + descr + "'");
        }
        char order = descr.charAt(0);
        DType dtype = dtypeOf(descr.substring(1));
        if (dtype == null || (order != '<' && order != '>' && order != '=' && order != '|')
                || (order == '|' && dtype.byteSize() != 1)) {
            throw new NpyFormatException(file + " has the unsupported dtype '" + descr
                    + "'; Quanta reads bool, int8-64, uint8-64, float16/32/64 and complex64/128");
        }
        return new Header(dtype, order == '>' && dtype.byteSize() > 1, fortranOrder, shape);
    }

    private static DType dtypeOf(String kindAndSize) {
        return switch (kindAndSize) {
            case "f2" -> DType.FLOAT16;
            case "f4" -> DType.FLOAT;
            case "f8" -> DType.DOUBLE;
            case "i1" -> DType.INT8;
            case "i2" -> DType.INT16;
            case "i4" -> DType.INT32;
            case "i8" -> DType.INT64;
            case "u1" -> DType.UINT8;
            case "u2" -> DType.UINT16;
            case "u4" -> DType.UINT32;
            case "u8" -> DType.UINT64;
            case "b1" -> DType.BOOL;
            case "c8" -> DType.COMPLEX64;
            case "c16" -> DType.COMPLEX128;
            default -> null;
        };
    }

    private static Shape checkedShape(long[] sizes, Path file) {
        try {
            Shape shape = Shape.of(sizes);
            shape.elementCount();
            return shape;
        } catch (ShapeException e) {
            throw new NpyFormatException(file + " declares an invalid shape: " + e.getMessage());
        }
    }

    private static void readData(FileChannel channel, MemorySegment target, Header header, Path file) throws IOException {
        for (long start = 0; start < target.byteSize(); start += CHUNK) {
            ByteBuffer chunk = target.asSlice(start, Math.min(CHUNK, target.byteSize() - start)).asByteBuffer();
            while (chunk.hasRemaining()) {
                if (channel.read(chunk) < 0) {
                    throw new NpyFormatException(file + " ended early while its data was read");
                }
            }
        }
        if (header.bigEndian) {
            swapBytes(target, header.dtype.isComplex() ? header.dtype.byteSize() / 2 : header.dtype.byteSize());
        }
    }

    private static void swapBytes(MemorySegment data, int width) {
        for (long position = 0; position < data.byteSize(); position += width) {
            for (int low = 0, high = width - 1; low < high; low++, high--) {
                byte a = data.get(ValueLayout.JAVA_BYTE, position + low);
                data.set(ValueLayout.JAVA_BYTE, position + low, data.get(ValueLayout.JAVA_BYTE, position + high));
                data.set(ValueLayout.JAVA_BYTE, position + high, a);
            }
        }
    }

    private static ByteBuffer readExactly(FileChannel channel, long size, Path file, String what) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) size);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new NpyFormatException(file + " is truncated inside its " + what);
            }
        }
        return buffer.flip();
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private static boolean hasMagic(ByteBuffer preamble) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (preamble.get(i) != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    private static long[] reverse(long[] values) {
        long[] reversed = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            reversed[i] = values[values.length - 1 - i];
        }
        return reversed;
    }

    /** The Python literal subset of a .npy header: a dict of strings, booleans and tuples of integers. */
    private static final class HeaderParser {
        private final String text;
        private final Path file;
        private int position;

        HeaderParser(String text, Path file) {
            this.text = text;
            this.file = file;
        }

        Map<String, Object> parse() {
            Map<String, Object> dict = new LinkedHashMap<>();
            expect('{');
            while (!peek('}')) {
                String key = string();
                expect(':');
                if (dict.put(key, value()) != null) {
                    throw error("the key '" + key + "' appears twice");
                }
                if (!peek('}')) {
                    expect(',');
                }
            }
            expect('}');
            skipSpace();
            if (position != text.length()) {
                throw error("unexpected text after the dictionary");
            }
            return dict;
        }

        private Object value() {
            skipSpace();
            if (position >= text.length()) {
                throw error("the header ends where a value should be");
            }
            char c = text.charAt(position);
            if (c == '\'' || c == '"') {
                return string();
            }
            if (c == '(') {
                return tuple();
            }
            if (text.startsWith("True", position)) {
                position += 4;
                return Boolean.TRUE;
            }
            if (text.startsWith("False", position)) {
                position += 5;
                return Boolean.FALSE;
            }
            throw error("unexpected value");
        }

        private long[] tuple() {
            expect('(');
            List<Long> values = new ArrayList<>();
            while (!peek(')')) {
                values.add(integer());
                if (!peek(')')) {
                    expect(',');
                }
            }
            expect(')');
            return values.stream().mapToLong(Long::longValue).toArray();
        }

        private long integer() {
            skipSpace();
            int start = position;
            while (position < text.length() && Character.isDigit(text.charAt(position))) {
                position++;
            }
            if (start == position) {
                throw error("expected a non-negative integer");
            }
            String digits = text.substring(start, position);
            if (position < text.length() && text.charAt(position) == 'L') {
                position++; // Python 2 long literal
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw error("the dimension " + digits + " does not fit in 64 bits");
            }
        }

        private String string() {
            skipSpace();
            if (position >= text.length() || (text.charAt(position) != '\'' && text.charAt(position) != '"')) {
                throw error("expected a quoted string");
            }
            char quote = text.charAt(position++);
            int end = text.indexOf(quote, position);
            if (end < 0) {
                throw error("unterminated string");
            }
            String value = text.substring(position, end);
            position = end + 1;
            return value;
        }

        private boolean peek(char c) {
            skipSpace();
            return position < text.length() && text.charAt(position) == c;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw error("expected '" + c + "'");
            }
            position++;
        }

        private void skipSpace() {
            while (position < text.length() && Character.isWhitespace(text.charAt(position))) {
                position++;
            }
        }

        private NpyFormatException error(String what) {
            String shown = text.length() > 200 ? text.substring(0, 200) + "..." : text;
            return new NpyFormatException("bad .npy header in " + file + ": " + what + " at character " + position
                    + " of " + shown.strip());
        }
    }
}
