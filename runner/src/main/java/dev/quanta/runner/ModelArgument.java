package dev.quanta.runner;

import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** The MODEL argument and how its inputs are given, shared by run, info, bench and profile. */
final class ModelArgument {

    @Parameters(index = "0", paramLabel = "MODEL", description = "The .onnx file.")
    Path file;

    @Mixin
    InputOptions inputs;
}
