package dev.quanta.conformance;

/** The outcome of one test case: its folder name, the operator it tests, and why it did not pass. */
public record CaseResult(String name, String op, Status status, String reason) {

    /** How a test case ended. */
    public enum Status {
        PASS,
        /** Ran, but an output differs from the expected one. */
        FAIL,
        /** Refused at load: an operator, opset or type Quanta does not support. */
        UNSUPPORTED,
        /** Loaded, then failed with an error. */
        ERROR
    }

    /** {@code PASS test_abs}, {@code FAIL test_x: output 0 ...}. */
    public String line() {
        return status + " " + name + (reason == null ? "" : ": " + reason.replace('\n', ' '));
    }
}
