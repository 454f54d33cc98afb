package dev.quanta.graph;

import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import java.util.List;

/** An ONNX sequence: an ordered list of tensors of one element type, possibly empty. */
public record TensorSequence(DType elementType, List<Tensor> tensors) {

    public TensorSequence {
        tensors = List.copyOf(tensors);
        for (Tensor tensor : tensors) {
            if (tensor.dtype() != elementType) {
                throw new GraphException("a sequence of " + elementType + " cannot hold " + tensor);
            }
        }
    }

    @Override
    public String toString() {
        return "sequence<" + elementType + ">[" + tensors.size() + "]";
    }
}
