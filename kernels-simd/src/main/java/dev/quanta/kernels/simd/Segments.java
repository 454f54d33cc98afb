package dev.quanta.kernels.simd;

import java.lang.foreign.MemorySegment;

/**
 * Segments as the vector loops want C2 to see them. The Vector API's stores and masked loads
 * reach the segment's implementation through calls whose receiver types are profiled once for the
 * whole JVM, and the API's own fallback for reinterpreting a vector (run by the interpreter and C1
 * before C2 compiles a kernel that reinterprets, as exp does) goes through a heap segment. Every
 * loop compiled after that dispatched on two segment classes at each store, and element-wise
 * kernels ran 4 to 8 times slower (a multiplication loop: 0.09 → 0.4–0.7 ns an element, measured
 * in a JVM that had run exp 300 times before). Typed here as off-heap, the loop's calls resolve
 * without the profile. Not all of that warm-up's harm goes: in some JVMs C2's profiled loop
 * predicates still fail at such a loop's entry afterwards (bench/RESULTS.md, sixth session).
 */
final class Segments {

    /** The class of off-heap segments (mapped files are a subclass of it). */
    private static final Class<? extends MemorySegment> OFF_HEAP = MemorySegment.NULL.getClass();

    private Segments() {
    }

    /**
     * The segment, typed for C2 as off-heap when it is; a kernel takes its operands through this at
     * the top of the method that holds its loop, where C2 keeps the type.
     */
    static MemorySegment exact(MemorySegment segment) {
        return OFF_HEAP.isInstance(segment) ? OFF_HEAP.cast(segment) : segment;
    }
}
