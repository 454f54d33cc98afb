package dev.quanta.loader.onnx;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.quanta.tensor.QuantaException;
import dev.quanta.tensor.TensorArena;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzz targets: whatever the bytes, loading gives a model or a typed Quanta exception, never another
 * exception, a crash or a hang. A plain test run replays the committed corpus
 * ({@code src/test/resources/.../LoaderFuzzTestInputs}); {@code JAZZER_FUZZ=1} fuzzes (see SECURITY.md).
 */
class LoaderFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void modelBytes(byte[] bytes) {
        try (OnnxModel ignored = OnnxModel.load(bytes, "fuzzed.onnx")) {
            // Loaded: translated, type-checked, shape-inferred, fused and folded without a stray exception.
        } catch (QuantaException refusal) {
            // A typed refusal naming what is wrong; one wrapping a defect (an internal error) is a finding.
            if (refusal instanceof OnnxModel.LoadDefect) {
                throw new AssertionError("a defect behind a typed error", refusal);
            }
        }
    }

    /** Seed models whose declared input shapes {@link #declaredShapes} rewrites. */
    private static final java.util.List<String> SHAPE_SEEDS = java.util.List.of("test_conv_with_strides_padding.onnx",
            "test_matmul_4d.onnx", "test_reshape_extended_dims.onnx", "test_gather_0.onnx", "test_expand_dim_changed.onnx",
            "test_concat_3d_axis_1.onnx", "test_transpose_default.onnx", "test_slice.onnx", "test_maxpool_2d_pads.onnx",
            "test_softmax_axis_1.onnx");

    /**
     * Shape inference against hostile declared shapes: a conformance model whose graph inputs get
     * fuzzed dimensions (any size, huge, symbolic, more or fewer of them), then loaded.
     */
    @FuzzTest(maxDuration = "5m")
    void declaredShapes(com.code_intelligence.jazzer.api.FuzzedDataProvider data) throws IOException {
        String seed = SHAPE_SEEDS.get(data.consumeInt(0, SHAPE_SEEDS.size() - 1));
        dev.quanta.loader.onnx.proto.Onnx.ModelProto model;
        try (java.io.InputStream in = LoaderFuzzTest.class.getResourceAsStream("LoaderFuzzTestInputs/modelBytes/" + seed)) {
            if (in == null) {
                throw new IllegalStateException("seed model " + seed + " is missing");
            }
            model = dev.quanta.loader.onnx.proto.Onnx.ModelProto.parseFrom(in);
        }
        var graph = model.getGraph().toBuilder();
        for (int i = 0; i < graph.getInputCount(); i++) {
            var shape = dev.quanta.loader.onnx.proto.Onnx.TensorShapeProto.newBuilder();
            int rank = data.consumeInt(0, 6);
            for (int d = 0; d < rank; d++) {
                if (data.consumeBoolean()) {
                    shape.addDimBuilder().setDimValue(data.consumeLong());
                } else {
                    shape.addDimBuilder().setDimParam(data.consumeString(3));
                }
            }
            graph.getInputBuilder(i).getTypeBuilder().getTensorTypeBuilder().setShape(shape);
        }
        modelBytes(model.toBuilder().setGraph(graph).build().toByteArray());
    }

    @FuzzTest(maxDuration = "5m")
    void tensorProtoFile(byte[] bytes) throws IOException {
        Path file = Files.createTempFile("fuzzed", ".pb");
        try (TensorArena arena = TensorArena.ofConfined()) {
            Files.write(file, bytes);
            OnnxTensors.readFile(file, arena);
        } catch (QuantaException expected) {
            // A typed refusal.
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
