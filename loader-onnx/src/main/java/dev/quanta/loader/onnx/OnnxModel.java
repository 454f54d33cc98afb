package dev.quanta.loader.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.quanta.graph.Graph;
import dev.quanta.graph.GraphException;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.passes.AttentionFusion;
import dev.quanta.graph.passes.CastLikeFolding;
import dev.quanta.graph.passes.ConstantFolding;
import dev.quanta.graph.passes.ConvAffineFusion;
import dev.quanta.graph.passes.DeadCodeRemoval;
import dev.quanta.graph.passes.GatherBeforeDequantize;
import dev.quanta.graph.passes.GeluFusion;
import dev.quanta.graph.passes.HalfPrecisionWidening;
import dev.quanta.graph.passes.HardSwishFusion;
import dev.quanta.graph.passes.IntegerMatMulFusion;
import dev.quanta.graph.passes.LayerNormFusion;
import dev.quanta.graph.passes.LinearLayerFusion;
import dev.quanta.graph.passes.MaskedSoftmaxFusion;
import dev.quanta.graph.passes.ShapeInference;
import dev.quanta.graph.passes.TransposedWeights;
import dev.quanta.graph.passes.TypeCheck;
import dev.quanta.loader.onnx.proto.Onnx.ModelProto;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.QuantaException;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.TensorArena;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A loaded ONNX model: its metadata and its graph, translated and checked as a whole before any
 * run. Owns the memory of the model's weights; close it when its sessions are done.
 */
public final class OnnxModel implements AutoCloseable {

    /** Protobuf cannot parse messages of 2 GiB or more; larger weights must be external data. */
    private static final long MAX_MODEL_BYTES = Integer.MAX_VALUE;

    private final ModelMetadata metadata;
    private final Graph translated;
    private final Map<Value, Shape> translatedShapes;
    private final Graph graph;
    /** The graph of {@link SessionOptions.Optimization#BASIC}, folded when a session first asks for it. */
    private Graph folded;
    private final TensorArena weights;
    private final Map<String, Shape> outputShapes;

    private OnnxModel(ModelMetadata metadata, Graph translated, Map<Value, Shape> translatedShapes, Graph graph,
            TensorArena weights, Map<String, Shape> outputShapes) {
        this.metadata = metadata;
        this.translated = translated;
        this.translatedShapes = translatedShapes;
        this.graph = graph;
        this.weights = weights;
        this.outputShapes = outputShapes;
    }

    /** Loads a model file; external data is read relative to its folder. */
    public static OnnxModel load(Path file) {
        return load(readBytes(file), file.toString(), file.toAbsolutePath().getParent());
    }

    /** A model file's bytes, its size checked first. */
    static byte[] readBytes(Path file) {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new OnnxException("model file not found: " + file);
        } catch (IOException e) {
            throw new OnnxException("cannot read the model " + file + ": " + e.getMessage(), e);
        }
        if (size > MAX_MODEL_BYTES) {
            throw new OnnxException("model " + file + " has " + size + " bytes; an ONNX file must stay under 2 GiB"
                    + " (larger weights belong in external data)");
        }
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new OnnxException("cannot read the model " + file + ": " + e.getMessage(), e);
        }
    }

    /** Loads a model from its bytes; it may not use external data. */
    public static OnnxModel load(byte[] bytes, String name) {
        return load(bytes, name, null);
    }

    /** Parses a model's protobuf and checks that it is an ONNX model of a version Quanta reads. */
    static ModelProto parse(byte[] bytes, String name) {
        ModelProto proto;
        try {
            CodedInputStream input = CodedInputStream.newInstance(bytes);
            input.setSizeLimit(Integer.MAX_VALUE);
            proto = ModelProto.parseFrom(input);
        } catch (InvalidProtocolBufferException e) {
            throw new OnnxException(name + " is not a valid ONNX model (truncated or not protobuf): " + e.getMessage(), e);
        } catch (IOException e) {
            throw new OnnxException("cannot read the model " + name + ": " + e.getMessage(), e);
        }
        if (!proto.hasGraph()) {
            throw new OnnxException(name + " has no graph: it is not an ONNX model");
        }
        long irVersion = proto.getIrVersion();
        if (irVersion < 3 || irVersion > 13) {
            throw new OnnxException(name + " has IR version " + irVersion + "; Quanta reads IR versions 3 to 13");
        }
        return proto;
    }

    private static OnnxModel load(byte[] bytes, String name, Path directory) {
        ModelProto proto = parse(bytes, name);
        ModelMetadata metadata = ModelMetadata.of(proto, name);
        Map<String, Integer> opsets = metadata.opsets();
        TensorArena weights = TensorArena.ofShared();
        try {
            Graph translated = new GraphTranslator(name, directory, weights, opsets, proto.getFunctionsList())
                    .translate(proto.getGraph(), proto.getIrVersion() >= 4);
            Map<Value, Shape> shapes;
            Map<Value, DType> types;
            try {
                types = TypeCheck.apply(translated);
                shapes = ShapeInference.apply(translated);
            } catch (GraphException e) {
                throw new OnnxException(name + ": " + e.getMessage(), e);
            }
            Map<String, Shape> outputShapes = new LinkedHashMap<>();
            translated.outputs().forEach(output -> outputShapes.put(output.name(), shapes.get(output) != null
                    ? shapes.get(output) : output.type() == null ? null : output.type().shape()));
            // Fusion first, so that what it adds over constants (a weight transpose, a scale product) folds.
            Graph fused = ConvAffineFusion.apply(AttentionFusion.apply(MaskedSoftmaxFusion.apply(GatherBeforeDequantize.apply(
                    HardSwishFusion.apply(GeluFusion.apply(LayerNormFusion.apply(IntegerMatMulFusion.apply(
                    CastLikeFolding.apply(translated, types, weights), shapes, types, weights), shapes), types), types), shapes),
                    shapes, types), shapes, types), weights);
            Graph widened = HalfPrecisionWidening.apply(fused, TypeCheck.apply(fused));
            // Before folding, which would copy a transposed weight.
            Graph graph = DeadCodeRemoval.apply(ConstantFolding.apply(LinearLayerFusion.apply(TransposedWeights.apply(widened)),
                    weights, shapes));
            return new OnnxModel(metadata, translated, shapes, graph, weights, Collections.unmodifiableMap(outputShapes));
        } catch (QuantaException e) {
            weights.close();
            throw e;
        } catch (RuntimeException | StackOverflowError e) {
            // A defect of Quanta's that this model reached: still a typed error naming the model.
            weights.close();
            throw new LoadDefect(name, e);
        }
    }

    /** A defect of Quanta's that a model reached while loading, reported as a typed error naming the model. */
    static final class LoadDefect extends OnnxException {
        LoadDefect(String model, Throwable defect) {
            super(model + ": internal error while loading (please report it with the model): " + defect, defect);
        }
    }

    /** The op types of a model's main graph, in node order, read without translating anything. */
    public static java.util.List<String> operatorTypes(Path file) {
        return parse(readBytes(file), file.toString()).getGraph().getNodeList().stream().map(n -> n.getOpType()).toList();
    }

    /** What the file says about itself: producer, opsets, declared inputs and outputs, op histogram, parameters. */
    public ModelMetadata metadata() {
        return metadata;
    }

    public String name() {
        return metadata.name();
    }

    public long irVersion() {
        return metadata.irVersion();
    }

    public String producer() {
        return metadata.producer();
    }

    /** Imported operator sets: domain ("" for the default ONNX set) to version. */
    public Map<String, Integer> opsets() {
        return metadata.opsets();
    }

    /** Each output's shape as inferred at load, with symbolic dimensions, else as declared (null where neither). */
    public Map<String, Shape> outputShapes() {
        return outputShapes;
    }

    /** The graph after every load-time pass. */
    public Graph graph() {
        return graph;
    }

    /** A session over the graph of the options' optimization level. */
    public Session newSession(SessionOptions options) {
        return new Session(graph(options.optimization()), options);
    }

    /** The graph as the given level of load-time passes leaves it. */
    public synchronized Graph graph(SessionOptions.Optimization optimization) {
        return switch (optimization) {
            case NONE -> translated;
            case BASIC -> {
                if (folded == null) {
                    folded = DeadCodeRemoval.apply(ConstantFolding.apply(translated, weights, translatedShapes));
                }
                yield folded;
            }
            case ALL -> graph;
        };
    }

    public Session newSession() {
        return newSession(SessionOptions.defaults());
    }

    /** Frees the weights; sessions of this model must not run afterwards. */
    @Override
    public void close() {
        weights.close();
    }
}
