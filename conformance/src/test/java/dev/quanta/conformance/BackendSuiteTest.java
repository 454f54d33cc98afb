package dev.quanta.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quanta.graph.ops.RandomSample;
import dev.quanta.loader.onnx.OnnxModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The ONNX backend suites (node and simple) against {@code expected-passes.txt}: a listed case
 * must pass; an unlisted case that passes fails too, so the list (and the report) stays true;
 * every other case is reported as skipped, with its reason, never as a pass.
 */
class BackendSuiteTest {

    @TestFactory
    Stream<DynamicTest> nodeAndSimpleSuites() throws IOException {
        Path tests = OnnxTestData.locate();
        Set<String> expected = expectedPasses();
        List<Path> cases = ConformanceRunner.findCases(List.of(tests.resolve("node"), tests.resolve("simple")));
        assertThat(cases).as("cases found under " + tests).hasSizeGreaterThan(1000);
        Set<String> names = cases.stream().map(c -> c.getFileName().toString()).collect(Collectors.toSet());
        assertThat(names).as("cases in expected-passes.txt that no longer exist").containsAll(expected);
        return cases.stream().map(folder -> DynamicTest.dynamicTest(folder.getFileName().toString(), () -> {
            CaseResult result = ConformanceRunner.run(folder);
            if (expected.contains(result.name())) {
                assertThat(result.status()).as(result.line()).isEqualTo(CaseResult.Status.PASS);
            } else {
                if (result.status() == CaseResult.Status.PASS && drawsUnseeded(folder)) {
                    // Its expected data are one draw of numpy's global generator, which a run matches by
                    // chance (test_bernoulli's ten draws: 0.61% of runs), saying nothing either way.
                    Assumptions.abort(result.name() + " matched its expected data by chance: it draws unseeded"
                            + " random values");
                }
                assertThat(result.status()).as(result.name() + " now passes: add it to expected-passes.txt")
                        .isNotEqualTo(CaseResult.Status.PASS);
                Assumptions.abort(result.line());
            }
        }));
    }

    /** Whether the case's graph holds a random node without a seed, whose values differ from run to run. */
    private static boolean drawsUnseeded(Path folder) {
        try (OnnxModel model = OnnxModel.load(folder.resolve("model.onnx"))) {
            return model.graph().nodes().stream()
                    .anyMatch(node -> node.op() instanceof RandomSample sample && sample.seed() == null);
        }
    }

    private static Set<String> expectedPasses() throws IOException {
        try (InputStream in = BackendSuiteTest.class.getResourceAsStream("/expected-passes.txt")) {
            assertThat(in).as("expected-passes.txt").isNotNull();
            return Arrays.stream(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"))
                    .map(String::strip).filter(line -> !line.isEmpty() && !line.startsWith("#"))
                    .collect(Collectors.toSet());
        }
    }

}
