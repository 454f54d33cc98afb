package dev.quanta.graph;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;

/**
 * A session's intra-op threads. A kernel's tasks come a few hundred microseconds apart, one node
 * after the other, and waking a parked thread costs tens of microseconds on a virtual machine
 * (a ForkJoinPool took about 40 µs a call here): so a helper spins a while for the next job
 * before it parks, as ONNX Runtime's pool does. One job at a time: a caller that finds the
 * helpers busy (another run of the session, or a task that splits again) runs its tasks alone.
 */
public final class IntraOpPool implements AutoCloseable {

    /** How long an idle helper looks for a job before it parks. */
    private static final long SPIN_NANOS = 200_000;

    /** One call's tasks, taken in order by the caller and the helpers. */
    private static final class Job {
        final long tasks;
        final LongConsumer task;
        final AtomicLong next = new AtomicLong();
        /** Helpers inside {@link #share}; the caller waits for none before it returns. */
        final AtomicInteger inside = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(long tasks, LongConsumer task) {
            this.tasks = tasks;
            this.task = task;
        }

        void share() {
            try {
                for (long i; (i = next.getAndIncrement()) < tasks; ) {
                    task.accept(i);
                }
            } catch (RuntimeException | Error e) {
                failure.compareAndSet(null, e);
                next.set(tasks); // the others stop after their current task
            }
        }
    }

    private final Thread[] helpers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile Job current;
    private volatile boolean closed;

    /** {@code helpers} threads beside the callers. */
    public IntraOpPool(int helpers) {
        this.helpers = new Thread[helpers];
        for (int h = 0; h < helpers; h++) {
            this.helpers[h] = Thread.ofPlatform().daemon().name("quanta-intra-op-" + h).unstarted(this::work);
            this.helpers[h].start();
        }
    }

    /** The helpers, not counting the caller. */
    public int helpers() {
        return helpers.length;
    }

    /**
     * Runs {@code task} for 0 to {@code tasks} − 1 on the calling thread and the helpers together,
     * each taking the next index until none is left; returns when all are done, rethrowing the
     * first failure (the others stop after their current task).
     */
    public void run(long tasks, LongConsumer task) {
        if (tasks <= 1 || !busy.compareAndSet(false, true)) {
            Job alone = new Job(tasks, task);
            alone.share();
            rethrow(alone.failure.get());
            return;
        }
        Job job = new Job(tasks, task);
        try {
            current = job;
            for (Thread helper : helpers) {
                LockSupport.unpark(helper);
            }
            job.share();
            // Every task is taken; wait for the helpers still running one.
            while (job.inside.get() > 0) {
                Thread.onSpinWait();
            }
        } finally {
            current = null;
            busy.set(false);
        }
        rethrow(job.failure.get());
    }

    private static void rethrow(Throwable failure) {
        if (failure instanceof RuntimeException runtime) {
            throw runtime;
        } else if (failure instanceof Error error) {
            throw error;
        }
    }

    private void work() {
        Job done = null;
        long idleSince = System.nanoTime();
        while (!closed) {
            Job job = current;
            if (job != null && job != done) {
                job.inside.incrementAndGet();
                // Enter only while the caller still waits: once it has seen no helper inside, it may
                // return and reuse what the tasks touch.
                if (current == job) {
                    job.share();
                }
                job.inside.decrementAndGet();
                done = job;
                idleSince = System.nanoTime();
            } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                // Yielding, not just spinning: on two cores the JIT's compiler threads need the core
                // while the kernels warm up, and a busy spin delayed their compiled code (`quanta
                // bench` of the int8 MiniLM, p50 over 50 runs after 10: 65–77 ms, 56–57 yielding).
                Thread.yield();
            } else {
                // A job published after the check above unparks this thread: park then returns at once.
                LockSupport.park(this);
                idleSince = System.nanoTime();
            }
        }
    }

    /** Stops the helpers; calls made afterwards run on the caller alone. */
    @Override
    public void close() {
        closed = true;
        for (Thread helper : helpers) {
            LockSupport.unpark(helper);
        }
    }
}
