package dev.quanta.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Against files numpy itself wrote (src/test/resources/npy, made by generate.py there). */
class NpyTest {

    private static final long SEED = 0x4E50_5921L;
    private static final long[] SHAPE = {2, 3, 4};

    @TempDir
    Path dir;

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
        "uint32", "uint64", "bool"})
    void readsNumpyFilesAndWritesThemBackByteForByte(String name) throws IOException {
        Path golden = golden(name + ".npy");
        Tensor tensor = Npy.read(golden, arena);
        DType dtype = name.equals("bool") ? DType.BOOL : DType.fromName(name);
        assertThat(tensor.dtype()).isEqualTo(dtype);
        assertThat(tensor.shape()).isEqualTo(Shape.of(SHAPE));
        assertValues(tensor, name);
        Path copy = dir.resolve(name + ".npy");
        Npy.write(tensor, copy);
        assertThat(Files.readAllBytes(copy)).isEqualTo(Files.readAllBytes(golden));
    }

    @ParameterizedTest
    @ValueSource(strings = {"complex64", "complex128"})
    void complexFilesRoundTripAsStorage(String name) throws IOException {
        Path golden = golden(name + ".npy");
        Tensor tensor = Npy.read(golden, arena);
        assertThat(tensor.dtype()).isEqualTo(DType.fromName(name));
        Path copy = dir.resolve(name + ".npy");
        Npy.write(tensor, copy);
        assertThat(Files.readAllBytes(copy)).isEqualTo(Files.readAllBytes(golden));
    }

    @Test
    void readsFortranOrderAndBigEndianData() throws IOException {
        assertValues(Npy.read(golden("float32_fortran.npy"), arena), "float32");
        assertValues(Npy.read(golden("int16_bigendian.npy"), arena), "int16");
        Tensor both = Npy.read(golden("float64_bigendian_fortran.npy"), arena);
        assertThat(both.shape()).isEqualTo(Shape.of(SHAPE));
        assertValues(both, "float64");
    }

    @Test
    void readsFormatVersions2And3() throws IOException {
        assertValues(Npy.read(golden("float32_v2.npy"), arena), "float32");
        assertValues(Npy.read(golden("float32_v3.npy"), arena), "float32");
    }

    @Test
    void readsScalarsAndEmptyArrays() throws IOException {
        Tensor scalar = Npy.read(golden("float32_scalar.npy"), arena);
        assertThat(scalar.shape()).isEqualTo(Shape.scalar());
        assertThat(scalar.getFloat()).isEqualTo(2.5f);
        Tensor empty = Npy.read(golden("int64_empty.npy"), arena);
        assertThat(empty.shape()).isEqualTo(Shape.of(0, 3));
        Path copy = dir.resolve("empty.npy");
        Npy.write(empty, copy);
        assertThat(Files.readAllBytes(copy)).isEqualTo(Files.readAllBytes(golden("int64_empty.npy")));
        Npy.write(scalar, copy);
        assertThat(Files.readAllBytes(copy)).isEqualTo(Files.readAllBytes(golden("float32_scalar.npy")));
    }

    @Test
    void writesStridedViewsInLogicalOrder() {
        SplittableRandom random = new SplittableRandom(SEED);
        float[] values = new float[60];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        Tensor view = arena.fromFloats(values, 3, 4, 5).permute(2, 0, 1).slice(1, 2, -1, -2);
        Path file = dir.resolve("view.npy");
        Npy.write(view, file);
        Tensor back = Npy.read(file, arena);
        assertThat(back.shape()).isEqualTo(view.shape());
        assertThat(back.toFloatArray()).as("seed %x", SEED).containsExactly(view.toFloatArray());
    }

    @Test
    void headersTooLongForVersion1AreWrittenAsVersion2() {
        long[] ones = new long[25_000];
        Arrays.fill(ones, 1);
        Tensor tensor = arena.fromFloats(new float[] {7}, ones);
        Path file = dir.resolve("deep.npy");
        Npy.write(tensor, file);
        Tensor back = Npy.read(file, arena);
        assertThat(back.rank()).isEqualTo(25_000);
        assertThat(back.toFloatArray()).containsExactly(7);
    }

    @Test
    void typesNumpyCannotHoldAreRefusedAndLeaveNoFileBehind() throws IOException {
        Path file = dir.resolve("bf16.npy");
        assertThatThrownBy(() -> Npy.write(arena.allocate(DType.BFLOAT16, 2), file))
                .isInstanceOf(NpyFormatException.class).hasMessageContaining("bfloat16");
        assertThatThrownBy(() -> Npy.write(arena.fromStrings(new String[] {"x"}, 1), file))
                .isInstanceOf(NpyFormatException.class);
        try (var listing = Files.list(dir)) {
            assertThat(listing).isEmpty();
        }
    }

    // ---------------------------------------------------------------- hostile files

    @Test
    void wrongMagicAndEmptyFilesAreNotNpy() throws IOException {
        assertRefused(new byte[0], "not a .npy file");
        assertRefused("PK\u0003\u0004 this is a zip".getBytes(StandardCharsets.ISO_8859_1), "not a .npy file");
    }

    @Test
    void unknownVersionsAreRefused() throws IOException {
        assertRefused(npy(4, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]), "version 4.0");
    }

    @Test
    void truncatedFilesAreRefused() throws IOException {
        byte[] whole = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", new byte[24]);
        assertRefused(Arrays.copyOf(whole, 9), "not a .npy file");
        assertRefused(Arrays.copyOf(whole, 40), "truncated");
        assertRefused(Arrays.copyOf(whole, whole.length - 1), "truncated");
        byte[] version2 = npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", new byte[24]);
        assertRefused(Arrays.copyOf(version2, 11), "truncated inside its preamble");
    }

    @Test
    void extraBytesAfterTheDataAreRefused() throws IOException {
        assertRefused(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new byte[9]), "extra bytes");
    }

    @Test
    void absurdShapesAreRefusedBeforeAnyAllocation() throws IOException {
        assertRefused(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }", new byte[8]),
                "truncated");
        assertRefused(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }",
                new byte[8]), "shape");
        assertRefused(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }",
                new byte[8]), "64 bits");
        assertRefused(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3), }", new byte[8]),
                "non-negative integer");
        assertThat(arena.allocatedBytes()).isZero();
    }

    @Test
    void hugeDeclaredHeadersAreRefused() throws IOException {
        ByteBuffer preamble = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        preamble.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(Integer.MAX_VALUE);
        assertRefused(preamble.array(), "limit");
    }

    @ParameterizedTest
    @ValueSource(strings = {"<U5", "|O", "<M8[ns]", ">V4", "|f4", "<f3", "<b1x"})
    void unsupportedDtypesAreRefusedByName(String descr) throws IOException {
        assertRefused(npy(1, "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (1,), }", new byte[8]), descr);
    }

    @Test
    void malformedHeadersAreRefused() throws IOException {
        assertRefused(npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new byte[4]),
                "unexpected value");
        assertRefused(npy(1, "{'descr': '<f4', 'fortran_order': False}", new byte[4]), "exactly descr");
        assertRefused(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", new byte[4]),
                "unexpected value");
        assertRefused(npy(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", new byte[4]), "unexpected value");
        assertRefused(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } trailing", new byte[4]),
                "after the dictionary");
        assertRefused(npy(1, "{'descr': '<f4, 'fortran_order': False, 'shape': (1,), }", new byte[4]), "header");
        assertRefused(npy(1, "{'descr': '<f4', 'descr': '<f4', 'shape': (1,), }", new byte[4]), "twice");
    }

    @Test
    void aMissingFileIsNamed() {
        Path missing = dir.resolve("nope.npy");
        assertThatThrownBy(() -> Npy.read(missing, arena)).isInstanceOf(NpyFormatException.class)
                .hasMessageContaining("not found").hasMessageContaining("nope.npy");
    }

    // ---------------------------------------------------------------- helpers

    /** The values generate.py wrote: see its docstring. */
    private static void assertValues(Tensor tensor, String name) {
        int count = (int) tensor.elementCount();
        for (int i = 0; i < count; i++) {
            long base = (i * 37L % 101) - 50;
            long[] index = {i / 12, i / 4 % 3, i % 4};
            switch (name) {
                case "float16", "float32", "float64" -> {
                    double expected = switch (i) {
                        case 1 -> -0.0;
                        case 2 -> Double.POSITIVE_INFINITY;
                        case 3 -> Double.NEGATIVE_INFINITY;
                        case 4 -> Double.NaN;
                        default -> base / 4.0;
                    };
                    // boxed: Double.equals matches NaN with NaN and tells -0.0 from 0.0
                    assertThat(Double.valueOf(tensor.getDouble(index))).as("%s element %d", name, i)
                            .isEqualTo(Double.valueOf(expected));
                }
                case "bool" -> assertThat(tensor.getBoolean(index)).as("element %d", i).isEqualTo(Math.floorMod(base, 3) == 0);
                default -> {
                    DType dtype = DType.fromName(name);
                    long expected = i == 0 ? dtype.minValue() : i == 1 ? dtype.maxValue() : wrap(base, dtype);
                    assertThat(tensor.getLong(index)).as("%s element %d", name, i).isEqualTo(expected);
                }
            }
        }
    }

    private static long wrap(long value, DType dtype) {
        int unused = 64 - dtype.bitWidth();
        return dtype.isSigned() ? (value << unused) >> unused : (value << unused) >>> unused;
    }

    private void assertRefused(byte[] contents, String expectedMessage) throws IOException {
        Path file = dir.resolve("bad.npy");
        Files.write(file, contents);
        assertThatThrownBy(() -> Npy.read(file, arena)).isInstanceOf(NpyFormatException.class)
                .hasMessageContaining(expectedMessage).hasMessageContaining("bad.npy");
    }

    private static byte[] npy(int major, String dict, byte[] data) {
        int preamble = major == 1 ? 10 : 12;
        byte[] header = (dict + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer buffer = ByteBuffer.allocate(preamble + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            buffer.putShort((short) header.length);
        } else {
            buffer.putInt(header.length);
        }
        return buffer.put(header).put(data).array();
    }

    private static Path golden(String name) throws IOException {
        try (InputStream in = NpyTest.class.getResourceAsStream("/npy/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource npy/" + name);
            }
            Path file = Files.createTempFile("golden-", "-" + name);
            Files.write(file, in.readAllBytes());
            file.toFile().deleteOnExit();
            return file;
        }
    }
}
