package dev.quanta.bench;

import dev.quanta.kernels.simd.FloatGemm;
import dev.quanta.kernels.simd.FloatRows;
import dev.quanta.kernels.simd.Int16Gemm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The kernels alone, one thread, no session around them: the exact int8 GEMM with B as an operand
 * (the streaming path at M = 1, packed per call above) and with B packed once as constant weights
 * are (as floats for the float GEMM, or in 16-bit lanes for {@link Int16Gemm}: B's 7-bit values,
 * as ONNX Runtime's quantizer makes them with reduce_range, and its symmetric 8-bit ones allow
 * both; at M = 1 the executor runs neither but {@code Int8Gemv}, and the 16-bit kernel pads the row
 * to a tile of four), the float32 GEMM, and DynamicQuantizeLinear's two passes. Run with {@code
 * ./quanta bench-kernels}; GOP/s = 2·M·K·N / (µs per call · 1000).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 4, time = 1)
@Fork(1)
public class KernelBenchmarks {

    /** M×K×N: the decoding shape, a BERT-base projection, a square. */
    @Param({"1x384x1536", "128x384x1536", "1024x1024x1024"})
    public String shape;

    /** B's values: within ±64 (7-bit) or ±127 (symmetric 8-bit); A's are 8-bit. */
    @Param({"7", "8"})
    public int weightBits;

    private Arena arena;
    private int m;
    private int k;
    private int n;
    private FloatGemm.Int8Matrix a8;
    private FloatGemm.Int8Matrix b8;
    private FloatGemm.PackedB floatPackedB;
    private Int16Gemm.Packed int16PackedB;
    private FloatGemm.Matrix a32;
    private FloatGemm.Matrix b32;
    private FloatGemm.Matrix c;
    private MemorySegment activations;
    private MemorySegment quantized;

    @Setup(Level.Trial)
    public void setUp() {
        String[] sizes = shape.split("x");
        m = Integer.parseInt(sizes[0]);
        k = Integer.parseInt(sizes[1]);
        n = Integer.parseInt(sizes[2]);
        arena = Arena.ofShared();
        SplittableRandom random = new SplittableRandom(7);
        MemorySegment aBytes = bytes(random, (long) m * k, 127);
        MemorySegment bBytes = bytes(random, (long) k * n, (1 << weightBits - 1) - 1);
        a8 = new FloatGemm.Int8Matrix(aBytes, 0, k, true, new int[] {131}, false, 0);
        b8 = new FloatGemm.Int8Matrix(bBytes, 0, n, false, new int[] {-3}, true, 0);
        floatPackedB = FloatGemm.pack(b8, k, n);
        int16PackedB = Int16Gemm.pack(b8, k, n);
        a32 = new FloatGemm.Matrix(floats(random, (long) m * k), 0, k);
        b32 = new FloatGemm.Matrix(floats(random, (long) k * n), 0, n);
        c = new FloatGemm.Matrix(arena.allocate((long) m * n * 4, 64), 0, n);
        activations = a32.segment();
        quantized = arena.allocate((long) m * k, 64);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public MemorySegment int8Gemm() {
        FloatGemm.multiplyIntegers(a8, b8, c, m, n, k);
        return c.segment();
    }

    @Benchmark
    public MemorySegment int8GemmFloatPackedB() {
        FloatGemm.multiplyIntegers(a8, floatPackedB, 0, c, m, n, k);
        return c.segment();
    }

    @Benchmark
    public MemorySegment int8GemmInt16PackedB() {
        Int16Gemm.multiply(a8, int16PackedB, 0, c, m, n, k, null);
        return c.segment();
    }

    @Benchmark
    public MemorySegment float32Gemm() {
        FloatGemm.multiply(a32, b32, c, m, n, k, false);
        return c.segment();
    }

    /** DynamicQuantizeLinear of the M×K activations: the min/max pass, then the quantizing pass. */
    @Benchmark
    public MemorySegment dynamicQuantize() {
        float[] range = FloatRows.minMax(activations, 0, (long) m * k);
        float scale = (Math.max(0, range[1]) - Math.min(0, range[0])) / 255f;
        int zero = (int) Math.max(0, Math.min(255, Math.rint(-Math.min(0, range[0]) / scale)));
        FloatRows.quantizeToBytes(activations, 0, quantized, 0, (long) m * k, scale, zero, false);
        return quantized;
    }

    /** Bytes within ±{@code largest}. */
    private MemorySegment bytes(SplittableRandom random, long count, int largest) {
        MemorySegment segment = arena.allocate(count, 64);
        for (long i = 0; i < count; i++) {
            segment.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(-largest, largest + 1));
        }
        return segment;
    }

    private MemorySegment floats(SplittableRandom random, long count) {
        MemorySegment segment = arena.allocate(count * 4, 64);
        for (long i = 0; i < count; i++) {
            segment.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
        }
        return segment;
    }
}
