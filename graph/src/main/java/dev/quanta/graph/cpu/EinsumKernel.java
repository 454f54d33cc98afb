package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.ops.Einsum;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * numpy.einsum semantics: a product of two float operands as a batched MatMul where its labels
 * allow, else by direct summation over every label (ellipses, diagonals, broadcasting, any
 * number of operands).
 */
final class EinsumKernel {

    private EinsumKernel() {
    }

    static Kernel of(Einsum op) {
        return (context, inputs) -> run(op.equation(), inputs, context);
    }

    private static Tensor[] run(String equation, Tensor[] inputs, KernelContext context) {
        String compact = equation.replace(" ", "");
        String[] sides = compact.split("->", -1);
        String[] terms = sides[0].split(",", -1);
        if (terms.length != inputs.length) {
            throw context.error("equation '" + equation + "' has " + terms.length + " operands; " + inputs.length
                    + " were given");
        }
        int ellipsisRank = 0;
        for (int i = 0; i < terms.length; i++) {
            int letters = terms[i].replace("...", "").length();
            if (terms[i].contains("...")) {
                ellipsisRank = Math.max(ellipsisRank, inputs[i].rank() - letters);
            } else if (letters != inputs[i].rank()) {
                throw context.error("term '" + terms[i] + "' has " + letters + " labels for " + inputs[i]);
            }
        }
        // Labels become ids: letters by first appearance, the ellipsis dimensions before them.
        Map<Character, Integer> ids = new LinkedHashMap<>();
        int[][] dims = new int[terms.length][];
        for (int i = 0; i < terms.length; i++) {
            dims[i] = labels(terms[i], inputs[i].rank(), ellipsisRank, ids, context);
        }
        int[] output;
        if (sides.length > 1) {
            output = labels(sides[1], -1, ellipsisRank, ids, context);
        } else {
            Map<Character, Integer> counts = new TreeMap<>();
            for (String term : terms) {
                for (char c : term.replace("...", "").toCharArray()) {
                    counts.merge(c, 1, Integer::sum);
                }
            }
            List<Integer> chosen = new ArrayList<>();
            for (int e = 0; e < ellipsisRank; e++) {
                chosen.add(e);
            }
            counts.forEach((c, n) -> {
                if (n == 1) {
                    chosen.add(ids.get(c));
                }
            });
            output = chosen.stream().mapToInt(Integer::intValue).toArray();
        }
        int labelCount = ellipsisRank + ids.size();
        long[] sizes = new long[labelCount];
        Arrays.fill(sizes, 1);
        for (int i = 0; i < inputs.length; i++) {
            for (int d = 0; d < dims[i].length; d++) {
                long size = inputs[i].size(d);
                int id = dims[i][d];
                if (size != 1 && sizes[id] != 1 && sizes[id] != size) {
                    throw context.error("label sizes " + sizes[id] + " and " + size + " disagree in '" + equation + "'");
                }
                sizes[id] = Math.max(sizes[id], size);
            }
        }
        long[] outSizes = Arrays.stream(output).mapToLong(id -> sizes[id]).toArray();
        if (inputs.length == 2 && inputs[0].dtype() == DType.FLOAT && inputs[1].dtype() == DType.FLOAT) {
            Tensor product = asMatMul(context, inputs, dims, output, labelCount);
            if (product != null) {
                return new Tensor[] {product};
            }
        }
        boolean[] inOutput = new boolean[labelCount];
        for (int id : output) {
            inOutput[id] = true;
        }
        int[] summed = java.util.stream.IntStream.range(0, labelCount).filter(id -> !inOutput[id]).toArray();
        long[] summedSizes = Arrays.stream(summed).mapToLong(id -> sizes[id]).toArray();
        Tensor out = context.allocate(inputs[0].dtype(), Shape.of(outSizes));
        boolean floating = inputs[0].dtype().isFloatingPoint();
        long[] label = new long[labelCount];
        long outCount = Shape.of(outSizes).elementCount();
        long sumCount = Shape.of(summedSizes).elementCount();
        long[] outIndex = new long[output.length];
        long[] sumIndex = new long[summed.length];
        for (long o = 0; o < outCount; o++) {
            for (int d = 0; d < output.length; d++) {
                label[output[d]] = outIndex[d];
            }
            double sum = 0;
            long integerSum = 0;
            Arrays.fill(sumIndex, 0);
            for (long s = 0; s < sumCount; s++) {
                for (int d = 0; d < summed.length; d++) {
                    label[summed[d]] = sumIndex[d];
                }
                double product = 1;
                long integerProduct = 1;
                for (int i = 0; i < inputs.length; i++) {
                    long position = inputs[i].offset();
                    long[] strides = inputs[i].strides();
                    for (int d = 0; d < dims[i].length; d++) {
                        position += (inputs[i].size(d) == 1 ? 0 : label[dims[i][d]]) * strides[d];
                    }
                    if (floating) {
                        product *= inputs[i].loadDouble(position);
                    } else {
                        integerProduct *= inputs[i].loadLong(position);
                    }
                }
                sum += product;
                integerSum += integerProduct;
                advance(sumIndex, summedSizes);
            }
            if (floating) {
                out.storeDouble(o, sum);
            } else {
                out.storeLong(o, integerSum);
            }
            advance(outIndex, outSizes);
        }
        return new Tensor[] {out};
    }

    /**
     * A float product of two operands as a batched MatMul: the labels of both operands and the
     * output are its batch, those of both operands alone its depth, the rest its rows (first
     * operand) and columns (second), each operand permuted into that order. Null where an operand
     * repeats a label (a diagonal), sums a label of its own away, or broadcasts one: the direct
     * summation takes those. Direct, MaxViT's attention (b h i d, b h j d → b h i j) took 6.5 s a
     * run on two threads.
     */
    private static Tensor asMatMul(KernelContext context, Tensor[] inputs, int[][] dims, int[] output, int labelCount) {
        int[] where = new int[labelCount]; // bit 0: first operand, 1: second, 2: output
        long[] sizes = new long[labelCount];
        for (int i = 0; i < 2; i++) {
            for (int d = 0; d < dims[i].length; d++) {
                int id = dims[i][d];
                if ((where[id] & 1 << i) != 0 || (where[id] != 0 && sizes[id] != inputs[i].size(d))) {
                    return null;
                }
                where[id] |= 1 << i;
                sizes[id] = inputs[i].size(d);
            }
        }
        for (int id : output) {
            where[id] |= 4;
        }
        List<Integer> batch = new ArrayList<>();
        List<Integer> rows = new ArrayList<>();
        List<Integer> depth = new ArrayList<>();
        List<Integer> columns = new ArrayList<>();
        for (int id = 0; id < labelCount; id++) {
            switch (where[id]) {
                case 0b111 -> batch.add(id);
                case 0b101 -> rows.add(id);
                case 0b011 -> depth.add(id);
                case 0b110 -> columns.add(id);
                default -> {
                    return null; // a label of one operand summed away
                }
            }
        }
        Tensor a = grouped(context, inputs[0], dims[0], sizes, batch, rows, depth);
        Tensor b = grouped(context, inputs[1], dims[1], sizes, batch, depth, columns);
        List<Integer> order = new ArrayList<>(batch);
        order.addAll(rows);
        order.addAll(columns);
        Tensor product = MathKernels.multiply(context, a, b)
                .reshape(order.stream().mapToLong(id -> sizes[id]).toArray());
        return product.permute(Arrays.stream(output).map(order::indexOf).toArray());
    }

    /** An operand permuted to its labels in {@code first}, {@code second}, {@code third} order, each group one axis. */
    private static Tensor grouped(KernelContext context, Tensor operand, int[] labels, long[] sizes, List<Integer> first,
            List<Integer> second, List<Integer> third) {
        List<Integer> own = Arrays.stream(labels).boxed().toList();
        List<Integer> order = new ArrayList<>(first);
        order.addAll(second);
        order.addAll(third);
        Tensor permuted = context.contiguous(operand.permute(order.stream().mapToInt(own::indexOf).toArray()));
        return permuted.reshape(size(first, sizes), size(second, sizes), size(third, sizes));
    }

    private static long size(List<Integer> labels, long[] sizes) {
        return labels.stream().mapToLong(id -> sizes[id]).reduce(1, Math::multiplyExact);
    }

    private static void advance(long[] index, long[] sizes) {
        for (int d = sizes.length - 1; d >= 0 && ++index[d] == sizes[d]; d--) {
            index[d] = 0;
        }
    }

    /** The label ids of a term; {@code rank} < 0 for the output term, whose ellipsis spans all ellipsis ids. */
    private static int[] labels(String term, int rank, int ellipsisRank, Map<Character, Integer> ids,
            KernelContext context) {
        List<Integer> result = new ArrayList<>();
        int letters = term.replace("...", "").length();
        for (int i = 0; i < term.length(); i++) {
            if (term.startsWith("...", i)) {
                int own = rank < 0 ? ellipsisRank : rank - letters;
                for (int e = ellipsisRank - own; e < ellipsisRank; e++) {
                    result.add(e);
                }
                i += 2;
                continue;
            }
            char c = term.charAt(i);
            if (!Character.isLetter(c)) {
                throw context.error("'" + c + "' is not a label in the einsum term '" + term + "'");
            }
            if (rank < 0 && !ids.containsKey(c)) {
                throw context.error("output label '" + c + "' appears in no input");
            }
            result.add(ids.computeIfAbsent(c, key -> ellipsisRank + ids.size()));
        }
        return result.stream().mapToInt(Integer::intValue).toArray();
    }
}
