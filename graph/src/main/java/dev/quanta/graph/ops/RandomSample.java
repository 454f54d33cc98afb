package dev.quanta.graph.ops;

import dev.quanta.tensor.DType;

/**
 * Random values, drawn as ONNX's reference draws them from {@code numpy.random.RandomState(seed)}
 * afresh at every run when there is a seed, so that a seeded node gives the same values each run;
 * from a new seed each run when there is none.
 *
 * <ul>
 *   <li>UNIFORM and NORMAL: no input and a {@code shape}, or an input whose shape (and, without a
 *       {@code dtype}, type) the output takes; offset + scale·draw, each step rounded to the
 *       output's type as numpy rounds it (uniform: offset low, scale high − low; normal: mean and
 *       standard deviation).</li>
 *   <li>BERNOULLI: 1 with each input's probability, else 0, in {@code dtype} (else the input's).</li>
 *   <li>MULTINOMIAL: input [batch, classes] of unnormalized log-probabilities; {@code sampleSize}
 *       class indices a row, int32 or int64.</li>
 * </ul>
 */
public record RandomSample(Distribution distribution, DType dtype, long[] shape, double offset, double scale,
        Long seed, long sampleSize) implements CoreOp {

    public enum Distribution {
        UNIFORM, NORMAL, BERNOULLI, MULTINOMIAL
    }

    @Override
    public String name() {
        return switch (distribution) {
            case UNIFORM -> "RandomUniform";
            case NORMAL -> "RandomNormal";
            case BERNOULLI -> "Bernoulli";
            case MULTINOMIAL -> "Multinomial";
        };
    }
}
