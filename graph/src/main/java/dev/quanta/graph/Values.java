package dev.quanta.graph;

import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;

/** Moving run values (tensors, sequences, optionals) between arenas. */
public final class Values {
    private Values() {
    }

    /** The value with every tensor in {@code arena} and contiguous, copied only where it is not so already. */
    public static Object ownedBy(Object value, TensorArena arena) {
        return switch (value) {
            case Tensor tensor -> tensor.arena() == arena ? tensor.contiguous() : arena.copyOf(tensor);
            case TensorSequence sequence -> new TensorSequence(sequence.elementType(),
                    sequence.tensors().stream().map(tensor -> (Tensor) ownedBy(tensor, arena)).toList());
            case OptionalValue optional -> optional.isPresent() ? new OptionalValue(ownedBy(optional.value(), arena))
                    : optional;
            default -> throw new GraphException("unexpected value " + value);
        };
    }
}
