package dev.quanta.graph;

import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** The outputs of one run, by name. They live until this is closed; none aliases an input. */
public final class Outputs implements AutoCloseable {
    private final TensorArena arena;
    private final Map<String, Tensor> tensors;

    Outputs(TensorArena arena, Map<String, Tensor> tensors) {
        this.arena = arena;
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
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
