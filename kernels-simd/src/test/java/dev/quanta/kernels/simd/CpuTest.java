package dev.quanta.kernels.simd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The processor's vendor as the kernels read it, and the int8 kernel chosen from it. */
class CpuTest {

    @Test
    void readsTheFirstVendorLineOfCpuinfo() {
        assertThat(Cpu.vendorFromCpuinfo(Stream.of("processor\t: 0", "vendor_id\t: GenuineIntel", "cpu family\t: 6",
                "processor\t: 1", "vendor_id\t: AuthenticAMD"))).isEqualTo(Cpu.INTEL);
        assertThat(Cpu.vendorFromCpuinfo(Stream.of("processor : 0", "vendor_id : AuthenticAMD"))).isEqualTo(Cpu.AMD);
        // ARM's cpuinfo names an implementer, not a vendor.
        assertThat(Cpu.vendorFromCpuinfo(Stream.of("processor : 0", "CPU implementer : 0x41"))).isEmpty();
    }

    @Test
    void readsTheVendorAtTheEndOfWindowsProcessorIdentifier() {
        assertThat(Cpu.vendorFromIdentifier("Intel64 Family 6 Model 143 Stepping 8, GenuineIntel")).isEqualTo(Cpu.INTEL);
        assertThat(Cpu.vendorFromIdentifier("AMD64 Family 25 Model 97 Stepping 2, AuthenticAMD")).isEqualTo(Cpu.AMD);
        assertThat(Cpu.vendorFromIdentifier("ARMv8 (64-bit) Family 8 Model D4B Revision   0")).isEmpty();
        assertThat(Cpu.vendorFromIdentifier(null)).isEmpty();
    }

    @Test
    void theVendorOfThisMachineIsReadWhereLinuxTellsIt() {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/cpuinfo"))
                && System.getProperty("os.arch").equals("amd64"), "an x86-64 Linux machine");
        assertThat(Cpu.vendor()).isNotBlank().doesNotContain(":");
    }

    @Test
    void theSixteenBitKernelIsLeftOnlyOnIntelsWideVectorsUnlessTheProperty() {
        assertThat(Int16Gemm.chosen(null, Cpu.INTEL, 512)).isFalse();
        assertThat(Int16Gemm.chosen(" ", Cpu.INTEL, 512)).isFalse();
        assertThat(Int16Gemm.chosen(null, Cpu.INTEL, 256)).isTrue();
        assertThat(Int16Gemm.chosen(null, Cpu.AMD, 512)).isTrue();
        assertThat(Int16Gemm.chosen(null, "", 512)).isTrue();
        assertThat(Int16Gemm.chosen("true", Cpu.INTEL, 512)).isTrue();
        assertThat(Int16Gemm.chosen(" false ", Cpu.AMD, 512)).isFalse();
        assertThatThrownBy(() -> Int16Gemm.chosen("yes", Cpu.AMD, 512))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Int16Gemm.CHOICE_PROPERTY).hasMessageContaining("'yes'");
    }
}
