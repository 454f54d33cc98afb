package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.ops.OptimizerStep;
import dev.quanta.tensor.Tensor;

/** {@link OptimizerStep}: each element's update in double, stored in its tensor's type. */
final class OptimizerKernels {

    private OptimizerKernels() {
    }

    static Kernel of(OptimizerStep op) {
        return (context, inputs) -> {
            int states = op.rule().states();
            int groups = (inputs.length - 2) / (2 + states);
            if (inputs.length < 4 + states || (inputs.length - 2) % (2 + states) != 0) {
                throw context.error("takes R, T, then as many gradients and " + states + " state tensor(s) as tensors to "
                        + "optimize, not " + inputs.length + " inputs");
            }
            double rate = scalar(context, inputs[0], "R");
            double count = scalar(context, inputs[1], "T");
            Tensor[] outputs = new Tensor[groups * (1 + states)];
            for (int g = 0; g < groups; g++) {
                Tensor x = inputs[2 + g].contiguous();
                Tensor[] read = new Tensor[1 + states];
                for (int s = 0; s <= states; s++) {
                    read[s] = inputs[2 + (1 + s) * groups + g].contiguous();
                    if (!read[s].shape().equals(x.shape())) {
                        throw context.error("X " + x + " and its " + (s == 0 ? "gradient " : "state ") + read[s]
                                + " must have one shape");
                    }
                }
                if (!x.dtype().isFloatingPoint()) {
                    throw context.error("X " + x + " must be floating point");
                }
                outputs[g] = context.allocateForOverwrite(x.dtype(), x.shape());
                for (int s = 0; s < states; s++) {
                    outputs[(1 + s) * groups + g] = context.allocateForOverwrite(read[1 + s].dtype(), x.shape());
                }
                step(op, rate, count, x, read, outputs, g, groups);
            }
            return outputs;
        };
    }

    private static void step(OptimizerStep op, double rate, double count, Tensor x, Tensor[] read, Tensor[] outputs,
            int g, int groups) {
        double alpha = op.alpha();
        double beta = op.beta();
        double adjusted = switch (op.rule()) {
            case ADAGRAD -> rate / (1 + count * op.decayFactor());
            case ADAM -> count > 0 ? rate * Math.sqrt(1 - Math.pow(beta, count)) / (1 - Math.pow(alpha, count)) : rate;
            case MOMENTUM, NESTEROV -> rate;
        };
        double gradientWeight = count > 0 ? beta : 1;
        for (long i = 0; i < x.elementCount(); i++) {
            double value = x.loadDouble(x.offset() + i);
            double gradient = op.normCoefficient() * value + read[0].loadDouble(read[0].offset() + i);
            double state = read[1].loadDouble(read[1].offset() + i);
            double updated = switch (op.rule()) {
                case ADAGRAD -> {
                    double squares = state + gradient * gradient;
                    outputs[groups + g].storeDouble(i, squares);
                    yield value - adjusted * gradient / (Math.sqrt(squares) + op.epsilon());
                }
                case MOMENTUM, NESTEROV -> {
                    double velocity = alpha * state + gradientWeight * gradient;
                    outputs[groups + g].storeDouble(i, velocity);
                    yield value - rate * (op.rule() == OptimizerStep.Rule.NESTEROV ? gradient + alpha * velocity : velocity);
                }
                case ADAM -> {
                    double momentum = alpha * state + (1 - alpha) * gradient;
                    double squares = beta * read[2].loadDouble(read[2].offset() + i) + (1 - beta) * gradient * gradient;
                    outputs[groups + g].storeDouble(i, momentum);
                    outputs[2 * groups + g].storeDouble(i, squares);
                    yield (1 - op.normCoefficientPost()) * (value - adjusted * momentum / (Math.sqrt(squares) + op.epsilon()));
                }
            };
            outputs[g].storeDouble(i, updated);
        }
    }

    private static double scalar(KernelContext context, Tensor tensor, String name) {
        if (tensor.elementCount() != 1) {
            throw context.error(name + " " + tensor + " must be a scalar");
        }
        return tensor.loadDouble(tensor.offset());
    }
}
