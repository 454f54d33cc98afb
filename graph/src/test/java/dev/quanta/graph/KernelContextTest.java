package dev.quanta.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quanta.graph.ops.Identity;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.SegmentPool;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class KernelContextTest {

    private static final Node NODE = new Node("n", new Identity(), List.of(), List.of(), "test");

    @Test
    void everyTaskRunsOnceWhateverTheThreads() {
        for (int helpers : new int[] {0, 1, 3}) {
            IntraOpPool pool = helpers == 0 ? null : new IntraOpPool(helpers);
            try (TensorArena arena = TensorArena.ofShared()) {
                KernelContext context = new KernelContext(arena, NODE, pool, null, 0, null);
                assertThat(context.threads()).isEqualTo(helpers + 1);
                for (int tasks : new int[] {0, 1, 2, 7, 100}) {
                    AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                    context.parallel(tasks, i -> runs.incrementAndGet((int) i));
                    for (int i = 0; i < tasks; i++) {
                        assertThat(runs.get(i)).as("%d helpers, task %d of %d", helpers, i, tasks).isEqualTo(1);
                    }
                }
            } finally {
                if (pool != null) {
                    pool.close();
                }
            }
        }
    }

    /**
     * The caller takes tasks from the first on, the helper from the last back: each thread's share of
     * a product stays at its own end from call to call.
     */
    @Test
    void theCallerTakesTasksFromTheFrontAndTheHelperFromTheBack() throws InterruptedException {
        try (IntraOpPool pool = new IntraOpPool(1); TensorArena arena = TensorArena.ofShared()) {
            KernelContext context = new KernelContext(arena, NODE, pool, null, 0, null);
            Thread caller = Thread.currentThread();
            boolean helped = false;
            for (int call = 0; call < 200 && !helped; call++) {
                List<Long> callers = Collections.synchronizedList(new ArrayList<>());
                List<Long> helpers = Collections.synchronizedList(new ArrayList<>());
                context.parallel(64, i -> {
                    (Thread.currentThread() == caller ? callers : helpers).add(i);
                    LockSupport.parkNanos(20_000); // time for the helper to join
                });
                // Either may find no task left (the caller late on a loaded machine, the helper parked).
                assertThat(callers).isSorted();
                List<Long> descending = new ArrayList<>(helpers);
                descending.sort(Comparator.reverseOrder());
                assertThat(helpers).isEqualTo(descending);
                if (!callers.isEmpty()) {
                    assertThat(callers.getFirst()).isEqualTo(0L);
                }
                if (!helpers.isEmpty()) {
                    assertThat(helpers.getFirst()).isEqualTo(63L);
                }
                if (!callers.isEmpty() && !helpers.isEmpty()) {
                    assertThat(callers.getLast()).isLessThan(helpers.getLast());
                    helped = true;
                }
            }
            assertThat(helped).as("caller and helper shared one of 200 calls").isTrue();
        }
    }

    /**
     * A zeroed allocation is zeros even on a buffer that held values; one for overwriting is not, and
     * under assertions (as in the tests) it holds all ones, so that a kernel that leaves an element
     * unwritten gives NaN or −1 there instead of a plausible 0.
     */
    @Test
    void onlyOverwriteAllocationsSkipTheZeroing() {
        try (SegmentPool segments = new SegmentPool(1 << 20); TensorArena arena = TensorArena.pooled(segments, TensorArena.NO_LIMIT)) {
            BufferPool buffers = new BufferPool(arena);
            KernelContext context = new KernelContext(arena, NODE, null, buffers, 0, null);
            for (boolean zeroed : new boolean[] {true, false}) {
                Tensor held = context.allocate(DType.FLOAT, Shape.of(64));
                for (int i = 0; i < 64; i++) {
                    held.setFloat(i + 1, i);
                }
                buffers.retain(held);
                buffers.release(held); // its buffer is free for the next allocation
                Tensor next = zeroed ? context.allocate(DType.FLOAT, Shape.of(64))
                        : context.allocateForOverwrite(DType.FLOAT, Shape.of(64));
                assertThat(next.segment()).isSameAs(held.segment());
                float[] values = next.toFloatArray();
                for (float value : values) {
                    if (zeroed) {
                        assertThat(value).isZero();
                    } else {
                        assertThat(Float.floatToRawIntBits(value)).isEqualTo(-1);
                    }
                }
            }
        }
    }

    @Test
    void aFailingTaskFailsTheCallAfterTheOthersStop() {
        IntraOpPool pool = new IntraOpPool(2);
        try (TensorArena arena = TensorArena.ofShared()) {
            KernelContext context = new KernelContext(arena, NODE, pool, null, 0, null);
            assertThatThrownBy(() -> context.parallel(50, i -> {
                if (i == 17) {
                    throw new IllegalArgumentException("task 17");
                }
            })).isInstanceOf(IllegalArgumentException.class).hasMessage("task 17");
            AtomicIntegerArray runs = new AtomicIntegerArray(4);
            context.parallel(4, i -> runs.incrementAndGet((int) i)); // the pool still works
            assertThat(runs.toString()).isEqualTo("[1, 1, 1, 1]");
        } finally {
            pool.close();
        }
    }

    @Test
    void callersAtOnceAndTasksThatSplitAgainEachRunEveryTaskOnce() throws Exception {
        try (IntraOpPool pool = new IntraOpPool(2); TensorArena arena = TensorArena.ofShared()) {
            KernelContext context = new KernelContext(arena, NODE, pool, null, 0, null);
            int callers = 4;
            int rounds = 300;
            AtomicIntegerArray runs = new AtomicIntegerArray(callers * 8 * 5);
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            for (int c = 0; c < callers; c++) {
                int caller = c;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                        for (int round = 0; round < rounds; round++) {
                            // Eight tasks, each splitting into five: nested calls run on their caller.
                            context.parallel(8, outer -> context.parallel(5,
                                    inner -> runs.incrementAndGet((int) ((caller * 8 + outer) * 5 + inner))));
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            start.countDown();
            for (Thread thread : threads) {
                thread.join();
            }
            assertThat(failures).isEmpty();
            for (int i = 0; i < runs.length(); i++) {
                assertThat(runs.get(i)).as("task %d", i).isEqualTo(rounds);
            }
        }
    }

    @Test
    void aCheckedExceptionThrownSneakilyStillEndsTheCallAndFreesThePool() {
        try (IntraOpPool pool = new IntraOpPool(1); TensorArena arena = TensorArena.ofShared()) {
            KernelContext context = new KernelContext(arena, NODE, pool, null, 0, null);
            assertThatThrownBy(() -> context.parallel(20, i -> {
                if (i == 3) {
                    KernelContextTest.<RuntimeException>sneakyThrow(new java.io.IOException("disk"));
                }
            })).isInstanceOf(java.lang.reflect.UndeclaredThrowableException.class).hasRootCauseMessage("disk");
            AtomicIntegerArray runs = new AtomicIntegerArray(3);
            context.parallel(3, i -> runs.incrementAndGet((int) i));
            assertThat(runs.toString()).isEqualTo("[1, 1, 1]");
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> void sneakyThrow(Throwable e) throws E {
        throw (E) e;
    }

    @Test
    void idleHelpersEndAndTheNextCallStartsThemAgain() throws InterruptedException {
        // 200 ms of idleness here, 30 s in sessions.
        try (IntraOpPool pool = new IntraOpPool(2, 200_000_000L); TensorArena arena = TensorArena.ofShared()) {
            KernelContext context = new KernelContext(arena, NODE, pool, null, 0, null);
            for (int round = 0; round < 2; round++) {
                AtomicIntegerArray runs = new AtomicIntegerArray(40);
                context.parallel(40, i -> runs.incrementAndGet((int) i));
                assertThat(runs.toString()).as("round %d", round)
                        .isEqualTo(java.util.Collections.nCopies(40, "1").toString());
                assertThat(pool.liveHelpers()).as("round %d, just after a call", round).isEqualTo(2);
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (pool.liveHelpers() > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(pool.liveHelpers()).as("round %d, idle", round).isZero();
            }
        }
    }

    @Test
    void aClosedPoolLeavesTheWorkToTheCaller() {
        IntraOpPool pool = new IntraOpPool(1);
        pool.close();
        try (TensorArena arena = TensorArena.ofShared()) {
            AtomicIntegerArray runs = new AtomicIntegerArray(6);
            new KernelContext(arena, NODE, pool, null, 0, null).parallel(6, i -> runs.incrementAndGet((int) i));
            assertThat(runs.toString()).isEqualTo("[1, 1, 1, 1, 1, 1]");
        }
    }
}
