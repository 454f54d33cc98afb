/** Reads ONNX models and translates them into Quanta's graph. */
module dev.quanta.loader.onnx {
    requires transitive dev.quanta.graph;
}
