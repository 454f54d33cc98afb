package dev.quanta.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ShapeTest {

    @Test
    void countsElementsAndRefusesOverflow() {
        assertThat(Shape.of(2, 3, 4).elementCount()).isEqualTo(24);
        assertThat(Shape.scalar().elementCount()).isEqualTo(1);
        assertThat(Shape.of(5, 0, 7).elementCount()).isZero();
        assertThatThrownBy(() -> Shape.of(1L << 40, 1L << 40).elementCount())
                .isInstanceOf(ShapeException.class).hasMessageContaining("[1099511627776, 1099511627776]");
        assertThatThrownBy(() -> Shape.of(2, -1)).isInstanceOf(ShapeException.class).hasMessageContaining("negative");
        // The count is kept after the first call: asked again, the same answer or the same refusal.
        Shape wide = Shape.of(3, 1L << 40);
        assertThat(wide.elementCount()).isEqualTo(3L << 40).isEqualTo(wide.elementCount());
        Shape past = Shape.of(1L << 31, 1L << 31, 2);
        for (int call = 0; call < 2; call++) {
            assertThatThrownBy(past::elementCount).isInstanceOf(ShapeException.class).hasMessageContaining("64-bit");
        }
    }

    @Test
    void broadcastsLikeNumpy() {
        assertThat(Shape.broadcast(Shape.of(8, 1, 6, 1), Shape.of(7, 1, 5))).isEqualTo(Shape.of(8, 7, 6, 5));
        assertThat(Shape.broadcast(Shape.of(5, 4), Shape.of(1))).isEqualTo(Shape.of(5, 4));
        assertThat(Shape.broadcast(Shape.of(15, 3, 5), Shape.of(15, 1, 5))).isEqualTo(Shape.of(15, 3, 5));
        assertThat(Shape.broadcast(Shape.scalar(), Shape.of(2, 0))).isEqualTo(Shape.of(2, 0));
        assertThat(Shape.broadcast(Shape.of(3), Shape.of(2, 1), Shape.of(4, 1, 1))).isEqualTo(Shape.of(4, 2, 3));
        assertThatThrownBy(() -> Shape.broadcast(Shape.of(2, 3), Shape.of(4)))
                .isInstanceOf(ShapeException.class).hasMessageContaining("[2, 3]").hasMessageContaining("[4]");
    }

    @Test
    void broadcastsSymbolicDimensions() {
        Shape batchByOne = Shape.of(Dim.symbol("batch"), Dim.of(1));
        assertThat(Shape.broadcast(batchByOne, Shape.of(1, 128))).hasToString("[batch, 128]");
        assertThat(Shape.broadcast(Shape.of(Dim.symbol("batch")), Shape.of(Dim.symbol("batch")))).hasToString("[batch]");
        assertThat(Shape.broadcast(Shape.of(Dim.symbol("batch")), Shape.of(Dim.symbol("seq")))).hasToString("[?]");
        assertThat(Shape.broadcast(Shape.of(Dim.symbol("batch")), Shape.of(3))).hasToString("[3]");
        assertThat(Shape.broadcast(Shape.of(Dim.unknown()), Shape.of(1))).hasToString("[?]");
    }

    @Test
    void symbolicShapesAnswerOnlyWhatTheyKnow() {
        Shape shape = Shape.of(Dim.of(2), Dim.symbol("batch"), Dim.unknown());
        assertThat(shape.isStatic()).isFalse();
        assertThat(shape.isStatic(0)).isTrue();
        assertThat(shape.size(0)).isEqualTo(2);
        assertThat(shape.dim(1).symbol()).isEqualTo("batch");
        assertThat(shape).hasToString("[2, batch, ?]");
        assertThatThrownBy(() -> shape.size(1)).isInstanceOf(ShapeException.class).hasMessageContaining("not static");
        assertThatThrownBy(shape::elementCount).isInstanceOf(ShapeException.class);
        assertThat(shape.withDim(1, Dim.of(4)).withDim(2, Dim.of(5))).isEqualTo(Shape.of(2, 4, 5));
        assertThat(Shape.of(shape.dims())).isEqualTo(shape).hasSameHashCodeAs(shape);
    }

    @Test
    void normalizesNegativeAxes() {
        Shape shape = Shape.of(2, 3, 4);
        assertThat(shape.axis(-1)).isEqualTo(2);
        assertThat(shape.axis(-3)).isZero();
        assertThat(shape.axis(1)).isEqualTo(1);
        assertThatThrownBy(() -> shape.axis(3)).isInstanceOf(ShapeException.class).hasMessageContaining("-3 to 2");
        assertThatThrownBy(() -> shape.axis(-4)).isInstanceOf(ShapeException.class);
    }

    @Test
    void contiguousStridesAreRowMajor() {
        assertThat(Shape.of(2, 3, 4).contiguousStrides()).containsExactly(12, 4, 1);
        assertThat(Shape.scalar().contiguousStrides()).isEmpty();
    }
}
