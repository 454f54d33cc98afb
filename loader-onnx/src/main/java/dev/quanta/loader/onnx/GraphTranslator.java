package dev.quanta.loader.onnx;

import dev.quanta.graph.Graph;
import dev.quanta.graph.Node;
import dev.quanta.graph.Value;
import dev.quanta.graph.ValueType;
import dev.quanta.loader.onnx.proto.Onnx.AttributeProto;
import dev.quanta.loader.onnx.proto.Onnx.FunctionProto;
import dev.quanta.loader.onnx.proto.Onnx.GraphProto;
import dev.quanta.loader.onnx.proto.Onnx.NodeProto;
import dev.quanta.loader.onnx.proto.Onnx.OperatorSetIdProto;
import dev.quanta.loader.onnx.proto.Onnx.TensorProto;
import dev.quanta.loader.onnx.proto.Onnx.TensorShapeProto;
import dev.quanta.loader.onnx.proto.Onnx.TypeProto;
import dev.quanta.loader.onnx.proto.Onnx.ValueInfoProto;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Dim;
import dev.quanta.tensor.QuantaException;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Translates one ONNX graph into a Quanta graph. Every node that cannot be translated is
 * collected, and all of them are reported together, with their names, in one error.
 */
final class GraphTranslator {
    private final String modelName;
    private final Path directory;
    private final TensorArena arena;
    private final Map<String, Integer> opsets;
    private final Map<String, Value> values = new HashMap<>();
    private final Map<Value, Tensor> constants = new HashMap<>();
    private final Map<String, ValueType> declared = new HashMap<>();
    private final List<String> unsupported;
    private final Map<String, FunctionProto> functions;
    /** The translator of the enclosing graph, for a subgraph (a Loop body, an If branch); null at the top. */
    private final GraphTranslator parent;
    /** Outer values this subgraph reads, each with its placeholder input here, in order. */
    private final Map<Value, Value> captures = new java.util.LinkedHashMap<>();
    private Graph.Builder builder;
    private int inlinedCalls;
    private boolean initializersOverridable = true;

    /** Deeper nesting of function calls than this is taken for recursion, which ONNX forbids. */
    private static final int MAX_FUNCTION_DEPTH = 64;

    GraphTranslator(String modelName, Path directory, TensorArena arena, Map<String, Integer> opsets,
            List<FunctionProto> functions) {
        this.modelName = modelName;
        this.directory = directory;
        this.arena = arena;
        this.opsets = opsets;
        this.unsupported = new ArrayList<>();
        this.functions = new HashMap<>();
        this.parent = null;
        for (FunctionProto function : functions) {
            if (this.functions.put(functionKey(function.getDomain(), function.getName(), function.getOverload()), function)
                    != null) {
                throw new OnnxException(modelName + " defines the function " + function.getDomain() + "."
                        + function.getName() + " twice");
            }
        }
    }

    private GraphTranslator(GraphTranslator parent) {
        this.modelName = parent.modelName;
        this.directory = parent.directory;
        this.arena = parent.arena;
        this.opsets = parent.opsets;
        this.unsupported = parent.unsupported;
        this.functions = parent.functions;
        this.parent = parent;
    }

    /** A translated subgraph and the outer values it reads, in the order of its trailing inputs. */
    record Subgraph(Graph graph, List<Value> captured) {
    }

    /**
     * Translates a subgraph. Its declared inputs come first (untyped: a loop's carried values may
     * change shape between iterations); every outer value it reads becomes a further input.
     */
    Subgraph subgraph(GraphProto proto) {
        GraphTranslator child = new GraphTranslator(this);
        Graph graph = child.build(proto, true);
        return new Subgraph(graph, List.copyOf(child.captures.keySet()));
    }

    private static String functionKey(String domain, String name, String overload) {
        return domain + "\u0000" + name + "\u0000" + overload;
    }

    String modelName() {
        return modelName;
    }

    TensorArena arena() {
        return arena;
    }

    /**
     * Translates the main graph. {@code initializersOverridable}: whether an initializer listed among
     * the inputs is a default value that a feed may replace (IR version 4 on); before, every weight
     * was listed as an input and is a constant, as in ONNX Runtime.
     */
    Graph translate(GraphProto proto, boolean initializersOverridable) {
        this.initializersOverridable = initializersOverridable;
        Graph graph = build(proto, false);
        if (!unsupported.isEmpty()) {
            throw new UnsupportedModelException(modelName, unsupported);
        }
        return graph;
    }

    private Graph build(GraphProto proto, boolean isSubgraph) {
        builder = Graph.builder(proto.getName());
        for (ValueInfoProto info : proto.getValueInfoList()) {
            declared.put(info.getName(), type(info));
        }
        for (ValueInfoProto info : proto.getOutputList()) {
            declared.put(info.getName(), type(info));
        }
        if (proto.getSparseInitializerCount() > 0) {
            unsupported.add("sparse initializers (" + proto.getSparseInitializerCount() + ")");
        }
        Map<String, Value> initializers = new LinkedHashMap<>();
        for (TensorProto initializer : proto.getInitializerList()) {
            String name = initializer.getName();
            if (name.isEmpty()) {
                throw new OnnxException(modelName + ": an initializer has no name");
            }
            Tensor tensor = tensor(initializer, "initializer '" + name + "'");
            initializers.put(name, constant(name, tensor));
        }
        for (ValueInfoProto input : proto.getInputList()) {
            Value initializer = initializers.get(input.getName());
            if (initializer != null) {
                if (isSubgraph || initializersOverridable) {
                    builder.input(initializer); // an input with a default value: fed or constant
                }
                continue;
            }
            ValueType type = type(input);
            // A subgraph may leave an input's type out (a loop's carried value); only a type given and unsupported counts.
            boolean typeOmitted = input.getType().getValueCase() == TypeProto.ValueCase.VALUE_NOT_SET;
            if (type == null && !(isSubgraph && typeOmitted)) {
                unsupported.add("graph input '" + input.getName() + "' of type " + describe(input.getType()));
            }
            Value value = new Value(input.getName(), isSubgraph ? null : type);
            put(value);
            builder.input(value);
        }
        for (NodeProto node : NodeOrder.sorted(modelName, proto)) {
            translate(node, opsets, 0);
        }
        for (ValueInfoProto output : proto.getOutputList()) {
            Value value = values.get(output.getName());
            if (value == null) {
                throw new OnnxException(modelName + ": graph output '" + output.getName() + "' is never computed");
            }
            builder.output(value);
        }
        if (!unsupported.isEmpty()) {
            return null; // the top-level translation reports every unsupported thing at once
        }
        try {
            return builder.build();
        } catch (QuantaException e) {
            throw new OnnxException(modelName + ": " + e.getMessage(), e);
        }
    }

    private void translate(NodeProto proto, Map<String, Integer> scopeOpsets, int depth) {
        String domain = proto.getDomain().equals("ai.onnx") ? "" : proto.getDomain();
        FunctionProto function = functions.get(functionKey(proto.getDomain(), proto.getOpType(), proto.getOverload()));
        if (function != null) {
            if (depth >= MAX_FUNCTION_DEPTH) {
                throw new OnnxException(modelName + ": function calls nest deeper than " + MAX_FUNCTION_DEPTH
                        + " at node '" + proto.getName() + "' (" + proto.getOpType() + "): recursion is not allowed");
            }
            inline(proto, function, depth);
            return;
        }
        Integer opset = scopeOpsets.get(domain);
        boolean translated = false;
        if (opset == null) {
            unsupported.add("node '" + proto.getName() + "' (" + proto.getOpType() + ") of the domain '" + domain
                    + "', which the model does not import");
        } else {
            OnnxNode node = new OnnxNode(proto, opset, this);
            OnnxOps.Translator translator = OnnxOps.find(domain, proto.getOpType());
            if (translator == null) {
                unsupported.add(node.describe() + ": no such operator in Quanta");
            } else {
                try {
                    translator.translate(node);
                    translated = true;
                } catch (OnnxNode.Unsupported e) {
                    unsupported.add(node.describe() + ": " + e.getMessage());
                }
            }
        }
        // Outputs of a node that could not be translated still count as defined, so that one
        // unsupported node does not hide the others behind "undefined value" errors.
        if (!translated) {
            for (String output : proto.getOutputList()) {
                if (!output.isEmpty() && !values.containsKey(output)) {
                    put(new Value(output, declared.get(output)));
                }
            }
        }
    }

    /**
     * Translates a call of a model-local function by translating its body in place: formal
     * inputs and outputs become the call's values, the body's own values get names unique to
     * this call, and attributes that refer to the caller's ({@code ref_attr_name}) take its values
     * or the function's defaults.
     */
    private void inline(NodeProto call, FunctionProto function, int depth) {
        String prefix = (call.getName().isEmpty() ? function.getName() : call.getName()) + "/" + (++inlinedCalls) + "/";
        Map<String, String> names = new HashMap<>();
        for (int i = 0; i < function.getInputCount(); i++) {
            names.put(function.getInput(i), i < call.getInputCount() ? call.getInput(i) : "");
        }
        for (int i = 0; i < function.getOutputCount(); i++) {
            names.put(function.getOutput(i), i < call.getOutputCount() ? call.getOutput(i) : "");
        }
        Map<String, AttributeProto> attributes = new HashMap<>();
        for (AttributeProto fallback : function.getAttributeProtoList()) {
            attributes.put(fallback.getName(), fallback);
        }
        for (AttributeProto given : call.getAttributeList()) {
            attributes.put(given.getName(), given);
        }
        Map<String, Integer> bodyOpsets = new HashMap<>(opsets);
        for (OperatorSetIdProto opset : function.getOpsetImportList()) {
            bodyOpsets.put(opset.getDomain().equals("ai.onnx") ? "" : opset.getDomain(), Math.toIntExact(opset.getVersion()));
        }
        for (NodeProto body : function.getNodeList()) {
            NodeProto.Builder renamed = body.toBuilder().clearInput().clearOutput().clearAttribute()
                    .setName(prefix + body.getName());
            for (String input : body.getInputList()) {
                renamed.addInput(input.isEmpty() ? "" : names.getOrDefault(input, prefix + input));
            }
            for (String output : body.getOutputList()) {
                renamed.addOutput(output.isEmpty() ? "" : names.getOrDefault(output, prefix + output));
            }
            for (AttributeProto attribute : body.getAttributeList()) {
                if (attribute.getRefAttrName().isEmpty()) {
                    renamed.addAttribute(attribute);
                } else {
                    AttributeProto value = attributes.get(attribute.getRefAttrName());
                    if (value != null) {
                        renamed.addAttribute(value.toBuilder().setName(attribute.getName()).clearRefAttrName());
                    }
                }
            }
            translate(renamed.build(), bodyOpsets, depth + 1);
        }
    }

    // ---------------------------------------------------------------- values

    Value value(String name, OnnxNode reader) {
        Value value = resolve(name);
        if (value == null) {
            throw reader.error("reads '" + name + "', which no earlier node, input or initializer defines");
        }
        return value;
    }

    /** A value of this graph, or an outer one read through a new placeholder input (a capture); null if none. */
    private Value resolve(String name) {
        Value local = values.get(name);
        if (local != null || parent == null) {
            return local;
        }
        Value outer = parent.resolve(name);
        if (outer == null) {
            return null;
        }
        Value placeholder = new Value(name, outer.type());
        put(placeholder);
        builder.input(placeholder);
        captures.put(outer, placeholder);
        return placeholder;
    }

    Value define(String name) {
        if (values.containsKey(name)) {
            throw new OnnxException(modelName + ": the value '" + name + "' is defined twice");
        }
        Value value = new Value(name, declared.get(name));
        put(value);
        return value;
    }

    Value constant(String name, Tensor tensor) {
        if (values.containsKey(name)) {
            throw new OnnxException(modelName + ": the value '" + name + "' is defined twice");
        }
        Value value = new Value(name, ValueType.of(tensor.dtype(), tensor.shape()));
        put(value);
        constants.put(value, tensor);
        builder.constant(value, tensor);
        return value;
    }

    /** The tensor of a constant value, or null when the value is computed at run time. */
    Tensor constantTensor(Value value) {
        return constants.get(value);
    }

    void add(Node node) {
        builder.node(node);
    }

    Tensor tensor(TensorProto proto, String owner) {
        return OnnxTensors.toTensor(proto, directory, arena, modelName + " " + owner);
    }

    private void put(Value value) {
        values.put(value.name(), value);
    }

    // ---------------------------------------------------------------- types

    /** The type of a value: a tensor, a sequence of tensors or an optional of either; null for others (maps). */
    private ValueType type(ValueInfoProto info) {
        return type(info.getType(), info.getName());
    }

    private ValueType type(TypeProto type, String name) {
        if (type.hasSequenceType()) {
            ValueType element = type(type.getSequenceType().getElemType(), name);
            return element == null || element.kind() != ValueType.Kind.TENSOR ? null : ValueType.sequenceOf(element);
        }
        if (type.hasOptionalType()) {
            ValueType element = type(type.getOptionalType().getElemType(), name);
            return element == null || element.kind() == ValueType.Kind.OPTIONAL ? null : ValueType.optionalOf(element);
        }
        if (!type.hasTensorType()) {
            return null;
        }
        TypeProto.Tensor tensor = type.getTensorType();
        DType dtype;
        try {
            dtype = DType.fromOnnx(tensor.getElemType());
        } catch (QuantaException e) {
            throw new OnnxException(modelName + ": value '" + name + "': " + e.getMessage());
        }
        if (!tensor.hasShape()) {
            return ValueType.unknownShape(dtype);
        }
        List<Dim> dims = new ArrayList<>();
        for (TensorShapeProto.Dimension dim : tensor.getShape().getDimList()) {
            if (dim.hasDimValue()) {
                if (dim.getDimValue() < 0) {
                    throw new OnnxException(modelName + ": value '" + name + "' has the negative dimension "
                            + dim.getDimValue());
                }
                dims.add(Dim.of(dim.getDimValue()));
            } else {
                dims.add(Dim.symbol(dim.getDimParam()));
            }
        }
        return ValueType.of(dtype, Shape.of(dims));
    }

    private static String describe(TypeProto type) {
        if (type.hasSequenceType()) {
            return "sequence";
        }
        if (type.hasMapType()) {
            return "map";
        }
        if (type.hasOptionalType()) {
            return "optional";
        }
        if (type.hasSparseTensorType()) {
            return "sparse tensor";
        }
        return "(unknown)";
    }
}
