package dev.quanta.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Run profiles summarized: medians per run of each node and op, where a node that ran several
 * times in a run (a loop's body, or one ONNX node translated into several core nodes) counts once
 * with its times summed.
 */
class ProfileSummaryTest {

    private static NodeTiming timing(String node, String op, double millis) {
        return new NodeTiming(node, op, "test", Math.round(millis * 1e6));
    }

    @Test
    void aNodeThatRanSeveralTimesInARunCountsOnceWithItsTimesSummed() {
        ProfileSummary summary = new ProfileSummary();
        for (double scale : new double[] {1, 2, 3}) {
            summary.add(List.of(timing("loop", "Loop", 1 * scale),
                    timing("loop/add", "ADD", 2 * scale), timing("loop/add", "ADD", 2 * scale),
                    timing("lstm", "Transpose", 0.5 * scale), timing("lstm", "LSTM", 4 * scale),
                    timing("lstm", "Identity", 0.25 * scale), timing("lstm", "Identity", 0.25 * scale)));
        }
        assertThat(summary.runs()).isEqualTo(3);
        assertThat(summary.medianTotalMillis()).isEqualTo(20.0);
        assertThat(summary.byNode()).extracting(ProfileSummary.Entry::name, ProfileSummary.Entry::medianMillis)
                .containsExactly(tuple("lstm", 10.0), tuple("loop/add", 8.0),
                        tuple("loop", 2.0));
        assertThat(summary.byOp()).extracting(ProfileSummary.Entry::name, ProfileSummary.Entry::nodes,
                ProfileSummary.Entry::medianMillis).containsExactlyInAnyOrder(
                        tuple("LSTM", 1, 8.0), tuple("ADD", 1, 8.0),
                        tuple("Loop", 1, 2.0), tuple("Transpose", 1, 1.0),
                        tuple("Identity", 1, 1.0));
    }
}
