package dev.quanta.graph;

import dev.quanta.graph.cpu.CpuBackend;
import dev.quanta.tensor.Dim;
import dev.quanta.tensor.QuantaException;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.SegmentPool;
import dev.quanta.tensor.TensorArena;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * Runs a graph. Kernels are chosen once, when the session is made; {@link #run} may be called
 * from many threads at once, each run with its own memory. Close the session to stop its
 * intra-op threads.
 */
public final class Session implements AutoCloseable {
    /** Idle run memory a session keeps for reuse at most. */
    private static final long IDLE_MEMORY_LIMIT = 1L << 30;
    /** A thread that owns no arena: a segment it may read is readable from every thread. */
    private static final Thread NOT_THE_OWNER = Thread.ofPlatform().unstarted(() -> { });
    private final Graph graph;
    private final SessionOptions options;
    private final ValueKernel[] kernels;
    private final IntraOpPool pool;
    /** The runs' memory, reused from run to run: a fresh shared arena per run would cost a JVM-wide handshake to close. */
    private final SegmentPool memory = new SegmentPool(IDLE_MEMORY_LIMIT);
    /**
     * A run keeps its values in an array, a slot each (graph inputs, constants, node outputs), where
     * maps keyed by value cost a microsecond or two a run (a copy of the constants) and a few
     * lookups a node. The slots of each node's inputs (−1 for an absent one), outputs and the
     * values whose last use it is (they die after it runs).
     */
    private final int[][] inputSlots;
    private final int[][] outputSlots;
    private final int[][] dyingSlots;
    /** Each run's values start as a copy of this: the constants in their slots. */
    private final Object[] constantSlots;
    private final int[] graphOutputSlots;
    private final Map<Value, Integer> graphInputSlots = new IdentityHashMap<>();
    private final Map<String, Value> inputsByName = new LinkedHashMap<>();
    /** Per node, a bit for each input that is a constant the caller cannot feed (see KernelContext). */
    private final long[] constantInputs;
    /** Runs hold it shared; close takes it exclusively, so it waits for the runs in flight. */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    public Session(Graph graph, SessionOptions options) {
        if (options.device() != SessionOptions.Device.CPU) {
            throw new UnsupportedOperationException("device " + options.device() + ": Quanta's CUDA backend is not"
                    + " built yet; sessions run on the CPU");
        }
        this.graph = graph;
        this.options = options;
        List<Node> nodes = graph.nodes();
        kernels = new ValueKernel[nodes.size()];
        for (int i = 0; i < kernels.length; i++) {
            kernels[i] = CpuBackend.kernel(nodes.get(i).op());
        }
        // The thread that calls run() works too: the pool adds the others.
        pool = options.threads() > 1 ? new IntraOpPool(options.threads() - 1) : null;
        graph.inputs().forEach(input -> inputsByName.put(input.name(), input));
        Map<Value, Integer> slots = new IdentityHashMap<>();
        graph.inputs().forEach(input -> graphInputSlots.put(input, slots.computeIfAbsent(input, v -> slots.size())));
        graph.constants().keySet().forEach(constant -> slots.computeIfAbsent(constant, v -> slots.size()));
        nodes.forEach(node -> node.outputs().forEach(output -> slots.computeIfAbsent(output, v -> slots.size())));
        constantSlots = new Object[slots.size()];
        graph.constants().forEach((constant, value) -> constantSlots[slots.get(constant)] = value);
        inputSlots = new int[nodes.size()][];
        outputSlots = new int[nodes.size()][];
        dyingSlots = new int[nodes.size()][];
        List<List<Value>> dying = lifetimes(graph);
        for (int n = 0; n < nodes.size(); n++) {
            inputSlots[n] = nodes.get(n).inputs().stream().mapToInt(input -> input == null ? -1 : slots.get(input)).toArray();
            outputSlots[n] = nodes.get(n).outputs().stream().mapToInt(slots::get).toArray();
            dyingSlots[n] = dying.get(n).stream().mapToInt(slots::get).toArray();
        }
        graphOutputSlots = graph.outputs().stream().mapToInt(slots::get).toArray();
        constantInputs = new long[nodes.size()];
        for (int n = 0; n < nodes.size(); n++) {
            List<Value> inputs = nodes.get(n).inputs();
            for (int i = 0; i < Math.min(inputs.size(), Long.SIZE); i++) {
                Value input = inputs.get(i);
                if (input != null && graph.constants().containsKey(input) && !graph.inputs().contains(input)) {
                    constantInputs[n] |= 1L << i;
                }
            }
        }
    }

    /** Each computed value dies after its last reader, or right after its producer when nothing reads it. */
    private static List<List<Value>> lifetimes(Graph graph) {
        List<Node> nodes = graph.nodes();
        // Insertion-ordered, so buffers are freed and reused in the same order in every run.
        Map<Value, Integer> lastUse = new java.util.LinkedHashMap<>();
        for (int n = 0; n < nodes.size(); n++) {
            for (Value output : nodes.get(n).outputs()) {
                lastUse.put(output, n);
            }
            for (Value input : nodes.get(n).inputs()) {
                if (input != null && lastUse.containsKey(input)) {
                    lastUse.put(input, n);
                }
            }
        }
        graph.outputs().forEach(lastUse::remove);
        List<List<Value>> dying = new ArrayList<>();
        for (int n = 0; n < nodes.size(); n++) {
            dying.add(new ArrayList<>());
        }
        lastUse.forEach((value, n) -> dying.get(n).add(value));
        return dying;
    }

    public Graph graph() {
        return graph;
    }

    public SessionOptions options() {
        return options;
    }

    /**
     * Runs the graph on the given inputs (tensors, or {@link TensorSequence} and {@link OptionalValue}
     * for inputs of those types), checked first against the declared names, kinds, element types
     * and shapes. The caller keeps ownership of the inputs; close the outputs when done.
     */
    public Outputs run(Map<String, ?> feeds) {
        return whileOpen(() -> execute(feeds, pool, options.profile() ? new RunProfile(new ArrayList<>(), "") : null, false));
    }

    /**
     * Runs the graph as a subgraph of the node that {@code enclosing} runs (a Loop body, an If
     * branch): on the enclosing run's intra-op threads rather than this session's, and, when the
     * enclosing run is profiled, with each node's time added to its profile ({@link RunProfile}).
     * Call it from the kernel's own thread, not from a parallel task.
     */
    public Outputs runWithin(KernelContext enclosing, Map<String, ?> feeds) {
        RunProfile profile = enclosing.profile() == null ? null : enclosing.profile().within(enclosing.node());
        return whileOpen(() -> execute(feeds, enclosing.pool(), profile, true));
    }

    /** A run, holding the session open while it lasts; refused once the session is closed. */
    private Outputs whileOpen(Supplier<Outputs> run) {
        Lock running = lifecycle.readLock();
        running.lock();
        try {
            if (closed) {
                throw new IllegalStateException("session of graph '" + graph.name() + "' is closed");
            }
            return run.get();
        } finally {
            running.unlock();
        }
    }

    /**
     * A run. Each node's profiled time is its own: a node that runs subgraphs has their nodes' times
     * (listed after it) taken out of its own, so the times add up to the run's. A subgraph's run
     * leaves the profile out of its outputs: it is the enclosing run's.
     */
    private Outputs execute(Map<String, ?> feeds, IntraOpPool pool, RunProfile profile, boolean subgraph) {
        Object[] values = constantSlots.clone();
        TensorArena arena = TensorArena.pooled(memory, options.memoryLimitBytes());
        BufferPool buffers = new BufferPool(arena);
        try {
            bindInputs(feeds, values, pool == null ? null : arena);
            List<Node> nodes = graph.nodes();
            List<Object> dyingValues = new ArrayList<>();
            for (int n = 0; n < nodes.size(); n++) {
                Node node = nodes.get(n);
                int[] in = inputSlots[n];
                Object[] inputs = new Object[in.length];
                for (int i = 0; i < in.length; i++) {
                    inputs[i] = in[i] < 0 ? null : values[in[i]];
                }
                dyingValues.clear();
                for (int slot : dyingSlots[n]) {
                    dyingValues.add(values[slot]);
                }
                buffers.beginNode(dyingValues);
                Object[] outputs;
                int profiled = profile == null ? 0 : profile.timings().size();
                long start = profile == null ? 0 : System.nanoTime();
                try {
                    outputs = kernels[n].run(new KernelContext(arena, node, pool, buffers, constantInputs[n], profile), inputs);
                } catch (GraphException e) {
                    throw e;
                } catch (QuantaException | IndexOutOfBoundsException | IllegalArgumentException | ArithmeticException e) {
                    throw new GraphException(node + ": " + e.getMessage(), e);
                }
                if (profile != null) {
                    List<NodeTiming> timings = profile.timings();
                    long own = System.nanoTime() - start;
                    for (int t = profiled; t < timings.size(); t++) {
                        own -= timings.get(t).nanos();
                    }
                    timings.add(profiled, new NodeTiming(profile.prefix() + node.name(), node.op().name(), node.source(), own));
                }
                int[] out = outputSlots[n];
                for (int i = 0; i < out.length; i++) {
                    values[out[i]] = outputs[i];
                    buffers.retain(outputs[i]);
                }
                buffers.endNode();
                for (int slot : dyingSlots[n]) {
                    buffers.release(values[slot]);
                    values[slot] = null;
                }
            }
            Map<String, Object> results = new LinkedHashMap<>();
            List<Value> graphOutputs = graph.outputs();
            for (int i = 0; i < graphOutputSlots.length; i++) {
                results.put(graphOutputs.get(i).name(), Values.ownedBy(values[graphOutputSlots[i]], arena));
            }
            return new Outputs(arena, results, profile == null || subgraph ? null : profile.timings());
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Waits for the runs in flight to finish (their outputs stay valid until closed), then stops the
     * intra-op threads and lets go of the pooled memory; runs started afterwards throw
     * {@link IllegalStateException}. Closing twice does nothing.
     */
    @Override
    public void close() {
        Lock closing = lifecycle.writeLock();
        closing.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            memory.close();
            if (pool != null) {
                pool.close();
            }
        } finally {
            closing.unlock();
        }
    }

    /**
     * Checks the feeds and puts them in their slots. With {@code sharedCopies}, the run's arena when
     * kernels run on other threads too, a tensor of a confined arena (readable by its owner thread
     * alone) is copied there first; such a tensor owned by another thread is refused.
     */
    private void bindInputs(Map<String, ?> feeds, Object[] values, TensorArena sharedCopies) {
        if (!inputsByName.keySet().containsAll(feeds.keySet())) {
            List<String> unknown = new ArrayList<>(feeds.keySet());
            unknown.removeAll(inputsByName.keySet());
            throw new GraphException("unknown input" + (unknown.size() > 1 ? "s " : " ") + unknown
                    + "; graph '" + graph.name() + "' takes " + inputsByName.keySet());
        }
        List<String> missing = new ArrayList<>();
        for (Value input : inputsByName.values()) {
            Object fed = feeds.get(input.name());
            if (fed == null) {
                if (!graph.constants().containsKey(input)) {
                    missing.add(input.name());
                }
                continue;
            }
            check(input, fed);
            values[graphInputSlots.get(input)] = fed instanceof Tensor tensor && !tensor.dtype().isString()
                    ? readable(input, tensor, sharedCopies) : fed;
        }
        if (!missing.isEmpty()) {
            throw new GraphException("missing input" + (missing.size() > 1 ? "s " : " ") + new TreeSet<>(missing)
                    + " of graph '" + graph.name() + "'");
        }
    }

    private static Tensor readable(Value input, Tensor tensor, TensorArena sharedCopies) {
        if (!tensor.segment().isAccessibleBy(Thread.currentThread())) {
            throw new GraphException("input '" + input.name() + "' lives in an arena confined to another thread");
        }
        boolean confined = !tensor.segment().isAccessibleBy(NOT_THE_OWNER);
        return confined && sharedCopies != null ? sharedCopies.copyOf(tensor) : tensor;
    }

    /**
     * Element type, rank and static sizes. Symbolic sizes are not held equal across inputs:
     * exporters name them carelessly (all-MiniLM-L6-v2 declares [batch, batch]) and ONNX Runtime
     * does not enforce them either.
     */
    private static void check(Value input, Object fed) {
        ValueType type = input.type();
        if (type == null) {
            return;
        }
        switch (type.kind()) {
            case SEQUENCE -> {
                if (!(fed instanceof TensorSequence sequence) || sequence.elementType() != type.dtype()) {
                    throw new GraphException("input '" + input.name() + "' must be a " + type + ", not " + fed);
                }
                return;
            }
            case OPTIONAL -> {
                if (!(fed instanceof OptionalValue)) {
                    throw new GraphException("input '" + input.name() + "' must be an " + type + ", not " + fed);
                }
                return;
            }
            case TENSOR -> {
                if (!(fed instanceof Tensor)) {
                    throw new GraphException("input '" + input.name() + "' must be a tensor, not " + fed);
                }
            }
        }
        Tensor tensor = (Tensor) fed;
        if (tensor.dtype() != type.dtype()) {
            throw new GraphException("input '" + input.name() + "' must be " + type.dtype() + ", not " + tensor.dtype());
        }
        Shape expected = type.shape();
        if (expected == null) {
            return;
        }
        Shape actual = tensor.shape();
        if (actual.rank() != expected.rank()) {
            throw new GraphException("input '" + input.name() + "' must have shape " + expected + " (rank "
                    + expected.rank() + "), not " + actual);
        }
        for (int axis = 0; axis < actual.rank(); axis++) {
            Dim dim = expected.dim(axis);
            long size = actual.size(axis);
            if (dim.isStatic() && dim.size() != size) {
                throw new GraphException("input '" + input.name() + "' must have shape " + expected + ", not " + actual
                        + " (axis " + axis + ")");
            }
        }
    }
}
