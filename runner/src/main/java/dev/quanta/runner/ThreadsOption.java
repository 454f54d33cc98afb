package dev.quanta.runner;

import dev.quanta.graph.SessionOptions;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** {@code --threads N}, shared by every command that runs a model. */
final class ThreadsOption {

    @Option(names = "--threads", paramLabel = "N", description = "Intra-op threads (default: the available cores).")
    private Integer threads;

    /** Session options with these threads (validated), profiling as asked. */
    SessionOptions sessionOptions(CommandLine.Model.CommandSpec spec, boolean profile) {
        if (threads != null && threads < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be at least 1, not " + threads);
        }
        return SessionOptions.defaults().withThreads(threads == null ? SessionOptions.defaults().threads() : threads)
                .withProfiling(profile);
    }
}
