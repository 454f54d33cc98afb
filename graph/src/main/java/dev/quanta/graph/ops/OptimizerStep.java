package dev.quanta.graph.ops;

/**
 * One step of a training optimizer (ONNX's preview training ops). Inputs (R the learning rate, T
 * the update count, then X₁…Xₙ, their gradients G₁…Gₙ and each state's n tensors in turn);
 * outputs the n new X, then each state's n new tensors. With g = normCoefficient·X + G:
 *
 * <ul>
 *   <li>ADAGRAD (state H): H' = H + g², X' = X − R/(1 + T·decayFactor) · g/(√H' + epsilon).</li>
 *   <li>MOMENTUM and NESTEROV (state V): V' = alpha·V + (T > 0 ? beta : 1)·g; X' = X − R·V', or
 *       X − R·(g + alpha·V') for Nesterov's.</li>
 *   <li>ADAM (states V and H): V' = alpha·V + (1 − alpha)·g, H' = beta·H + (1 − beta)·g²,
 *       X' = (1 − normCoefficientPost)·(X − R'·V'/(√H' + epsilon)), where R' = R·√(1 − beta^T)/(1 −
 *       alpha^T) when T > 0, else R.</li>
 * </ul>
 */
public record OptimizerStep(Rule rule, double alpha, double beta, double epsilon, double normCoefficient,
        double normCoefficientPost, double decayFactor) implements CoreOp {

    public enum Rule {
        ADAGRAD, MOMENTUM, NESTEROV, ADAM;

        /** The tensors each X carries from step to step. */
        public int states() {
            return this == ADAM ? 2 : 1;
        }
    }

    @Override
    public String name() {
        return switch (rule) {
            case ADAGRAD -> "Adagrad";
            case MOMENTUM, NESTEROV -> "Momentum";
            case ADAM -> "Adam";
        };
    }
}
