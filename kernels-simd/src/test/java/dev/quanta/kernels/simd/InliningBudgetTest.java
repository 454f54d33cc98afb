package dev.quanta.kernels.simd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.classfile.Attributes;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The kernels' own methods that take or return a vector stay within the bytecode size C2 inlines
 * at a hot call site (FreqInlineSize, 325 bytes): one it does not inline gets its vectors boxed, a
 * heap object a call, and a loop around it runs 10–20 times slower. FloatRows' per-vector switch
 * had grown to 338 bytes, and Relu and HardSwish took 11–17 ns a vector instead of 1. (Size is not
 * all: C2 also refuses a method it has already compiled on its own into much code, which is why
 * that switch now sits in its loop.)
 */
class InliningBudgetTest {

    private static final int FREQ_INLINE_SIZE = 325;

    @Test
    void methodsPassingVectorsFitWhatC2InlinesIntoALoop() throws IOException, URISyntaxException {
        Path classes = Path.of(FloatRows.class.getResource("FloatRows.class").toURI()).getParent();
        List<String> checked = new ArrayList<>();
        try (Stream<Path> files = Files.list(classes)) {
            for (Path file : files.filter(path -> path.toString().endsWith(".class")).toList()) {
                ClassModel model = ClassFile.of().parse(Files.readAllBytes(file));
                for (MethodModel method : model.methods()) {
                    String descriptor = method.methodTypeSymbol().descriptorString();
                    if (!descriptor.contains("Ljdk/incubator/vector/")) {
                        continue;
                    }
                    int size = method.findAttribute(Attributes.code()).map(code -> code.codeLength()).orElse(0);
                    String name = model.thisClass().asInternalName() + "." + method.methodName() + descriptor;
                    checked.add(name);
                    assertThat(size).as("bytecode of %s", name).isLessThanOrEqualTo(FREQ_INLINE_SIZE);
                }
            }
        }
        assertThat(checked).anyMatch(name -> name.contains("FloatRows.softplus(")).anyMatch(name -> name.contains("FloatRows.exp("));
    }
}
