/** The quanta command line, packaged as one runnable jar. */
module dev.quanta.runner {
    requires dev.quanta.loader.onnx;
    requires dev.quanta.conformance;
    requires info.picocli;

    opens dev.quanta.runner to info.picocli;
}
