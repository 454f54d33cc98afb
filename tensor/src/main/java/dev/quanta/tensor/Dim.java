package dev.quanta.tensor;

/**
 * One dimension of a {@link Shape}: a known size, a named symbol ({@code batch}, {@code sequence})
 * or unknown. A symbolic or unknown dimension has size {@link #UNKNOWN_SIZE}.
 */
public record Dim(long size, String symbol) {

    public static final long UNKNOWN_SIZE = -1;
    private static final Dim UNKNOWN = new Dim(UNKNOWN_SIZE, null);

    public Dim {
        if (size < UNKNOWN_SIZE) {
            throw new ShapeException("dimension size " + size + " is negative");
        }
        if (size != UNKNOWN_SIZE && symbol != null) {
            throw new ShapeException("dimension " + symbol + " has both a symbol and the size " + size);
        }
        if (symbol != null && symbol.isEmpty()) {
            symbol = null;
        }
    }

    public static Dim of(long size) {
        if (size < 0) {
            throw new ShapeException("dimension size " + size + " is negative");
        }
        return new Dim(size, null);
    }

    public static Dim symbol(String name) {
        return name == null || name.isEmpty() ? UNKNOWN : new Dim(UNKNOWN_SIZE, name);
    }

    public static Dim unknown() {
        return UNKNOWN;
    }

    public boolean isStatic() {
        return size != UNKNOWN_SIZE;
    }

    @Override
    public String toString() {
        return isStatic() ? Long.toString(size) : symbol == null ? "?" : symbol;
    }
}
