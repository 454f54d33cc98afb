/** The engine's IR, core ops, the CPU backend and the executor. */
module dev.quanta.graph {
    requires transitive dev.quanta.tensor;
    requires dev.quanta.kernels.simd;
    requires dev.quanta.kernels.cuda;
    /** ImageDecoder's javax.imageio, where the runtime has it (a jlinked one may not). */
    requires static java.desktop;

    exports dev.quanta.graph;
    exports dev.quanta.graph.ops;
    exports dev.quanta.graph.passes;
}
