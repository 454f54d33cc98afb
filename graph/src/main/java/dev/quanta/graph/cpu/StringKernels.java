package dev.quanta.graph.cpu;

import dev.quanta.graph.Kernel;
import dev.quanta.graph.ops.StringOp;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The {@link StringOp}s, element by element over UTF-8 strings. */
final class StringKernels {

    private StringKernels() {
    }

    static Kernel of(StringOp op) {
        return switch (op) {
            case StringOp.Concat ignored -> (context, inputs) -> {
                Tensor a = strings(context, inputs[0]);
                Tensor b = strings(context, inputs[1]);
                Shape shape = Shape.broadcast(a.shape(), b.shape());
                Tensor av = context.contiguous(a.broadcastTo(shape));
                Tensor bv = context.contiguous(b.broadcastTo(shape));
                Tensor out = context.allocate(DType.STRING, shape);
                for (long i = 0; i < out.elementCount(); i++) {
                    byte[] left = av.loadStringBytes(av.offset() + i);
                    byte[] right = bv.loadStringBytes(bv.offset() + i);
                    byte[] joined = Arrays.copyOf(left, left.length + right.length);
                    System.arraycopy(right, 0, joined, left.length, right.length);
                    out.storeStringBytes(i, joined);
                }
                return new Tensor[] {out};
            };
            case StringOp.FullMatch match -> {
                Pattern pattern;
                try {
                    pattern = Pattern.compile(match.pattern());
                } catch (PatternSyntaxException e) {
                    pattern = null;
                }
                Pattern compiled = pattern;
                yield (context, inputs) -> {
                    if (compiled == null) {
                        throw context.error("cannot compile the pattern '" + match.pattern() + "'");
                    }
                    Tensor x = strings(context, inputs[0]).contiguous();
                    Tensor out = context.allocate(DType.BOOL, x.shape());
                    for (long i = 0; i < x.elementCount(); i++) {
                        out.storeLong(i, compiled.matcher(text(x, i)).matches() ? 1 : 0);
                    }
                    return new Tensor[] {out};
                };
            }
            case StringOp.Split split -> (context, inputs) -> {
                Tensor x = strings(context, inputs[0]).contiguous();
                List<List<String>> pieces = new ArrayList<>();
                int widest = 0;
                for (long i = 0; i < x.elementCount(); i++) {
                    List<String> parts = split(text(x, i), split.delimiter(), split.maxSplit());
                    pieces.add(parts);
                    widest = Math.max(widest, parts.size());
                }
                long[] sizes = Arrays.copyOf(x.shape().sizes(), x.rank() + 1);
                sizes[x.rank()] = widest;
                Tensor substrings = context.allocate(DType.STRING, Shape.of(sizes));
                Tensor counts = context.allocate(DType.INT64, x.shape());
                for (int i = 0; i < pieces.size(); i++) {
                    List<String> parts = pieces.get(i);
                    counts.storeLong(i, parts.size());
                    for (int p = 0; p < widest; p++) {
                        substrings.storeStringBytes((long) i * widest + p,
                                (p < parts.size() ? parts.get(p) : "").getBytes(StandardCharsets.UTF_8));
                    }
                }
                return new Tensor[] {substrings, counts};
            };
            case StringOp.Normalize normalize -> {
                Set<String> stopWords = new HashSet<>();
                for (String word : normalize.stopWords()) {
                    stopWords.add(normalize.caseSensitive() ? word : word.toLowerCase(Locale.ROOT));
                }
                yield (context, inputs) -> {
                    Tensor x = strings(context, inputs[0]).contiguous();
                    if (x.rank() != 1 && !(x.rank() == 2 && x.size(0) == 1)) {
                        throw context.error("StringNormalizer needs [C] or [1, C], not " + x.shape());
                    }
                    List<String> kept = new ArrayList<>();
                    for (long i = 0; i < x.elementCount(); i++) {
                        String word = text(x, i);
                        if (!stopWords.contains(normalize.caseSensitive() ? word : word.toLowerCase(Locale.ROOT))) {
                            kept.add(switch (normalize.caseChange()) {
                                case NONE -> word;
                                case LOWER -> word.toLowerCase(Locale.ROOT);
                                case UPPER -> word.toUpperCase(Locale.ROOT);
                            });
                        }
                    }
                    if (kept.isEmpty()) {
                        kept.add("");
                    }
                    Tensor out = context.allocate(DType.STRING, x.rank() == 1 ? Shape.of(kept.size()) : Shape.of(1, kept.size()));
                    for (int i = 0; i < kept.size(); i++) {
                        out.storeStringBytes(i, kept.get(i).getBytes(StandardCharsets.UTF_8));
                    }
                    return new Tensor[] {out};
                };
            }
        };
    }

    private static Tensor strings(dev.quanta.graph.KernelContext context, Tensor x) {
        if (x.dtype() != DType.STRING) {
            throw context.error("needs strings, not " + x.dtype());
        }
        return x;
    }

    private static String text(Tensor x, long i) {
        return new String(x.loadStringBytes(x.offset() + i), StandardCharsets.UTF_8);
    }

    /** Python's whitespace: Java's, the no-break spaces and NEL. */
    private static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    /**
     * Python's str.split: at each delimiter (empty pieces kept), or, without one, at runs of
     * whitespace with none at either end; at most {@code maxSplit} cuts when it is not negative.
     */
    static List<String> split(String text, String delimiter, long maxSplit) {
        List<String> parts = new ArrayList<>();
        long cuts = 0;
        if (delimiter == null) {
            int i = 0;
            int length = text.length();
            while (true) {
                while (i < length && isSpace(text.charAt(i))) {
                    i++;
                }
                if (i == length) {
                    return parts;
                }
                if (maxSplit >= 0 && cuts == maxSplit) {
                    // The rest whole, trailing whitespace included, as Python leaves it.
                    parts.add(text.substring(i));
                    return parts;
                }
                int start = i;
                while (i < length && !isSpace(text.charAt(i))) {
                    i++;
                }
                parts.add(text.substring(start, i));
                cuts++;
            }
        }
        int start = 0;
        while (maxSplit < 0 || cuts < maxSplit) {
            int at = text.indexOf(delimiter, start);
            if (at < 0) {
                break;
            }
            parts.add(text.substring(start, at));
            start = at + delimiter.length();
            cuts++;
        }
        parts.add(text.substring(start));
        return parts;
    }
}
