package dev.quanta.graph;

import java.lang.reflect.UndeclaredThrowableException;
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
 * A helper idle for {@link #IDLE_EXIT_NANOS} (by default) ends, and the next job starts another, so
 * a session left unclosed does not keep its threads.
 */
public final class IntraOpPool implements AutoCloseable {

    /** How long an idle helper looks for a job before it parks. */
    private static final long SPIN_NANOS = 200_000;
    /**
     * Spin-wait hints between two yields. A yield is a system call of about half a microsecond here,
     * which a job published meanwhile waited out: 64 hints (about a microsecond) took the helper's
     * start from 0.55–0.60 µs to 0.23–0.28 after the job's publication, and an M = 1 product of
     * 1×384×1536 on two threads from 8.5–8.7 µs a run to 8.3–8.4 in most 200 ms windows (throwaway
     * harnesses, JVMs alternating).
     */
    private static final int SPINS_PER_YIELD = 64;
    /** How long a parked helper waits for a job before its thread ends. */
    private static final long IDLE_EXIT_NANOS = 30_000_000_000L;

    /**
     * One call's tasks: the caller takes them from the first on, the helpers from the last back, so
     * that from call to call each thread works on the same end of a product (the same columns of an
     * M = 1 product's weights, which then stay in its core's L2).
     */
    private static final class Job {
        final LongConsumer task;
        /** The first task not taken (high 32 bits) and one past the last (low 32 bits). */
        final AtomicLong untaken;
        /** Helpers inside {@link #share}; the caller waits for none before it returns. */
        final AtomicInteger inside = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        /** At most {@link Integer#MAX_VALUE} tasks. */
        Job(long tasks, LongConsumer task) {
            this.task = task;
            this.untaken = new AtomicLong(Math.max(0, tasks));
        }

        void share(boolean fromBack) {
            try {
                for (long i; (i = take(fromBack)) >= 0; ) {
                    task.accept(i);
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
                untaken.set(0); // the others stop after their current task
            }
        }

        /** The first or the last task not taken, now taken; −1 when none is left. */
        private long take(boolean fromBack) {
            while (true) {
                long range = untaken.get();
                long first = range >>> 32;
                long end = range & 0xFFFF_FFFFL;
                if (first >= end) {
                    return -1;
                }
                long rest = fromBack ? first << 32 | end - 1 : first + 1 << 32 | end;
                if (untaken.compareAndSet(range, rest)) {
                    return fromBack ? end - 1 : first;
                }
            }
        }

        void rethrow() {
            switch (failure.get()) {
                case null -> { }
                case RuntimeException runtime -> throw runtime;
                case Error error -> throw error;
                case Throwable other -> throw new UndeclaredThrowableException(other);
            }
        }
    }

    private final Thread[] helpers;
    private final long idleExitNanos;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile Job current;
    private volatile boolean closed;

    /** {@code helpers} threads beside the callers. */
    public IntraOpPool(int helpers) {
        this(helpers, IDLE_EXIT_NANOS);
    }

    /** As {@link #IntraOpPool(int)}, helpers ending after {@code idleExitNanos} without a job. */
    IntraOpPool(int helpers, long idleExitNanos) {
        this.helpers = new Thread[helpers];
        this.idleExitNanos = idleExitNanos;
    }

    /** How many helper threads are running now. */
    int liveHelpers() {
        int live = 0;
        for (Thread helper : helpers) {
            if (helper != null && helper.isAlive()) {
                live++;
            }
        }
        return live;
    }

    /** The helpers, not counting the caller. */
    public int helpers() {
        return helpers.length;
    }

    /**
     * Runs {@code task} for 0 to {@code tasks} − 1 on the calling thread and the helpers together,
     * the caller taking indices from 0 up, the helpers from the last down, until none is left;
     * returns when all are done, rethrowing the first failure (the others stop after their current
     * task).
     */
    public void run(long tasks, LongConsumer task) {
        if (tasks > Integer.MAX_VALUE) { // more than a job counts: the caller runs them alone
            for (long i = 0; i < tasks; i++) {
                task.accept(i);
            }
            return;
        }
        Job job = new Job(tasks, task);
        if (tasks <= 1 || closed || !busy.compareAndSet(false, true)) {
            job.share(false);
            job.rethrow();
            return;
        }
        try {
            current = job;
            // Only the caller holding busy gets here, so starting helpers needs no other lock.
            for (int h = 0; h < helpers.length; h++) {
                if (helpers[h] == null || !helpers[h].isAlive()) {
                    helpers[h] = Thread.ofPlatform().daemon().name("quanta-intra-op-" + h).start(this::work);
                } else {
                    LockSupport.unpark(helpers[h]);
                }
            }
            job.share(false);
            // Every task is taken; wait for the helpers still running one.
            while (job.inside.get() > 0) {
                Thread.onSpinWait();
            }
        } finally {
            current = null;
            busy.set(false);
        }
        job.rethrow();
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
                    job.share(true);
                }
                job.inside.decrementAndGet();
                done = job;
                idleSince = System.nanoTime();
            } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                // Yielding, not just spinning: on two cores the JIT's compiler threads need the core
                // while the kernels warm up, and a busy spin delayed their compiled code (`quanta
                // bench` of the int8 MiniLM, p50 over 50 runs after 10: 65–77 ms, 56–57 yielding, in separate
                // runs; with a microsecond's spin between yields 24.4–26.3 ms against 25.1–26.9 without,
                // in a later session).
                if (!awaitJob(done)) {
                    Thread.yield();
                }
            } else if (System.nanoTime() - idleSince > idleExitNanos) {
                return; // a job published meanwhile runs on its caller, which starts a helper next time
            } else {
                // A job published after the checks above unparks this thread: park then returns at once.
                LockSupport.parkNanos(this, idleExitNanos);
            }
        }
    }

    /** Whether a job other than {@code done} came within {@link #SPINS_PER_YIELD} spin-wait hints. */
    private boolean awaitJob(Job done) {
        for (int spin = 0; spin < SPINS_PER_YIELD; spin++) {
            Job next = current;
            if (next != null && next != done) {
                return true;
            }
            Thread.onSpinWait();
        }
        return false;
    }

    /** Stops the helpers; calls made afterwards run on the caller alone. */
    @Override
    public void close() {
        closed = true;
        for (Thread helper : helpers) {
            if (helper != null) {
                LockSupport.unpark(helper);
            }
        }
    }
}
