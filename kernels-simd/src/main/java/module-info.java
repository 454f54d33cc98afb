/** CPU compute kernels on the JDK Vector API, each with a scalar reference. */
module dev.quanta.kernels.simd {
    requires transitive dev.quanta.tensor;
    requires jdk.incubator.vector;

    exports dev.quanta.kernels.simd;
}
