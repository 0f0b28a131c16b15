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
        ValidationTests.Case("copy --host-memory ,", "--host-memory", "nothing"),
        ValidationTests.Case("copy --engine ,", "--engine", "nothing"),
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

import Copy
import Measure
import Results

/// What one copy result becomes: its stdout line and its results row (byte accounting, limit, latency per load).
@Suite struct CopyRowTests {
    let sink = try! ResultsSink(path: nil, run: RunInfo(run: "r", tool: "gpucomm"), reports: true)
    let gen5 = CopyLimit(name: "PCIe Gen5 x16", gbps: 63.015)

    func result(_ b: CopyBenchmark, gpus: Int = 1, column: Int = 0, bytes: Int, us: Double, wrong: Int64 = 0, hops: Int? = nil,
                stats: Summary? = nil) -> CopyResult {
        let cell = CopyLayout(b, gpus: gpus).cells.first { $0.column == column }!
        return CopyResult(benchmark: b, cell: cell, memory: b.pattern.usesHost ? .pinned : nil, bytes: bytes,
                          measurement: Measurement(timeUs: us, stats: stats, wrong: wrong, iterations: 20), waiver: nil,
                          limit: b.pattern.usesHost && !b.pattern.isLatency ? gen5 : nil, hops: hops)
    }

    @Test func hostCopyRowCarriesBandwidthAndItsFractionOfThePCIeLink() throws {
        let r = result(CopyBenchmark(.hostToDevice, .ce), bytes: 1 << 30, us: 20_000)
        let row = CopyRun.row(r, sink: sink, timing: "host")
        #expect(row.benchmark == "host_to_device_memcpy_ce" && row.backend == "copy_engine" && row.variant == "pinned")
        #expect(abs(row.algbwGBps! - 53.687) < 0.001 && row.busbwGBps == row.algbwGBps)
        #expect(row.labels?["limit"] == "PCIe Gen5 x16" && row.labels?["copies"] == "host->gpu0")
        #expect(abs(row.metrics!["fraction_of_limit"]! - 53.687 / 63.015) < 1e-4)
        #expect(row.wrong == 0 && row.sizeBytes == 1 << 30 && row.ranks == 1 && row.timeUs == 20_000)
        let line = CopyRun.line(r)
        #expect(line.contains("host_to_device_memcpy_ce") && line.contains("1G") && line.contains("53.69") && line.contains("85.2%"))
    }

    @Test func bidirectionalCountsEachDirectionAndBothOnTheBus() {
        let row = CopyRun.row(result(CopyBenchmark(.hostDeviceBidirectional, .sm), bytes: 1 << 30, us: 20_000), sink: sink, timing: "events")
        #expect(abs(row.algbwGBps! - 53.687) < 0.001 && abs(row.busbwGBps! - 107.374) < 0.001)
        #expect(row.backend == "sm_kernel" && row.labels?["copies"] == "host->gpu0,gpu0->host" && row.timing == "events")
    }

    @Test func hostToAllSumsTheGPUs() {
        let r = result(CopyBenchmark(.hostToAll, .ce), gpus: 4, bytes: 1_000_000_000, us: 10_000)
        #expect(abs(r.bandwidth!.algbw - 400) < 1e-9 && r.cell.devices == [0, 1, 2, 3])
    }

    @Test func latencyRowIsPerLoad() throws {
        let s = Summary([11_000, 12_000, 13_000])
        let r = result(CopyBenchmark(.hostDeviceLatency, .sm), bytes: 256 << 20, us: 12_000, hops: 10_000, stats: s)
        let row = CopyRun.row(r, sink: sink, timing: "events")
        #expect(row.timeUs == 1.2 && row.algbwGBps == nil && row.labels?["limit"] == nil)
        #expect(row.stats?.p50 == 1.2 && row.stats?.min == 1.1 && row.metrics?["hops"] == 10_000)
        #expect(CopyRun.line(r).contains("1.200"))
        #expect(r.matrixValue == 1.2)
    }

    @Test func waivedCellPrintsWhy() {
        var r = result(CopyBenchmark(.hostToDevice, .sm), bytes: 4096, us: 1)
        r.measurement = nil
        r.waiver = "an SM kernel cannot address pageable memory"
        #expect(CopyRun.line(r).hasSuffix("waived: an SM kernel cannot address pageable memory"))
        #expect(r.matrixValue == nil)
    }
}
