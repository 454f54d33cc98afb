/** The engine's IR, shape inference, passes, memory planner, backends and the executor. */
module dev.quanta.graph {
    requires transitive dev.quanta.tensor;
    requires dev.quanta.kernels.simd;
    requires dev.quanta.kernels.cuda;
}
