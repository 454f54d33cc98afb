package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.ops.RandomSample;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.util.concurrent.ThreadLocalRandom;

/** {@link RandomSample}: one generator a run, its values drawn in the output's row-major order. */
final class RandomKernels {

    private RandomKernels() {
    }

    static Kernel of(RandomSample op) {
        return (context, inputs) -> {
            Tensor input = inputs.length > 0 ? inputs[0] : null;
            if (input != null) {
                input = input.contiguous();
            }
            Mt19937 random = new Mt19937(op.seed() != null ? op.seed() : ThreadLocalRandom.current().nextLong(1L << 32));
            Tensor y = switch (op.distribution()) {
                case UNIFORM, NORMAL -> scaled(context, op, input, random);
                case BERNOULLI -> bernoulli(context, op, input, random);
                case MULTINOMIAL -> multinomial(context, op, input, random);
            };
            return new Tensor[] {y};
        };
    }

    /** offset + scale·draw, rounded to the output's type after each step, as numpy's float arithmetic does. */
    private static Tensor scaled(KernelContext context, RandomSample op, Tensor input, Mt19937 random) {
        DType type = op.dtype() != null ? op.dtype() : input != null ? input.dtype() : DType.FLOAT;
        if (type != DType.FLOAT && type != DType.DOUBLE && type != DType.FLOAT16 && type != DType.BFLOAT16) {
            throw context.error("draws " + type + " values; " + op.name() + " gives float16, bfloat16, float or double");
        }
        Shape shape = op.shape() != null ? Shape.of(op.shape()) : input.shape();
        Tensor y = context.allocateForOverwrite(type, shape);
        double scale = rounded(type, op.scale());
        double offset = rounded(type, op.offset());
        boolean uniform = op.distribution() == RandomSample.Distribution.UNIFORM;
        for (long i = 0; i < y.elementCount(); i++) {
            double draw = rounded(type, uniform ? random.nextDouble() : random.nextGaussian());
            y.storeDouble(i, rounded(type, rounded(type, draw * scale) + offset));
        }
        return y;
    }

    /** A double rounded to {@code type} (float16 and bfloat16 through float32). */
    private static double rounded(DType type, double value) {
        return switch (type) {
            case DOUBLE -> value;
            case FLOAT16, BFLOAT16 -> type.miniFloat().decode(type.miniFloat().encode((float) value));
            default -> (float) value;
        };
    }

    private static Tensor bernoulli(KernelContext context, RandomSample op, Tensor p, Mt19937 random) {
        DType type = op.dtype() != null ? op.dtype() : p.dtype();
        if (!p.dtype().isFloatingPoint()) {
            throw context.error("probabilities " + p + " must be floating point");
        }
        if (type.isString() || type.isComplex()) {
            throw context.error("cannot give its 0s and 1s as " + type);
        }
        Tensor y = context.allocateForOverwrite(type, p.shape());
        for (long i = 0; i < p.elementCount(); i++) {
            double probability = p.loadDouble(p.offset() + i);
            if (!(probability >= 0 && probability <= 1)) {
                throw context.error("probability " + probability + " at " + i + " of " + p + " lies outside [0, 1]");
            }
            long outcome = bernoulli(random, probability);
            if (type.isFloatingPoint()) {
                y.storeDouble(i, outcome);
            } else {
                y.storeLong(i, outcome);
            }
        }
        return y;
    }

    /**
     * One draw of numpy's legacy binomial with one trial: its inversion algorithm (on 1 − p for p
     * above one half) takes a draw for every probability, 0 and 1 included.
     */
    private static long bernoulli(Mt19937 random, double probability) {
        boolean flipped = probability > 0.5;
        double p = flipped ? 1 - probability : probability;
        double q = 1 - p;
        double qn = Math.exp(Math.log(q));
        double bound = Math.min(1, p + 10 * Math.sqrt(p * q + 1));
        long x = 0;
        double px = qn;
        double u = random.nextDouble();
        while (u > px) {
            x++;
            if (x > bound) {
                x = 0;
                px = qn;
                u = random.nextDouble();
            } else {
                u -= px;
                px = (2 - x) * p * px / (x * q);
            }
        }
        return flipped ? 1 - x : x;
    }

    /**
     * Per row of unnormalized log-probabilities, {@code sampleSize} classes: each draw scaled to the
     * row's total weight picks the first class whose running total exceeds it.
     */
    private static Tensor multinomial(KernelContext context, RandomSample op, Tensor x, Mt19937 random) {
        if (x.rank() != 2 || !x.dtype().isFloatingPoint()) {
            throw context.error("input " + x + " must be [batch, classes] of floating-point log-probabilities");
        }
        if (op.dtype() != DType.INT32 && op.dtype() != DType.INT64) {
            throw context.error("gives class indices as int32 or int64, not " + op.dtype());
        }
        if (op.sampleSize() < 0) {
            throw context.error("sample_size " + op.sampleSize() + " is negative");
        }
        long batch = x.size(0);
        int classes = Math.toIntExact(x.size(1));
        Tensor y = context.allocateForOverwrite(op.dtype(), Shape.of(batch, op.sampleSize()));
        double[] totals = new double[classes];
        for (long row = 0; row < batch; row++) {
            double largest = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) {
                largest = Math.max(largest, x.loadDouble(x.offset() + row * classes + j));
            }
            double total = 0;
            for (int j = 0; j < classes; j++) {
                total += Math.exp(x.loadDouble(x.offset() + row * classes + j) - largest);
                totals[j] = total;
            }
            if (!(total > 0 && total < Double.POSITIVE_INFINITY)) {
                throw context.error("row " + row + " of " + x + " has no finite weight to draw from (largest " + largest + ")");
            }
            for (long s = 0; s < op.sampleSize(); s++) {
                double target = random.nextDouble() * total;
                int low = 0;
                int high = classes - 1;
                while (low < high) {
                    int middle = (low + high) >>> 1;
                    if (totals[middle] > target) {
                        high = middle;
                    } else {
                        low = middle + 1;
                    }
                }
                // A target rounded up to the whole total takes the last class with any weight.
                while (low > 0 && totals[low] == totals[low - 1]) {
                    low--;
                }
                y.storeLong(row * op.sampleSize() + s, low);
            }
        }
        return y;
    }
}
