package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.ops.LinearLayer;
import dev.quanta.graph.ops.ArgReduce;
import dev.quanta.graph.ops.Attention;
import dev.quanta.graph.ops.AttentionMask;
import dev.quanta.graph.ops.Dft;
import dev.quanta.graph.ops.MaskedSoftmax;
import dev.quanta.graph.ops.Reduce;
import dev.quanta.graph.ops.Softmax;
import dev.quanta.graph.KernelContext;
import dev.quanta.kernels.simd.FloatGemm;
import dev.quanta.kernels.simd.Int16Gemm;
import dev.quanta.kernels.simd.Int8Gemv;
import dev.quanta.kernels.simd.FloatRows;
import dev.quanta.kernels.simd.StridedLoop;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Layouts;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/** Matrix products, reductions and softmax. */
final class MathKernels {

    private MathKernels() {
    }

    // ---------------------------------------------------------------- matmul

    static Kernel matMul() {
        PackedWeights weights = new PackedWeights();
        return (context, inputs) -> {
            if (inputs[0].dtype() != inputs[1].dtype()) {
                throw context.error("MatMul needs operands of one type, not " + inputs[0].dtype() + " and "
                        + inputs[1].dtype());
            }
            return new Tensor[] {multiply(context, inputs[0], inputs[1], null, null,
                    context.isConstant(1) ? weights : null)};
        };
    }

    /**
     * A·Bᵀ for float32 A and a 2-D float32 B [N, K] as it lies: few rows of A (its leading dimensions
     * flattened) by dot products along B's rows, the columns split across the threads; more by the
     * GEMM, a constant B packed once from its transposed view.
     */
    static Kernel matMulTransposedB() {
        PackedWeights weights = new PackedWeights();
        return (context, inputs) -> {
            Tensor a = inputs[0];
            Tensor b = inputs[1];
            if (a.dtype() != DType.FLOAT || b.dtype() != DType.FLOAT || b.rank() != 2 || a.rank() == 0) {
                throw context.error("A·Bᵀ takes float32 A of rank 1 or more and a 2-D float32 B, not " + a + " and " + b);
            }
            long k = b.size(1);
            long n = b.size(0);
            if (a.size(a.rank() - 1) != k) {
                throw context.error("A·Bᵀ of " + a + " and " + b + ": inner dimensions " + a.size(a.rank() - 1) + " and "
                        + k + " differ");
            }
            long m = a.elementCount() / Math.max(1, k);
            // Dot products for the few rows the GEMM does not pack for, and for a few more where B is
            // too large to pack once: then the GEMM would pack it anew at every call.
            boolean dots = m < FloatGemm.PACKING_MIN_ROWS
                    || m <= FloatGemm.DOT_ROWS && FloatGemm.packedBytes(Math.toIntExact(k), Math.toIntExact(n)) > PackedWeights.MAX_BYTES;
            if (!dots || k == 0) {
                return new Tensor[] {multiply(context, a, b.permute(1, 0), null, null, context.isConstant(1) ? weights : null, b)};
            }
            Tensor rows = a.contiguous();
            Tensor weightRows = b.contiguous();
            long[] outSizes = a.shape().sizes().clone();
            outSizes[outSizes.length - 1] = n;
            Tensor out = context.allocateForOverwrite(DType.FLOAT, Shape.of(outSizes));
            long tasks = context.threads() == 1 ? 1
                    : Math.clamp(2 * m * n * k / MIN_OPERATIONS_PER_TASK, 1, Math.max(1, Math.min(context.threads(), Math.ceilDiv(n, 4))));
            context.parallel(tasks, task -> {
                // Whole groups of four rows of B a task.
                long first = Math.ceilDiv(n * task / tasks, 4) * 4;
                long end = task + 1 == tasks ? n : Math.ceilDiv(n * (task + 1) / tasks, 4) * 4;
                if (end > first) {
                    FloatGemm.multiplyByRowsOfB(new FloatGemm.Matrix(rows.segment(), rows.offset(), k),
                            new FloatGemm.Matrix(weightRows.segment(), weightRows.offset() + first * k, k),
                            new FloatGemm.Matrix(out.segment(), first, n), (int) m, Math.toIntExact(end - first), Math.toIntExact(k));
                }
            });
            return new Tensor[] {out};
        };
    }

    /**
     * (a − a zero point)·(b − b zero point) in int32, a and b int8 or uint8, by the float GEMM's
     * exact integer mode. A's zero point is per tensor or per row ([M]), B's per tensor or per
     * column ([N]), each of its operand's type. {@code toFloat}: then as float, times inputs[4]
     * (one scale, or one per column) plus inputs[5] if given (a bias per column), each block as
     * soon as its products are done.
     */
    static Kernel matMulInteger(boolean toFloat) {
        PackedWeights weights = new PackedWeights();
        return (context, inputs) -> {
            Tensor a = inputs[0];
            Tensor b = inputs[1];
            for (Tensor operand : new Tensor[] {a, b}) {
                if (operand.dtype() != DType.INT8 && operand.dtype() != DType.UINT8) {
                    throw context.error("MatMulInteger needs int8 or uint8 operands, not " + operand.dtype());
                }
            }
            if (a.rank() == 0 || b.rank() == 0) {
                throw context.error("MatMulInteger needs operands of rank 1 or more, not " + a + " and " + b);
            }
            long rows = a.rank() == 1 ? 1 : a.size(a.rank() - 2);
            long columns = b.rank() == 1 ? 1 : b.size(b.rank() - 1);
            ZeroPoints zeros = new ZeroPoints(
                    zeroPoints(context, a, inputs.length > 2 ? inputs[2] : null, rows, "a", "row of A"),
                    zeroPoints(context, b, inputs.length > 3 ? inputs[3] : null, columns, "b", "column of B"));
            FloatGemm.Dequantization epilogue = null;
            if (toFloat) {
                float[] scale = floats(context, inputs[4], columns, true, "scale", "column");
                float[] bias = inputs.length > 5 && inputs[5] != null
                        ? floats(context, inputs[5], columns, false, "bias", "column")
                        : null;
                epilogue = new FloatGemm.Dequantization(scale, bias);
            }
            // B's zero points go into its packing, so they must be as constant as B.
            boolean constantB = context.isConstant(1) && (inputs.length <= 3 || inputs[3] == null || context.isConstant(3));
            return new Tensor[] {multiply(context, a, b, zeros, epilogue, constantB ? weights : null)};
        };
    }

    /**
     * {@link LinearLayer}: the product as MatMul or A·Wᵀ computes it, then each row plus the bias and
     * through the activation, in place, as the Add and the activation nodes would compute them (the
     * same vector kernels, so the same bits).
     */
    static Kernel linearLayer(LinearLayer op) {
        Kernel product = op.transposedB() ? matMulTransposedB() : matMul();
        FloatRows.Function activation = op.activation() == null ? null : ElementwiseKernels.vectorFunction(op.activation());
        float alpha = op.activation() == null ? 0 : (float) op.activation().alpha();
        float beta = op.activation() == null ? 0 : (float) op.activation().beta();
        return (context, inputs) -> {
            Tensor bias = inputs[2];
            Tensor out = product.run(context, new Tensor[] {inputs[0], inputs[1]})[0];
            long n = bias.elementCount();
            if (bias.dtype() != DType.FLOAT || bias.rank() != 1 || out.dtype() != DType.FLOAT || out.rank() == 0
                    || out.size(out.rank() - 1) != n || !out.isContiguous()) {
                throw context.error("a Linear layer adds a 1-D float32 bias along its product's last axis, not " + bias
                        + " to " + out);
            }
            Tensor biasRow = bias.contiguous();
            long rows = n == 0 ? 0 : out.elementCount() / n;
            long tasks = ElementwiseKernels.blocks(context, out.elementCount(), rows);
            context.parallel(tasks, task -> {
                for (long row = task * rows / tasks; row < (task + 1) * rows / tasks; row++) {
                    long at = out.byteOffset() + row * n * 4;
                    FloatRows.binary(FloatRows.Op.ADD, out.segment(), at, false, biasRow.segment(), biasRow.byteOffset(), false,
                            out.segment(), at, n);
                    if (activation != null) {
                        FloatRows.unary(activation, alpha, beta, out.segment(), at, out.segment(), at, n);
                    }
                }
            });
            return new Tensor[] {out};
        };
    }

    /**
     * DynamicQuantizeMatMul, inputs (a, b, bScale, bZeroPoint?, bias?): {@link
     * QuantizationKernels#dynamicQuantize}'s bytes, scale and zero point of A, then {@link
     * #matMulInteger}'s product scaled by a_scale·bScale, each product rounded as a Mul node rounds
     * it. The bytes are this node's scratch; the constant B is packed once, as for MatMulIntegerToFloat.
     */
    static Kernel dynamicQuantizeMatMul() {
        Kernel quantize = QuantizationKernels.dynamicQuantize();
        Kernel product = matMulInteger(true);
        return (context, inputs) -> {
            Tensor b = inputs[1];
            if (b.rank() == 0) {
                throw context.error("DynamicQuantizeMatMul needs a B of rank 1 or more, not " + b);
            }
            Tensor[] quantized = quantize.run(context, new Tensor[] {inputs[0]});
            float aScale = quantized[1].toFloatArray()[0];
            float[] scale = floats(context, inputs[2], b.rank() == 1 ? 1 : b.size(b.rank() - 1), true, "b_scale", "column");
            for (int j = 0; j < scale.length; j++) {
                scale[j] *= aScale;
            }
            Tensor[] integerInputs = {quantized[0], inputs[1], quantized[2], inputs.length > 3 ? inputs[3] : null,
                    context.arena().fromFloats(scale, scale.length), inputs.length > 4 ? inputs[4] : null};
            return product.run(context, integerInputs);
        };
    }

    /**
     * QLinearMatMul with float32 scales, inputs (a, b, aZero, bZero, aScale, bScale, yScale, yZero):
     * {@link #matMulInteger}'s exact int32 product (constant weights packed once), then each row
     * requantized by vectors on every thread.
     */
    static Kernel qLinearMatMul() {
        Kernel product = matMulInteger(false);
        return (context, inputs) -> {
            Tensor sums = product.run(context, Arrays.copyOf(inputs, 4))[0];
            Tensor a = inputs[0];
            Tensor b = inputs[1];
            long rows = a.rank() == 1 ? 1 : a.size(a.rank() - 2);
            long columns = b.rank() == 1 ? 1 : b.size(b.rank() - 1);
            float[] rowScales = floats(context, inputs[4], rows, true, "a_scale", "row of A");
            float[] columnScales = floats(context, inputs[5], columns, true, "b_scale", "column of B");
            float outScale = floats(context, inputs[6], 1, true, "y_scale", "tensor")[0];
            Tensor zeroPoint = inputs[7];
            int zero = outputZeroPoint(context, zeroPoint);
            int low = zeroPoint.dtype() == DType.INT8 ? Byte.MIN_VALUE : 0;
            Tensor y = context.allocate(zeroPoint.dtype(), sums.shape());
            // The sums are dense: lines of one row's columns, row after row (a 1-D B leaves one column a row).
            long width = b.rank() == 1 ? 1 : columns;
            long lines = width == 0 ? 0 : sums.elementCount() / width;
            context.parallel(lines, line -> FloatRows.requantize(sums.segment(), sums.byteOffset() + line * width * 4,
                    y.segment(), y.byteOffset() + line * width, width, 0,
                    rowScales[rowScales.length == 1 ? 0 : (int) (line % rows)], columnScales, outScale, zero, low, low + 255));
            return new Tensor[] {y};
        };
    }

    /** The value of a requantized output's zero point, which must be one int8 or uint8 value. */
    static int outputZeroPoint(KernelContext context, Tensor zeroPoint) {
        if (zeroPoint.elementCount() != 1 || (zeroPoint.dtype() != DType.INT8 && zeroPoint.dtype() != DType.UINT8)) {
            throw context.error("y_zero_point must be one int8 or uint8 value, not " + zeroPoint);
        }
        return (int) zeroPoint.loadLong(zeroPoint.offset());
    }

    /** float32 values: one per {@code each} ({@code count} of them), or one for all when {@code oneAllowed}. */
    static float[] floats(KernelContext context, Tensor values, long count, boolean oneAllowed, String name,
            String each) {
        long found = values.shape().elementCount();
        if (values.dtype() != DType.FLOAT || !(found == count || oneAllowed && found == 1)) {
            throw context.error("the " + name + " must be float32 with " + (oneAllowed ? "one value or " : "")
                    + "one per " + each + " (" + count + "), not " + values);
        }
        return values.contiguous().toFloatArray();
    }

    /** The zero points of int8 operands: one for all, or one per row of A and per column of B. */
    private record ZeroPoints(int[] a, int[] b) {
    }

    private static int[] zeroPoints(KernelContext context, Tensor operand, Tensor zeroPoint, long count, String name,
            String each) {
        if (zeroPoint == null) {
            return new int[1];
        }
        if (zeroPoint.dtype() != operand.dtype()) {
            throw context.error("a " + name + "_zero_point of " + zeroPoint.dtype() + " for an operand of " + operand.dtype());
        }
        long values = zeroPoint.shape().elementCount();
        if (values != 1 && values != count) {
            throw context.error(name + "_zero_point " + zeroPoint.shape() + " must hold one value, or one per " + each
                    + " (" + count + ")");
        }
        int[] zeros = new int[(int) values];
        Tensor flat = zeroPoint.contiguous().reshape(values);
        for (int i = 0; i < zeros.length; i++) {
            zeros[i] = (int) flat.loadLong(flat.offset() + i);
        }
        return zeros;
    }

    /**
     * Rows of A per task below which a product's columns are split across threads instead. Splitting
     * rows packs each row of A once, where every block of columns packs its rows again: at 128×384×384
     * on two threads, eight tasks of 18 rows ran 10–20% faster than ten of 30 rows by 192 columns
     * (measured once, with a throwaway harness of the kernel and the pool).
     */
    private static final long MIN_ROWS_PER_TASK = 12;
    /** Multiply-adds (counted twice) below which a product is not worth another task. */
    private static final long MIN_OPERATIONS_PER_TASK = 1 << 17;
    private static final long TASKS_PER_THREAD = 4;
    /** Columns per task when splitting columns: whole panels of B (of the float GEMM and of {@link Int16Gemm}) and whole strips of {@link Int8Gemv}, at any vector width. */
    private static final long MIN_COLUMNS_PER_TASK = 64;

    /** numpy matmul of two tensors of one dtype. */
    static Tensor multiply(KernelContext context, Tensor a, Tensor b) {
        return multiply(context, a, b, null, null, null);
    }

    /**
     * A constant B of one node, packed the first time a product needs it, then shared by every run and
     * thread: for the GEMM when a product has rows enough for it (in 16-bit lanes for {@link
     * Int16Gemm} when it is an int8 B whose columns span at most 254 values and the processor takes
     * that kernel, {@link Int16Gemm#CHOSEN}, else as floats), and for {@link Int8Gemv} when
     * an integer product has fewer (each form only when some product wants it). Each is kept only
     * while it stays within a budget.
     */
    private static final class PackedWeights {
        /** The GEMM's packed weights cost four bytes an element (two for the 16-bit kernel), the few-row kernel's one: past this, products read B as it lies. */
        private static final long MAX_BYTES = 64L << 20;
        private Tensor source;
        private GemmWeights packed;
        private Tensor fewRowsSource;
        private Int8Gemv.Packed fewRows;

        synchronized GemmWeights of(Tensor b, FloatGemm.Operand contiguous, int k, int n) {
            if (source != b) {
                Int16Gemm.Packed lanes16 = Int16Gemm.CHOSEN && contiguous instanceof FloatGemm.Int8Matrix bytes
                        && Int16Gemm.packedBytes(k, n) <= MAX_BYTES ? Int16Gemm.pack(bytes, k, n) : null;
                // A B read by columns (Linear weights as they lie) is packed whatever its size: each call
                // would gather it again (EnvCNN at batch 16, side by side: 25.1 ms a run with a transposed copy
                // packed at each call, as before, 12.5 packed once).
                packed = lanes16 != null ? new GemmWeights(null, lanes16)
                        : FloatGemm.packedBytes(k, n) <= MAX_BYTES || contiguous instanceof FloatGemm.ByColumns
                        ? new GemmWeights(FloatGemm.pack(contiguous, k, n), null)
                        : new GemmWeights(null, null);
                source = b;
            }
            return packed;
        }

        synchronized Int8Gemv.Packed forFewRows(Tensor b, FloatGemm.Int8Matrix contiguous, int k, int n) {
            if (fewRowsSource != b) {
                fewRows = (long) k * n <= MAX_BYTES ? Int8Gemv.pack(contiguous, k, n) : null;
                fewRowsSource = b;
            }
            return fewRows;
        }
    }

    /** A constant B packed for the GEMM: for the 16-bit kernel, or as floats, or neither (past the budget). */
    private record GemmWeights(FloatGemm.PackedB floats, Int16Gemm.Packed lanes16) {
    }

    /**
     * With {@code integers}, int8/uint8 operands less their zero points, multiplied exactly into int32;
     * with {@code weights}, B is a constant that may be packed once.
     */
    private static Tensor multiply(KernelContext context, Tensor a, Tensor b, ZeroPoints integers,
            FloatGemm.Dequantization epilogue, PackedWeights weights) {
        return multiply(context, a, b, integers, epilogue, weights, b);
    }

    /** As above, a packed B kept for as long as {@code constantB} is the node's B (B itself, or what B views). */
    private static Tensor multiply(KernelContext context, Tensor a, Tensor b, ZeroPoints integers,
            FloatGemm.Dequantization epilogue, PackedWeights weights, Tensor constantB) {
        if (a.rank() == 0 || b.rank() == 0) {
            throw context.error("MatMul needs operands of rank 1 or more, not " + a + " and " + b);
        }
        Tensor a2 = a.rank() == 1 ? a.unsqueeze(0) : a;
        Tensor b2 = b.rank() == 1 ? b.unsqueeze(1) : b;
        long m = a2.size(a2.rank() - 2);
        long k = a2.size(a2.rank() - 1);
        long n = b2.size(b2.rank() - 1);
        if (b2.size(b2.rank() - 2) != k) {
            throw context.error("MatMul of " + a + " and " + b + ": inner dimensions " + k + " and "
                    + b2.size(b2.rank() - 2) + " differ");
        }
        long[] aBatch = Arrays.copyOf(a2.shape().sizes(), a2.rank() - 2);
        if (a.rank() > 2 && b.rank() == 2 && k > 0 && (integers == null || integers.a().length == 1) && rowsStackUp(a)) {
            // Rows stacked along leading axes times one 2-D B are one product of all the rows: batched,
            // each of ViT-B/16's 197 rows of [197, 1, 768] (sequence, batch, hidden) had been a product
            // of its own, each reading all of its 768×2304 weights (20.8 ms a layer).
            Tensor product = multiply(context, a.reshape(a.elementCount() / k, k), b, integers, epilogue, weights, constantB);
            return product.reshape(concat(aBatch, m, n));
        }
        long[] bBatch = Arrays.copyOf(b2.shape().sizes(), b2.rank() - 2);
        long[] batch = Shape.broadcast(Shape.of(aBatch), Shape.of(bBatch)).sizes();
        // With an epilogue the integer sums land in the float output and are converted there.
        // Every task writes its block whole.
        Tensor out = context.allocateForOverwrite(epilogue != null ? DType.FLOAT : integers != null ? DType.INT32 : a.dtype(),
                Shape.of(concat(batch, m, n)));
        boolean gemm = integers != null || a.dtype() == DType.FLOAT;
        // The GEMM reads rows at any stride, so operands whose rows are contiguous (attention's
        // per-head views of Q and V) are read where they lie; the scalar loops want them dense.
        Tensor av = (gemm && rowsContiguous(a2) ? a2 : context.contiguous(a2)).broadcastTo(concat(batch, m, k));
        // A float B whose columns lie contiguous (a transposed view, attention's Kᵀ) is packed from
        // where it lies by every task: copying it first took 82 µs a layer of the MiniLM, on one thread.
        boolean byColumns = integers == null && a.dtype() == DType.FLOAT && m >= FloatGemm.PACKING_MIN_ROWS
                && !rowsContiguous(b2) && b2.strides()[b2.rank() - 2] == 1;
        Tensor bv = (gemm && (byColumns || rowsContiguous(b2)) ? b2 : context.contiguous(b2)).broadcastTo(concat(batch, k, n));
        long aRowStride = av.strides()[av.rank() - 2];
        long bRowStride = bv.strides()[bv.rank() - 2];
        long bColumnStride = bv.strides()[bv.rank() - 1];
        long batches = Shape.of(batch).elementCount();
        long[] aStrides = av.strides();
        long[] bStrides = bv.strides();
        // Threads split the batches when there are enough of them, else each product: by rows when
        // there are enough to share (each task packs its rows of A, and B unless it is packed once),
        // and by columns to make up the tasks wanted (M = 1 above all) when the GEMM does the product;
        // the scalar fallbacks take whole rows. A few tasks per thread, so that none waits long for a
        // slow one, but none too small to pay for itself; one thread alone takes the product whole.
        int threads = context.threads();
        boolean splitBatches = batches >= threads;
        // Fewer rows than the GEMM packs for (M = 1 above all) take a task a thread: each task
        // prepares A again and the work is even. A one-node MatMulInteger session of 1×384×1536 on
        // two threads ran 8.28–8.62 µs a call in eight tasks, 7.97–8.16 in two (the VM's fast phases,
        // seven JVMs of each build alternating).
        long taskLimit = m < FloatGemm.PACKING_MIN_ROWS ? threads : TASKS_PER_THREAD * threads;
        long wanted = threads == 1 ? 1 : Math.clamp(2 * m * n * k / MIN_OPERATIONS_PER_TASK, 1, taskLimit);
        long rowBlocks = splitBatches ? 1 : Math.clamp(m / MIN_ROWS_PER_TASK, 1, wanted);
        long columnBlocks = splitBatches || !gemm ? 1 : Math.clamp(Math.ceilDiv(n, MIN_COLUMNS_PER_TASK), 1, Math.ceilDiv(wanted, rowBlocks));
        long columnBlock = Math.ceilDiv(Math.ceilDiv(n, columnBlocks), MIN_COLUMNS_PER_TASK) * MIN_COLUMNS_PER_TASK;
        // A constant 2-D B is packed once: for the GEMM when the product has rows enough for the
        // packed kernel, for the few-row kernel when an integer product has fewer.
        GemmWeights packed = null;
        Int8Gemv.Packed packedForFewRows = null;
        if (weights != null && gemm && b2.rank() == 2) {
            FloatGemm.Operand whole = integers != null
                    ? new FloatGemm.Int8Matrix(bv.segment(), bv.offset(), bRowStride, b.dtype() == DType.UINT8, integers.b(), true, 0)
                    : byColumns ? new FloatGemm.ByColumns(bv.segment(), bv.offset(), bColumnStride)
                    : new FloatGemm.Matrix(bv.segment(), bv.offset(), bRowStride);
            if (m >= FloatGemm.PACKING_MIN_ROWS || integers == null) {
                packed = weights.of(constantB, whole, Math.toIntExact(k), Math.toIntExact(n));
            } else if (whole instanceof FloatGemm.Int8Matrix bytes) {
                packedForFewRows = weights.forFewRows(constantB, bytes, Math.toIntExact(k), Math.toIntExact(n));
            }
        }
        FloatGemm.PackedB packedB = packed == null ? null : packed.floats();
        Int16Gemm.Packed lanes16B = packed == null ? null : packed.lanes16();
        Int8Gemv.Packed fewRows = packedForFewRows;
        if (wanted > 1 && splitsColumnsOfPackedB(batches, m, k, n, packedB)) {
            FloatGemm.Operand rowsOfA = integers != null
                    ? new FloatGemm.Int8Matrix(av.segment(), av.offset(), aRowStride, a.dtype() == DType.UINT8, integers.a(), false, 0)
                    : new FloatGemm.Matrix(av.segment(), av.offset(), aRowStride);
            multiplyByColumns(context, rowsOfA, packedB, new FloatGemm.Matrix(out.segment(), out.offset(), n),
                    Math.toIntExact(m), Math.toIntExact(n), Math.toIntExact(k), epilogue, wanted);
            return withoutUnitDimensions(out, a, b);
        }
        // Rows go to tasks in whole micro-kernel tiles where the GEMM runs, in chunks that shrink as
        // they are taken (guided scheduling): the first ones large, each reading B once for many rows,
        // the last ones small, so that neither thread waits long for the other's last chunk. 128 rows
        // are 22 six-row tiles: chunks of 6, 4, 3, 3, 2, 2 and 2 tiles on two threads, where eight
        // even chunks of 2 or 3 made the caller wait 83–123 µs at the end of a 128×384×1536 product
        // and the product took 10–20% longer (a throwaway harness of the kernel and the pool).
        // A chunk has two tiles or more, so the last, partial tile never stands alone with too few
        // rows for the packed kernel.
        long tile = lanes16B != null ? Int16Gemm.ROWS : gemm && m >= FloatGemm.PACKING_MIN_ROWS ? FloatGemm.ROWS : 1;
        long tiles = Math.ceilDiv(m, tile);
        long leastTiles = Math.max(Math.ceilDiv(MIN_ROWS_PER_TASK, tile), tiles / (2 * rowBlocks));
        long[] rowStarts = rowBlocks == 1 ? new long[] {0, tiles} : guidedChunks(tiles, leastTiles, threads);
        // The smallest chunks, the last ones taken, are split by columns too, a piece a thread, so
        // that the wait at the end shrinks again (pieces of whole panels and strips): 0.4–0.6 ms off
        // the int8 MiniLM's 28–32 ms on two threads (one JVM switching between the two, three runs).
        boolean splitTail = rowBlocks > 1 && columnBlocks == 1 && gemm && n >= 2 * MIN_COLUMNS_PER_TASK;
        long tailBlock = Math.ceilDiv(Math.ceilDiv(n, threads), MIN_COLUMNS_PER_TASK) * MIN_COLUMNS_PER_TASK;
        int maxTasks = (rowStarts.length - 1) * (int) Math.max(columnBlocks, threads);
        int[] taskChunk = new int[maxTasks];
        long[] taskColumn = new long[maxTasks];
        long[] taskWidth = new long[maxTasks];
        int blocks = 0;
        // The caller takes tasks from the first on and the helpers from the last back (IntraOpPool):
        // the chunks alternate between the two ends, so that each end takes them largest first.
        int chunks = rowStarts.length - 1;
        for (int position = 0; position < chunks; position++) {
            int chunk = position < (chunks + 1) / 2 ? 2 * position : 2 * (chunks - 1 - position) + 1;
            boolean tail = splitTail && rowStarts[chunk + 1] - rowStarts[chunk] <= leastTiles;
            long width = Math.max(1, tail ? tailBlock : columnBlock);
            long column = 0;
            do {
                taskChunk[blocks] = chunk;
                taskColumn[blocks] = column;
                taskWidth[blocks++] = Math.min(width, n - column);
                column += width;
            } while (column < n);
        }
        int tasksPerBatch = blocks;
        context.parallel(batches * tasksPerBatch, task -> {
            long i = task / tasksPerBatch;
            int block = (int) (task % tasksPerBatch);
            long firstRow = rowStarts[taskChunk[block]] * tile;
            long firstColumn = taskColumn[block];
            long rows = Math.min(rowStarts[taskChunk[block] + 1] * tile, m) - firstRow;
            long columns = taskWidth[block];
            if (rows <= 0 || columns <= 0) {
                return;
            }
            long aOffset = av.offset() + firstRow * aRowStride;
            long bOffset = bv.offset() + firstColumn * bColumnStride;
            long flat = i;
            for (int d = batch.length - 1; d >= 0; d--) {
                long index = flat % batch[d];
                flat /= batch[d];
                aOffset += index * aStrides[d];
                bOffset += index * bStrides[d];
            }
            long outOffset = i * m * n + firstRow * n + firstColumn;
            if (integers != null) {
                FloatGemm.Int8Matrix aBlock = new FloatGemm.Int8Matrix(av.segment(), aOffset, aRowStride, a.dtype() == DType.UINT8,
                        integers.a(), false, (int) firstRow);
                FloatGemm.Matrix cBlock = new FloatGemm.Matrix(out.segment(), outOffset, n);
                if (lanes16B != null) {
                    Int16Gemm.multiply(aBlock, lanes16B, (int) firstColumn, cBlock, Math.toIntExact(rows),
                            Math.toIntExact(columns), Math.toIntExact(k), epilogue);
                    return;
                }
                if (packedB != null) {
                    // The sums become floats as they leave the micro-kernel.
                    FloatGemm.multiplyIntegers(aBlock, packedB, (int) firstColumn, cBlock, Math.toIntExact(rows),
                            Math.toIntExact(columns), Math.toIntExact(k), epilogue);
                    return;
                }
                if (fewRows != null) {
                    Int8Gemv.multiply(aBlock, fewRows, (int) firstColumn, cBlock, Math.toIntExact(rows),
                            Math.toIntExact(columns), Math.toIntExact(k));
                } else {
                    FloatGemm.multiplyIntegers(aBlock, new FloatGemm.Int8Matrix(bv.segment(), bOffset, bRowStride,
                            b.dtype() == DType.UINT8, integers.b(), true, (int) firstColumn), cBlock,
                            Math.toIntExact(rows), Math.toIntExact(columns), Math.toIntExact(k));
                }
                if (epilogue != null) {
                    FloatRows.dequantize(out.segment(), outOffset * 4, n, rows, columns, epilogue.scale(), epilogue.bias(),
                            (int) firstColumn);
                }
            } else if (a.dtype() == DType.FLOAT) {
                FloatGemm.Matrix aBlock = new FloatGemm.Matrix(av.segment(), aOffset, aRowStride);
                FloatGemm.Matrix cBlock = new FloatGemm.Matrix(out.segment(), outOffset, n);
                if (packedB != null) {
                    FloatGemm.multiply(aBlock, packedB, (int) firstColumn, cBlock, Math.toIntExact(rows),
                            Math.toIntExact(columns), Math.toIntExact(k), false);
                } else if (byColumns) {
                    // Tasks hold whole tiles, two or more, or all of A's rows: never fewer than the packed kernel needs.
                    FloatGemm.multiply(aBlock, new FloatGemm.ByColumns(bv.segment(), bOffset, bColumnStride), cBlock,
                            Math.toIntExact(rows), Math.toIntExact(columns), Math.toIntExact(k), false);
                } else {
                    FloatGemm.multiply(aBlock, new FloatGemm.Matrix(bv.segment(), bOffset, bRowStride), cBlock,
                            Math.toIntExact(rows), Math.toIntExact(columns), Math.toIntExact(k), false);
                }
            } else if (a.dtype() == DType.INT32) {
                int32(av, aOffset, bv, bOffset, out, outOffset, (int) rows, (int) n, (int) k);
            } else {
                generic(av, aOffset, bv, bOffset, out, outOffset, rows, n, k);
            }
        });
        return withoutUnitDimensions(out, a, b);
    }

    /**
     * Whether A's leading axes and its rows lie one stride apart all through (axes of size 1 aside),
     * so that they view as the rows of one matrix.
     */
    private static boolean rowsStackUp(Tensor a) {
        long[] sizes = a.shape().sizes();
        long[] strides = a.strides();
        long next = -1;
        for (int axis = a.rank() - 2; axis >= 0; axis--) {
            if (sizes[axis] == 1) {
                continue;
            }
            if (next >= 0 && strides[axis] != next) {
                return false;
            }
            next = strides[axis] * sizes[axis];
        }
        return true;
    }

    /** The product of 2-D views back to numpy's shape: without the rows or columns a vector operand added. */
    private static Tensor withoutUnitDimensions(Tensor out, Tensor a, Tensor b) {
        if (a.rank() == 1 || b.rank() == 1) {
            long[] sizes = out.shape().sizes();
            int rank = sizes.length;
            long[] result = a.rank() == 1 && b.rank() == 1 ? new long[0]
                    : a.rank() == 1 ? remove(sizes, rank - 2) : remove(sizes, rank - 1);
            return out.reshape(result);
        }
        return out;
    }

    /**
     * The most bytes of A packed once and shared by every task of a product with a packed B (in L2
     * on both machines measured: 2 MiB a core on the Xeon, 1 MiB on Zen 4).
     */
    private static final long SHARED_A_BYTES = 1 << 20;
    /**
     * The calling thread's room for a shared packed A: a product's tasks only call the kernels, so
     * the thread never packs another A while one is in use.
     */
    private static final ThreadLocal<float[]> SHARED_A = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * Whether a product of one batch with a packed float or int8 B (not the 16-bit kernel's) splits
     * B's columns among the tasks, A packed once for all of them: a model's weights come from the
     * outer caches, and with the rows split every task had read all of B. In the int8 MiniLM at
     * 128 tokens on two threads, the 128×384×1536 and 128×384×1152 products took 0.63 and 0.48 ms
     * with each task packing all of A against 0.73 and 0.55 with rows split (one profile each,
     * twentieth session), and packing A once saves the rest.
     */
    private static boolean splitsColumnsOfPackedB(long batches, long m, long k, long n, FloatGemm.PackedB packedB) {
        return packedB != null && batches == 1 && m >= FloatGemm.PACKING_MIN_ROWS
                && FloatGemm.packedAFloats(Math.toIntExact(m), Math.toIntExact(k)) * 4 <= SHARED_A_BYTES
                && n >= 2 * MIN_COLUMNS_PER_TASK;
    }

    /** C = A·B for a packed B: A packed once, its parts across the tasks, then B's columns split among them. */
    private static void multiplyByColumns(KernelContext context, FloatGemm.Operand a, FloatGemm.PackedB b,
            FloatGemm.Matrix c, int m, int n, int k, FloatGemm.Dequantization epilogue, long tasks) {
        float[] room = SHARED_A.get();
        if (room.length < FloatGemm.packedAFloats(m, k)) {
            room = new float[Math.toIntExact(FloatGemm.packedAFloats(m, k))];
            SHARED_A.set(room);
        }
        FloatGemm.PackedA packed = FloatGemm.packA(a, m, k, b, room);
        context.parallel(packed.parts(), part -> packed.fill((int) part));
        long width = Math.ceilDiv(Math.ceilDiv(n, Math.clamp(tasks, 1, Math.ceilDiv(n, MIN_COLUMNS_PER_TASK))),
                MIN_COLUMNS_PER_TASK) * MIN_COLUMNS_PER_TASK;
        context.parallel(Math.ceilDiv(n, width), task -> {
            int first = Math.toIntExact(task * width);
            FloatGemm.multiply(packed, b, first, new FloatGemm.Matrix(c.segment(), c.offset() + first, c.rowStride()),
                    (int) Math.min(width, n - first), epilogue);
        });
    }

    /**
     * Where each chunk of {@code count} units starts, and the end: each chunk a share of what is
     * left (a quarter of it on two threads), at least {@code least} units, and the last chunk never
     * fewer than that.
     */
    static long[] guidedChunks(long count, long least, int threads) {
        long[] starts = new long[(int) Math.min(count, 64) + 1];
        int chunks = 0;
        for (long at = 0; at < count; ) {
            long left = count - at;
            long size = Math.max(least, Math.ceilDiv(left, 2L * threads));
            at += left - size < least || chunks == starts.length - 2 ? left : size;
            starts[++chunks] = at;
        }
        return Arrays.copyOf(starts, chunks + 1);
    }

    /** Whether a matrix view (rank 2 or more) has each row contiguous, whatever the rows' stride. */
    private static boolean rowsContiguous(Tensor matrix) {
        return matrix.strides()[matrix.rank() - 1] == 1;
    }

    /** int32 products accumulated in int32, wrapping as ONNX Runtime's do. */
    private static void int32(Tensor a, long aOffset, Tensor b, long bOffset, Tensor out, long outOffset, int m, int n,
            int k) {
        int[] bRows = b.segment().asSlice(bOffset * 4, (long) k * n * 4).toArray(Layouts.INT32);
        int[] row = new int[n];
        for (int i = 0; i < m; i++) {
            Arrays.fill(row, 0);
            for (int p = 0; p < k; p++) {
                int value = a.segment().get(Layouts.INT32, (aOffset + (long) i * k + p) * 4);
                if (value != 0) {
                    for (int j = 0, at = p * n; j < n; j++) {
                        row[j] += value * bRows[at + j];
                    }
                }
            }
            MemorySegment.copy(row, 0, out.segment(), Layouts.INT32, (outOffset + (long) i * n) * 4, n);
        }
    }

    private static void generic(Tensor a, long aOffset, Tensor b, long bOffset, Tensor out, long outOffset, long m,
            long n, long k) {
        boolean floating = a.dtype().isFloatingPoint();
        for (long i = 0; i < m; i++) {
            for (long j = 0; j < n; j++) {
                double sum = 0;
                long integerSum = 0;
                for (long p = 0; p < k; p++) {
                    long pa = aOffset + i * k + p;
                    long pb = bOffset + p * n + j;
                    if (floating) {
                        sum += a.loadDouble(pa) * b.loadDouble(pb);
                    } else {
                        integerSum += a.loadLong(pa) * b.loadLong(pb);
                    }
                }
                if (floating) {
                    out.storeDouble(outOffset + i * n + j, sum);
                } else {
                    out.storeLong(outOffset + i * n + j, integerSum);
                }
            }
        }
    }

    // ---------------------------------------------------------------- reductions

    static Kernel reduce(Reduce op) {
        return (context, inputs) -> {
            Tensor data = inputs[0];
            int rank = data.rank();
            long[] axes = inputs.length > 1 && inputs[1] != null ? ShapeKernels.longs(inputs[1], context, "axes")
                    : new long[0];
            if (axes.length == 0 && op.noopWithEmptyAxes()) {
                return new Tensor[] {data};
            }
            boolean[] reduced = new boolean[rank];
            if (axes.length == 0) {
                Arrays.fill(reduced, true);
            }
            for (long axis : axes) {
                reduced[Shape.normalizeAxis(axis, rank)] = true;
            }
            int[] perm = new int[rank];
            int p = 0;
            long outer = 1;
            long inner = 1;
            long[] outSizes = new long[rank];
            int kept = 0;
            for (int d = 0; d < rank; d++) {
                if (!reduced[d]) {
                    perm[p++] = d;
                    outer *= data.size(d);
                    outSizes[kept++] = data.size(d);
                }
            }
            for (int d = 0; d < rank; d++) {
                if (reduced[d]) {
                    perm[p++] = d;
                    inner *= data.size(d);
                }
            }
            long[] shape;
            if (op.keepDims()) {
                shape = data.shape().sizes();
                for (int d = 0; d < rank; d++) {
                    if (reduced[d]) {
                        shape[d] = 1;
                    }
                }
            } else {
                shape = Arrays.copyOf(outSizes, kept);
            }
            Tensor rows = data.permute(perm).reshape(outer, inner);
            Tensor out = context.allocate(data.dtype(), Shape.of(shape));
            boolean floating = data.dtype().isFloatingPoint();
            if (data.dtype() == DType.FLOAT && rows.strides()[1] == 1
                    && (op.kind() == Reduce.Kind.SUM || op.kind() == Reduce.Kind.MEAN || op.kind() == Reduce.Kind.MAX)) {
                // Rows whose values lie contiguous (the trailing axes reduced: a squeeze-and-excite block's
                // mean over each plane) by vectors, the rows across the threads: element by element in
                // double, a mean over each plane of 32×112×112 took 1.10 ms, 0.015 so (two threads).
                long rowCount = outer;
                long length = inner;
                long blocks = ElementwiseKernels.blocks(context, rowCount * length, rowCount);
                long rowsPerBlock = Math.ceilDiv(rowCount, blocks);
                context.parallel(blocks, block -> {
                    for (long row = block * rowsPerBlock; row < Math.min(rowCount, (block + 1) * rowsPerBlock); row++) {
                        long at = (rows.offset() + row * rows.strides()[0]) * 4;
                        out.storeDouble(row, op.kind() == Reduce.Kind.MAX ? FloatRows.max(rows.segment(), at, length)
                                : FloatRows.blockSum(rows.segment(), at, length) / (op.kind() == Reduce.Kind.MEAN ? length : 1));
                    }
                });
                return new Tensor[] {out};
            }
            for (long row = 0; row < outer; row++) {
                long base = rows.offset() + row * rows.strides()[0];
                long stride = rows.strides()[1];
                double value = reduceRow(op.kind(), rows, base, stride, inner);
                if (floating || needsDouble(op.kind())) {
                    out.storeDouble(row, value);
                } else {
                    out.storeLong(row, (long) value);
                }
            }
            if (!floating && !needsDouble(op.kind()) && data.dtype() == DType.INT64) {
                // int64 sums and products can exceed double's 53 bits: redo them exactly.
                for (long row = 0; row < outer; row++) {
                    long base = rows.offset() + row * rows.strides()[0];
                    out.storeLong(row, reduceRowExactly(op.kind(), rows, base, rows.strides()[1], inner));
                }
            }
            return new Tensor[] {out};
        };
    }

    private static boolean needsDouble(Reduce.Kind kind) {
        return switch (kind) {
            case SUM, MAX, MIN, PROD -> false;
            default -> true;
        };
    }

    private static double reduceRow(Reduce.Kind kind, Tensor rows, long base, long stride, long length) {
        double result = switch (kind) {
            case SUM, MEAN, L1, L2, SUM_SQUARE, LOG_SUM, LOG_SUM_EXP -> 0;
            case PROD -> 1;
            case MAX -> Double.NEGATIVE_INFINITY;
            case MIN -> Double.POSITIVE_INFINITY;
        };
        double max = Double.NEGATIVE_INFINITY;
        if (kind == Reduce.Kind.LOG_SUM_EXP) {
            for (long i = 0; i < length; i++) {
                max = Math.max(max, rows.loadDouble(base + i * stride));
            }
            if (Double.isInfinite(max)) {
                max = 0;
            }
        }
        for (long i = 0; i < length; i++) {
            double x = rows.loadDouble(base + i * stride);
            result = switch (kind) {
                case SUM, MEAN, LOG_SUM -> result + x;
                case PROD -> result * x;
                case MAX -> Double.isNaN(x) || Double.isNaN(result) ? Double.NaN : Math.max(result, x);
                case MIN -> Double.isNaN(x) || Double.isNaN(result) ? Double.NaN : Math.min(result, x);
                case L1 -> result + Math.abs(x);
                case L2, SUM_SQUARE -> result + x * x;
                case LOG_SUM_EXP -> result + Math.exp(x - max);
            };
        }
        return switch (kind) {
            case MEAN -> result / length;
            case L2 -> Math.sqrt(result);
            case LOG_SUM -> Math.log(result);
            case LOG_SUM_EXP -> Math.log(result) + max;
            default -> result;
        };
    }

    private static long reduceRowExactly(Reduce.Kind kind, Tensor rows, long base, long stride, long length) {
        long result = switch (kind) {
            case PROD -> 1;
            case MAX -> Long.MIN_VALUE;
            case MIN -> Long.MAX_VALUE;
            default -> 0;
        };
        for (long i = 0; i < length; i++) {
            long x = rows.loadLong(base + i * stride);
            result = switch (kind) {
                case PROD -> result * x;
                case MAX -> Math.max(result, x);
                case MIN -> Math.min(result, x);
                default -> result + x;
            };
        }
        return result;
    }

    static Kernel argReduce(ArgReduce op) {
        return (context, inputs) -> {
            Tensor data = inputs[0];
            int rank = data.rank();
            int axis = Shape.normalizeAxis(op.axis(), rank);
            long size = data.size(axis);
            if (size == 0) {
                throw context.error("Arg" + (op.max() ? "Max" : "Min") + " over the empty axis " + axis + " of " + data);
            }
            int[] perm = new int[rank];
            long[] outSizes = data.shape().sizes();
            for (int d = 0, p = 0; d < rank; d++) {
                if (d != axis) {
                    perm[p++] = d;
                }
            }
            perm[rank - 1] = axis;
            long outer = data.elementCount() / size;
            Tensor rows = data.permute(perm).reshape(outer, size);
            outSizes[axis] = 1;
            Tensor out = context.allocate(DType.INT64, Shape.of(op.keepDims() ? outSizes : remove(outSizes, axis)));
            boolean floating = data.dtype().isFloatingPoint();
            for (long row = 0; row < outer; row++) {
                long base = rows.offset() + row * rows.strides()[0];
                long stride = rows.strides()[1];
                long best = 0;
                for (long i = 1; i < size; i++) {
                    int order = floating
                            ? Double.compare(rows.loadDouble(base + i * stride), rows.loadDouble(base + best * stride))
                            : Long.compare(rows.loadLong(base + i * stride), rows.loadLong(base + best * stride));
                    if (!op.max()) {
                        order = -order;
                    }
                    if (order > 0 || (order == 0 && op.selectLastIndex())) {
                        best = i;
                    }
                }
                out.storeLong(row, best);
            }
            return new Tensor[] {out};
        };
    }

    // ---------------------------------------------------------------- softmax

    /** Softmax along the last axis of x / divisor + mask, row by row. */
    static Kernel maskedSoftmax(MaskedSoftmax op) {
        return (context, inputs) -> {
            if (inputs[0].dtype() != DType.FLOAT || inputs[1].dtype() != DType.FLOAT || inputs[0].rank() == 0) {
                throw context.error("MaskedSoftmax takes float32 scores of rank 1 or more and a float32 mask, not "
                        + inputs[0] + " and " + inputs[1]);
            }
            // Both broadcast as Add broadcasts them; a contiguous mask broadcasts with a last-axis
            // stride of 1 or 0: a row, or one value.
            long[] sizes = Shape.broadcast(inputs[0].shape(), inputs[1].shape()).sizes();
            Tensor x = context.contiguous(inputs[0].broadcastTo(sizes));
            Tensor mask = inputs[1].contiguous().broadcastTo(sizes);
            Tensor out = context.allocateForOverwrite(DType.FLOAT, x.shape());
            // Rows walked by StridedLoop, the mask's row found by its strides (an inner stride of 0
            // is one value for the row); threads take blocks of rows.
            long[] offsets = {x.offset(), mask.offset(), out.offset()};
            long[][] strides = {x.strides(), mask.strides(), out.strides()};
            long rows = StridedLoop.rows(sizes);
            long blocks = ElementwiseKernels.blocks(context, x.elementCount(), rows);
            long rowsPerBlock = Math.ceilDiv(rows, Math.max(1, blocks));
            context.parallel(blocks, block -> {
                long first = Math.min(block * rowsPerBlock, rows);
                StridedLoop.forEachRow(sizes, offsets, strides, first, Math.min(rowsPerBlock, rows - first),
                        (positions, inner, length) -> FloatRows.maskedSoftmax(x.segment(), positions[0] * 4, op.divisor(),
                                mask.segment(), positions[1] * 4, inner[1] == 0, out.segment(), positions[2] * 4, length));
            });
            return new Tensor[] {out};
        };
    }

    /** See {@link Dft}: each line along the axis transformed directly (a sum per frequency, in double). */
    static Kernel dft(Dft op) {
        return (context, inputs) -> {
            Tensor x = inputs[0].contiguous();
            int rank = x.rank();
            if (rank < 2 || x.size(rank - 1) != 1 && x.size(rank - 1) != 2) {
                throw context.error("DFT needs an input [.., 1] (real) or [.., 2] (complex), not " + x.shape());
            }
            long axisValue = inputs.length > 2 && inputs[2] != null ? ShapeKernels.longs(inputs[2], context, "DFT's axis")[0]
                    : op.defaultAxis();
            int axis = Shape.normalizeAxis(axisValue, rank);
            if (axis == rank - 1) {
                throw context.error("DFT's axis " + axisValue + " is the real/imaginary axis of " + x.shape());
            }
            int signal = Math.toIntExact(x.size(axis));
            // An inverse of a one-sided spectrum of m frequencies is a real signal, of 2(m − 1) by default.
            boolean realSignal = op.inverse() && op.onesided();
            int length = inputs.length > 1 && inputs[1] != null
                    ? Math.toIntExact(ShapeKernels.longs(inputs[1], context, "DFT's dft_length")[0])
                    : realSignal ? 2 * (signal - 1) : signal;
            if (length <= 0) {
                throw context.error("DFT's dft_length must be positive, not " + length);
            }
            int kept = realSignal ? length : op.onesided() ? length / 2 + 1 : length;
            boolean complex = x.size(rank - 1) == 2;
            long[] outSizes = x.shape().sizes();
            outSizes[axis] = kept;
            outSizes[rank - 1] = realSignal ? 1 : 2;
            Tensor out = context.allocateForOverwrite(x.dtype(), Shape.of(outSizes));
            long[] inStrides = x.strides();
            long[] outStrides = out.strides();
            long[] lines = x.shape().sizes();
            lines[axis] = 1;
            lines[rank - 1] = 1;
            double sign = op.inverse() ? 1 : -1;
            double scale = op.inverse() ? 1.0 / length : 1;
            int read = Math.min(signal, length);
            // The full spectrum of a one-sided one: X[n − k] = conj(X[k]).
            int terms = realSignal ? length : read;
            double[] re = new double[terms];
            double[] im = new double[terms];
            IndexingKernels.forEachIndex(lines, index -> {
                long from = x.offset();
                long to = out.offset();
                for (int d = 0; d < rank; d++) {
                    from += index[d] * inStrides[d];
                    to += index[d] * outStrides[d];
                }
                for (int t = 0; t < terms; t++) {
                    int source = realSignal && t >= signal ? length - t : t;
                    boolean mirrored = source != t;
                    if (source >= signal) {
                        re[t] = 0;
                        im[t] = 0;
                        continue;
                    }
                    re[t] = x.loadDouble(from + source * inStrides[axis]);
                    double imaginary = complex ? x.loadDouble(from + source * inStrides[axis] + inStrides[rank - 1]) : 0;
                    im[t] = mirrored ? -imaginary : imaginary;
                }
                for (int k = 0; k < kept; k++) {
                    double sumRe = 0;
                    double sumIm = 0;
                    for (int t = 0; t < terms; t++) {
                        double angle = sign * 2 * Math.PI * ((long) k * t % length) / length;
                        double cos = Math.cos(angle);
                        double sin = Math.sin(angle);
                        sumRe += re[t] * cos - im[t] * sin;
                        sumIm += re[t] * sin + im[t] * cos;
                    }
                    out.storeDouble(to + k * outStrides[axis], sumRe * scale);
                    if (!realSignal) {
                        out.storeDouble(to + k * outStrides[axis] + outStrides[rank - 1], sumIm * scale);
                    }
                }
            });
            return new Tensor[] {out};
        };
    }

    /** The forms of {@link AttentionMask}'s mask index, told apart by its shape when the node runs. */
    private enum MaskForm { NONE, KEY_LENGTHS, ENDS_AND_STARTS, KEYS, QUERIES_BY_KEYS }

    static Kernel attentionMask(AttentionMask op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            Tensor index = inputs.length > 1 ? inputs[1] : null;
            Tensor keys = inputs.length > 2 && inputs[2] != null ? inputs[2] : x;
            if (x.rank() < 2 || keys.rank() < 2 || keys.size(0) != x.size(0)) {
                throw context.error("the attention's queries " + x.shape() + " and keys " + keys.shape()
                        + " must be [batch, length, ..] of one batch");
            }
            int batch = Math.toIntExact(x.size(0));
            int length = Math.toIntExact(x.size(1));
            int keyLength = Math.toIntExact(keys.size(1));
            MaskForm form = index == null ? MaskForm.NONE : maskForm(index.shape().sizes(), batch, length, keyLength);
            if (form == null) {
                throw context.error("mask_index " + index.shape() + " is none of [" + batch + "], [" + 2 * batch + "], ["
                        + batch + ", " + keyLength + "], [" + batch + ", " + length + ", " + keyLength + "] for " + batch
                        + " sequences of " + length + " queries and " + keyLength + " keys");
            }
            if (op.unidirectional() && keyLength != length) {
                throw context.error("unidirectional attention of " + length + " queries to " + keyLength
                        + " keys is not implemented (without a past state, queries and keys are one sequence)");
            }
            long[] values = index == null ? null : index.toLongArray();
            float[] mask = new float[Math.multiplyExact(Math.multiplyExact(batch, length), keyLength)];
            for (int b = 0; b < batch; b++) {
                for (int query = 0; query < length; query++) {
                    int row = (b * length + query) * keyLength;
                    for (int key = 0; key < keyLength; key++) {
                        boolean kept = switch (form) {
                            case NONE -> true;
                            case KEY_LENGTHS -> key < values[b];
                            case ENDS_AND_STARTS -> key < values[b] && key >= values[batch + b];
                            case KEYS -> values[b * keyLength + key] > 0;
                            case QUERIES_BY_KEYS -> values[row + key] > 0;
                        };
                        // Keys after the query are left out of its softmax, as ONNX Runtime's causal
                        // attention leaves them (a filter value would still weigh in a row all filtered).
                        mask[row + key] = op.unidirectional() && key > query ? Float.NEGATIVE_INFINITY
                                : kept ? 0 : op.filter();
                    }
                }
            }
            Tensor out = context.allocateForOverwrite(DType.FLOAT, Shape.of(batch, 1, length, keyLength));
            MemorySegment.copy(mask, 0, out.segment(), Layouts.FLOAT, out.byteOffset(), mask.length);
            return new Tensor[] {out};
        };
    }

    /** The form of a mask index of these sizes, or null for none; [batch|1, 1] masks nothing (a longer sequence's placeholder). */
    private static MaskForm maskForm(long[] sizes, int batch, int length, int keyLength) {
        if (sizes.length == 1 && (sizes[0] == batch || sizes[0] == 2L * batch)) {
            return sizes[0] == batch ? MaskForm.KEY_LENGTHS : MaskForm.ENDS_AND_STARTS;
        }
        if (sizes.length == 2 && sizes[0] == batch && sizes[1] == keyLength) {
            return MaskForm.KEYS;
        }
        if (sizes.length == 2 && sizes[1] == 1 && (sizes[0] == 1 || sizes[0] == batch)) {
            return MaskForm.NONE;
        }
        return sizes.length == 3 && sizes[0] == batch && sizes[1] == length && sizes[2] == keyLength
                ? MaskForm.QUERIES_BY_KEYS : null;
    }

    /**
     * {@link Attention}: per head, q·keys into a scratch block of scores, the masked softmax of each
     * of its rows in place, then the block times v. A worker takes every {@code workers}-th head
     * and keeps its scratch in cache, where the separate nodes wrote every head's scores out and
     * read them back twice (25 MB a layer of the MiniLM at batch 32). Each step is the separate
     * node's kernel on the same operands, so the bits are theirs. Operands outside that form
     * (leading axes that differ, a mask widening the scores) run as the separate steps.
     */
    static Kernel attention(Attention op) {
        Kernel softmax = maskedSoftmax(new MaskedSoftmax(op.divisor()));
        return (context, inputs) -> {
            Tensor q = inputs[0];
            Tensor keys = inputs[1];
            Tensor mask = inputs[2];
            Tensor v = inputs[3];
            int rank = q.rank();
            if (q.dtype() != DType.FLOAT || keys.dtype() != DType.FLOAT || mask.dtype() != DType.FLOAT
                    || v.dtype() != DType.FLOAT || rank < 2 || keys.rank() != rank || v.rank() != rank
                    || !Arrays.equals(leading(q), leading(keys)) || !Arrays.equals(leading(q), leading(v))
                    || keys.size(rank - 2) != q.size(rank - 1) || v.size(rank - 2) != keys.size(rank - 1)) {
                return separately(context, softmax, q, keys, mask, v);
            }
            long[] batch = leading(q);
            int m = Math.toIntExact(q.size(rank - 2));
            int depth = Math.toIntExact(q.size(rank - 1));
            int n = Math.toIntExact(keys.size(rank - 1));
            int width = Math.toIntExact(v.size(rank - 1));
            long[] scoresSizes = concat(batch, m, n);
            if (!Shape.broadcast(Shape.of(scoresSizes), mask.shape()).equals(Shape.of(scoresSizes))) {
                return separately(context, softmax, q, keys, mask, v);
            }
            Tensor masks = mask.contiguous().broadcastTo(scoresSizes);
            long[] maskStrides = masks.strides();
            boolean maskRow = maskStrides[rank - 1] != 0;
            // Operands are read where their rows lie, keys also by columns (Kᵀ), as multiply reads them.
            Tensor qs = rowsContiguous(q) ? q : q.contiguous();
            boolean keysByColumns = !rowsContiguous(keys) && keys.strides()[rank - 2] == 1 && m >= FloatGemm.PACKING_MIN_ROWS;
            Tensor ks = keysByColumns || rowsContiguous(keys) ? keys : keys.contiguous();
            Tensor vs = rowsContiguous(v) ? v : v.contiguous();
            // The output lies as [..., m, last leading axis, width] and is returned as its view in
            // [..., last leading axis, m, width]: exporters transpose it to the first order and reshape
            // it to [..., m, hidden], which then needs no copy (35 µs a layer of the MiniLM).
            Tensor out = batch.length == 0 ? context.allocateForOverwrite(DType.FLOAT, Shape.of(m, width))
                    : headsInterleaved(context, batch, m, width);
            long heads = Shape.of(batch).elementCount();
            int workers = (int) Math.max(1, Math.min(context.threads(), heads));
            Tensor scratch = context.allocateForOverwrite(DType.FLOAT, Shape.of(workers, m, n));
            context.parallel(workers, worker -> {
                long scoresAt = scratch.offset() + worker * (long) m * n;
                FloatGemm.Matrix scores = new FloatGemm.Matrix(scratch.segment(), scoresAt, n);
                for (long head = worker; head < heads; head += workers) {
                    long qAt = qs.offset();
                    long kAt = ks.offset();
                    long vAt = vs.offset();
                    long maskAt = masks.offset();
                    long outAt = out.offset();
                    long flat = head;
                    for (int d = batch.length - 1; d >= 0; d--) {
                        long index = flat % batch[d];
                        flat /= batch[d];
                        qAt += index * qs.strides()[d];
                        kAt += index * ks.strides()[d];
                        vAt += index * vs.strides()[d];
                        maskAt += index * maskStrides[d];
                        outAt += index * out.strides()[d];
                    }
                    FloatGemm.Matrix queries = new FloatGemm.Matrix(qs.segment(), qAt, qs.strides()[rank - 2]);
                    if (keysByColumns) {
                        FloatGemm.multiply(queries, new FloatGemm.ByColumns(ks.segment(), kAt, ks.strides()[rank - 1]), scores,
                                m, n, depth, false);
                    } else {
                        FloatGemm.multiply(queries, new FloatGemm.Matrix(ks.segment(), kAt, ks.strides()[rank - 2]), scores,
                                m, n, depth, false);
                    }
                    for (int row = 0; row < m; row++) {
                        long at = (scoresAt + (long) row * n) * 4;
                        FloatRows.maskedSoftmax(scratch.segment(), at, op.divisor(), masks.segment(),
                                (maskAt + row * maskStrides[rank - 2]) * 4, !maskRow, scratch.segment(), at, n);
                    }
                    FloatGemm.multiply(scores, new FloatGemm.Matrix(vs.segment(), vAt, vs.strides()[rank - 2]),
                            new FloatGemm.Matrix(out.segment(), outAt, out.strides()[rank - 2]), m, width, n, false);
                }
            });
            return new Tensor[] {out};
        };
    }

    /** A [batch..., m, width] tensor stored as [batch... but the last, m, last batch axis, width]. */
    private static Tensor headsInterleaved(KernelContext context, long[] batch, int m, int width) {
        int last = batch.length - 1;
        long[] stored = concat(Arrays.copyOf(batch, last), m, batch[last], width);
        int[] order = new int[stored.length];
        Arrays.setAll(order, axis -> axis);
        order[last] = last + 1;
        order[last + 1] = last;
        return context.allocateForOverwrite(DType.FLOAT, Shape.of(stored)).permute(order);
    }

    /** Attention as its separate steps: the product, the masked softmax, the product. */
    private static Tensor[] separately(KernelContext context, Kernel softmax, Tensor q, Tensor keys, Tensor mask, Tensor v) {
        Tensor scores = multiply(context, q, keys);
        return new Tensor[] {multiply(context, softmax.run(context, new Tensor[] {scores, mask})[0], v)};
    }

    /** A tensor's sizes before its last two axes. */
    private static long[] leading(Tensor tensor) {
        return Arrays.copyOf(tensor.shape().sizes(), tensor.rank() - 2);
    }

    static Kernel softmax(Softmax op) {
        return (context, inputs) -> {
            Tensor data = inputs[0];
            int rank = data.rank();
            int axis = Shape.normalizeAxis(op.axis(), Math.max(rank, 1));
            Tensor rows;
            int[] perm = null;
            if (op.coerceTo2d()) {
                long inner = 1;
                for (int d = axis; d < rank; d++) {
                    inner *= data.size(d);
                }
                rows = data.reshape(inner == 0 ? 0 : data.elementCount() / inner, inner);
            } else {
                perm = new int[rank];
                for (int d = 0, p = 0; d < rank; d++) {
                    if (d != axis) {
                        perm[p++] = d;
                    }
                }
                perm[rank - 1] = axis;
                long size = data.size(axis);
                rows = data.permute(perm).reshape(size == 0 ? 0 : data.elementCount() / size, size);
            }
            long outer = rows.size(0);
            long length = rows.size(1);
            Tensor out = context.allocateForOverwrite(data.dtype(), rows.shape());
            boolean vector = data.dtype() == DType.FLOAT && rows.strides()[1] == 1;
            if (vector) {
                // Rows are independent: threads take blocks of them.
                long blocks = ElementwiseKernels.blocks(context, outer * length, outer);
                long rowsPerBlock = Math.ceilDiv(outer, Math.max(1, blocks));
                context.parallel(blocks, block -> {
                    for (long row = block * rowsPerBlock; row < Math.min(outer, (block + 1) * rowsPerBlock); row++) {
                        FloatRows.softmax(rows.segment(), (rows.offset() + row * rows.strides()[0]) * 4, out.segment(),
                                row * length * 4, length, op.log());
                    }
                });
            }
            double[] buffer = vector ? null : new double[Math.toIntExact(length)];
            for (long row = 0; !vector && row < outer; row++) {
                long base = rows.offset() + row * rows.strides()[0];
                long stride = rows.strides()[1];
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < length; i++) {
                    buffer[i] = rows.loadDouble(base + i * stride);
                    max = Math.max(max, buffer[i]);
                }
                double sum = 0;
                for (int i = 0; i < length; i++) {
                    sum += Math.exp(buffer[i] - max);
                }
                double logSum = Math.log(sum);
                for (int i = 0; i < length; i++) {
                    double value = op.log() ? buffer[i] - max - logSum : Math.exp(buffer[i] - max) / sum;
                    out.storeDouble(row * length + i, value);
                }
            }
            if (op.coerceTo2d()) {
                return new Tensor[] {out.reshape(data.shape())};
            }
            long[] permuted = new long[rank];
            for (int d = 0; d < rank; d++) {
                permuted[d] = data.size(perm[d]);
            }
            int[] inverse = new int[rank];
            for (int d = 0; d < rank; d++) {
                inverse[perm[d]] = d;
            }
            return new Tensor[] {out.reshape(permuted).permute(inverse)};
        };
    }

    // ---------------------------------------------------------------- helpers

    private static long[] concat(long[] head, long... tail) {
        long[] all = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, all, head.length, tail.length);
        return all;
    }

    private static long[] remove(long[] values, int index) {
        long[] result = new long[values.length - 1];
        System.arraycopy(values, 0, result, 0, index);
        System.arraycopy(values, index + 1, result, index, values.length - index - 1);
        return result;
    }
}
