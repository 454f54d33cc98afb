package dev.quanta.runner;

import dev.quanta.conformance.CaseResult;
import dev.quanta.conformance.ConformanceReport;
import dev.quanta.conformance.ConformanceRunner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code quanta conformance DIR...}: every ONNX backend test case found, one line each, then the totals. */
@Command(name = "conformance", description = "Runs ONNX backend test cases (folders with model.onnx and test_data_set_N).")
final class ConformanceCommand implements Callable<Integer> {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "DIR", description = "Case folders, or folders of case folders.")
    private List<Path> folders;

    @Option(names = "--report", paramLabel = "FILE", description = "Also write the per-op Markdown report here.")
    private Path report;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        List<CaseResult> results = new ArrayList<>();
        for (Path folder : ConformanceRunner.findCases(folders)) {
            CaseResult result = ConformanceRunner.run(folder);
            results.add(result);
            out.println(result.line());
            out.flush();
        }
        if (report != null) {
            ConformanceReport.write(results, report);
        }
        out.println(ConformanceReport.summary(results));
        boolean failed = results.stream().anyMatch(r -> r.status() == CaseResult.Status.FAIL
                || r.status() == CaseResult.Status.ERROR);
        return failed ? 1 : 0;
    }
}
