/** CUDA kernels launched through JCuda; reports itself unavailable where there is no GPU. */
module dev.quanta.kernels.cuda {
    requires transitive dev.quanta.tensor;
}
