/** Element types, shapes, off-heap tensors with views, memory lifetimes and .npy I/O. */
module dev.quanta.tensor {
    exports dev.quanta.tensor;
}
