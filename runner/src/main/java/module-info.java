/** The quanta command line, packaged as one runnable jar. */
module dev.quanta.runner {
    requires dev.quanta.loader.onnx;
    requires dev.quanta.conformance;
    requires info.picocli;
    requires com.fasterxml.jackson.databind;

    exports dev.quanta.runner.text;

    opens dev.quanta.runner to info.picocli;
}
