package dev.quanta.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class QuantaCliTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return QuantaCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void withoutArgumentsPrintsUsage() {
        assertThat(run()).isZero();
        assertThat(out.toString()).contains("Usage: quanta").contains("demo");
    }

    @Test
    void demoSaysPlainlyThatItIsNotBuiltYet() {
        assertThat(run("demo")).isEqualTo(3);
        assertThat(err.toString()).contains("not built yet");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void unknownCommandIsAUsageError() {
        assertThat(run("frobnicate")).isEqualTo(2);
        assertThat(err.toString()).contains("frobnicate");
    }
}
