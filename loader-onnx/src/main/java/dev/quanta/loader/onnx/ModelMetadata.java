package dev.quanta.loader.onnx;

import dev.quanta.loader.onnx.proto.Onnx.AttributeProto;
import dev.quanta.loader.onnx.proto.Onnx.GraphProto;
import dev.quanta.loader.onnx.proto.Onnx.ModelProto;
import dev.quanta.loader.onnx.proto.Onnx.NodeProto;
import dev.quanta.loader.onnx.proto.Onnx.OperatorSetIdProto;
import dev.quanta.loader.onnx.proto.Onnx.TensorProto;
import dev.quanta.loader.onnx.proto.Onnx.TensorShapeProto;
import dev.quanta.loader.onnx.proto.Onnx.TypeProto;
import dev.quanta.loader.onnx.proto.Onnx.ValueInfoProto;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.QuantaException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What an ONNX file says about itself, read without translating anything: who made it, the operator
 * sets it imports, its inputs and outputs as declared, how many of each operator it uses (subgraphs
 * included) and how many parameters of each element type it carries.
 *
 * @param operators per domain ("" for ONNX's own), each operator's node count
 * @param parameters per element type, the element count and bytes of the initializers and of Constant nodes' tensors
 */
public record ModelMetadata(String name, long irVersion, String producer, String domain, long modelVersion,
        String description, Map<String, Integer> opsets, List<Declared> inputs, List<Declared> outputs,
        Map<String, Map<String, Integer>> operators, Map<DType, Parameters> parameters) {

    /** A graph input or output as the file declares it: {@code type} as in {@code float32[batch, 128]}. */
    public record Declared(String name, String type) {}

    /** Initializers of one element type: their elements and the bytes they take. */
    public record Parameters(long count, long bytes) {}

    /** Reads a model file's metadata; the graph is neither checked nor translated. */
    public static ModelMetadata read(Path file) {
        return of(OnnxModel.parse(OnnxModel.readBytes(file), file.toString()), file.toString());
    }

    static ModelMetadata of(ModelProto proto, String name) {
        Map<String, Integer> opsets = new LinkedHashMap<>();
        for (OperatorSetIdProto opset : proto.getOpsetImportList()) {
            String domain = opset.getDomain().equals("ai.onnx") ? "" : opset.getDomain();
            opsets.merge(domain, Math.toIntExact(opset.getVersion()), Math::max);
        }
        GraphProto graph = proto.getGraph();
        Set<String> initializerNames = new HashSet<>();
        Map<DType, Parameters> parameters = new EnumMap<>(DType.class);
        for (TensorProto initializer : graph.getInitializerList()) {
            initializerNames.add(initializer.getName());
            countParameters(initializer, parameters);
        }
        Map<String, Map<String, Integer>> operators = new TreeMap<>();
        countOperators(graph, operators, parameters, 0);
        List<Declared> inputs = new ArrayList<>();
        for (ValueInfoProto input : graph.getInputList()) {
            if (!initializerNames.contains(input.getName())) { // IR < 4 lists weights as inputs too
                inputs.add(new Declared(input.getName(), describe(input.getType())));
            }
        }
        List<Declared> outputs = graph.getOutputList().stream()
                .map(output -> new Declared(output.getName(), describe(output.getType()))).toList();
        return new ModelMetadata(name, proto.getIrVersion(), (proto.getProducerName() + " " + proto.getProducerVersion()).strip(),
                proto.getDomain(), proto.getModelVersion(), proto.getDocString(), Collections.unmodifiableMap(opsets),
                List.copyOf(inputs), outputs, Collections.unmodifiableMap(operators),
                Collections.unmodifiableMap(parameters));
    }

    /** Total parameters over every element type. */
    public long parameterCount() {
        return parameters.values().stream().mapToLong(Parameters::count).sum();
    }

    private static long multiplyCapped(long a, long b) {
        long product = a * b;
        return Math.multiplyHigh(a, b) != 0 || product < 0 ? Long.MAX_VALUE : product;
    }

    /** Subgraphs nested deeper than this are counted no further (loading refuses them anyway). */
    private static final int MAX_DEPTH = 64;

    /** A tensor's elements and bytes added to its element type's; unknown types are left to loading to report. */
    private static void countParameters(TensorProto tensor, Map<DType, Parameters> parameters) {
        DType dtype;
        try {
            dtype = DType.fromOnnx(tensor.getDataType());
        } catch (QuantaException e) {
            return;
        }
        long count = 1;
        for (long dim : tensor.getDimsList()) {
            count = dim < 0 ? 0 : multiplyCapped(count, dim);
        }
        long bytes = dtype.isString() ? 0 : Math.ceilDiv(multiplyCapped(count, dtype.bitWidth()), 8L);
        parameters.merge(dtype, new Parameters(count, bytes), (a, b) -> new Parameters(a.count + b.count, a.bytes + b.bytes));
    }

    /**
     * Counts each operator, in subgraphs too, and the tensors of Constant nodes as parameters: some
     * exporters (paddle2onnx, spox) give every weight that way rather than as an initializer.
     */
    private static void countOperators(GraphProto graph, Map<String, Map<String, Integer>> operators,
            Map<DType, Parameters> parameters, int depth) {
        if (depth > MAX_DEPTH) {
            return;
        }
        for (NodeProto node : graph.getNodeList()) {
            if (node.getOpType().equals("Constant") && (node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx"))) {
                node.getAttributeList().stream().filter(attribute -> attribute.getName().equals("value") && attribute.hasT())
                        .forEach(attribute -> countParameters(attribute.getT(), parameters));
            }
            String domain = node.getDomain().equals("ai.onnx") ? "" : node.getDomain();
            operators.computeIfAbsent(domain, ignored -> new TreeMap<>()).merge(node.getOpType(), 1, Integer::sum);
            for (AttributeProto attribute : node.getAttributeList()) {
                if (attribute.hasG()) {
                    countOperators(attribute.getG(), operators, parameters, depth + 1);
                }
                for (GraphProto subgraph : attribute.getGraphsList()) {
                    countOperators(subgraph, operators, parameters, depth + 1);
                }
            }
        }
    }

    /** {@code float32[batch, 128]}, {@code seq(int64[?])}, {@code optional(...)}, or {@code map}. */
    static String describe(TypeProto type) {
        if (type.hasSequenceType()) {
            return "seq(" + describe(type.getSequenceType().getElemType()) + ")";
        }
        if (type.hasOptionalType()) {
            return "optional(" + describe(type.getOptionalType().getElemType()) + ")";
        }
        if (type.hasMapType()) {
            return "map";
        }
        if (!type.hasTensorType()) {
            return "unknown";
        }
        TypeProto.Tensor tensor = type.getTensorType();
        String element;
        try {
            element = DType.fromOnnx(tensor.getElemType()).toString();
        } catch (QuantaException e) {
            element = "type#" + tensor.getElemType();
        }
        if (!tensor.hasShape()) {
            return element + "[...]";
        }
        List<String> dims = new ArrayList<>();
        for (TensorShapeProto.Dimension dim : tensor.getShape().getDimList()) {
            dims.add(dim.hasDimValue() ? Long.toString(dim.getDimValue())
                    : dim.getDimParam().isEmpty() ? "?" : dim.getDimParam());
        }
        return element + "[" + String.join(", ", dims) + "]";
    }
}
