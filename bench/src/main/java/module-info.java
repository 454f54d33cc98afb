/** Kernel benchmarks and the side-by-side harness against ONNX Runtime. */
module dev.quanta.bench {
    requires dev.quanta.loader.onnx;
    requires com.google.protobuf;
    requires com.microsoft.onnxruntime;
    requires dev.quanta.kernels.simd;
    requires jmh.core;
}
