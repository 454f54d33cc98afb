package dev.quanta.kernels.simd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** What the JVM does not say about the processor and a kernel's choice depends on. */
final class Cpu {

    static final String INTEL = "GenuineIntel";
    static final String AMD = "AuthenticAMD";

    private Cpu() {
    }

    /**
     * The processor's vendor as CPUID names it ({@link #INTEL}, {@link #AMD}, ...), from Linux's
     * /proc/cpuinfo or Windows' PROCESSOR_IDENTIFIER; empty where neither tells.
     */
    static String vendor() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (Files.isReadable(cpuinfo)) {
            try (Stream<String> lines = Files.lines(cpuinfo)) {
                String vendor = vendorFromCpuinfo(lines);
                if (!vendor.isEmpty()) {
                    return vendor;
                }
            } catch (IOException | java.io.UncheckedIOException e) {
                // Unreadable after all: fall through to what the environment says.
            }
        }
        return vendorFromIdentifier(System.getenv("PROCESSOR_IDENTIFIER"));
    }

    /** The value of the first {@code vendor_id} line of /proc/cpuinfo's lines, or empty. */
    static String vendorFromCpuinfo(Stream<String> lines) {
        return lines.filter(line -> line.startsWith("vendor_id"))
                .map(line -> line.substring(line.indexOf(':') + 1).strip())
                .findFirst().orElse("");
    }

    /** The vendor at the end of Windows' processor identifier ("Intel64 Family 6 Model 143 Stepping 8, GenuineIntel"), or empty. */
    static String vendorFromIdentifier(String identifier) {
        if (identifier == null || identifier.indexOf(',') < 0) {
            return "";
        }
        return identifier.substring(identifier.lastIndexOf(',') + 1).strip();
    }
}
