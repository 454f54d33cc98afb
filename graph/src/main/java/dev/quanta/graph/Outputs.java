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
    private final Map<String, Tensor> tensors;
    private final List<NodeTiming> timings;

    Outputs(TensorArena arena, Map<String, Tensor> tensors, List<NodeTiming> timings) {
        this.arena = arena;
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
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

    public Tensor get(String name) {
        Tensor tensor = tensors.get(name);
        if (tensor == null) {
            throw new GraphException("no output named '" + name + "'; the outputs are " + tensors.keySet());
        }
        return tensor;
    }

    public Set<String> names() {
        return tensors.keySet();
    }

    public Map<String, Tensor> asMap() {
        return tensors;
    }

    @Override
    public void close() {
        arena.close();
    }
}
