import Foundation
import Testing

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
        ValidationTests.Case("nvshmem put --host --blocks 2x", "--host", "--blocks"),
        ValidationTests.Case("nvshmem get --host --scope warp", "--host", "--scope"),
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

    @Test(arguments: ["put", "get", "latency", "signal"])
    func helpTeaches(_ sub: String) throws {
        let r = try CLI.run(["nvshmem", sub, "--help"])
        #expect(r.status == 0)
        for w in ["--pair", "Examples", "gpucomm nvshmem \(sub)"] { #expect(r.stdout.contains(w), "\(w) missing from \(sub) --help") }
    }
}
