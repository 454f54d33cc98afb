package dev.quanta.graph;

import dev.quanta.tensor.Tensor;

/** A backend's implementation of one node: reads its inputs (null where omitted), returns its outputs. */
@FunctionalInterface
public interface Kernel {
    Tensor[] run(KernelContext context, Tensor[] inputs);
}
