package dev.quanta.graph;

/**
 * A backend's implementation of one node over any kind of value: tensors, sequences
 * ({@link TensorSequence}) and optionals ({@link OptionalValue}); null where an input is omitted.
 */
@FunctionalInterface
public interface ValueKernel {
    Object[] run(KernelContext context, Object[] inputs);

    /** A tensor kernel, refusing anything but tensors. */
    static ValueKernel ofTensors(Kernel kernel) {
        return (context, inputs) -> {
            dev.quanta.tensor.Tensor[] tensors = new dev.quanta.tensor.Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                if (inputs[i] != null && !(inputs[i] instanceof dev.quanta.tensor.Tensor tensor)) {
                    throw context.error("input " + i + " must be a tensor, not " + inputs[i]);
                }
                tensors[i] = (dev.quanta.tensor.Tensor) inputs[i];
            }
            return kernel.run(context, tensors);
        };
    }
}
