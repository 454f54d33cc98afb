/** The engine's IR, core ops, the CPU backend and the executor. */
module dev.quanta.graph {
    requires transitive dev.quanta.tensor;
    requires dev.quanta.kernels.simd;
    requires dev.quanta.kernels.cuda;

    exports dev.quanta.graph;
    exports dev.quanta.graph.ops;
    exports dev.quanta.graph.passes;
}
