/** The quanta command line, packaged as one runnable jar. */
module dev.quanta.runner {
    requires dev.quanta.loader.onnx;
    requires dev.quanta.conformance;
    requires info.picocli;
    requires com.fasterxml.jackson.databind;
    requires org.knowm.xchart;
    requires java.desktop;
    requires java.management;
    // Only for bench --vs-ort, with ONNX Runtime's jar on the class path.
    requires static com.microsoft.onnxruntime;

    exports dev.quanta.runner.text;

    opens dev.quanta.runner to info.picocli;
}
