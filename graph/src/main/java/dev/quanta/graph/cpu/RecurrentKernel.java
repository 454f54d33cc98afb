package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.ops.Recurrent;
import dev.quanta.graph.ops.Unary;
import dev.quanta.kernels.simd.FloatGemm;
import dev.quanta.kernels.simd.FloatRows;
import dev.quanta.kernels.simd.Int16Gemm;
import dev.quanta.kernels.simd.Int8Gemv;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Layouts;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.DoubleUnaryOperator;
import java.util.function.IntConsumer;

/**
 * RNN, GRU and LSTM cells over a sequence ({@link Recurrent}). Each direction first multiplies every
 * step's input by Wᵀ in one product, then runs the steps in turn: the hidden states of the whole
 * batch by Rᵀ (split by columns across threads when large enough), then each row's gates by vector
 * row operations. A constant Rᵀ is packed once; int8 weights (ONNX Runtime's DynamicQuantizeLSTM)
 * take the int8 kernels, each product's float operand quantized first. Two directions run at once
 * where there are two threads.
 */
final class RecurrentKernel {

    /** Multiply-adds (counted twice) below which a step's product is not split across threads. */
    private static final long MIN_OPERATIONS_PER_TASK = 1 << 17;
    /** Columns of a step's product per task: whole panels of the GEMM. */
    private static final long COLUMNS_PER_TASK = 64;
    /** Gate values below which a step's rows are not split across threads. */
    private static final long MIN_GATES_PER_TASK = 8_192;

    private final Recurrent op;
    /** The constant Rᵀ last packed, for few rows or not, and its packed weights per direction (see {@link #packed}). */
    private Tensor packedSource;
    private boolean packedForFewRows;
    private PackedR[] packedWeights;

    private RecurrentKernel(Recurrent op) {
        this.op = op;
    }

    static Kernel of(Recurrent op) {
        return new RecurrentKernel(op)::run;
    }

    /** The sizes of one run: steps S, batch B, input I, hidden H, directions D, gate columns G·H. */
    private record Sizes(long steps, long batch, long input, long hidden, int directions, long gateColumns) {
    }

    private Tensor[] run(KernelContext context, Tensor[] inputs) {
        // int8 or uint8 weights (with their zero points, inputs 9 and 11) make ONNX Runtime's DynamicQuantizeLSTM.
        boolean quantized = inputs[1].dtype() == DType.INT8 || inputs[1].dtype() == DType.UINT8;
        if (quantized && (op.cell() != Recurrent.Cell.LSTM || inputs.length < 12
                || inputs[2].dtype() != DType.INT8 && inputs[2].dtype() != DType.UINT8)) {
            throw context.error("takes int8 weights as an LSTM with W's and R's scales and zero points (inputs 8 to 11)");
        }
        for (int i = 0; i < inputs.length; i++) {
            boolean integer = i == 4 || quantized && (i == 1 || i == 2 || i == 9 || i == 11);
            if (!integer && inputs[i] != null && inputs[i].dtype() != DType.FLOAT) {
                throw context.error("computes in float32; input " + i + " is " + inputs[i].dtype());
            }
        }
        Tensor x = inputs[0].contiguous();
        Tensor wt = inputs[1].contiguous();
        Tensor rt = inputs[2].contiguous();
        int directions = op.direction().count();
        int gates = op.cell().gates();
        if (x.rank() != 3) {
            throw context.error("X must be [steps, batch, input], not " + x.shape());
        }
        if (rt.rank() != 3 || rt.size(0) != directions || rt.size(2) != gates * rt.size(1)) {
            throw context.error("R must be [" + directions + ", " + gates + "·hidden, hidden], not the transpose of " + rt.shape());
        }
        long hidden = rt.size(1);
        if (op.hiddenSize() != 0 && op.hiddenSize() != hidden) {
            throw context.error("has hidden_size " + op.hiddenSize() + " but R is for " + hidden);
        }
        Sizes sizes = new Sizes(x.size(0), x.size(1), x.size(2), hidden, directions, gates * hidden);
        expect(context, wt, "W (transposed)", directions, sizes.input(), sizes.gateColumns());
        IntegerWeights integerW = quantized
                ? IntegerWeights.of(context, wt, inputs[8], inputs[9], "W", directions, sizes.gateColumns()) : null;
        IntegerWeights integerR = quantized
                ? IntegerWeights.of(context, rt, inputs[10], inputs[11], "R", directions, sizes.gateColumns()) : null;
        Tensor bias = expect(context, inputs[3], "B", directions, 2 * sizes.gateColumns());
        Tensor initialH = expect(context, inputs[5], "initial_h", directions, sizes.batch(), hidden);
        Tensor initialC = expect(context, inputs.length > 6 ? inputs[6] : null, "initial_c", directions, sizes.batch(), hidden);
        Tensor peepholes = expect(context, inputs.length > 7 ? inputs[7] : null, "P", directions, 3 * hidden);
        int[] lengths = lengths(context, inputs[4], sizes);
        Shape state = Shape.of(directions, sizes.batch(), hidden);
        Tensor y = context.allocate(DType.FLOAT, Shape.of(sizes.steps(), directions, sizes.batch(), hidden));
        Tensor finalH = context.allocate(DType.FLOAT, state);
        Tensor finalC = op.cell() == Recurrent.Cell.LSTM ? context.allocate(DType.FLOAT, state) : null;
        PackedR[] packed = packed(context, inputs[2], rt, integerR, sizes);
        // Both directions at once, a thread each, where there are two threads; else one after the other,
        // each step's work split across the threads.
        boolean concurrent = directions == 2 && context.threads() >= 2;
        KernelContext stepContext = concurrent ? new KernelContext(context.arena(), context.node()) : context;
        Step[] steps = new Step[directions];
        for (int d = 0; d < directions; d++) {
            Tensor projected = sizes.steps() * sizes.batch() == 0 ? null
                    : quantized ? integerProjection(context, x, integerW, d, sizes)
                    : MathKernels.multiply(context, x.reshape(sizes.steps() * sizes.batch(), sizes.input()), wt.select(0, d));
            steps[d] = new Step(context, stepContext, sizes, integerR);
            steps[d].start(d, projected, rt, packed == null ? null : packed[d], bias, initialH, initialC, peepholes);
        }
        int longest = Arrays.stream(lengths).max().orElse(0);
        IntConsumer direction = d -> {
            for (int s = 0; s < longest; s++) {
                steps[d].run(s, lengths, y);
            }
            steps[d].finish(lengths, finalH, finalC);
        };
        if (concurrent) {
            context.parallel(directions, d -> direction.accept((int) d));
        } else {
            for (int d = 0; d < directions; d++) {
                direction.accept(d);
            }
        }
        return finalC == null ? new Tensor[] {y, finalH} : new Tensor[] {y, finalH, finalC};
    }

    /** Every step's input by a direction's int8 W, all steps in one product (X quantized as one tensor, as ONNX Runtime does). */
    private static Tensor integerProjection(KernelContext context, Tensor x, IntegerWeights w, int d, Sizes sizes) {
        int rows = Math.toIntExact(sizes.steps() * sizes.batch());
        Tensor bytes = context.allocateForOverwrite(DType.UINT8, Shape.of(rows, sizes.input()));
        Tensor projected = context.allocateForOverwrite(DType.FLOAT, Shape.of(rows, sizes.gateColumns()));
        integerProduct(context, x, bytes, null, w.matrix(d), w.scales()[d],
                new FloatGemm.Matrix(projected.segment(), projected.offset(), sizes.gateColumns()), rows, sizes.gateColumns(),
                Math.toIntExact(sizes.input()));
        return projected;
    }

    /** An optional input checked against its expected shape; null when absent. */
    private static Tensor expect(KernelContext context, Tensor tensor, String name, long... sizes) {
        if (tensor != null && !tensor.shape().equals(Shape.of(sizes))) {
            throw context.error(name + " must be " + Shape.of(sizes) + ", not " + tensor.shape());
        }
        return tensor == null ? null : tensor.contiguous();
    }

    /** Each sequence's length: sequence_lens checked to lie within the steps, or every length the steps. */
    private static int[] lengths(KernelContext context, Tensor lens, Sizes sizes) {
        int[] lengths = new int[Math.toIntExact(sizes.batch())];
        if (lens == null) {
            Arrays.fill(lengths, Math.toIntExact(sizes.steps()));
            return lengths;
        }
        if (!lens.dtype().isInteger() || !lens.shape().equals(Shape.of(sizes.batch()))) {
            throw context.error("sequence_lens must be integers " + Shape.of(sizes.batch()) + ", not " + lens);
        }
        Tensor values = lens.contiguous();
        for (int b = 0; b < lengths.length; b++) {
            long length = values.loadLong(values.offset() + b);
            if (length < 0 || length > sizes.steps()) {
                throw context.error("sequence_lens[" + b + "] is " + length + "; it must lie in 0 … " + sizes.steps());
            }
            lengths[b] = (int) length;
        }
        return lengths;
    }

    /**
     * A direction's Rᵀ packed once: float panels for the GEMM (a reset-first GRU's z and r columns
     * apart from its h columns); or an int8 R for the few-row kernel, the 16-bit kernel (columns
     * spanning at most 254 values), or else the float GEMM's exact integer mode.
     */
    private record PackedR(FloatGemm.PackedB[] floats, Int8Gemv.Packed fewRows, Int16Gemm.Packed lanes16) {
    }

    /**
     * Rᵀ packed per direction: an int8 R always (for the few-row kernel below {@link
     * FloatGemm#PACKING_MIN_ROWS} rows), a float one when the batch has rows enough for packed
     * products (fewer read it as it lies); kept across runs while R (and its zero points) is the same
     * constant and the batch on the same side of that bound. Null where a float product reads Rᵀ as
     * it lies.
     */
    private synchronized PackedR[] packed(KernelContext context, Tensor source, Tensor rt, IntegerWeights integerR, Sizes sizes) {
        boolean fewRows = sizes.batch() < FloatGemm.PACKING_MIN_ROWS;
        if (fewRows && integerR == null) {
            return null;
        }
        if (packedSource == source && packedForFewRows == fewRows) {
            return packedWeights;
        }
        int hidden = Math.toIntExact(sizes.hidden());
        int columns = Math.toIntExact(sizes.gateColumns());
        PackedR[] packed = new PackedR[sizes.directions()];
        for (int d = 0; d < sizes.directions(); d++) {
            long at = rt.offset() + d * sizes.hidden() * sizes.gateColumns();
            if (integerR != null) {
                FloatGemm.Int8Matrix r = integerR.matrix(d);
                Int16Gemm.Packed lanes16 = fewRows || !Int16Gemm.CHOSEN ? null : Int16Gemm.pack(r, hidden, columns);
                packed[d] = fewRows ? new PackedR(null, Int8Gemv.pack(r, hidden, columns), null)
                        : lanes16 != null ? new PackedR(null, null, lanes16)
                        : new PackedR(new FloatGemm.PackedB[] {FloatGemm.pack(r, hidden, columns)}, null, null);
            } else {
                packed[d] = new PackedR(resetFirst()
                        ? new FloatGemm.PackedB[] {
                            FloatGemm.pack(new FloatGemm.Matrix(rt.segment(), at, columns), hidden, 2 * hidden),
                            FloatGemm.pack(new FloatGemm.Matrix(rt.segment(), at + 2L * hidden, columns), hidden, hidden)}
                        : new FloatGemm.PackedB[] {FloatGemm.pack(new FloatGemm.Matrix(rt.segment(), at, columns), hidden, columns)},
                        null, null);
            }
        }
        // int8 R's zero points go into its packing, so they must be as constant as R.
        if (context.isConstant(2) && (integerR == null || context.isConstant(11))) {
            packedSource = source;
            packedForFewRows = fewRows;
            packedWeights = packed;
        }
        return packed;
    }

    /** A GRU that applies its reset gate to the hidden state before the h gate's product (linear_before_reset 0). */
    private boolean resetFirst() {
        return op.cell() == Recurrent.Cell.GRU && !op.linearBeforeReset();
    }

    /**
     * One direction's state and scratch, all off-heap for the vector row operations: the hidden (and
     * cell) state of each row of the batch, the step's gate sums (the products by Rᵀ, to which the
     * input's products and the biases are added), H floats of work per batch row, and the biases.
     * Offsets below are in bytes.
     */
    private final class Step {
        private final KernelContext context;
        private final Sizes sizes;
        private final Tensor hiddenState;
        private final Tensor cellState;
        private final Tensor gates;
        private final Tensor work;
        /** Wb + Rb for every gate column but a linear-before-reset GRU's h gate, whose Rb the next H floats hold. */
        private final Tensor bias;
        private Tensor projected;
        private Tensor peepholes;
        private int direction;
        private Tensor rt;
        private PackedR packed;
        private Unary f;
        private Unary g;
        private Unary h;

        /** int8 R, and the hidden state quantized for it; null for float R. */
        private final IntegerWeights integerR;
        private final Tensor stateBytes;

        /** Allocates its tensors through {@code allocating}; runs through {@code context}, one thread or many. */
        Step(KernelContext allocating, KernelContext context, Sizes sizes, IntegerWeights integerR) {
            this.context = context;
            this.sizes = sizes;
            this.integerR = integerR;
            stateBytes = integerR == null ? null : allocating.allocateForOverwrite(DType.UINT8, Shape.of(sizes.batch(), sizes.hidden()));
            Shape rows = Shape.of(sizes.batch(), sizes.hidden());
            hiddenState = allocating.allocateForOverwrite(DType.FLOAT, rows);
            cellState = op.cell() == Recurrent.Cell.LSTM ? allocating.allocateForOverwrite(DType.FLOAT, rows) : null;
            gates = allocating.allocateForOverwrite(DType.FLOAT, Shape.of(sizes.batch(), sizes.gateColumns()));
            work = allocating.allocateForOverwrite(DType.FLOAT, rows);
            bias = allocating.allocate(DType.FLOAT, Shape.of(sizes.gateColumns() + sizes.hidden()));
        }

        void start(int d, Tensor projected, Tensor rt, PackedR packed, Tensor biases, Tensor initialH,
                Tensor initialC, Tensor peepholes) {
            this.direction = d;
            this.projected = projected;
            this.rt = rt;
            this.packed = packed;
            this.peepholes = peepholes;
            long columns = sizes.gateColumns();
            long hidden = sizes.hidden();
            if (biases != null) {
                long wb = (biases.offset() + d * 2 * columns) * 4;
                long rb = wb + columns * 4;
                boolean apart = op.cell() == Recurrent.Cell.GRU && op.linearBeforeReset();
                long summed = apart ? 2 * hidden : columns;
                FloatRows.binary(FloatRows.Op.ADD, biases.segment(), wb, false, biases.segment(), rb, false, bias.segment(),
                        bias.byteOffset(), summed);
                if (apart) {
                    MemorySegment.copy(biases.segment(), wb + summed * 4, bias.segment(), bias.byteOffset() + summed * 4, hidden * 4);
                    MemorySegment.copy(biases.segment(), rb + summed * 4, bias.segment(), bias.byteOffset() + columns * 4, hidden * 4);
                }
            }
            int first = d * op.cell().activations();
            f = op.activations().get(first);
            g = op.cell() == Recurrent.Cell.RNN ? null : op.activations().get(first + 1);
            h = op.cell() == Recurrent.Cell.LSTM ? op.activations().get(first + 2) : null;
            long count = sizes.batch() * hidden;
            copyOrZero(initialH, d * count, hiddenState, count);
            if (op.cell() == Recurrent.Cell.LSTM) {
                copyOrZero(initialC, d * count, cellState, count);
            }
        }

        /** Step {@code s} of every sequence still running: row b reads input step t, forwards s, backwards its length − 1 − s. */
        void run(int s, int[] lengths, Tensor y) {
            long hidden = sizes.hidden();
            long columns = sizes.gateColumns();
            long rtAt = rt.offset() + direction * hidden * columns;
            boolean resetFirst = resetFirst();
            boolean reverse = op.direction() == Recurrent.Direction.REVERSE || direction == 1;
            FloatGemm.Matrix sums = new FloatGemm.Matrix(gates.segment(), gates.offset(), columns);
            if (integerR != null) {
                integerProduct(context, hiddenState, stateBytes, packed, integerR.matrix(direction),
                        integerR.scales()[direction], sums, (int) sizes.batch(), columns, (int) hidden);
            } else {
                multiply(new FloatGemm.Matrix(hiddenState.segment(), hiddenState.offset(), hidden),
                        packed == null ? null : packed.floats()[0], new FloatGemm.Matrix(rt.segment(), rtAt, columns), sums,
                        resetFirst ? 2 * hidden : columns);
            }
            if (resetFirst) {
                // z and r first, then (r ⊙ h)·Rᵀ's h columns into the gates' h columns.
                rows(lengths, s, b -> {
                    long row = gateAt(b);
                    addInputAndBias(row, inputAt(s, b, lengths[b], reverse), 0, 2 * hidden);
                    activate(f, true, row, 2 * hidden);
                    apply(FloatRows.Op.MUL, gates, row + hidden * 4, hiddenState, rowAt(hiddenState, b), work, rowAt(work, b));
                });
                multiply(new FloatGemm.Matrix(work.segment(), work.offset(), hidden), packed == null ? null : packed.floats()[1],
                        new FloatGemm.Matrix(rt.segment(), rtAt + 2 * hidden, columns),
                        new FloatGemm.Matrix(gates.segment(), gates.offset() + 2 * hidden, columns), hidden);
            }
            rows(lengths, s, b -> {
                long row = gateAt(b);
                long input = inputAt(s, b, lengths[b], reverse);
                switch (op.cell()) {
                    case RNN -> {
                        addInputAndBias(row, input, 0, hidden);
                        activate(f, true, row, hidden);
                        MemorySegment.copy(gates.segment(), row, hiddenState.segment(), rowAt(hiddenState, b), hidden * 4);
                    }
                    case GRU -> gru(b, row, input, resetFirst);
                    case LSTM -> lstm(b, row, input);
                }
                long t = reverse ? lengths[b] - 1 - s : s;
                MemorySegment.copy(hiddenState.segment(), rowAt(hiddenState, b), y.segment(),
                        (y.offset() + ((t * sizes.directions() + direction) * sizes.batch() + b) * hidden) * 4, hidden * 4);
            });
        }

        /** h = (1 − z) ⊙ hh + z ⊙ h = hh + z ⊙ (h − hh), hh = g(the h gate's input), reset before or after Rᵀ's product. */
        private void gru(int b, long row, long input, boolean resetFirst) {
            long hidden = sizes.hidden();
            long candidate = row + 2 * hidden * 4;
            if (resetFirst) {
                addInputAndBias(row, input, 2 * hidden, hidden);
            } else {
                addInputAndBias(row, input, 0, 2 * hidden);
                activate(f, true, row, 2 * hidden);
                // Xt·Wh + Wbh + r ⊙ (Ht−1·Rh + Rbh).
                apply(FloatRows.Op.ADD, gates, candidate, bias, bias.byteOffset() + sizes.gateColumns() * 4, gates, candidate);
                apply(FloatRows.Op.MUL, gates, row + hidden * 4, gates, candidate, gates, candidate);
                addInputAndBias(row, input, 2 * hidden, hidden);
            }
            activate(g, true, candidate, hidden);
            long state = rowAt(hiddenState, b);
            long scratch = rowAt(work, b);
            apply(FloatRows.Op.SUB, hiddenState, state, gates, candidate, work, scratch);
            apply(FloatRows.Op.MUL, gates, row, work, scratch, work, scratch);
            apply(FloatRows.Op.ADD, gates, candidate, work, scratch, hiddenState, state);
        }

        /** c = f ⊙ c + i ⊙ g(c's input), h = o ⊙ h(c); the i and f peepholes see the last c, o's the new one. */
        private void lstm(int b, long row, long input) {
            long bytes = sizes.hidden() * 4;
            long cell = rowAt(cellState, b);
            long inputGate = row;
            long outputGate = row + bytes;
            long forgetGate = row + 2 * bytes;
            long cellGate = row + 3 * bytes;
            addInputAndBias(row, input, 0, sizes.gateColumns());
            peephole(b, 0, inputGate);
            activate(f, true, inputGate, sizes.hidden());
            if (op.inputForget()) {
                FloatRows.binaryScalar(FloatRows.Op.MUL, gates.segment(), inputGate, -1, gates.segment(), forgetGate, sizes.hidden());
                FloatRows.binaryScalar(FloatRows.Op.ADD, gates.segment(), forgetGate, 1, gates.segment(), forgetGate, sizes.hidden());
            } else {
                peephole(b, 2, forgetGate);
                activate(f, true, forgetGate, sizes.hidden());
            }
            activate(g, true, cellGate, sizes.hidden());
            apply(FloatRows.Op.MUL, gates, forgetGate, cellState, cell, cellState, cell);
            apply(FloatRows.Op.MUL, gates, inputGate, gates, cellGate, gates, cellGate);
            apply(FloatRows.Op.ADD, cellState, cell, gates, cellGate, cellState, cell);
            peephole(b, 1, outputGate);
            activate(f, true, outputGate, sizes.hidden());
            // h(c) unclipped, as ONNX Runtime computes it.
            MemorySegment.copy(cellState.segment(), cell, gates.segment(), cellGate, bytes);
            activate(h, false, cellGate, sizes.hidden());
            apply(FloatRows.Op.MUL, gates, outputGate, gates, cellGate, hiddenState, rowAt(hiddenState, b));
        }

        /** Adds peephole {@code which} (i, o, f) ⊙ row b's cell state to the gate's input at {@code gate}, where the op has them. */
        private void peephole(int b, int which, long gate) {
            if (peepholes != null) {
                long weights = (peepholes.offset() + (direction * 3L + which) * sizes.hidden()) * 4;
                apply(FloatRows.Op.MUL, peepholes, weights, cellState, rowAt(cellState, b), work, rowAt(work, b));
                apply(FloatRows.Op.ADD, gates, gate, work, rowAt(work, b), gates, gate);
            }
        }

        /** Adds the step's input product and the biases to the gate inputs of columns {@code from …} of a row. */
        private void addInputAndBias(long row, long input, long from, long count) {
            long at = row + from * 4;
            FloatRows.binary(FloatRows.Op.ADD, gates.segment(), at, false, projected.segment(), input + from * 4, false,
                    gates.segment(), at, count);
            FloatRows.binary(FloatRows.Op.ADD, gates.segment(), at, false, bias.segment(), bias.byteOffset() + from * 4, false,
                    gates.segment(), at, count);
        }

        /** An activation in place over {@code count} gate values, their inputs clipped first where the op clips. */
        private void activate(Unary function, boolean clipped, long at, long count) {
            MemorySegment segment = gates.segment();
            if (clipped && op.clip() != Float.POSITIVE_INFINITY) {
                FloatRows.binaryScalar(FloatRows.Op.MIN, segment, at, op.clip(), segment, at, count);
                FloatRows.binaryScalar(FloatRows.Op.MAX, segment, at, -op.clip(), segment, at, count);
            }
            FloatRows.Function vector = switch (function.kind()) {
                case SIGMOID -> FloatRows.Function.SIGMOID;
                case TANH -> FloatRows.Function.TANH;
                case RELU -> FloatRows.Function.RELU;
                default -> null;
            };
            if (vector != null) {
                FloatRows.unary(vector, segment, at, segment, at, count);
                return;
            }
            DoubleUnaryOperator scalar = ElementwiseKernels.doubleFunction(function, context);
            for (long i = 0; i < count; i++) {
                segment.set(Layouts.FLOAT, at + i * 4, (float) scalar.applyAsDouble(segment.get(Layouts.FLOAT, at + i * 4)));
            }
        }

        /** The final states: the state after each sequence's last step, zero for a sequence of length 0. */
        void finish(int[] lengths, Tensor finalH, Tensor finalC) {
            long hidden = sizes.hidden();
            for (int b = 0; b < lengths.length; b++) {
                if (lengths[b] == 0) {
                    continue; // the outputs come zeroed
                }
                long at = ((long) direction * lengths.length + b) * hidden;
                copy(hiddenState, b * hidden, finalH, at, hidden);
                if (finalC != null) {
                    copy(cellState, b * hidden, finalC, at, hidden);
                }
            }
        }

        /** Runs {@code row} for each batch row still running at step s, in blocks across threads when the batch is large. */
        private void rows(int[] lengths, int s, IntConsumer row) {
            long perRow = sizes.gateColumns();
            long blocks = context.threads() == 1 ? 1 : Math.clamp(lengths.length * perRow / MIN_GATES_PER_TASK, 1,
                    Math.min(lengths.length, 2L * context.threads()));
            long size = Math.ceilDiv(lengths.length, blocks);
            context.parallel(blocks, block -> {
                for (long b = block * size; b < Math.min(lengths.length, (block + 1) * size); b++) {
                    if (s < lengths[(int) b]) {
                        row.accept((int) b);
                    }
                }
            });
        }

        private long gateAt(int b) {
            return rowAt(gates, b);
        }

        /** Where row b of a [B, n] scratch tensor starts. */
        private static long rowAt(Tensor rows, long b) {
            return rows.byteOffset() + b * rows.size(1) * 4;
        }

        /** Where row b's input product of step s starts: input step t = s forwards, its length − 1 − s backwards. */
        private long inputAt(int s, int b, int length, boolean reverse) {
            long t = reverse ? length - 1 - s : s;
            return (projected.offset() + (t * sizes.batch() + b) * sizes.gateColumns()) * 4;
        }

        /** out = a op b over H floats, each operand a tensor's segment at a byte offset. */
        private void apply(FloatRows.Op operation, Tensor a, long aAt, Tensor b, long bAt, Tensor out, long outAt) {
            FloatRows.binary(operation, a.segment(), aAt, false, b.segment(), bAt, false, out.segment(), outAt, sizes.hidden());
        }

        /** c = a·Rᵀ's columns (n of them), packed Rᵀ where given. */
        private void multiply(FloatGemm.Matrix a, FloatGemm.PackedB packedB, FloatGemm.Matrix b, FloatGemm.Matrix c, long n) {
            int m = (int) sizes.batch();
            int k = (int) sizes.hidden();
            byColumns(context, m, n, k, (first, count) -> {
                FloatGemm.Matrix block = new FloatGemm.Matrix(c.segment(), c.offset() + first, c.rowStride());
                if (packedB != null) {
                    FloatGemm.multiply(a, packedB, (int) first, block, m, count, k, false);
                } else {
                    FloatGemm.multiply(a, new FloatGemm.Matrix(b.segment(), b.offset() + first, b.rowStride()), block, m, count, k,
                            false);
                }
            });
        }
    }

    /** A block of a product's columns: the first and how many. */
    @FunctionalInterface
    private interface ColumnBlock {
        void run(long first, int count);
    }

    /**
     * Runs an m×n×k product's columns in blocks of whole panels, a task a thread when it is large
     * enough to split: each thread then keeps its columns of the weights in its own cache from step
     * to step (the pool gives the caller the first task and the helper the last).
     */
    private static void byColumns(KernelContext context, int m, long n, int k, ColumnBlock block) {
        long tasks = context.threads() == 1 ? 1
                : Math.clamp(2L * m * n * k / MIN_OPERATIONS_PER_TASK, 1, Math.min(context.threads(),
                        Math.ceilDiv(n, COLUMNS_PER_TASK)));
        long width = Math.ceilDiv(Math.ceilDiv(n, tasks), COLUMNS_PER_TASK) * COLUMNS_PER_TASK;
        context.parallel(tasks, task -> {
            long first = task * width;
            int count = (int) Math.min(width, n - first);
            if (count > 0) {
                block.run(first, count);
            }
        });
    }

    /**
     * c[m×n] = a·b as ONNX Runtime's quantized LSTM computes it: a (float, contiguous) quantized to
     * uint8 as DynamicQuantizeLinear does into {@code bytes}, the exact int32 product with b (int8
     * or uint8 less its zero points; packed where given), each block then scaled by a's scale times
     * b's scale (one, or one per column).
     */
    private static void integerProduct(KernelContext context, Tensor a, Tensor bytes, PackedR packed,
            FloatGemm.Int8Matrix b, float[] bScales, FloatGemm.Matrix c, int m, long n, int k) {
        float[] parameters = QuantizationKernels.dynamicQuantizeInto(context, a, bytes);
        float[] scale = bScales.clone();
        for (int j = 0; j < scale.length; j++) {
            scale[j] *= parameters[0];
        }
        FloatGemm.Int8Matrix quantized = new FloatGemm.Int8Matrix(bytes.segment(), bytes.offset(), k, true,
                new int[] {(int) parameters[1]}, false, 0);
        byColumns(context, m, n, k, (first, count) -> {
            FloatGemm.Matrix block = new FloatGemm.Matrix(c.segment(), c.offset() + first, c.rowStride());
            if (packed != null && packed.fewRows() != null) {
                Int8Gemv.multiply(quantized, packed.fewRows(), (int) first, block, m, count, k);
            } else if (packed != null && packed.lanes16() != null) {
                Int16Gemm.multiply(quantized, packed.lanes16(), (int) first, block, m, count, k, null);
            } else if (packed != null) {
                FloatGemm.multiplyIntegers(quantized, packed.floats()[0], (int) first, block, m, count, k);
            } else {
                FloatGemm.multiplyIntegers(quantized, new FloatGemm.Int8Matrix(b.segment(), b.offset() + first, b.rowStride(),
                        b.unsigned(), b.zeroPoints(), true, (int) first), block, m, count, k);
            }
            FloatRows.dequantize(c.segment(), (c.offset() + first) * 4, c.rowStride(), m, count, scale, null, (int) first);
        });
    }

    /**
     * A direction's int8 or uint8 weights (ONNX Runtime's DynamicQuantizeLSTM): [D, n, G·H] as the
     * op's transposed weights, with a scale and zero point per direction or per gate column.
     */
    private record IntegerWeights(Tensor weights, boolean unsigned, float[][] scales, int[][] zeroPoints) {

        FloatGemm.Int8Matrix matrix(int d) {
            long columns = weights.size(2);
            return new FloatGemm.Int8Matrix(weights.segment(), weights.offset() + d * weights.size(1) * columns, columns,
                    unsigned, zeroPoints[d], true, 0);
        }

        static IntegerWeights of(KernelContext context, Tensor weights, Tensor scale, Tensor zeroPoint, String name,
                int directions, long columns) {
            if (scale == null || zeroPoint == null) {
                throw context.error("int8 " + name + " needs its scale and zero point");
            }
            boolean perColumn = scale.rank() == 2;
            Shape wanted = perColumn ? Shape.of(directions, columns) : Shape.of(directions);
            if (!scale.shape().equals(wanted) || !zeroPoint.shape().equals(wanted) || scale.dtype() != DType.FLOAT
                    || zeroPoint.dtype() != weights.dtype()) {
                throw context.error(name + "'s scale and zero point must be float32 and " + weights.dtype() + " " + wanted
                        + " (or [" + directions + ", " + columns + "]), not " + scale + " and " + zeroPoint);
            }
            int each = perColumn ? (int) columns : 1;
            float[] allScales = scale.contiguous().toFloatArray();
            long[] allZeros = zeroPoint.contiguous().toLongArray();
            float[][] scales = new float[directions][];
            int[][] zeros = new int[directions][each];
            for (int d = 0; d < directions; d++) {
                scales[d] = Arrays.copyOfRange(allScales, d * each, (d + 1) * each);
                for (int j = 0; j < each; j++) {
                    zeros[d][j] = (int) allZeros[d * each + j];
                }
            }
            return new IntegerWeights(weights, weights.dtype() == DType.UINT8, scales, zeros);
        }
    }

    /** Copies {@code count} floats of a contiguous source (from element {@code from}) into the target, or zeros without a source. */
    private static void copyOrZero(Tensor source, long from, Tensor target, long count) {
        if (source == null) {
            target.segment().asSlice(target.offset() * 4, count * 4).fill((byte) 0);
        } else {
            copy(source, from, target, 0, count);
        }
    }

    private static void copy(Tensor source, long from, Tensor target, long to, long count) {
        MemorySegment.copy(source.segment(), (source.offset() + from) * 4, target.segment(), (target.offset() + to) * 4, count * 4);
    }
}
