/** Runs folders in the ONNX backend test layout and reports per case and per op. */
module dev.quanta.conformance {
    requires transitive dev.quanta.loader.onnx;

    exports dev.quanta.conformance;
}
