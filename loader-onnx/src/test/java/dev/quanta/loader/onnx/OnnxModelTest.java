package dev.quanta.loader.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.quanta.graph.GraphException;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.loader.onnx.proto.Onnx.AttributeProto;
import dev.quanta.loader.onnx.proto.Onnx.FunctionProto;
import dev.quanta.loader.onnx.proto.Onnx.GraphProto;
import dev.quanta.loader.onnx.proto.Onnx.ModelProto;
import dev.quanta.loader.onnx.proto.Onnx.NodeProto;
import dev.quanta.loader.onnx.proto.Onnx.OperatorSetIdProto;
import dev.quanta.loader.onnx.proto.Onnx.StringStringEntryProto;
import dev.quanta.loader.onnx.proto.Onnx.TensorProto;
import dev.quanta.loader.onnx.proto.Onnx.TensorShapeProto;
import dev.quanta.loader.onnx.proto.Onnx.TypeProto;
import dev.quanta.loader.onnx.proto.Onnx.ValueInfoProto;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Tensor;
import dev.quanta.tensor.TensorArena;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading and running small hand-built models, and every way a model or its input can be wrong. */
class OnnxModelTest {

    @TempDir
    Path folder;

    private final TensorArena arena = TensorArena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    // ---------------------------------------------------------------- builders

    private static ValueInfoProto tensor(String name, int elementType, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long dim : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(dim));
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elementType)
                        .setShape(shape))).build();
    }

    private static NodeProto node(String name, String op, String[] inputs, String... outputs) {
        return NodeProto.newBuilder().setName(name).setOpType(op).addAllInput(Arrays.asList(inputs))
                .addAllOutput(Arrays.asList(outputs)).build();
    }

    /** y = If(cond) with these branches. */
    private static NodeProto ifNode(GraphProto thenBranch, GraphProto elseBranch) {
        return NodeProto.newBuilder().setName("if").setOpType("If").addInput("cond").addOutput("y")
                .addAttribute(AttributeProto.newBuilder().setName("then_branch").setType(AttributeProto.AttributeType.GRAPH)
                        .setG(thenBranch))
                .addAttribute(AttributeProto.newBuilder().setName("else_branch").setType(AttributeProto.AttributeType.GRAPH)
                        .setG(elseBranch)).build();
    }

    private static TensorProto floats(String name, float[] values, long... dims) {
        ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float value : values) {
            raw.putFloat(value);
        }
        return TensorProto.newBuilder().setName(name).setDataType(1).addAllDims(Arrays.stream(dims).boxed().toList())
                .setRawData(ByteString.copyFrom(raw.array())).build();
    }

    private static ModelProto model(GraphProto graph) {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17)).setGraph(graph).build();
    }

    /** y = relu(x + bias), x float32 [2, 3]. */
    private static ModelProto reluOfSum() {
        return model(GraphProto.newBuilder().setName("relu_of_sum")
                .addInput(tensor("x", 1, 2, 3))
                .addInitializer(floats("bias", new float[] {1, -1, 0.5f}, 3))
                .addNode(node("add", "Add", new String[] {"x", "bias"}, "sum"))
                .addNode(node("relu", "Relu", new String[] {"sum"}, "y"))
                .addOutput(tensor("y", 1, 2, 3)).build());
    }

    private Path write(ModelProto model) throws IOException {
        Path file = folder.resolve("model.onnx");
        Files.write(file, model.toByteArray());
        return file;
    }

    private Map<String, Tensor> x() {
        return Map.of("x", arena.fromFloats(new float[] {-2, 0, 1, 3, 0.25f, -0.75f}, 2, 3));
    }

    // ---------------------------------------------------------------- running

    @Test
    void loadsAndRunsAModel() throws IOException {
        try (OnnxModel model = OnnxModel.load(write(reluOfSum())); Session session = model.newSession()) {
            assertThat(model.irVersion()).isEqualTo(8);
            assertThat(model.opsets()).containsEntry("", 17);
            try (Outputs outputs = session.run(x())) {
                assertThat(outputs.get("y").toFloatArray()).containsExactly(0, 0, 1.5f, 4, 0, 0);
            }
        }
    }

    @Test
    void quantaLoadsFromPathsBytesAndStreamsWithTheirMetadata() throws IOException {
        Path file = write(reluOfSum());
        byte[] bytes = Files.readAllBytes(file);
        for (OnnxModel model : List.of(Quanta.load(file), Quanta.load(bytes, "bytes"),
                Quanta.load(new java.io.ByteArrayInputStream(bytes), "stream"))) {
            try (model; Session session = model.newSession(SessionOptions.defaults().withThreads(1));
                    Outputs outputs = session.run(x())) {
                assertThat(outputs.get("y").toFloatArray()).containsExactly(0, 0, 1.5f, 4, 0, 0);
                ModelMetadata metadata = model.metadata();
                assertThat(metadata.producer()).isEqualTo("test");
                assertThat(metadata.inputs()).containsExactly(new ModelMetadata.Declared("x", "float32[2, 3]"));
                assertThat(metadata.outputs()).containsExactly(new ModelMetadata.Declared("y", "float32[2, 3]"));
                assertThat(metadata.operators()).isEqualTo(Map.of("", Map.of("Add", 1, "Relu", 1)));
                assertThat(metadata.parameters()).isEqualTo(Map.of(DType.FLOAT, new ModelMetadata.Parameters(3, 12)));
            }
        }
    }

    @Test
    void constantNodesTensorsCountAsParametersInSubgraphsToo() throws IOException {
        // y = cond ? x + c : x, with c a Constant node inside the then branch (as spox and paddle2onnx write weights).
        NodeProto constant = NodeProto.newBuilder().setOpType("Constant").addOutput("c")
                .addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
                        .setT(floats("", new float[] {1, 2, 3, 4, 5, 6}, 2, 3))).build();
        GraphProto thenBranch = GraphProto.newBuilder().setName("then").addNode(constant)
                .addNode(node("add", "Add", new String[] {"x", "c"}, "sum")).addOutput(tensor("sum", 1, 2, 3)).build();
        GraphProto elseBranch = GraphProto.newBuilder().setName("else")
                .addNode(node("copy", "Identity", new String[] {"x"}, "same")).addOutput(tensor("same", 1, 2, 3)).build();
        NodeProto branch = ifNode(thenBranch, elseBranch);
        ModelProto proto = model(GraphProto.newBuilder().setName("branch").addInput(tensor("x", 1, 2, 3))
                .addInput(tensor("cond", 9)).addNode(branch).addOutput(tensor("y", 1, 2, 3)).build());
        try (OnnxModel model = OnnxModel.load(write(proto))) {
            assertThat(model.metadata().parameters()).isEqualTo(Map.of(DType.FLOAT, new ModelMetadata.Parameters(6, 24)));
            assertThat(model.metadata().parameterCount()).isEqualTo(6);
        }
    }

    /**
     * Nodes listed after their readers, as onnxconverter-common's float16 conversion writes its
     * input Casts: sorted at load, as ONNX Runtime sorts them. The If's branch reads the sum from
     * outside, so it waits for the Add listed after it.
     */
    @Test
    void nodesOutOfOrderAreSorted() throws IOException {
        GraphProto thenBranch = GraphProto.newBuilder().setName("then")
                .addNode(node("relu", "Relu", new String[] {"sum"}, "positive")).addOutput(tensor("positive", 1, 2, 3)).build();
        GraphProto elseBranch = GraphProto.newBuilder().setName("else")
                .addNode(node("negate", "Neg", new String[] {"sum"}, "negative")).addOutput(tensor("negative", 1, 2, 3)).build();
        NodeProto branch = ifNode(thenBranch, elseBranch);
        ModelProto reversed = model(GraphProto.newBuilder().setName("reversed").addInput(tensor("x", 1, 2, 3))
                .addInput(tensor("cond", 9)).addInitializer(floats("bias", new float[] {1, -1, 0.5f}, 3))
                .addNode(branch)
                .addNode(node("add", "Add", new String[] {"doubled", "bias"}, "sum"))
                .addNode(node("double", "Add", new String[] {"x", "x"}, "doubled"))
                .addOutput(tensor("y", 1, 2, 3)).build());
        try (OnnxModel model = OnnxModel.load(write(reversed)); Session session = model.newSession();
                Outputs outputs = session.run(Map.of("x", arena.fromFloats(new float[] {-2, 0, 1, 3, 0.25f, -0.75f}, 2, 3),
                        "cond", arena.fromBooleans(new boolean[] {true})))) {
            assertThat(outputs.get("y").toFloatArray()).containsExactly(0, 0, 2.5f, 7, 0, 0);
        }
    }

    @Test
    void maxPoolComputesItsIndicesOnlyWhereTheNodeNamesThem() throws IOException {
        for (boolean named : new boolean[] {false, true}) {
            NodeProto pool = NodeProto.newBuilder().setName("pool").setOpType("MaxPool").addInput("x").addOutput("y")
                    .addAllOutput(named ? List.of("indices") : List.of())
                    .addAttribute(AttributeProto.newBuilder().setName("kernel_shape").setType(AttributeProto.AttributeType.INTS)
                            .addInts(2).addInts(2))
                    .addAttribute(AttributeProto.newBuilder().setName("strides").setType(AttributeProto.AttributeType.INTS)
                            .addInts(2).addInts(2)).build();
            GraphProto.Builder graph = GraphProto.newBuilder().setName("pool").addInput(tensor("x", 1, 1, 1, 2, 4))
                    .addNode(pool).addOutput(tensor("y", 1, 1, 1, 1, 2));
            if (named) {
                graph.addOutput(tensor("indices", 7, 1, 1, 1, 2));
            }
            try (OnnxModel model = OnnxModel.load(write(model(graph.build()))); Session session = model.newSession();
                    Outputs outputs = session.run(Map.of("x", arena.fromFloats(new float[] {1, 5, 2, 0, 3, -1, 7, 4}, 1, 1, 2, 4)))) {
                assertThat(model.graph().nodes()).singleElement().satisfies(node -> assertThat(node.outputs()).hasSize(named ? 2 : 1));
                assertThat(outputs.get("y").toFloatArray()).containsExactly(5, 7);
                if (named) {
                    assertThat(outputs.get("indices").toLongArray()).containsExactly(1, 6);
                }
            }
        }
    }

    /**
     * Clip-6's bounds are attributes, cast at run time to x's type by CastLike: folded into
     * constants at load where x's type is known, so no CastLike runs; the outputs stay those of the
     * unoptimized graph.
     */
    @Test
    void clipSixBoundsBecomeConstantsOfTheInputsType() throws IOException {
        NodeProto clip = NodeProto.newBuilder().setName("clip").setOpType("Clip").addInput("x").addOutput("y")
                .addAttribute(AttributeProto.newBuilder().setName("min").setType(AttributeProto.AttributeType.FLOAT).setF(-0.5f))
                .addAttribute(AttributeProto.newBuilder().setName("max").setType(AttributeProto.AttributeType.FLOAT).setF(2))
                .build();
        ModelProto proto = model(GraphProto.newBuilder().setName("clip").addInput(tensor("x", 1, 2, 3)).addNode(clip)
                .addOutput(tensor("y", 1, 2, 3)).build()).toBuilder()
                .setOpsetImport(0, OperatorSetIdProto.newBuilder().setVersion(9)).build();
        try (OnnxModel model = OnnxModel.load(write(proto))) {
            assertThat(model.graph(SessionOptions.Optimization.NONE).nodes()).extracting(node -> node.op().name())
                    .contains("CastLike");
            assertThat(model.graph().nodes()).extracting(node -> node.op().name()).doesNotContain("CastLike");
            for (SessionOptions.Optimization level : SessionOptions.Optimization.values()) {
                try (Session session = model.newSession(SessionOptions.defaults().withOptimization(level));
                        Outputs outputs = session.run(x())) {
                    assertThat(outputs.get("y").toFloatArray()).as("%s", level).containsExactly(-0.5f, 0, 1, 2, 0.25f, -0.5f);
                }
            }
        }
        // A CastLike of an initializer that is also a graph input stays: the input can be fed.
        ModelProto fed = model(GraphProto.newBuilder().setName("fed").addInput(tensor("x", 1, 2, 3))
                .addInput(tensor("c", 11, 1)).addInitializer(TensorProto.newBuilder().setName("c").setDataType(11).addDims(1)
                        .addDoubleData(1.5))
                .addNode(node("like", "CastLike", new String[] {"c", "x"}, "cast"))
                .addNode(node("negate", "Neg", new String[] {"cast"}, "y")).addOutput(tensor("y", 1, 1)).build());
        try (OnnxModel model = OnnxModel.load(write(fed)); Session session = model.newSession();
                Outputs outputs = session.run(Map.of("x", x().get("x"), "c", arena.fromDoubles(new double[] {4.25}, 1)))) {
            assertThat(outputs.get("y").toFloatArray()).containsExactly(-4.25f);
        }
        // A cast the kernel refuses (to complex, storage only) still loads, and fails at run time naming its node.
        ModelProto complex = model(GraphProto.newBuilder().setName("complex").addInput(tensor("z", 14, 1))
                .addInitializer(floats("c", new float[] {2}, 1))
                .addNode(node("like", "CastLike", new String[] {"c", "z"}, "cast"))
                .addNode(node("copy", "Identity", new String[] {"cast"}, "y")).addOutput(tensor("y", 14, 1)).build());
        try (OnnxModel model = OnnxModel.load(write(complex)); Session session = model.newSession()) {
            assertThatThrownBy(() -> session.run(Map.of("z", arena.allocate(DType.COMPLEX64, dev.quanta.tensor.Shape.of(1)))).close())
                    .isInstanceOf(GraphException.class).hasMessageContaining("like").hasMessageContaining("complex");
        }
    }

    /**
     * An initializer listed among the inputs: from IR version 4 a default value that a feed replaces;
     * before, where every weight was listed so, a constant that cannot be fed, as in ONNX Runtime.
     */
    @Test
    void initializersListedAsInputsAreDefaultsFromIrVersionFourAndConstantsBefore() throws IOException {
        GraphProto graph = reluOfSum().getGraph().toBuilder().addInput(tensor("bias", 1, 3)).build();
        Map<String, Tensor> withBias = Map.of("x", x().get("x"), "bias", arena.fromFloats(new float[] {10, 20, 30}, 3));
        try (OnnxModel model = OnnxModel.load(write(model(graph))); Session session = model.newSession()) {
            assertThat(model.graph().inputs()).extracting(input -> input.name()).containsExactly("x", "bias");
            try (Outputs outputs = session.run(x())) {
                assertThat(outputs.get("y").toFloatArray()).containsExactly(0, 0, 1.5f, 4, 0, 0);
            }
            try (Outputs outputs = session.run(withBias)) {
                assertThat(outputs.get("y").toFloatArray()).containsExactly(8, 20, 31, 13, 20.25f, 29.25f);
            }
        }
        ModelProto irThree = model(graph).toBuilder().setIrVersion(3).clearOpsetImport()
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(8)).build();
        try (OnnxModel model = OnnxModel.load(write(irThree)); Session session = model.newSession()) {
            assertThat(model.graph().inputs()).extracting(input -> input.name()).containsExactly("x");
            assertThat(model.metadata().inputs()).extracting(input -> input.name()).containsExactly("x");
            try (Outputs outputs = session.run(x())) {
                assertThat(outputs.get("y").toFloatArray()).containsExactly(0, 0, 1.5f, 4, 0, 0);
            }
            assertThatThrownBy(() -> session.run(withBias).close()).isInstanceOf(GraphException.class)
                    .hasMessageContaining("unknown input").hasMessageContaining("bias");
        }
    }

    /** A Gemm with transB over constant weights reads them as they lie: no transposed copy beside them. */
    @Test
    void gemmWeightsReadTransposedAreNotCopied() throws IOException {
        float[] weights = new float[4 * 3];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (i % 5) - 2.5f;
        }
        ModelProto gemm = model(GraphProto.newBuilder().setName("linear").addInput(tensor("x", 1, 2, 3))
                .addInitializer(floats("w", weights, 4, 3)).addInitializer(floats("b", new float[] {1, 2, 3, 4}, 4))
                .addNode(node("gemm", "Gemm", new String[] {"x", "w", "b"}, "y").toBuilder()
                        .addAttribute(AttributeProto.newBuilder().setName("transB").setType(AttributeProto.AttributeType.INT).setI(1)))
                .addOutput(tensor("y", 1, 2, 4)).build());
        try (OnnxModel model = OnnxModel.load(write(gemm))) {
            // The product reads w as it lies, and takes in the bias's Add.
            assertThat(model.graph().nodes()).extracting(node -> node.op().name()).containsExactly("LinearLayer");
            assertThat(model.graph().constants().values()).extracting(Tensor::shape)
                    .doesNotContain(dev.quanta.tensor.Shape.of(3, 4));
            float[] expected = null;
            for (SessionOptions.Optimization level : SessionOptions.Optimization.values()) {
                try (Session session = model.newSession(SessionOptions.defaults().withOptimization(level));
                        Outputs outputs = session.run(x())) {
                    float[] y = outputs.get("y").toFloatArray();
                    if (expected == null) {
                        expected = y;
                    }
                    assertThat(y).as("%s", level).containsExactly(expected, Offset.offset(1e-5f));
                }
            }
            // x [[-2, 0, 1], [3, 0.25, -0.75]] by w's rows [-2.5, -1.5, -0.5], [0.5, 1.5, -2.5], ... plus b.
            assertThat(expected[0]).isCloseTo(-2 * -2.5f + 1 * -0.5f + 1, Offset.offset(1e-6f));
        }
    }

    @Test
    void everyOptimizationLevelGivesTheSameOutputs() throws IOException {
        try (OnnxModel model = OnnxModel.load(write(reluOfSum()))) {
            for (SessionOptions.Optimization level : SessionOptions.Optimization.values()) {
                try (Session session = model.newSession(SessionOptions.defaults().withOptimization(level));
                        Outputs outputs = session.run(x())) {
                    assertThat(outputs.get("y").toFloatArray()).as("%s", level).containsExactly(0, 0, 1.5f, 4, 0, 0);
                }
            }
            assertThat(model.graph(SessionOptions.Optimization.NONE).nodes()).hasSize(2);
        }
    }

    @Test
    void aRunPastTheSessionsMemoryLimitFailsNamingTheNode() throws IOException {
        try (OnnxModel model = OnnxModel.load(write(reluOfSum()));
                Session session = model.newSession(SessionOptions.defaults().withMemoryLimit(16))) {
            assertThatThrownBy(() -> session.run(x()).close()).isInstanceOf(GraphException.class)
                    .hasMessageContaining("add").hasMessageContaining("memory limit");
        }
    }

    @Test
    void cudaSessionsAreRefusedPlainly() throws IOException {
        try (OnnxModel model = OnnxModel.load(write(reluOfSum()))) {
            assertThatThrownBy(() -> model.newSession(SessionOptions.defaults().withDevice(SessionOptions.Device.CUDA)))
                    .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("CUDA");
        }
    }

    // ---------------------------------------------------------------- malformed models

    @Test
    void truncatedModelsAreRefusedWithTheFileNamed() throws IOException {
        byte[] bytes = reluOfSum().toByteArray();
        Path file = folder.resolve("cut.onnx");
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        assertThatThrownBy(() -> OnnxModel.load(file)).isInstanceOf(OnnxException.class)
                .hasMessageContaining("cut.onnx").hasMessageContaining("not a valid ONNX model");
    }

    @Test
    void randomBytesAreRefused() throws IOException {
        SplittableRandom random = new SplittableRandom(7);
        for (int trial = 0; trial < 200; trial++) {
            byte[] bytes = new byte[random.nextInt(1, 300)];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) random.nextInt();
            }
            int seed = trial;
            assertThatThrownBy(() -> OnnxModel.load(bytes, "random-" + seed).close()).as("seed 7, trial %d", trial)
                    .isInstanceOf(OnnxException.class);
        }
    }

    @Test
    void aMissingFileIsNamed() {
        assertThatThrownBy(() -> OnnxModel.load(folder.resolve("absent.onnx"))).isInstanceOf(OnnxException.class)
                .hasMessageContaining("not found").hasMessageContaining("absent.onnx");
    }

    @Test
    void everyUnsupportedNodeIsListedInOneError() throws IOException {
        ModelProto model = model(GraphProto.newBuilder().setName("g").addInput(tensor("x", 1, 2))
                .addNode(node("first", "Frobnicate", new String[] {"x"}, "a"))
                .addNode(node("second", "Relu", new String[] {"a"}, "b"))
                .addNode(node("third", "Wibble", new String[] {"b"}, "y"))
                .addOutput(tensor("y", 1, 2)).build());
        assertThatThrownBy(() -> OnnxModel.load(write(model))).isInstanceOf(UnsupportedModelException.class)
                .hasMessageContaining("2 things").hasMessageContaining("'first' (Frobnicate")
                .hasMessageContaining("'third' (Wibble").satisfies(e ->
                        assertThat(((UnsupportedModelException) e).problems()).hasSize(2));
    }

    @Test
    void aNodeReadingAnUndefinedValueIsNamed() throws IOException {
        ModelProto model = model(GraphProto.newBuilder().setName("g").addInput(tensor("x", 1, 2))
                .addNode(node("adder", "Add", new String[] {"x", "ghost"}, "y"))
                .addOutput(tensor("y", 1, 2)).build());
        assertThatThrownBy(() -> OnnxModel.load(write(model))).isInstanceOf(OnnxException.class)
                .hasMessageContaining("'adder'").hasMessageContaining("'ghost'");
    }

    @Test
    void valuesDefinedTwiceAreRefused() throws IOException {
        ModelProto model = model(GraphProto.newBuilder().setName("g").addInput(tensor("x", 1, 2))
                .addNode(node("one", "Relu", new String[] {"x"}, "y"))
                .addNode(node("two", "Relu", new String[] {"x"}, "y"))
                .addOutput(tensor("y", 1, 2)).build());
        assertThatThrownBy(() -> OnnxModel.load(write(model))).isInstanceOf(OnnxException.class)
                .hasMessageContaining("'y' is defined twice");
    }

    @Test
    void everyTypeMismatchIsListedInOneErrorWithNodeNames() throws IOException {
        ModelProto model = model(GraphProto.newBuilder().setName("g")
                .addInput(tensor("x", 1, 2)).addInput(tensor("n", 7, 2)).addInput(tensor("w", 6, 2, 2))
                .addNode(node("mixed_add", "Add", new String[] {"x", "n"}, "s"))
                .addNode(node("mixed_product", "MatMul", new String[] {"x", "w"}, "p"))
                .addNode(node("fine", "Relu", new String[] {"x"}, "r"))
                .addOutput(tensor("s", 1, 2)).addOutput(tensor("p", 1, 2)).addOutput(tensor("r", 1, 2)).build());
        assertThatThrownBy(() -> OnnxModel.load(write(model))).isInstanceOf(OnnxException.class)
                .hasMessageContaining("2 type mismatches")
                .hasMessageContaining("'mixed_add'").hasMessageContaining("float32 and int64")
                .hasMessageContaining("'mixed_product'").hasMessageContaining("float32 and int32")
                .hasMessageNotContaining("'fine'");
    }

    @Test
    void rawDataOfTheWrongSizeIsNamed() throws IOException {
        TensorProto wrong = floats("weights", new float[] {1, 2, 3}, 2, 2);
        ModelProto model = model(GraphProto.newBuilder().setName("g").addInitializer(wrong)
                .addNode(node("id", "Identity", new String[] {"weights"}, "y")).addOutput(tensor("y", 1, 2, 2)).build());
        assertThatThrownBy(() -> OnnxModel.load(write(model))).isInstanceOf(OnnxException.class)
                .hasMessageContaining("'weights'").hasMessageContaining("12 bytes").hasMessageContaining("16");
    }

    @Test
    void negativeAndOverflowingDimensionsAreRefused() throws IOException {
        TensorProto negative = TensorProto.newBuilder().setName("n").setDataType(1).addDims(-4).build();
        assertThatThrownBy(() -> OnnxModel.load(write(model(GraphProto.newBuilder().setName("g").addInitializer(negative)
                .addNode(node("id", "Identity", new String[] {"n"}, "y")).addOutput(tensor("y", 1)).build()))))
                .isInstanceOf(OnnxException.class).hasMessageContaining("negative dimension -4");
        // Found by fuzzing: a large shape with no values was allocated (and zeroed) before its values were counted.
        TensorProto empty = TensorProto.newBuilder().setName("e").setDataType(15).addDims((1L << 28) - 1).build();
        long before = TensorArena.liveBytes();
        assertThatThrownBy(() -> OnnxModel.load(write(model(GraphProto.newBuilder().setName("g").addInitializer(empty)
                .addNode(node("id", "Identity", new String[] {"e"}, "y")).addOutput(tensor("y", 1)).build()))))
                .isInstanceOf(OnnxException.class).hasMessageContaining("'e'").hasMessageContaining("no data at all");
        assertThat(TensorArena.liveBytes()).isEqualTo(before);
        TensorProto huge = TensorProto.newBuilder().setName("h").setDataType(1).addDims(1L << 40).addDims(1L << 40).build();
        assertThatThrownBy(() -> OnnxModel.load(write(model(GraphProto.newBuilder().setName("g").addInitializer(huge)
                .addNode(node("id", "Identity", new String[] {"h"}, "y")).addOutput(tensor("y", 1)).build()))))
                .isInstanceOf(OnnxException.class).hasMessageContaining("'h'");
    }

    @Test
    void windowsAndBlocksOutsideTheirRangesAreRefusedNamingTheNodeOnce() throws IOException {
        Map<String, long[]> wrongWindows = Map.of("negative pads", new long[] {-1, 0, 0, 0}, "pads for one axis",
                new long[] {1, 1}, "strides for three axes", new long[] {1, 1, 1});
        for (Map.Entry<String, long[]> wrong : wrongWindows.entrySet()) {
            String attribute = wrong.getKey().contains("pads") ? "pads" : "strides";
            NodeProto pool = node("pool", "AveragePool", new String[] {"x"}, "y").toBuilder()
                    .addAttribute(ints("kernel_shape", 2, 2)).addAttribute(ints(attribute, wrong.getValue())).build();
            ModelProto model = model(GraphProto.newBuilder().setName("g").addInput(tensor("x", 1, 1, 1, 5, 5))
                    .addNode(pool).addOutput(tensor("y", 1)).build());
            assertThatThrownBy(() -> OnnxModel.load(write(model))).as(wrong.getKey()).isInstanceOf(OnnxException.class)
                    .hasMessageContaining("node 'pool' (AveragePool, opset 17): ").hasMessageContaining(attribute)
                    .hasMessageNotContaining("(node 'pool'");
        }
        NodeProto dequantize = node("dq", "DequantizeLinear", new String[] {"x", "s"}, "y").toBuilder()
                .addAttribute(AttributeProto.newBuilder().setName("block_size").setType(AttributeProto.AttributeType.INT)
                        .setI(-4)).build();
        ModelProto blocked = model(GraphProto.newBuilder().setName("g").addInput(tensor("x", 3, 2, 8))
                .addInitializer(floats("s", new float[] {1, 1, 1, 1}, 2, 2)).addNode(dequantize)
                .addOutput(tensor("y", 1, 2, 8)).build());
        assertThatThrownBy(() -> OnnxModel.load(write(blocked))).isInstanceOf(OnnxException.class)
                .hasMessageContaining("'dq'").hasMessageContaining("block_size -4");
    }

    private static AttributeProto ints(String name, long... values) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS)
                .addAllInts(Arrays.stream(values).boxed().toList()).build();
    }

    /** An RNN of 2 steps, batch 1, input 2, hidden 3: W, R and sequence_lens constants, X fed. */
    private static GraphProto.Builder rnn(int elementType, NodeProto node, float[] r, int length) {
        TensorProto lengths = TensorProto.newBuilder().setName("lengths").setDataType(6).addDims(1)
                .setRawData(ByteString.copyFrom(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(length).array())).build();
        return GraphProto.newBuilder().setName("g").addInput(tensor("x", elementType, 2, 1, 2))
                .addInitializer(cast(floats("w", new float[] {0.5f, -1, 0.25f, 2, -0.75f, 1}, 1, 3, 2), elementType))
                .addInitializer(cast(floats("r", r, 1, 3, r.length / 3), elementType)).addInitializer(lengths)
                .addNode(node).addOutput(tensor("y", elementType));
    }

    /** Float32 values as {@code elementType} (float32 or double). */
    private static TensorProto cast(TensorProto floats, int elementType) {
        if (elementType == 1) {
            return floats;
        }
        ByteBuffer from = floats.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer to = ByteBuffer.allocate(from.remaining() * 2).order(ByteOrder.LITTLE_ENDIAN);
        while (from.hasRemaining()) {
            to.putDouble(from.getFloat());
        }
        return floats.toBuilder().setDataType(elementType).setRawData(ByteString.copyFrom(to.array())).build();
    }

    @Test
    void recurrentCellsRunInDoubleAndRefuseBadAttributesAndMisshapenInputsNamingTheNode() throws IOException {
        float[] r = {0.1f, 0.2f, -0.3f, 0.4f, -0.5f, 0.6f, 0.7f, -0.8f, 0.9f};
        NodeProto rnn = node("cell", "RNN", new String[] {"x", "w", "r", "", "lengths"}, "y");
        Map<Integer, float[]> outputs = new java.util.HashMap<>();
        for (int type : new int[] {1, 11}) {
            try (OnnxModel model = OnnxModel.load(write(model(rnn(type, rnn, r, 2).build())));
                    Session session = model.newSession()) {
                Tensor x = type == 1 ? arena.fromFloats(new float[] {1, 2, -1, 0.5f}, 2, 1, 2)
                        : arena.fromDoubles(new double[] {1, 2, -1, 0.5}, 2, 1, 2);
                try (Outputs result = session.run(Map.of("x", x))) {
                    assertThat(result.get("y").dtype()).isEqualTo(type == 1 ? DType.FLOAT : DType.DOUBLE);
                    outputs.put(type, result.get("y").toFloatArray());
                }
            }
        }
        assertThat(outputs.get(11)).containsExactly(outputs.get(1), Offset.offset(1e-6f));
        Map<String, AttributeProto> wrong = Map.of(
                "activation 'Swish'", AttributeProto.newBuilder().setName("activations")
                        .setType(AttributeProto.AttributeType.STRINGS).addStrings(ByteString.copyFromUtf8("Swish")).build(),
                "direction 'sideways'", AttributeProto.newBuilder().setName("direction")
                        .setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8("sideways")).build(),
                "clip -1", AttributeProto.newBuilder().setName("clip").setType(AttributeProto.AttributeType.FLOAT).setF(-1).build(),
                "layout 2", AttributeProto.newBuilder().setName("layout").setType(AttributeProto.AttributeType.INT).setI(2).build());
        for (Map.Entry<String, AttributeProto> attribute : wrong.entrySet()) {
            ModelProto model = model(rnn(1, rnn.toBuilder().addAttribute(attribute.getValue()).build(), r, 2).build());
            assertThatThrownBy(() -> OnnxModel.load(write(model))).as(attribute.getKey()).isInstanceOf(OnnxException.class)
                    .hasMessageContaining("node 'cell' (RNN, opset 17)").hasMessageContaining(attribute.getKey());
        }
        Map<String, ModelProto> misshapen = Map.of(
                "R must be [1, 1·hidden, hidden]", model(rnn(1, rnn, new float[] {1, 2, 3, 4, 5, 6}, 2).build()),
                "sequence_lens[0] is 3", model(rnn(1, rnn, r, 3).build()));
        for (Map.Entry<String, ModelProto> model : misshapen.entrySet()) {
            try (OnnxModel loaded = OnnxModel.load(write(model.getValue())); Session session = loaded.newSession()) {
                assertThatThrownBy(() -> session.run(Map.of("x", arena.fromFloats(new float[4], 2, 1, 2))).close())
                        .as(model.getKey()).isInstanceOf(GraphException.class).hasMessageContaining("'cell'")
                        .hasMessageContaining(model.getKey());
            }
        }
    }

    @Test
    void scanAndLinearAttentionCountsOutsideTheirRangesAreRefusedNamingTheNode() throws IOException {
        GraphProto body = GraphProto.newBuilder().setName("body").addInput(tensor("s", 1, 2)).addInput(tensor("e", 1, 2))
                .addNode(node("add", "Add", new String[] {"s", "e"}, "t")).addOutput(tensor("t", 1, 2)).build();
        NodeProto scan = node("scan", "Scan", new String[] {"x", "x"}, "y").toBuilder()
                .addAttribute(AttributeProto.newBuilder().setName("body").setType(AttributeProto.AttributeType.GRAPH).setG(body))
                .addAttribute(AttributeProto.newBuilder().setName("num_scan_inputs").setType(AttributeProto.AttributeType.INT)
                        .setI(5)).build();
        ModelProto scanModel = model(GraphProto.newBuilder().setName("g").addInput(tensor("x", 1, 3, 2)).addNode(scan)
                .addOutput(tensor("y", 1)).build());
        assertThatThrownBy(() -> OnnxModel.load(write(scanModel))).isInstanceOf(OnnxException.class)
                .hasMessageContaining("'scan'").hasMessageContaining("num_scan_inputs 5");
        NodeProto attention = node("linear", "LinearAttention", new String[] {"x", "x", "x"}, "y").toBuilder()
                .addAttribute(AttributeProto.newBuilder().setName("q_num_heads").setType(AttributeProto.AttributeType.INT).setI(3))
                .addAttribute(AttributeProto.newBuilder().setName("kv_num_heads").setType(AttributeProto.AttributeType.INT).setI(2))
                .addAttribute(AttributeProto.newBuilder().setName("update_rule").setType(AttributeProto.AttributeType.STRING)
                        .setS(ByteString.copyFromUtf8("linear"))).build();
        ModelProto attentionModel = model(GraphProto.newBuilder().setName("g").addInput(tensor("x", 1, 1, 3, 6)).addNode(attention)
                .addOutput(tensor("y", 1)).build()).toBuilder()
                .setOpsetImport(0, OperatorSetIdProto.newBuilder().setVersion(27)).build();
        assertThatThrownBy(() -> OnnxModel.load(write(attentionModel))).isInstanceOf(OnnxException.class)
                .hasMessageContaining("'linear'").hasMessageContaining("q_num_heads 3 and kv_num_heads 2");
    }

    /** A tree ensemble classifier with string labels gives the strings, its scores beside them. */
    @Test
    void aTreeEnsembleClassifierGivesItsStringLabels() throws IOException {
        NodeProto trees = node("forest", "TreeEnsembleClassifier", new String[] {"x"}, "label", "scores").toBuilder()
                .setDomain("ai.onnx.ml")
                .addAttribute(AttributeProto.newBuilder().setName("classlabels_strings").setType(AttributeProto.AttributeType.STRINGS)
                        .addStrings(ByteString.copyFromUtf8("cat")).addStrings(ByteString.copyFromUtf8("dog"))
                        .addStrings(ByteString.copyFromUtf8("eel")))
                .addAttribute(ints("nodes_treeids", 0, 0, 0)).addAttribute(ints("nodes_nodeids", 0, 1, 2))
                .addAttribute(ints("nodes_featureids", 0, 0, 0)).addAttribute(ints("nodes_truenodeids", 1, 0, 0))
                .addAttribute(ints("nodes_falsenodeids", 2, 0, 0))
                .addAttribute(AttributeProto.newBuilder().setName("nodes_modes").setType(AttributeProto.AttributeType.STRINGS)
                        .addStrings(ByteString.copyFromUtf8("BRANCH_LEQ")).addStrings(ByteString.copyFromUtf8("LEAF"))
                        .addStrings(ByteString.copyFromUtf8("LEAF")))
                .addAttribute(AttributeProto.newBuilder().setName("nodes_values").setType(AttributeProto.AttributeType.FLOATS)
                        .addFloats(0).addFloats(0).addFloats(0))
                .addAttribute(ints("class_treeids", 0, 0)).addAttribute(ints("class_nodeids", 1, 2)).addAttribute(ints("class_ids", 0, 2))
                .addAttribute(AttributeProto.newBuilder().setName("class_weights").setType(AttributeProto.AttributeType.FLOATS)
                        .addFloats(0.75f).addFloats(0.5f)).build();
        ModelProto model = model(GraphProto.newBuilder().setName("g").addInput(tensor("x", 1, 2, 1)).addNode(trees)
                .addOutput(tensor("label", 8)).addOutput(tensor("scores", 1)).build()).toBuilder()
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("ai.onnx.ml").setVersion(3)).build();
        try (OnnxModel loaded = OnnxModel.load(write(model)); Session session = loaded.newSession();
                Outputs outputs = session.run(Map.of("x", arena.fromFloats(new float[] {-1, 1}, 2, 1)))) {
            assertThat(outputs.get("label").toStringArray()).containsExactly("cat", "eel");
            assertThat(outputs.get("scores").toFloatArray()).containsExactly(0.75f, 0, 0, 0, 0, 0.5f);
        }
    }

    /** A tree ensemble whose "tree" loops back on itself, or branches to a node it lacks, is refused at load. */
    @Test
    void treeEnsemblesThatAreNotTreesAreRefusedNamingTheNode() throws IOException {
        Map<String, long[]> falseBranches = Map.of("reaches one of its nodes twice", new long[] {0, 0, 0},
                "branches to node 7 of tree 0", new long[] {7, 0, 0});
        for (Map.Entry<String, long[]> branches : falseBranches.entrySet()) {
            NodeProto trees = node("forest", "TreeEnsembleRegressor", new String[] {"x"}, "y").toBuilder().setDomain("ai.onnx.ml")
                    .addAttribute(ints("nodes_treeids", 0, 0, 0)).addAttribute(ints("nodes_nodeids", 0, 1, 2))
                    .addAttribute(ints("nodes_featureids", 0, 0, 0)).addAttribute(ints("nodes_truenodeids", 1, 0, 0))
                    .addAttribute(ints("nodes_falsenodeids", branches.getValue()))
                    .addAttribute(AttributeProto.newBuilder().setName("nodes_modes").setType(AttributeProto.AttributeType.STRINGS)
                            .addStrings(ByteString.copyFromUtf8("BRANCH_LEQ")).addStrings(ByteString.copyFromUtf8("LEAF"))
                            .addStrings(ByteString.copyFromUtf8("LEAF")))
                    .addAttribute(AttributeProto.newBuilder().setName("nodes_values").setType(AttributeProto.AttributeType.FLOATS)
                            .addFloats(0).addFloats(0).addFloats(0))
                    .addAttribute(ints("target_treeids", 0)).addAttribute(ints("target_nodeids", 1)).addAttribute(ints("target_ids", 0))
                    .addAttribute(AttributeProto.newBuilder().setName("target_weights").setType(AttributeProto.AttributeType.FLOATS)
                            .addFloats(1)).build();
            ModelProto model = model(GraphProto.newBuilder().setName("g").addInput(tensor("x", 1, 2, 1)).addNode(trees)
                    .addOutput(tensor("y", 1)).build()).toBuilder()
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("ai.onnx.ml").setVersion(3)).build();
            assertThatThrownBy(() -> OnnxModel.load(write(model))).as(branches.getKey()).isInstanceOf(OnnxException.class)
                    .hasMessageContaining("'forest'").hasMessageContaining(branches.getKey());
        }
    }

    @Test
    void aCycleIsRefusedNamingItsNodes() throws IOException {
        ModelProto model = model(GraphProto.newBuilder().setName("g").addInput(tensor("x", 1, 2))
                .addNode(node("first", "Add", new String[] {"x", "b"}, "a"))
                .addNode(node("second", "Relu", new String[] {"a"}, "b"))
                .addOutput(tensor("b", 1, 2)).build());
        assertThatThrownBy(() -> OnnxModel.load(write(model))).isInstanceOf(OnnxException.class)
                .hasMessageContaining("cycle").hasMessageContaining("'first' (Add) reading [b]")
                .hasMessageContaining("'second' (Relu) reading [a]");
    }

    @Test
    void missingRequiredAttributesAreNamed() throws IOException {
        for (String op : new String[] {"Cast", "Concat", "Constant"}) {
            ModelProto model = model(GraphProto.newBuilder().setName("g").addInput(tensor("x", 1, 2))
                    .addNode(node("bare", op, op.equals("Constant") ? new String[0] : new String[] {"x"}, "y"))
                    .addOutput(tensor("y", 1, 2)).build());
            assertThatThrownBy(() -> OnnxModel.load(write(model))).as(op).isInstanceOf(OnnxException.class)
                    .hasMessageContaining("'bare'");
        }
    }

    /** Ifs nested {@code depth} deep, each else branch a leaf; the innermost then branch too. */
    private static ModelProto nestedIfs(int depth) {
        GraphProto leaf = GraphProto.newBuilder().setName("leaf")
                .addNode(node("leaf_identity", "Identity", new String[] {"x"}, "out")).addOutput(tensor("out", 1, 2)).build();
        GraphProto branch = leaf;
        for (int level = 0; level < depth; level++) {
            NodeProto nested = NodeProto.newBuilder().setName("if" + level).setOpType("If").addInput("cond").addOutput("out")
                    .addAttribute(AttributeProto.newBuilder().setName("then_branch").setType(AttributeProto.AttributeType.GRAPH).setG(branch))
                    .addAttribute(AttributeProto.newBuilder().setName("else_branch").setType(AttributeProto.AttributeType.GRAPH).setG(leaf))
                    .build();
            branch = GraphProto.newBuilder().setName("level" + level).addNode(nested).addOutput(tensor("out", 1, 2)).build();
        }
        return model(GraphProto.newBuilder(branch).setName("g").addInput(tensor("x", 1, 2)).addInput(tensor("cond", 9)).build());
    }

    @Test
    void subgraphsNestedAbsurdlyDeepAreRefusedAndModeratelyDeepOnesRun() throws IOException {
        assertThatThrownBy(() -> OnnxModel.load(write(nestedIfs(300)))).isInstanceOf(OnnxException.class)
                .hasMessageContaining("model.onnx").hasMessageContaining("not a valid ONNX model");
        try (OnnxModel model = OnnxModel.load(write(nestedIfs(20))); Session session = model.newSession();
                Outputs outputs = session.run(Map.of("x", arena.fromFloats(new float[] {1, 2}, 2),
                        "cond", arena.fromBooleans(new boolean[] {true})))) {
            assertThat(outputs.get("out").toFloatArray()).containsExactly(1, 2);
        }
    }

    @Test
    void anAbsurdSizeIsRefusedBeforeAnythingIsAllocated() throws IOException {
        // ConstantOfShape of a constant shape [2^20, 2^20, 2^20]: 2^60 elements.
        TensorProto shape = TensorProto.newBuilder().setName("shape").setDataType(7).addDims(3)
                .addInt64Data(1L << 20).addInt64Data(1L << 20).addInt64Data(1L << 20).build();
        ModelProto model = model(GraphProto.newBuilder().setName("g").addInitializer(shape)
                .addNode(node("fill", "ConstantOfShape", new String[] {"shape"}, "y"))
                .addOutput(tensor("y", 1)).build());
        long before = TensorArena.liveBytes();
        try (OnnxModel loaded = OnnxModel.load(write(model)); Session session = loaded.newSession()) {
            // Too large to fold: loading allocated the 24-byte shape and no more.
            assertThat(TensorArena.liveBytes() - before).isLessThan(1024);
            assertThatThrownBy(() -> session.run(Map.of()).close()).isInstanceOf(GraphException.class)
                    .hasMessageContaining("'fill'");
            assertThat(TensorArena.liveBytes() - before).isLessThan(1024);
        }
    }

    // ---------------------------------------------------------------- bad inputs

    @Test
    void wrongInputsAreNamedWithWhatWasExpected() throws IOException {
        try (OnnxModel model = OnnxModel.load(write(reluOfSum())); Session session = model.newSession()) {
            assertThatThrownBy(() -> session.run(Map.of("z", arena.allocate(DType.FLOAT, 2, 3))))
                    .isInstanceOf(GraphException.class).hasMessageContaining("unknown input [z]").hasMessageContaining("[x]");
            assertThatThrownBy(() -> session.run(Map.of())).isInstanceOf(GraphException.class)
                    .hasMessageContaining("missing input [x]");
            assertThatThrownBy(() -> session.run(Map.of("x", arena.allocate(DType.INT64, 2, 3))))
                    .isInstanceOf(GraphException.class).hasMessageContaining("'x' must be float32, not int64");
            assertThatThrownBy(() -> session.run(Map.of("x", arena.allocate(DType.FLOAT, 3, 2))))
                    .isInstanceOf(GraphException.class).hasMessageContaining("'x' must have shape [2, 3], not [3, 2]");
            assertThatThrownBy(() -> session.run(Map.of("x", arena.allocate(DType.FLOAT, 6))))
                    .isInstanceOf(GraphException.class).hasMessageContaining("rank 2");
        }
    }

    /** One node reading float data x [2, 3] and int64 indices, with the given attributes and extra inputs. */
    private OnnxModel indexing(String op, long[] indexDims, List<AttributeProto> attributes, String... extraInputs)
            throws IOException {
        GraphProto.Builder graph = GraphProto.newBuilder().setName("g").addInput(tensor("x", 1, 2, 3))
                .addInput(tensor("i", 7, indexDims));
        List<String> inputs = new java.util.ArrayList<>(List.of("x", "i"));
        for (String extra : extraInputs) {
            graph.addInput(ValueInfoProto.newBuilder().setName(extra)
                    .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1))));
            inputs.add(extra);
        }
        NodeProto.Builder node = NodeProto.newBuilder().setName("indexer").setOpType(op).addAllInput(inputs).addOutput("y");
        attributes.forEach(node::addAttribute);
        graph.addNode(node).addOutput(ValueInfoProto.newBuilder().setName("y")
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1))));
        Path file = folder.resolve(op + ".onnx");
        Files.write(file, model(graph.build()).toByteArray());
        return OnnxModel.load(file);
    }

    @Test
    void indicesOutOfRangeAreAnErrorNamingTheNode() throws IOException {
        Tensor x = arena.fromFloats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        AttributeProto axis1 = AttributeProto.newBuilder().setName("axis").setI(1).setType(AttributeProto.AttributeType.INT).build();
        Map<String, long[]> cases = new java.util.LinkedHashMap<>();
        cases.put("Gather", new long[] {5});
        cases.put("GatherElements", new long[] {0, 1, -7, 0, 1, 2});
        cases.put("GatherND", new long[] {2, 0});
        cases.put("ScatterElements", new long[] {0, 3, 0, 0, 0, 0});
        cases.put("ScatterND", new long[] {0, 9});
        for (Map.Entry<String, long[]> entry : cases.entrySet()) {
            String op = entry.getKey();
            long[] indices = entry.getValue();
            long[] dims = switch (op) {
                case "Gather" -> new long[] {1};
                case "GatherND" -> new long[] {1, 2};
                case "ScatterND" -> new long[] {1, 2};
                default -> new long[] {2, 3};
            };
            List<AttributeProto> attributes = op.equals("Gather") || op.startsWith("GatherE") || op.startsWith("ScatterE")
                    ? List.of(axis1) : List.of();
            String[] extra = op.startsWith("Scatter") ? new String[] {"updates"} : new String[0];
            try (OnnxModel model = indexing(op, dims, attributes, extra); Session session = model.newSession()) {
                Map<String, Tensor> feeds = new java.util.HashMap<>(Map.of("x", x,
                        "i", arena.fromLongs(DType.INT64, indices, dims)));
                if (op.equals("ScatterElements")) {
                    feeds.put("updates", arena.fromFloats(new float[6], 2, 3));
                } else if (op.equals("ScatterND")) {
                    feeds.put("updates", arena.fromFloats(new float[1], 1));
                }
                assertThatThrownBy(() -> session.run(feeds).close()).as(op).isInstanceOf(GraphException.class)
                        .hasMessageContaining("'indexer'");
            }
        }
    }

    @Test
    void oneHotTurnsOutOfRangeIndicesIntoRowsOfOffValuesAsOnnxSays() throws IOException {
        GraphProto graph = GraphProto.newBuilder().setName("g").addInput(tensor("i", 7, 4))
                .addInitializer(TensorProto.newBuilder().setName("depth").setDataType(7).addInt64Data(3))
                .addInitializer(floats("values", new float[] {0, 1}, 2))
                .addNode(node("onehot", "OneHot", new String[] {"i", "depth", "values"}, "y"))
                .addOutput(tensor("y", 1, 4, 3)).build();
        try (OnnxModel model = OnnxModel.load(write(model(graph))); Session session = model.newSession();
                Outputs outputs = session.run(Map.of("i", arena.fromLongs(DType.INT64, new long[] {1, 3, -1, -4}, 4)))) {
            assertThat(outputs.get("y").toFloatArray()).containsExactly(0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0);
        }
    }

    @Test
    void nanAndInfinityPropagateAsIeeeSays() throws IOException {
        float nan = Float.NaN;
        float inf = Float.POSITIVE_INFINITY;
        try (OnnxModel model = OnnxModel.load(write(reluOfSum())); Session session = model.newSession();
                Outputs outputs = session.run(Map.of("x", arena.fromFloats(new float[] {nan, inf, -inf, -inf, inf, 0}, 2, 3)))) {
            // relu(x + bias), bias = [1, -1, 0.5]: NaN stays NaN, ±∞ + finite stays ±∞, relu(−∞) = 0.
            assertThat(outputs.get("y").toFloatArray()).containsExactly(nan, inf, 0, 0, inf, 0.5f);
        }
    }

    // ---------------------------------------------------------------- model-local functions

    /** custom.Scale(x) = x · alpha, alpha an attribute with default 2; custom.Twice(x) = Scale(Scale(x, alpha=3)). */
    private static ModelProto withFunctions(String outerOp) {
        AttributeProto alphaReference = AttributeProto.newBuilder().setName("value_float").setRefAttrName("alpha")
                .setType(AttributeProto.AttributeType.FLOAT).build();
        FunctionProto scale = FunctionProto.newBuilder().setDomain("custom").setName("Scale").addInput("in").addOutput("out")
                .addAttributeProto(AttributeProto.newBuilder().setName("alpha").setF(2).setType(AttributeProto.AttributeType.FLOAT))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
                .addNode(NodeProto.newBuilder().setOpType("Constant").addOutput("factor").addAttribute(alphaReference))
                .addNode(node("multiply", "Mul", new String[] {"in", "factor"}, "out")).build();
        FunctionProto twice = FunctionProto.newBuilder().setDomain("custom").setName("Twice").addInput("a").addOutput("b")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("custom").setVersion(1))
                .addNode(NodeProto.newBuilder().setOpType(outerOp).setDomain("custom").addInput("a").addOutput("mid")
                        .addAttribute(AttributeProto.newBuilder().setName("alpha").setF(3).setType(AttributeProto.AttributeType.FLOAT)))
                .addNode(NodeProto.newBuilder().setOpType("Scale").setDomain("custom").addInput("mid").addOutput("b")).build();
        GraphProto graph = GraphProto.newBuilder().setName("g").addInput(tensor("x", 1, 2))
                .addNode(NodeProto.newBuilder().setName("call").setOpType("Twice").setDomain("custom").addInput("x").addOutput("y"))
                .addOutput(tensor("y", 1, 2)).build();
        return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("custom").setVersion(1))
                .addFunctions(scale).addFunctions(twice).setGraph(graph).build();
    }

    @Test
    void modelLocalFunctionsAreInlinedWithTheirAttributes() throws IOException {
        try (OnnxModel model = OnnxModel.load(write(withFunctions("Scale"))); Session session = model.newSession();
                Outputs outputs = session.run(Map.of("x", arena.fromFloats(new float[] {1, -2}, 2)))) {
            assertThat(outputs.get("y").toFloatArray()).containsExactly(6, -12); // · 3, then · 2 (the default)
        }
    }

    @Test
    void recursiveFunctionsAreRefused() throws IOException {
        assertThatThrownBy(() -> OnnxModel.load(write(withFunctions("Twice")))).isInstanceOf(OnnxException.class)
                .hasMessageContaining("recursion");
    }

    // ---------------------------------------------------------------- external data

    private ModelProto externalModel(String location, long offset, long length) {
        TensorProto.Builder weights = TensorProto.newBuilder().setName("w").setDataType(1).addDims(4)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location))
                .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(Long.toString(offset)));
        if (length >= 0) {
            weights.addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(Long.toString(length)));
        }
        return model(GraphProto.newBuilder().setName("g").addInitializer(weights)
                .addNode(node("id", "Identity", new String[] {"w"}, "y")).addOutput(tensor("y", 1, 4)).build());
    }

    private void writeWeights(Path file) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(8 + 16).order(ByteOrder.LITTLE_ENDIAN);
        data.position(8);
        data.putFloat(1).putFloat(2).putFloat(3).putFloat(4);
        Files.write(file, data.array());
    }

    @Test
    void externalDataIsMemoryMappedFromTheModelsFolder() throws IOException {
        writeWeights(folder.resolve("weights.bin"));
        try (OnnxModel model = OnnxModel.load(write(externalModel("weights.bin", 8, 16)))) {
            Tensor weights = model.graph().constants().values().iterator().next();
            assertThat(weights.isReadOnly()).isTrue();
            try (Session session = model.newSession(); Outputs outputs = session.run(Map.of())) {
                assertThat(outputs.get("y").toFloatArray()).containsExactly(1, 2, 3, 4);
            }
        }
    }

    @Test
    void externalDataOutsideTheModelsFolderIsRefused() throws IOException {
        Path outside = Files.createTempFile("outside", ".bin");
        try {
            writeWeights(outside);
            assertThatThrownBy(() -> OnnxModel.load(write(externalModel(outside.toString(), 8, 16))))
                    .isInstanceOf(OnnxException.class).hasMessageContaining("absolute");
            assertThatThrownBy(() -> OnnxModel.load(write(externalModel("../" + outside.getFileName(), 8, 16))))
                    .isInstanceOf(OnnxException.class).hasMessageContaining("leaves the model's folder");
            Files.createSymbolicLink(folder.resolve("link.bin"), outside);
            assertThatThrownBy(() -> OnnxModel.load(write(externalModel("link.bin", 8, 16))))
                    .isInstanceOf(OnnxException.class).hasMessageContaining("links outside");
        } finally {
            Files.deleteIfExists(outside);
        }
    }

    @Test
    void externalDataPastTheEndOfItsFileIsRefused() throws IOException {
        writeWeights(folder.resolve("weights.bin"));
        assertThatThrownBy(() -> OnnxModel.load(write(externalModel("weights.bin", 16, 16))))
                .isInstanceOf(OnnxException.class).hasMessageContaining("'w'").hasMessageContaining("24 bytes");
        assertThatThrownBy(() -> OnnxModel.load(write(externalModel("weights.bin", 8, 12))))
                .isInstanceOf(OnnxException.class).hasMessageContaining("declares 12 external bytes");
        assertThatThrownBy(() -> OnnxModel.load(write(externalModel("missing.bin", 0, 16))))
                .isInstanceOf(OnnxException.class).hasMessageContaining("not found");
        assertThatThrownBy(() -> OnnxModel.load(externalModel("weights.bin", 8, 16).toByteArray(), "in-memory"))
                .isInstanceOf(OnnxException.class).hasMessageContaining("not loaded from a folder");
    }

    // ---------------------------------------------------------------- random ops

    private static AttributeProto number(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    private static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    /** A value of this element type whose shape is left open. */
    private static ValueInfoProto shapeless(String name, int elementType) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elementType))).build();
    }

    /** y = op(x if any) with these attributes; y declared of {@code elementType}, its shape left open. */
    private static ModelProto randomModel(String op, ValueInfoProto x, int elementType, AttributeProto... attributes) {
        NodeProto.Builder node = NodeProto.newBuilder().setName("draw").setOpType(op).addOutput("y")
                .addAllAttribute(Arrays.asList(attributes));
        GraphProto.Builder graph = GraphProto.newBuilder().setName(op);
        if (x != null) {
            node.addInput(x.getName());
            graph.addInput(x);
        }
        return model(graph.addNode(node).addOutput(shapeless("y", elementType)).build()).toBuilder()
                .setOpsetImport(0, OperatorSetIdProto.newBuilder().setVersion(22)).build();
    }

    /**
     * y of two runs of one session, which agree when the draw is seeded and differ when not; a
     * seeded draw of no input is folded at load, an unseeded one is not.
     */
    private double[] drawTwice(ModelProto proto, Map<String, Tensor> feeds, boolean seeded) throws IOException {
        try (OnnxModel model = OnnxModel.load(write(proto)); Session session = model.newSession()) {
            assertThat(model.graph().nodes()).as("the draw folded at load").hasSize(seeded && feeds.isEmpty() ? 0 : 1);
            double[] first;
            try (Outputs outputs = session.run(feeds)) {
                first = outputs.get("y").toDoubleArray();
            }
            try (Outputs outputs = session.run(feeds)) {
                double[] second = outputs.get("y").toDoubleArray();
                if (seeded) {
                    assertThat(second).as("a seeded draw, again").containsExactly(first);
                } else {
                    assertThat(second).as("an unseeded draw, again").isNotEqualTo(first);
                }
            }
            return first;
        }
    }

    /** Expected values: numpy 2.4, np.random.RandomState(seed) as ONNX's reference implementation uses it. */
    @Test
    void seededRandomOpsDrawWhatOnnxsReferenceDraws() throws IOException {
        assertThat(drawTwice(randomModel("RandomNormal", null, 11, ints("shape", 2, 3), integer("dtype", 11),
                number("seed", 0)), Map.of(), true)).containsExactly(1.764052345967664, 0.4001572083672233,
                        0.9787379841057392, 2.240893199201458, 1.8675579901499675, -0.977277879876411);
        // float32: randn(5).astype(float32), then *= 2.5 and += 1 in float32.
        assertThat(drawTwice(randomModel("RandomNormal", null, 1, ints("shape", 5), number("mean", 1), number("scale", 2.5f),
                number("seed", 11)), Map.of(), true)).containsExactly(5.373636722564697, 0.28481751680374146,
                        -0.21141290664672852, -5.633296489715576, 0.9792883992195129);
        // float16: rand(5).astype(float16), *= high − low, += low, each step rounded to float16.
        assertThat(drawTwice(randomModel("RandomUniform", null, 10, ints("shape", 5), integer("dtype", 10),
                number("low", 2), number("high", 4), number("seed", 9)), Map.of(), true))
                .containsExactly(2.021484375, 3.00390625, 2.9921875, 2.267578125, 2.28515625);
        Map<String, Tensor> four = Map.of("x", arena.fromFloats(new float[4], 2, 2));
        assertThat(drawTwice(randomModel("RandomUniformLike", tensor("x", 1, 2, 2), 1, number("low", -1), number("high", 3),
                number("seed", 5)), four, true)).containsExactly(-0.11202728748321533, 2.482929229736328,
                        -0.17312335968017578, 2.6744437217712402);
        // binomial(1, p): a draw for every probability, 0 and 1 included, 1 − p's draw above one half.
        Map<String, Tensor> p = Map.of("p", arena.fromDoubles(new double[] {0, 0.1, 0.5, 0.9, 1, 0.3, 0.7, 0.5, 0.2, 0.8}, 10));
        assertThat(drawTwice(randomModel("Bernoulli", tensor("p", 11, 10), 9, integer("dtype", 9), number("seed", 3)), p,
                true)).containsExactly(0, 0, 0, 1, 1, 1, 1, 0, 0, 1);
    }

    @Test
    void unseededRandomOpsDrawAnewAtEveryRun() throws IOException {
        double[] values = drawTwice(randomModel("RandomNormal", null, 1, ints("shape", 4000), number("mean", 3),
                number("scale", 2)), Map.of(), false);
        double mean = Arrays.stream(values).average().orElseThrow();
        double deviation = Math.sqrt(Arrays.stream(values).map(v -> (v - mean) * (v - mean)).sum() / values.length);
        assertThat(mean).isCloseTo(3, Offset.offset(0.2));
        assertThat(deviation).isCloseTo(2, Offset.offset(0.2));
        double[] uniform = drawTwice(randomModel("RandomUniformLike", tensor("x", 1, 2, 2), 1), Map.of("x",
                arena.fromFloats(new float[4], 2, 2)), false);
        assertThat(Arrays.stream(uniform).allMatch(value -> value >= 0 && value < 1)).as(Arrays.toString(uniform)).isTrue();
    }

    @Test
    void multinomialDrawsClassesInProportionToTheirProbabilities() throws IOException {
        float never = Float.NEGATIVE_INFINITY;
        Map<String, Tensor> logits = Map.of("x", arena.fromFloats(new float[] {(float) Math.log(0.2), never,
            (float) Math.log(0.8), 5, 5, 5}, 2, 3));
        int samples = 30_000;
        double[] classes = drawTwice(randomModel("Multinomial", tensor("x", 1, 2, 3), 7, integer("dtype", 7),
                integer("sample_size", samples), number("seed", 1)), logits, true);
        assertThat(classes).hasSize(2 * samples);
        double[][] shares = new double[2][3];
        for (int i = 0; i < classes.length; i++) {
            shares[i / samples][(int) classes[i]] += 1.0 / samples;
        }
        assertThat(shares[0][1]).as("a class of probability 0").isZero();
        assertThat(shares[0][0]).isCloseTo(0.2, Offset.offset(0.01));
        for (double share : shares[1]) {
            assertThat(share).isCloseTo(1.0 / 3, Offset.offset(0.01));
        }
    }

    @Test
    void randomOpsRefuseWhatTheyCannotDrawNamingTheNode() throws IOException {
        try (OnnxModel model = OnnxModel.load(write(randomModel("Bernoulli", tensor("p", 1, 2), 1)));
                Session session = model.newSession()) {
            assertThatThrownBy(() -> session.run(Map.of("p", arena.fromFloats(new float[] {0.5f, 1.5f}, 2))).close())
                    .isInstanceOf(GraphException.class).hasMessageContaining("'draw'").hasMessageContaining("outside [0, 1]");
        }
        try (OnnxModel model = OnnxModel.load(write(randomModel("Multinomial", tensor("x", 1, 1, 2), 6)));
                Session session = model.newSession()) {
            float never = Float.NEGATIVE_INFINITY;
            assertThatThrownBy(() -> session.run(Map.of("x", arena.fromFloats(new float[] {never, never}, 1, 2))).close())
                    .isInstanceOf(GraphException.class).hasMessageContaining("'draw'").hasMessageContaining("no finite weight");
        }
        assertThatThrownBy(() -> OnnxModel.load(write(randomModel("RandomNormal", null, 6, ints("shape", 2),
                integer("dtype", 6), number("seed", 1))))).isInstanceOf(OnnxException.class)
                .hasMessageContaining("'draw'").hasMessageContaining("int32");
        assertThatThrownBy(() -> OnnxModel.load(write(randomModel("Multinomial", tensor("x", 1, 1, 2), 1, integer("dtype", 1)))))
                .isInstanceOf(OnnxException.class).hasMessageContaining("'draw'").hasMessageContaining("int64");
        // The -Like forms take the input's type, known at run time.
        try (OnnxModel model = OnnxModel.load(write(randomModel("RandomNormalLike", tensor("x", 6, 2), 6)));
                Session session = model.newSession()) {
            assertThatThrownBy(() -> session.run(Map.of("x", arena.fromInts(new int[2], 2))).close())
                    .isInstanceOf(GraphException.class).hasMessageContaining("'draw'").hasMessageContaining("int32");
        }
        assertThatThrownBy(() -> OnnxModel.load(write(randomModel("RandomUniform", null, 1))))
                .isInstanceOf(OnnxException.class).hasMessageContaining("'draw'").hasMessageContaining("'shape'");
        // A negative size is refused at load; an absurd one when the draw is folded at load, or at run time.
        for (long[] shape : new long[][] {{-2, 3}, {1L << 20, 1L << 20, 1L << 20}}) {
            ModelProto proto = randomModel("RandomNormal", null, 1, ints("shape", shape), number("seed", 1));
            assertThatThrownBy(() -> {
                try (OnnxModel model = OnnxModel.load(write(proto)); Session session = model.newSession()) {
                    session.run(Map.of()).close();
                }
            }).as(Arrays.toString(shape)).hasMessageContaining("'draw'");
        }
    }

    // ---------------------------------------------------------------- training optimizers

    /**
     * An optimizer node of ONNX's training domain over double X and G [3] and states (of any shape),
     * R float and T int64 fed.
     */
    private static ModelProto optimizerModel(String op, int states, AttributeProto... attributes) {
        List<String> inputs = new java.util.ArrayList<>(List.of("r", "t", "x", "g"));
        List<String> outputs = new java.util.ArrayList<>(List.of("x_new"));
        GraphProto.Builder graph = GraphProto.newBuilder().setName(op).addInput(tensor("r", 1))
                .addInput(tensor("t", 7)).addInput(tensor("x", 11, 3)).addInput(tensor("g", 11, 3))
                .addOutput(tensor("x_new", 11, 3));
        for (int s = 0; s < states; s++) {
            inputs.add("s" + s);
            outputs.add("s" + s + "_new");
            graph.addInput(shapeless("s" + s, 11)).addOutput(shapeless("s" + s + "_new", 11));
        }
        NodeProto node = NodeProto.newBuilder().setName("step").setOpType(op).setDomain("ai.onnx.preview.training")
                .addAllInput(inputs).addAllOutput(outputs).addAllAttribute(Arrays.asList(attributes)).build();
        return model(graph.addNode(node).build()).toBuilder()
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("ai.onnx.preview.training").setVersion(1)).build();
    }

    @Test
    void adamStepsDoubleTensorsWithAndWithoutBiasCorrection() throws IOException {
        double[] x = {1.5, -2, 0.25};
        double[] g = {-0.5, 4, 1e-3};
        double[] v = {0.1, -0.2, 0};
        double[] h = {0.01, 0.5, 0};
        double alpha = 0.75;
        double beta = 0.875;
        double epsilon = 0.0625;
        double norm = 0.5;
        double post = 0.125;
        float rate = 0.25f;
        ModelProto adam = optimizerModel("Adam", 2, number("alpha", (float) alpha), number("beta", (float) beta),
                number("epsilon", (float) epsilon), number("norm_coefficient", (float) norm),
                number("norm_coefficient_post", (float) post));
        try (OnnxModel model = OnnxModel.load(write(adam)); Session session = model.newSession()) {
            for (long t : new long[] {0, 3}) {
                Map<String, Tensor> feeds = Map.of("r", arena.fromFloats(new float[] {rate}), "t",
                        arena.fromLongs(DType.INT64, new long[] {t}), "x", arena.fromDoubles(x, 3), "g",
                        arena.fromDoubles(g, 3), "s0", arena.fromDoubles(v, 3), "s1", arena.fromDoubles(h, 3));
                double corrected = t == 0 ? rate : rate * Math.sqrt(1 - Math.pow(beta, t)) / (1 - Math.pow(alpha, t));
                try (Outputs outputs = session.run(feeds)) {
                    for (int i = 0; i < 3; i++) {
                        double gradient = g[i] + norm * x[i];
                        double momentum = alpha * v[i] + (1 - alpha) * gradient;
                        double squares = beta * h[i] + (1 - beta) * gradient * gradient;
                        double expected = (1 - post) * (x[i] - corrected * momentum / (Math.sqrt(squares) + epsilon));
                        assertThat(outputs.get("x_new").toDoubleArray()[i]).as("x[%d] at T = %d", i, t)
                                .isCloseTo(expected, Offset.offset(1e-15));
                        assertThat(outputs.get("s0_new").toDoubleArray()[i]).isCloseTo(momentum, Offset.offset(1e-15));
                        assertThat(outputs.get("s1_new").toDoubleArray()[i]).isCloseTo(squares, Offset.offset(1e-15));
                    }
                }
            }
        }
    }

    @Test
    void optimizersRefuseMisshapenCallsNamingTheNode() throws IOException {
        assertThatThrownBy(() -> OnnxModel.load(write(optimizerModel("Momentum", 1, number("alpha", 1), number("beta", 1)))))
                .isInstanceOf(OnnxException.class).hasMessageContaining("'step'");
        assertThatThrownBy(() -> OnnxModel.load(write(optimizerModel("Adagrad", 2))))
                .isInstanceOf(OnnxException.class).hasMessageContaining("'step'").hasMessageContaining("6 inputs");
        try (OnnxModel model = OnnxModel.load(write(optimizerModel("Adagrad", 1))); Session session = model.newSession()) {
            Map<String, Tensor> feeds = Map.of("r", arena.fromFloats(new float[] {1}), "t",
                    arena.fromLongs(DType.INT64, new long[] {1}), "x", arena.fromDoubles(new double[3], 3), "g",
                    arena.fromDoubles(new double[3], 3), "s0", arena.fromDoubles(new double[2], 2));
            assertThatThrownBy(() -> session.run(feeds).close()).isInstanceOf(GraphException.class)
                    .hasMessageContaining("'step'").hasMessageContaining("one shape");
        }
    }
}
