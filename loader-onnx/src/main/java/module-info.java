/** Reads ONNX models and translates them into Quanta's graph. */
module dev.quanta.loader.onnx {
    requires transitive dev.quanta.graph;
    requires com.google.protobuf;

    exports dev.quanta.loader.onnx;
    opens dev.quanta.loader.onnx.proto to com.google.protobuf;
    // The benchmark harness writes single-op models with the same schema classes.
    exports dev.quanta.loader.onnx.proto to dev.quanta.bench;
}
