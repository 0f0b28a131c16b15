import AllToAll
import Driver
import Foundation
import Kernels
import Testing
@testable import GPUCommCLI

/// `gpucomm alltoall` and `NVSHMEMBarrierCommand`: bad input answered in one line, exit 2, before any GPU work.
@Suite struct AlltoallValidationTests {
    static let cases: [ValidationTests.Case] = [
        .init("alltoall --backends nccl,bogus", "unknown backend 'bogus'", "nvshmem-signal"),
        .init("alltoall --backends", "--backends"),
        .init("alltoall -b 1M -e 1K", "-b", "-e"),
        .init("alltoall -b 12Q", "-b '12Q' is not a size"),
        .init("alltoall -f 1", "-f"),
        .init("alltoall --timing sometimes", "--timing must be host or events", "'sometimes'"),
        .init("alltoall -n 0", "-n must be at least 1"),
        .init("alltoall --threads 48", "--threads must be a multiple of 32", "got 48"),
        .init("alltoall --threads 2048", "--threads", "2048"),
        .init("alltoall --chunk 100", "--chunk '100' must be a size that is a multiple of 16"),
        .init("alltoall --chunks 16K,,64K", "--chunks '' must be a size"),
        .init("alltoall -c 2", "-c must be 0 or 1", "got 2"),
        .init("alltoall -g 2", "-g must be 1"),
        .init("alltoall", "--np N"),
        .init("alltoall --tma-stage 100", "--tma-stage must be a multiple of 16", "100"),
        .init("alltoall --tma-stage 12Q", "--tma-stage '12Q' is not a size"),
        .init("alltoall --tma-stages 1", "--tma-stages must be from 2 to 8", "got 1"),
        .init("alltoall --tma-stage 128K --tma-stages 2", "227 KiB", "262160"),
        .init("alltoall --copy-sync memops", "--copy-sync must be one of events, events-graph, flags, relay", "'memops'"),
        .init("alltoall --copy-rounds all", "--copy-rounds must be parallel or serial", "'all'"),
        .init("alltoall --copy-local gpu", "--copy-local must be ce or sm", "'gpu'"),
        .init("alltoall --copy-sm 95", "--copy-sm must be a percent from 0 to 90", "95"),
    ]

    @Test(arguments: cases)
    func usageErrors(_ c: ValidationTests.Case) throws {
        let r = try CLI.run(c.args + ["--results", "{tmp}/r.jsonl"])
        #expect(r.status == ExitStatus.usage.rawValue, "\(r.summary)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(r.summary)")
        for w in c.says { #expect(r.stderr.contains(w), "missing '\(w)': \(r.summary)") }
        #expect(r.stdout.isEmpty && !r.leftovers.contains("r.jsonl"), "\(r.summary)")
    }

    @Test func badCopyModeIsAUsageError() throws {
        let r = try CLI.run(["alltoall", "--np", "2", "--copy-mode", "dst", "--results", "{tmp}/r.jsonl"])
        #expect(r.status == ExitStatus.usage.rawValue, "\(r.summary)")
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("--copy-mode must be push or pull") && r.stderr.contains("'dst'"), "\(r.summary)")
        #expect(!r.leftovers.contains("r.jsonl"), "\(r.summary)")
        #expect(try AlltoallCommand.parse(["--copy-mode", "push"]).kernelOptions.copyMode == .push)
        #expect(try AlltoallCommand.parse([]).kernelOptions.copyMode == .pull)
    }

    @Test func copyOptionsReachTheBackends() throws {
        let d = try AlltoallCommand.parse([]).kernelOptions
        #expect(d.copySync == .relay && d.copyRounds == .parallel && d.copyLocal == .ce && d.copySMPercent == 0)
        let k = try AlltoallCommand.parse(["--copy-sync", "flags", "--copy-rounds", "serial", "--copy-local", "sm", "--copy-sm", "20"]).kernelOptions
        #expect(k.copySync == .flags && k.copyRounds == .serial && k.copyLocal == .sm && k.copySMPercent == 20)
    }

    @Test func interleaveOption() throws {
        #expect(try AlltoallCommand.parse([]).kernelOptions.interleave == 256 << 10)
        #expect(try AlltoallCommand.parse(["--interleave", "0"]).kernelOptions.interleave == 0)
        #expect(try AlltoallCommand.parse(["--interleave", "1M"]).kernelOptions.interleave == 1 << 20)
        #expect(throws: (any Error).self) { try AlltoallCommand.parse(["--interleave", "100"]) }
    }

    @Test func tmaRingReachesTheBackends() throws {
        let k = try AlltoallCommand.parse(["--tma-stage", "16K", "--tma-stages", "3", "--threads", "32"]).kernelOptions
        #expect(k.tma == TMAStaging(stageBytes: 16 << 10, stages: 3) && k.threads == 32)
        #expect(try AlltoallCommand.parse([]).kernelOptions.tma == TMAStaging())
    }

    @Test func barrierMethodsParse() throws {
        #expect(try NVSHMEMBarrierCommand.parseMethods("all").count == 3)
        #expect(try NVSHMEMBarrierCommand.parseMethods("on-stream,device-block").map(\.rawValue) == ["on-stream", "device-block"])
        #expect(throws: (any Error).self) { try NVSHMEMBarrierCommand.parseMethods("device-warp") }
    }

    @Test(arguments: [["-n", "0"], ["-w", "-1"], ["--methods", "bogus"], ["-g", "2"]])
    func barrierValidation(_ args: [String]) {
        #expect(throws: (any Error).self) { _ = try NVSHMEMBarrierCommand.parse(args) }
    }

    @Test func barrierDefaultsAreValid() throws {
        _ = try NVSHMEMBarrierCommand.parse([])
    }

    @Test func helpListsEveryBackendAndTheByteAccounting() throws {
        let r = try CLI.run(["alltoall", "--help"])
        #expect(r.status == 0)
        for k in ["nccl-symm", "nccl-device", "nvshmem-host-graph", "nvshmem-tma", "--tma-stages", "busbw = algbw × (N−1)/N", "--chunks", "cuda-ce-1p", "--copy-mode"] {
            #expect(r.stdout.replacingOccurrences(of: "\n", with: " ").contains(k), "help lacks \(k)")
        }
    }
}
