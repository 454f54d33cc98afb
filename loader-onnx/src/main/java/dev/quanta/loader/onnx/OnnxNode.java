package dev.quanta.loader.onnx;

import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ops.CoreOp;
import dev.quanta.loader.onnx.proto.Onnx.AttributeProto;
import dev.quanta.loader.onnx.proto.Onnx.GraphProto;
import dev.quanta.loader.onnx.proto.Onnx.NodeProto;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One ONNX node while it is translated: its attributes with their defaults, its inputs and
 * outputs as graph values, and the means to emit core nodes and constants in its place.
 */
final class OnnxNode {

    /** Thrown by a translator for a form of the op that Quanta does not run; collected, not fatal at once. */
    static final class Unsupported extends RuntimeException {
        Unsupported(String message) {
            super(message, null, false, false);
        }
    }

    private final NodeProto proto;
    private final int opset;
    private final GraphTranslator graph;
    private final Map<String, AttributeProto> attributes = new HashMap<>();
    private int temporaries;

    OnnxNode(NodeProto proto, int opset, GraphTranslator graph) {
        this.proto = proto;
        this.opset = opset;
        this.graph = graph;
        for (AttributeProto attribute : proto.getAttributeList()) {
            if (attributes.put(attribute.getName(), attribute) != null) {
                throw error("has the attribute '" + attribute.getName() + "' twice");
            }
        }
    }

    String opType() {
        return proto.getOpType();
    }

    /** The version of the node's operator set that the model imports. */
    int opset() {
        return opset;
    }

    String describe() {
        String name = proto.getName().isEmpty() ? "(unnamed)" : "'" + proto.getName() + "'";
        String domain = proto.getDomain().isEmpty() ? "" : proto.getDomain() + ".";
        return "node " + name + " (" + domain + proto.getOpType() + ", opset " + opset + ")";
    }

    OnnxException error(String message) {
        return new OnnxException(graph.modelName() + ": " + describe() + " " + message);
    }

    Unsupported unsupported(String message) {
        return new Unsupported(message);
    }

    // ---------------------------------------------------------------- attributes

    boolean has(String name) {
        return attributes.containsKey(name);
    }

    private AttributeProto attribute(String name, AttributeProto.AttributeType type) {
        AttributeProto attribute = attributes.get(name);
        if (attribute == null) {
            return null;
        }
        if (!attribute.getRefAttrName().isEmpty()) {
            throw unsupported("attribute '" + name + "' refers to a function attribute");
        }
        if (attribute.hasType() && attribute.getType() != type) {
            throw error("attribute '" + name + "' is " + attribute.getType() + ", not " + type);
        }
        return attribute;
    }

    long intAttr(String name, long fallback) {
        AttributeProto attribute = attribute(name, AttributeProto.AttributeType.INT);
        return attribute == null ? fallback : attribute.getI();
    }

    long requiredInt(String name) {
        AttributeProto attribute = attribute(name, AttributeProto.AttributeType.INT);
        if (attribute == null) {
            throw error("lacks the required attribute '" + name + "'");
        }
        return attribute.getI();
    }

    float floatAttr(String name, float fallback) {
        AttributeProto attribute = attribute(name, AttributeProto.AttributeType.FLOAT);
        return attribute == null ? fallback : attribute.getF();
    }

    String stringAttr(String name, String fallback) {
        AttributeProto attribute = attribute(name, AttributeProto.AttributeType.STRING);
        return attribute == null ? fallback : attribute.getS().toString(StandardCharsets.UTF_8);
    }

    /** The ints of an attribute, or null when absent. */
    long[] intsAttr(String name) {
        AttributeProto attribute = attribute(name, AttributeProto.AttributeType.INTS);
        return attribute == null ? null : attribute.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    float[] floatsAttr(String name) {
        AttributeProto attribute = attribute(name, AttributeProto.AttributeType.FLOATS);
        if (attribute == null) {
            return null;
        }
        float[] values = new float[attribute.getFloatsCount()];
        for (int i = 0; i < values.length; i++) {
            values[i] = attribute.getFloats(i);
        }
        return values;
    }

    List<String> stringsAttr(String name) {
        AttributeProto attribute = attribute(name, AttributeProto.AttributeType.STRINGS);
        return attribute == null ? null
                : attribute.getStringsList().stream().map(s -> s.toString(StandardCharsets.UTF_8)).toList();
    }

    /** A tensor attribute read into the model's constants, or null when absent. */
    Tensor tensorAttr(String name) {
        AttributeProto attribute = attribute(name, AttributeProto.AttributeType.TENSOR);
        return attribute == null ? null : graph.tensor(attribute.getT(), describe() + " attribute '" + name + "'");
    }

    /** A graph attribute (a Loop body, an If branch), or null when absent. */
    GraphProto graphAttr(String name) {
        AttributeProto attribute = attribute(name, AttributeProto.AttributeType.GRAPH);
        return attribute == null ? null : attribute.getG();
    }

    // ---------------------------------------------------------------- inputs and outputs

    int inputCount() {
        return proto.getInputCount();
    }

    /** Input i, or null when it is omitted (past the end, or named ""). */
    Value input(int i) {
        if (i >= proto.getInputCount() || proto.getInput(i).isEmpty()) {
            return null;
        }
        return graph.value(proto.getInput(i), this);
    }

    Value requiredInput(int i) {
        Value value = input(i);
        if (value == null) {
            throw error("lacks its required input " + i);
        }
        return value;
    }

    /** Every input from {@code from} on, none omitted (variadic ops). */
    List<Value> inputsFrom(int from) {
        List<Value> values = new ArrayList<>();
        for (int i = from; i < inputCount(); i++) {
            values.add(requiredInput(i));
        }
        return values;
    }

    int outputCount() {
        return proto.getOutputCount();
    }

    String outputName(int i) {
        return proto.getOutput(i);
    }

    /** Output i, defined by this node, or null when it is omitted. */
    Value output(int i) {
        if (i >= proto.getOutputCount() || proto.getOutput(i).isEmpty()) {
            return null;
        }
        return graph.define(proto.getOutput(i));
    }

    // ---------------------------------------------------------------- emitting

    /** Emits a core node writing the given outputs. */
    void emit(CoreOp op, List<Value> inputs, List<Value> outputs) {
        String name = proto.getName().isEmpty() ? proto.getOpType() : proto.getName();
        graph.add(new Node(name, op, inputs, outputs, describe()));
    }

    /** Emits a core node with one fresh output and returns that output. */
    Value emit(CoreOp op, Value... inputs) {
        Value output = temporary();
        emit(op, Arrays.asList(inputs), List.of(output));
        return output;
    }

    /** This node's output {@code i}, which it must name. */
    Value requiredOutput(int i) {
        Value output = output(i);
        if (output == null) {
            throw error("lacks its required output " + i);
        }
        return output;
    }

    /** Emits a core node whose single output is this node's output {@code i}, which the node must name. */
    void emitTo(int i, CoreOp op, Value... inputs) {
        emit(op, Arrays.asList(inputs), List.of(requiredOutput(i)));
    }

    /** A fresh value for an intermediate result of this node's translation. */
    Value temporary() {
        return graph.define(freshName());
    }

    /** A constant value in the graph. */
    Value constant(Tensor tensor) {
        return graph.constant(freshName(), tensor);
    }

    private String freshName() {
        String base = proto.getOutputCount() > 0 ? proto.getOutput(0) : proto.getOpType();
        return base + "#" + (++temporaries);
    }

    Value longs(long... values) {
        return constant(graph.arena().fromLongs(DType.INT64, values, values.length));
    }

    /** An int64 scalar constant. */
    Value longScalar(long value) {
        return constant(graph.arena().fromLongs(DType.INT64, new long[] {value}));
    }

    /** A float32 scalar constant. */
    Value floatScalar(float value) {
        return constant(graph.arena().fromFloats(new float[] {value}));
    }

    GraphTranslator graph() {
        return graph;
    }
}
