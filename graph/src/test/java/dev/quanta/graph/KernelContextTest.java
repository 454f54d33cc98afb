package dev.quanta.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quanta.graph.ops.Identity;
import dev.quanta.tensor.TensorArena;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class KernelContextTest {

    private static final Node NODE = new Node("n", new Identity(), List.of(), List.of(), "test");

    @Test
    void everyTaskRunsOnceWhateverTheThreads() {
        for (int helpers : new int[] {0, 1, 3}) {
            ForkJoinPool pool = helpers == 0 ? null : new ForkJoinPool(helpers);
            try (TensorArena arena = TensorArena.ofShared()) {
                KernelContext context = new KernelContext(arena, NODE, pool, null, 0);
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
                    pool.shutdown();
                }
            }
        }
    }

    @Test
    void aFailingTaskFailsTheCallAfterTheOthersStop() {
        ForkJoinPool pool = new ForkJoinPool(2);
        try (TensorArena arena = TensorArena.ofShared()) {
            KernelContext context = new KernelContext(arena, NODE, pool, null, 0);
            assertThatThrownBy(() -> context.parallel(50, i -> {
                if (i == 17) {
                    throw new IllegalArgumentException("task 17");
                }
            })).isInstanceOf(IllegalArgumentException.class).hasMessage("task 17");
            AtomicIntegerArray runs = new AtomicIntegerArray(4);
            context.parallel(4, i -> runs.incrementAndGet((int) i)); // the pool still works
            assertThat(runs.toString()).isEqualTo("[1, 1, 1, 1]");
        } finally {
            pool.shutdown();
        }
    }
}
