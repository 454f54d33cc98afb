package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.ops.Binary;
import dev.quanta.graph.ops.BitCast;
import dev.quanta.graph.ops.Cast;
import dev.quanta.graph.ops.Dropout;
import dev.quanta.graph.ops.CastLike;
import dev.quanta.graph.ops.Unary;
import dev.quanta.kernels.simd.Erf;
import dev.quanta.kernels.simd.FloatRows;
import dev.quanta.kernels.simd.FloatRowsReference;
import dev.quanta.kernels.simd.StridedLoop;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Float8E8M0;
import dev.quanta.tensor.MiniFloat;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongBinaryOperator;
import java.util.function.LongUnaryOperator;

/**
 * Element-wise kernels for every dtype: float32 rows go to the Vector API kernels of
 * kernels-simd; other float types compute in double, integers in long (wrapping to their width).
 */
final class ElementwiseKernels {

    private ElementwiseKernels() {
    }

    // ---------------------------------------------------------------- unary

    static Kernel unary(Unary op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            DType outType = switch (op.kind()) {
                case IS_NAN, IS_INF -> DType.BOOL;
                default -> x.dtype();
            };
            Tensor out = context.allocateOver(x, outType, x.shape());
            FloatRows.Function vector = x.dtype() == DType.FLOAT ? vectorFunction(op) : null;
            if (vector != null) {
                Tensor source = x.contiguous();
                // Each element on its own: threads take chunks, whole vectors long, with the same bits.
                long count = x.elementCount();
                long blocks = blocks(context, count, count / 64);
                long chunk = Math.ceilDiv(Math.ceilDiv(count, Math.max(1, blocks)), 64) * 64;
                context.parallel(blocks, block -> {
                    long first = block * chunk;
                    long length = Math.min(chunk, count - first);
                    if (length > 0) {
                        FloatRows.unary(vector, (float) op.alpha(), (float) op.beta(), source.segment(),
                                source.byteOffset() + first * 4, out.segment(), first * 4, length);
                    }
                });
                return new Tensor[] {out};
            }
            if (x.dtype().isFloatingPoint()) {
                DoubleUnaryOperator f = doubleFunction(op, context);
                map(x, out, (position, target) -> out.storeDouble(target, f.applyAsDouble(x.loadDouble(position))));
            } else {
                LongUnaryOperator f = longFunction(op, x.dtype(), context);
                map(x, out, (position, target) -> out.storeLong(target, f.applyAsLong(x.loadLong(position))));
            }
            return new Tensor[] {out};
        };
    }

    /** Elements below which one thread does all of an element-wise op: handing work over costs more. */
    private static final long MIN_ELEMENTS_PER_BLOCK = 8_192;

    /** How many blocks to split {@code elements} into, two per thread, never more than {@code units}. */
    static long blocks(KernelContext context, long elements, long units) {
        return Math.clamp(Math.min(elements / MIN_ELEMENTS_PER_BLOCK, units), 1, 2L * context.threads());
    }

    static FloatRows.Function vectorFunction(Unary op) {
        return switch (op.kind()) {
            case EXP -> FloatRows.Function.EXP;
            case SQRT -> FloatRows.Function.SQRT;
            case NEG -> FloatRows.Function.NEG;
            case ABS -> FloatRows.Function.ABS;
            case RELU -> FloatRows.Function.RELU;
            case SIGMOID -> FloatRows.Function.SIGMOID;
            case ERF -> FloatRows.Function.ERF;
            case GELU -> op.alpha() == 0 ? FloatRows.Function.GELU : null; // the erf form, not the tanh approximation
            case HARD_SWISH_CHAIN -> FloatRows.Function.HARD_SWISH_CHAIN;
            case TANH -> FloatRows.Function.TANH;
            case LEAKY_RELU -> FloatRows.Function.LEAKY_RELU;
            case HARD_SIGMOID -> FloatRows.Function.HARD_SIGMOID;
            case HARD_SWISH -> FloatRows.Function.HARD_SWISH;
            case THRESHOLDED_RELU -> FloatRows.Function.THRESHOLDED_RELU;
            case LOG -> FloatRows.Function.LOG;
            case RECIPROCAL -> FloatRows.Function.RECIPROCAL;
            case SIN -> FloatRows.Function.SIN;
            case COS -> FloatRows.Function.COS;
            case ELU -> FloatRows.Function.ELU;
            case SOFTPLUS -> FloatRows.Function.SOFTPLUS;
            case MISH -> FloatRows.Function.MISH;
            default -> null;
        };
    }

    static DoubleUnaryOperator doubleFunction(Unary op, KernelContext context) {
        double alpha = op.alpha();
        double beta = op.beta();
        return switch (op.kind()) {
            case ABS -> Math::abs;
            case NEG -> x -> -x;
            case SIGN -> Math::signum;
            case FLOOR -> Math::floor;
            case CEIL -> Math::ceil;
            case ROUND -> Math::rint;
            case SQRT -> Math::sqrt;
            case RECIPROCAL -> x -> 1 / x;
            case EXP -> Math::exp;
            case LOG -> Math::log;
            case ERF -> Erf::erf;
            case SIN -> Math::sin;
            case COS -> Math::cos;
            case TAN -> Math::tan;
            case ASIN -> Math::asin;
            case ACOS -> Math::acos;
            case ATAN -> Math::atan;
            case SINH -> Math::sinh;
            case COSH -> Math::cosh;
            case TANH -> Math::tanh;
            case ASINH -> x -> Double.isInfinite(x) ? x : Math.copySign(Math.log(Math.abs(x) + Math.sqrt(x * x + 1)), x);
            case ACOSH -> x -> Math.log(x + Math.sqrt(x * x - 1));
            case ATANH -> x -> 0.5 * Math.log((1 + x) / (1 - x));
            case RELU -> x -> x > 0 ? x : x == x ? 0 : x;
            case SIGMOID -> x -> 1 / (1 + Math.exp(-x));
            case SOFTPLUS -> ElementwiseKernels::softplus;
            case SOFTSIGN -> x -> x / (1 + Math.abs(x));
            case MISH -> x -> x * Math.tanh(softplus(x));
            case LEAKY_RELU -> x -> x < 0 ? alpha * x : x;
            case ELU -> x -> x < 0 ? alpha * (Math.exp(x) - 1) : x;
            case CELU -> x -> Math.max(0, x) + Math.min(0, alpha * (Math.exp(x / alpha) - 1));
            case SELU -> x -> beta * (x <= 0 ? alpha * (Math.exp(x) - 1) : x);
            case HARD_SIGMOID -> x -> Math.max(0, Math.min(1, alpha * x + beta));
            case HARD_SWISH -> x -> x * Math.max(0, Math.min(1, x / 6 + 0.5));
            case HARD_SWISH_CHAIN -> x -> FloatRowsReference.apply(FloatRows.Function.HARD_SWISH_CHAIN, (float) x);
            case THRESHOLDED_RELU -> x -> x > alpha ? x : 0;
            case AFFINE -> x -> alpha * x + beta;
            case SCALED_TANH -> x -> alpha * Math.tanh(beta * x);
            case SHRINK -> x -> x < -beta ? x + alpha : x > beta ? x - alpha : 0;
            case GELU -> alpha != 0
                    ? x -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))
                    : x -> 0.5 * x * (1 + Erf.erf(x / Math.sqrt(2)));
            case IS_NAN -> x -> Double.isNaN(x) ? 1 : 0;
            case IS_INF -> x -> (x == Double.POSITIVE_INFINITY && alpha != 0) || (x == Double.NEGATIVE_INFINITY && beta != 0)
                    ? 1 : 0;
            case NOT -> throw context.error("Not needs a bool input");
        };
    }

    private static double softplus(double x) {
        return x > 30 ? x : Math.log1p(Math.exp(x));
    }

    private static LongUnaryOperator longFunction(Unary op, DType dtype, KernelContext context) {
        return switch (op.kind()) {
            case ABS -> Math::abs;
            case NEG -> x -> -x;
            case SIGN -> Long::signum;
            case RELU -> x -> Math.max(0, x);
            case NOT -> x -> x == 0 ? 1 : 0;
            case IS_NAN, IS_INF -> x -> 0;
            default -> throw context.error(op.kind() + " is not defined for " + dtype);
        };
    }

    @FunctionalInterface
    private interface ElementMap {
        void apply(long sourcePosition, long targetPosition);
    }

    /** Visits each element of {@code source} with the matching position of the contiguous {@code target}. */
    private static void map(Tensor source, Tensor target, ElementMap action) {
        long[] next = {0};
        StridedLoop.Walk walk = StridedLoop.coalesce(source.shape().sizes(), new long[][] {source.strides()});
        StridedLoop.forEachRow(walk.sizes(), new long[] {source.offset()}, walk.strides(),
                (positions, strides, length) -> {
                    long position = positions[0];
                    for (long i = 0; i < length; i++, position += strides[0]) {
                        action.apply(position, next[0]++);
                    }
                });
    }

    // ---------------------------------------------------------------- binary

    static Kernel binary(Binary op) {
        Binary.Kind kind = op.kind();
        return (context, inputs) -> {
            Tensor a = inputs[0];
            Tensor b = inputs[1];
            if (kind == Binary.Kind.POW && a.dtype() == DType.FLOAT && b.dtype() == DType.FLOAT && b.elementCount() == 1
                    && b.rank() <= a.rank() && b.contiguous().toFloatArray()[0] == 2) {
                // x² (layer norms square this way): one correctly rounded product, as pow gives, by vectors.
                return binary(new Binary(Binary.Kind.MUL)).run(context, new Tensor[] {a, a});
            }
            if (a.dtype() != b.dtype() && kind != Binary.Kind.POW) {
                throw context.error(kind + " needs operands of one type, not " + a.dtype() + " and " + b.dtype());
            }
            Shape shape = kind == Binary.Kind.PRELU ? a.shape() : Shape.broadcast(a.shape(), b.shape());
            DType outType = kind.isComparison() ? DType.BOOL : a.dtype();
            Tensor out = a.shape().equals(shape) ? context.allocateOver(a, outType, shape)
                    : context.allocateOver(b, outType, shape);
            Tensor av = a.broadcastTo(shape);
            Tensor bv = b.broadcastTo(shape);
            long[] offsets = {av.offset(), bv.offset(), 0};
            StridedLoop.Walk walk = StridedLoop.coalesce(shape.sizes(), new long[][] {av.strides(), bv.strides(), out.strides()});
            long[] sizes = walk.sizes();
            long[][] strides = walk.strides();
            FloatRows.Op vector = a.dtype() == DType.FLOAT && b.dtype() == DType.FLOAT ? vectorOp(kind) : null;
            boolean aStrided = stridedRows(strides[0]);
            boolean bStrided = stridedRows(strides[1]);
            if (vector != null && (aStrided || bStrided)) {
                // An operand read across its rows (a transposed view) is copied into order first: the
                // walk took it an element at a time in double, 6 ns an element (ConvNeXt's layer scale
                // over its channels-last view: 11.8 ms a run).
                return binary(op).run(context, new Tensor[] {aStrided ? a.contiguous() : a, bStrided ? b.contiguous() : b});
            }
            if (a.dtype().isString()) {
                if (kind != Binary.Kind.EQUAL) {
                    throw context.error(kind + " is not defined for strings");
                }
                StridedLoop.forEachRow(sizes, offsets, strides, (positions, inner, length) -> {
                    for (long i = 0; i < length; i++) {
                        boolean equal = java.util.Arrays.equals(av.loadStringBytes(positions[0] + i * inner[0]),
                                bv.loadStringBytes(positions[1] + i * inner[1]));
                        out.storeLong(positions[2] + i * inner[2], equal ? 1 : 0);
                    }
                });
            } else if (a.dtype().isFloatingPoint()) {
                DoubleBinaryOperator f = doubleOperator(kind, context);
                StridedLoop.Row body = (positions, inner, length) -> {
                    if (vector != null && inner[0] <= 1 && inner[0] >= 0 && inner[1] <= 1 && inner[1] >= 0) {
                        FloatRows.binary(vector, av.segment(), positions[0] * 4, inner[0] == 0, bv.segment(),
                                positions[1] * 4, inner[1] == 0, out.segment(), positions[2] * 4, length);
                        return;
                    }
                    long pa = positions[0];
                    long pb = positions[1];
                    long po = positions[2];
                    for (long i = 0; i < length; i++, pa += inner[0], pb += inner[1], po += inner[2]) {
                        out.storeDouble(po, f.applyAsDouble(av.loadDouble(pa), bv.loadDouble(pb)));
                    }
                };
                // float32 (one element a slot, never two in a byte): threads take blocks of rows,
                // each element computed alone, so the bits are those of one thread.
                long rows = StridedLoop.rows(sizes);
                long blocks = vector == null ? 1 : blocks(context, shape.elementCount(), rows);
                long rowsPerBlock = Math.ceilDiv(rows, Math.max(1, blocks));
                context.parallel(blocks, block -> {
                    long first = block * rowsPerBlock;
                    StridedLoop.forEachRow(sizes, offsets, strides, Math.min(first, rows),
                            Math.max(0, Math.min(rowsPerBlock, rows - first)), body);
                });
            } else {
                LongBinaryOperator f = longOperator(kind, a.dtype(), b.dtype(), context);
                StridedLoop.forEachRow(sizes, offsets, strides, (positions, inner, length) -> {
                    long pa = positions[0];
                    long pb = positions[1];
                    long po = positions[2];
                    for (long i = 0; i < length; i++, pa += inner[0], pb += inner[1], po += inner[2]) {
                        out.storeLong(po, f.applyAsLong(av.loadLong(pa), bv.loadLong(pb)));
                    }
                });
            }
            return new Tensor[] {out};
        };
    }

    /** Whether a walk steps over an operand's innermost axis other than one element at a time or not at all. */
    private static boolean stridedRows(long[] strides) {
        return strides.length > 0 && strides[strides.length - 1] != 0 && strides[strides.length - 1] != 1;
    }

    private static FloatRows.Op vectorOp(Binary.Kind kind) {
        return switch (kind) {
            case ADD -> FloatRows.Op.ADD;
            case SUB -> FloatRows.Op.SUB;
            case MUL -> FloatRows.Op.MUL;
            case DIV -> FloatRows.Op.DIV;
            // The Vector API's max and min are Math.max and Math.min, lane by lane: NaN and −0 < +0 as in the scalar loop.
            case MAX -> FloatRows.Op.MAX;
            case MIN -> FloatRows.Op.MIN;
            default -> null;
        };
    }

    private static DoubleBinaryOperator doubleOperator(Binary.Kind kind, KernelContext context) {
        return switch (kind) {
            case ADD -> Double::sum;
            case SUB -> (x, y) -> x - y;
            case MUL -> (x, y) -> x * y;
            case DIV -> (x, y) -> x / y;
            // C2 compiles pow(x, 2) to x·x while interpreted code may round pow differently: fix it to x·x.
            case POW -> (x, y) -> y == 2 ? x * x : Math.pow(x, y);
            case FMOD -> (x, y) -> x % y;
            case MAX -> (x, y) -> Double.isNaN(x) || Double.isNaN(y) ? Double.NaN : Math.max(x, y);
            case MIN -> (x, y) -> Double.isNaN(x) || Double.isNaN(y) ? Double.NaN : Math.min(x, y);
            case PRELU -> (x, slope) -> x < 0 ? slope * x : x;
            case EQUAL -> (x, y) -> x == y ? 1 : 0;
            case LESS -> (x, y) -> x < y ? 1 : 0;
            case LESS_OR_EQUAL -> (x, y) -> x <= y ? 1 : 0;
            case GREATER -> (x, y) -> x > y ? 1 : 0;
            case GREATER_OR_EQUAL -> (x, y) -> x >= y ? 1 : 0;
            case MOD -> (x, y) -> {
                double r = x % y;
                return r != 0 && (r < 0) != (y < 0) ? r + y : r;
            };
            default -> throw context.error(kind + " is not defined for floating-point operands");
        };
    }

    private static LongBinaryOperator longOperator(Binary.Kind kind, DType dtype, DType exponentType,
            KernelContext context) {
        boolean unsigned64 = dtype == DType.UINT64;
        return switch (kind) {
            case ADD -> Long::sum;
            case SUB -> (x, y) -> x - y;
            case MUL -> (x, y) -> x * y;
            case DIV -> unsigned64 ? Long::divideUnsigned : (x, y) -> x / y;
            case POW -> (x, y) -> exponentType.isFloatingPoint() ? (long) Math.pow(x, y) : power(x, y);
            case MOD -> unsigned64 ? Long::remainderUnsigned : Math::floorMod;
            case FMOD -> unsigned64 ? Long::remainderUnsigned : (x, y) -> x % y;
            case MAX -> unsigned64 ? (x, y) -> Long.compareUnsigned(x, y) >= 0 ? x : y : Math::max;
            case MIN -> unsigned64 ? (x, y) -> Long.compareUnsigned(x, y) <= 0 ? x : y : Math::min;
            case PRELU -> (x, slope) -> x < 0 ? slope * x : x;
            case EQUAL -> (x, y) -> x == y ? 1 : 0;
            case LESS -> (x, y) -> compare(x, y, unsigned64) < 0 ? 1 : 0;
            case LESS_OR_EQUAL -> (x, y) -> compare(x, y, unsigned64) <= 0 ? 1 : 0;
            case GREATER -> (x, y) -> compare(x, y, unsigned64) > 0 ? 1 : 0;
            case GREATER_OR_EQUAL -> (x, y) -> compare(x, y, unsigned64) >= 0 ? 1 : 0;
            case AND -> (x, y) -> (x != 0 && y != 0) ? 1 : 0;
            case OR -> (x, y) -> (x != 0 || y != 0) ? 1 : 0;
            case XOR -> (x, y) -> ((x != 0) != (y != 0)) ? 1 : 0;
            case BIT_AND -> (x, y) -> x & y;
            case BIT_OR -> (x, y) -> x | y;
            case BIT_XOR -> (x, y) -> x ^ y;
            case BIT_SHIFT_LEFT -> (x, y) -> y >= 64 || y < 0 ? 0 : x << y;
            case BIT_SHIFT_RIGHT -> (x, y) -> y >= 64 || y < 0 ? 0 : x >>> y;
        };
    }

    private static int compare(long x, long y, boolean unsigned) {
        return unsigned ? Long.compareUnsigned(x, y) : Long.compare(x, y);
    }

    private static long power(long base, long exponent) {
        if (exponent < 0) {
            return base == 1 ? 1 : base == -1 ? ((exponent & 1) == 0 ? 1 : -1) : 0;
        }
        long result = 1;
        while (exponent > 0) {
            if ((exponent & 1) != 0) {
                result *= base;
            }
            base *= base;
            exponent >>= 1;
        }
        return result;
    }

    // ---------------------------------------------------------------- dropout

    static Kernel dropout(Dropout op) {
        return (context, inputs) -> {
            Tensor x = inputs[0];
            double ratio = inputs.length > 1 && inputs[1] != null ? inputs[1].loadDouble(inputs[1].offset()) : 0.5;
            boolean training = inputs.length > 2 && inputs[2] != null && inputs[2].loadLong(inputs[2].offset()) != 0;
            Tensor mask = context.allocate(DType.BOOL, x.shape());
            if (!training || ratio == 0) {
                long count = x.elementCount();
                for (long i = 0; i < count; i++) {
                    mask.storeLong(i, 1);
                }
                return new Tensor[] {x, mask};
            }
            if (ratio < 0 || ratio >= 1) {
                throw context.error("dropout ratio " + ratio + " is outside [0, 1)");
            }
            Mt19937 random = new Mt19937(op.seed() != null ? op.seed() : System.nanoTime() & 0xFFFF_FFFFL);
            float scale = (float) (1 / (1 - ratio));
            Tensor y = context.allocate(x.dtype(), x.shape());
            map(x, y, (position, target) -> {
                boolean keep = random.nextDouble() >= ratio;
                mask.storeLong(target, keep ? 1 : 0);
                y.storeDouble(target, keep ? (float) x.loadDouble(position) * scale : 0);
            });
            return new Tensor[] {y, mask};
        };
    }

    // ---------------------------------------------------------------- where

    static Kernel where() {
        return (context, inputs) -> {
            Tensor condition = inputs[0];
            Tensor x = inputs[1];
            Tensor y = inputs[2];
            if (x.dtype() != y.dtype()) {
                throw context.error("Where needs x and y of one type, not " + x.dtype() + " and " + y.dtype());
            }
            Shape shape = Shape.broadcast(condition.shape(), x.shape(), y.shape());
            Tensor out = context.allocate(x.dtype(), shape);
            Tensor cv = condition.broadcastTo(shape);
            Tensor xv = x.broadcastTo(shape);
            Tensor yv = y.broadcastTo(shape);
            StridedLoop.Walk walk = StridedLoop.coalesce(shape.sizes(),
                    new long[][] {cv.strides(), xv.strides(), yv.strides(), out.strides()});
            StridedLoop.forEachRow(walk.sizes(), new long[] {cv.offset(), xv.offset(), yv.offset(), 0}, walk.strides(),
                    (p, inner, length) -> {
                        for (long i = 0; i < length; i++) {
                            boolean pick = cv.loadLong(p[0] + i * inner[0]) != 0;
                            copyElement(pick ? xv : yv, pick ? p[1] + i * inner[1] : p[2] + i * inner[2], out, p[3] + i);
                        }
                    });
            return new Tensor[] {out};
        };
    }

    /** Copies one element exactly, whatever its type (two tensors of one dtype). */
    static void copyElement(Tensor source, long sourcePosition, Tensor target, long targetPosition) {
        DType dtype = source.dtype();
        if (dtype.isString()) {
            target.storeStringBytes(targetPosition, source.loadStringBytes(sourcePosition));
        } else {
            target.storeBits(targetPosition, source.loadBits(sourcePosition));
        }
    }

    // ---------------------------------------------------------------- cast

    /** See {@link BitCast}: the input's bytes, copied into a tensor of the other type. */
    static Kernel bitCast(BitCast op) {
        return (context, inputs) -> {
            Tensor x = inputs[0].contiguous();
            if (x.dtype().bitWidth() != op.to().bitWidth() || x.dtype() == DType.STRING || op.to() == DType.STRING) {
                throw context.error("cannot read " + x.dtype() + " as " + op.to() + ": BitCast needs types of one width");
            }
            Tensor out = context.allocateForOverwrite(op.to(), x.shape());
            java.lang.foreign.MemorySegment.copy(x.segment(), x.byteOffset(), out.segment(), out.byteOffset(),
                    x.dtype().storageBytes(x.elementCount()));
            return new Tensor[] {out};
        };
    }

    static Kernel castLike(CastLike op) {
        return (context, inputs) -> cast(new Cast(inputs[1].dtype(), op.saturate(), op.roundMode())).run(context, inputs);
    }

    /** float16 or bfloat16 to float32, or back. */
    private static boolean halfWidening(DType from, DType to) {
        boolean half = from == DType.FLOAT16 || from == DType.BFLOAT16;
        return half ? to == DType.FLOAT : from == DType.FLOAT && (to == DType.FLOAT16 || to == DType.BFLOAT16);
    }

    static Kernel cast(Cast op) {
        DType to = op.to();
        return (context, inputs) -> {
            Tensor x = inputs[0];
            if (x.dtype() == to) {
                return new Tensor[] {x}; // nothing to convert: the input itself, as Identity gives it
            }
            Tensor out = context.allocate(to, x.shape());
            DType from = x.dtype();
            if (from.isComplex() || to.isComplex()) {
                throw context.error("Cast from " + from + " to " + to + " is not supported (complex types are storage only)");
            }
            if (from == DType.INT32 && to == DType.FLOAT && x.isContiguous()) {
                // Integer matmul results to float: the hot cast of quantized models.
                FloatRows.fromInts(x.segment(), x.byteOffset(), out.segment(), out.byteOffset(), x.elementCount());
                return new Tensor[] {out};
            }
            if (x.isContiguous() && halfWidening(from, to)) {
                // Half-precision models' casts around every node that computes (HalfPrecisionWidening).
                long count = x.elementCount();
                switch (from) {
                    case FLOAT16 -> FloatRows.fromFloat16(x.segment(), x.byteOffset(), out.segment(), out.byteOffset(), count);
                    case BFLOAT16 -> FloatRows.fromBfloat16(x.segment(), x.byteOffset(), out.segment(), out.byteOffset(), count);
                    default -> {
                        if (to == DType.FLOAT16) {
                            FloatRows.toFloat16(x.segment(), x.byteOffset(), out.segment(), out.byteOffset(), count);
                        } else {
                            FloatRows.toBfloat16(x.segment(), x.byteOffset(), out.segment(), out.byteOffset(), count);
                        }
                    }
                }
                return new Tensor[] {out};
            }
            MiniFloat mini = to.miniFloat();
            boolean toFloat8 = to.name().startsWith("FLOAT8") && to != DType.FLOAT8E8M0;
            map(x, out, (position, target) -> {
                if (from.isString()) {
                    castFromString(x.loadStringBytes(position), out, target, op, context);
                } else if (to.isString()) {
                    out.storeStringBytes(target, format(x, position).getBytes(StandardCharsets.UTF_8));
                } else if (toFloat8) {
                    out.storeBits(target, mini.encode((float) x.loadDouble(position), op.saturate()));
                } else if (to == DType.FLOAT8E8M0) {
                    out.storeBits(target, Float8E8M0.encode((float) x.loadDouble(position), op.saturate(), op.roundMode()));
                } else if (from.isFloatingPoint() || from == DType.UINT64) {
                    out.storeDouble(target, x.loadDouble(position));
                } else if (to == DType.FLOAT) {
                    out.storeDouble(target, (float) x.loadLong(position)); // one rounding, long to float
                } else {
                    out.storeLong(target, x.loadLong(position));
                }
            });
            return new Tensor[] {out};
        };
    }

    private static void castFromString(byte[] bytes, Tensor out, long target, Cast op, KernelContext context) {
        String text = new String(bytes, StandardCharsets.UTF_8).strip();
        DType to = out.dtype();
        if (to.isString()) {
            out.storeStringBytes(target, bytes);
            return;
        }
        double value;
        String lower = text.toLowerCase(Locale.ROOT);
        switch (lower) {
            case "inf", "+inf", "infinity", "+infinity" -> value = Double.POSITIVE_INFINITY;
            case "-inf", "-infinity" -> value = Double.NEGATIVE_INFINITY;
            case "nan", "+nan", "-nan" -> value = Double.NaN;
            default -> {
                if (to.isInteger() && text.matches("[+-]?\\d+")) {
                    out.storeLong(target, Long.parseLong(text.startsWith("+") ? text.substring(1) : text));
                    return;
                }
                try {
                    value = Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    throw context.error("cannot cast the string \"" + text + "\" to " + to);
                }
            }
        }
        if (to.name().startsWith("FLOAT8") && to != DType.FLOAT8E8M0) {
            out.storeBits(target, to.miniFloat().encode((float) value, op.saturate()));
        } else {
            out.storeDouble(target, value);
        }
    }

    /** Numbers as numpy prints them: shortest round-trip digits, exponent from 1e16 and below 1e-4. */
    private static String format(Tensor x, long position) {
        DType dtype = x.dtype();
        if (dtype.isBool()) {
            return x.loadLong(position) != 0 ? "True" : "False";
        }
        if (!dtype.isFloatingPoint()) {
            return dtype == DType.UINT64 ? Long.toUnsignedString(x.loadLong(position)) : Long.toString(x.loadLong(position));
        }
        double value = x.loadDouble(position);
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "INF" : "-INF";
        }
        String digits = dtype == DType.DOUBLE ? Double.toString(value) : Float.toString((float) value);
        java.math.BigDecimal exact = new java.math.BigDecimal(digits);
        double magnitude = Math.abs(value);
        if (magnitude != 0 && (magnitude >= 1e16 || magnitude < 1e-4)) {
            String mantissa = exact.unscaledValue().abs().toString();
            int exponent = mantissa.length() - 1 - exact.scale();
            String body = mantissa.replaceAll("0+$", "");
            String text = body.length() > 1 ? body.charAt(0) + "." + body.substring(1) : body;
            return (value < 0 ? "-" : "") + text + "e" + (exponent < 0 ? "-" : "+")
                    + String.format(Locale.ROOT, "%02d", Math.abs(exponent));
        }
        String plain = exact.stripTrailingZeros().toPlainString();
        return plain.contains(".") ? plain : plain + ".0";
    }
}
