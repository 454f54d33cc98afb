package dev.quanta.graph;

import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The outputs of one run, by name. They live until this is closed; none aliases an input.
 * Also reports the run's intermediate memory and, when the session profiles, each node's time.
 */
public final class Outputs implements AutoCloseable {
    private final TensorArena arena;
    private final Map<String, Object> values;
    private final List<NodeTiming> timings;

    Outputs(TensorArena arena, Map<String, Object> values, List<NodeTiming> timings) {
        this.arena = arena;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        this.timings = timings == null ? null : List.copyOf(timings);
    }

    /** Bytes the run allocated for intermediates and outputs (none are reused yet: this is also the peak). */
    public long allocatedBytes() {
        return arena.allocatedBytes();
    }

    /** Each node's time, in execution order, when the session was made with profiling on. */
    public Optional<List<NodeTiming>> profile() {
        return Optional.ofNullable(timings);
    }

    /** A tensor output. */
    public Tensor get(String name) {
        if (!(value(name) instanceof Tensor tensor)) {
            throw new GraphException("output '" + name + "' is a " + value(name) + ", not a tensor; use value()");
        }
        return tensor;
    }

    /** An output of any kind: a tensor, a {@link TensorSequence} or an {@link OptionalValue}. */
    public Object value(String name) {
        Object value = values.get(name);
        if (value == null) {
            throw new GraphException("no output named '" + name + "'; the outputs are " + values.keySet());
        }
        return value;
    }

    public Set<String> names() {
        return values.keySet();
    }

    @Override
    public void close() {
        arena.close();
    }
}
