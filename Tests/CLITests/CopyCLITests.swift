import Driver
import Foundation
import Testing
@testable import GPUCommCLI

/// `gpucomm copy`: bad input in one line (exit 2) before any GPU work; no GPU is exit 5 with no file.
@Suite struct CopyCLITests {
    static let cases: [ValidationTests.Case] = [
        ValidationTests.Case("copy h2d", "unknown copy test 'h2d'", "--list"),
        ValidationTests.Case("copy host --engine ce,dma", "--engine", "'dma'"),
        ValidationTests.Case("copy --host-memory pinned,ram", "--host-memory", "'ram'"),
        ValidationTests.Case("copy -b 1000 -e 1000", "multiples of 16 bytes", "1000"),
        ValidationTests.Case("copy -b 8 -e 64", "multiples of 16 bytes", "8"),
        ValidationTests.Case("copy -b 1G -e 1M", "-b"),
        ValidationTests.Case("copy -b lots", "'lots' is not a size"),
        ValidationTests.Case("copy --latency-bytes 1000", "--latency-bytes", "256"),
        ValidationTests.Case("copy --hops 0", "--hops"),
        ValidationTests.Case("copy -n 0", "-n must be at least 1"),
        ValidationTests.Case("copy --timing graph", "--timing must be host or events"),
        ValidationTests.Case("copy -c 2", "-c must be 0 or 1"),
        ValidationTests.Case("copy -T 0", "-T must be at least 1"),
    ]

    @Test(arguments: cases)
    func usageErrors(_ c: ValidationTests.Case) throws {
        let r = try CLI.run(c.args + ["--results", "{tmp}/r.jsonl"])
        #expect(r.status == ExitStatus.usage.rawValue, "\(r.summary)")
        #expect(r.stderrIsOneLine && c.says.allSatisfy { r.stderr.contains($0) }, "\(r.summary)")
        #expect(r.leftovers.isEmpty, "files left: \(r.leftovers)")
    }

    @Test func validRunWithoutGPU() throws {
        let r = try CLI.run(["copy", "host", "latency", "-b", "4K", "-e", "1G", "--host-memory", "pinned,pageable", "--results", "{tmp}/r.jsonl"])
        #expect(r.status == ExitStatus.unavailable.rawValue, "\(r.summary)")
        #expect(r.stderrIsOneLine && r.stderr.contains("CUDA"), "\(r.summary)")
        #expect(r.leftovers.isEmpty)
    }

    @Test func listNamesEveryTestWithoutAGPU() throws {
        let r = try CLI.run(["copy", "--list"])
        #expect(r.status == 0, "\(r.summary)")
        #expect(r.stdout.contains("host_to_device_memcpy_ce") && r.stdout.contains("device_to_device_latency_sm"))
        #expect(r.stdout.split(separator: "\n").count == 26)
    }

    @Test func helpTeachesTheGroupsLimitsAndCheck() throws {
        let r = try CLI.run(["copy", "--help"])
        for s in ["groups:", "PCIe", "NVLink", "checked", "nvbandwidth", "pageable", "numa-remote", "--host-memory", "Examples:"] {
            #expect(r.stdout.contains(s), "help lacks '\(s)'")
        }
    }
}
