import Driver
import Foundation
import Kernels
import NVSHMEMBench
import Testing
@testable import GPUCommCLI

/// Bad `nvshmem` command lines: exit 2, one line naming the problem, no results file, before any GPU work.
@Suite struct NVSHMEMP2PTests {
    static let cases: [ValidationTests.Case] = [
        ValidationTests.Case("nvshmem put --pair 1,1", "--pair", "two different", "'1,1'"),
        ValidationTests.Case("nvshmem get --pair 0", "--pair", "'0'"),
        ValidationTests.Case("nvshmem put --np 2 --pair 0,3", "--pair 0,3", "PE 3", "--np 2"),
        ValidationTests.Case("nvshmem put --np 1", "--np must be at least 2"),
        ValidationTests.Case("nvshmem put --scope team", "--scope", "'team'"),
        ValidationTests.Case("nvshmem get --blocks 0x", "--blocks", "'0x'"),
        ValidationTests.Case("nvshmem put --threads 256,100", "--threads", "multiples of 32", "'256,100'"),
        ValidationTests.Case("nvshmem put --threads 2048", "--threads", "1024"),
        ValidationTests.Case("nvshmem put --chunk 100", "--chunk", "multiples of 16"),
        ValidationTests.Case("nvshmem put --chunk auto,x", "--chunk must list auto, 0 or sizes"),
        ValidationTests.Case("nvshmem put --host --blocks 2x", "--host", "--blocks"),
        ValidationTests.Case("nvshmem get --host --scope warp", "--host", "--scope"),
        ValidationTests.Case("nvshmem put --streams 2", "--streams applies to --host only"),
        ValidationTests.Case("nvshmem get --host --streams 0", "--streams must be 1 to 8", "0"),
        ValidationTests.Case("nvshmem put --host --streams 9", "--streams must be 1 to 8", "9"),
        ValidationTests.Case("nvshmem put --host-copy cuda", "--host-copy applies to --host only"),
        ValidationTests.Case("nvshmem get --host --host-copy memcpy", "--host-copy must be nvshmem or cuda", "'memcpy'"),
        ValidationTests.Case("nvshmem put -g 2", "-g must be 1"),
        ValidationTests.Case("nvshmem put -b 1G -e 1M", "-b", "-e"),
        ValidationTests.Case("nvshmem put -n 0", "-n must be at least 1"),
        ValidationTests.Case("nvshmem put --inner=-1", "--inner"),
        ValidationTests.Case("nvshmem put -c 2", "-c must be 0 or 1"),
        ValidationTests.Case("nvshmem latency --ops p,q", "--ops", "'p,q'"),
        ValidationTests.Case("nvshmem latency -e 4M", "-e must be at most 1M"),
        ValidationTests.Case("nvshmem latency --scope grid", "--scope", "'grid'"),
        ValidationTests.Case("nvshmem latency --threads 33", "--threads", "33"),
        ValidationTests.Case("nvshmem latency --repeats 0", "--repeats"),
        ValidationTests.Case("nvshmem latency --np 4 --pair 0,4", "--pair 0,4", "--np 4"),
        ValidationTests.Case("nvshmem signal --pair 2,2", "--pair"),
        ValidationTests.Case("nvshmem signal -g 4", "-g must be 1"),
        ValidationTests.Case("nvshmem signal -w=-1", "-w must be at least 0"),
        ValidationTests.Case("nvshmem put --scope tma --blocking", "--scope tma has no blocking form", "--blocking"),
        ValidationTests.Case("nvshmem get --tma-stage 16K", "--tma-stage", "--scope tma only"),
        ValidationTests.Case("nvshmem put --scope block --tma-stages 2", "--scope tma only"),
        ValidationTests.Case("nvshmem put --scope tma --tma-stage 100", "--tma-stage", "multiple of 16", "100"),
        ValidationTests.Case("nvshmem put --scope tma --tma-stage 16K,x", "--tma-stage must list", "'16K,x'"),
        ValidationTests.Case("nvshmem put --scope tma --tma-stages 2,9", "--tma-stages must be from 2 to 8", "9"),
        ValidationTests.Case("nvshmem get --scope tma --tma-stage 64K", "227 KiB", "262176"),
        ValidationTests.Case("nvshmem put --host --scope tma", "--host", "--scope"),
        ValidationTests.Case("nvshmem latency --scope tma", "--scope tma is for bandwidth only", "thread, warp or block"),
        ValidationTests.Case("nvshmem signal --scope tma", "--scope tma is for bandwidth only"),
    ]

    @Test(arguments: cases)
    func usageErrors(_ c: ValidationTests.Case) throws {
        let r = try CLI.run(c.args + ["--results", "{tmp}/r.jsonl"])
        #expect(r.status == 2, "\(r.summary)")
        #expect(r.stderrIsOneLine, "\(r.summary)")
        for w in c.says { #expect(r.stderr.contains(w), "\(w) not in \(r.stderr)") }
        #expect(r.stdout.isEmpty)
        #expect(r.leftovers.isEmpty, "left \(r.leftovers)")
    }

    /// Without --np or a launcher the commands say how to start one process per GPU (exit 2, no GPU touched).
    @Test(arguments: ["put", "get", "latency", "signal"])
    func needsOneProcessPerGPU(_ sub: String) throws {
        let r = try CLI.run(["nvshmem", sub, "--results", "{tmp}/r.jsonl"])
        #expect(r.status == 2, "\(r.summary)")
        #expect(r.stderr.contains("--np 2"), "\(r.summary)")
        #expect(r.leftovers.isEmpty)
    }

    /// `--scope tma` shapes: its own defaults (1x, 32 threads, 32K × 4), every ring combination of the lists.
    @Test func tmaShapes() throws {
        let d = try NVSHMEMPutCommand.parse(["--scope", "tma"]).options.shapes
        #expect(d == [.tmaDefault])
        let swept = try NVSHMEMGetCommand.parse(["--scope", "tma", "--threads", "64", "--tma-stage", "16K,32K", "--tma-stages", "2,4"]).options.shapes
        #expect(swept.map(\.staging) == [TMAStaging(stageBytes: 16 << 10, stages: 2), TMAStaging(stageBytes: 16 << 10, stages: 4),
                                          TMAStaging(stageBytes: 32 << 10, stages: 2), TMAStaging(stageBytes: 32 << 10, stages: 4)])
        #expect(swept.allSatisfy { $0.threads == 64 && $0.grid == .perSM(1) })
        // The other scopes keep theirs (2x, 1024 threads).
        #expect(try NVSHMEMPutCommand.parse([]).options.shapes.map { [$0.grid.description, String($0.threads)] } == [["2x", "1024"]])
    }

    @Test(arguments: ["put", "get", "latency", "signal"])
    func helpTeaches(_ sub: String) throws {
        let r = try CLI.run(["nvshmem", sub, "--help"])
        #expect(r.status == 0)
        for w in ["--pair", "Examples", "gpucomm nvshmem \(sub)"] { #expect(r.stdout.contains(w), "\(w) missing from \(sub) --help") }
    }
}
