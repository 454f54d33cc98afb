package dev.quanta.graph.ops;

import dev.quanta.graph.Graph;

/**
 * Inputs (condition bool, captured...): the outputs of one branch. Each branch's inputs are
 * outer values it reads; {@code thenCaptures} and {@code elseCaptures} give, per branch input,
 * its position among the captured inputs.
 */
public record If(Graph thenBranch, Graph elseBranch, int[] thenCaptures, int[] elseCaptures) implements CoreOp {
}
