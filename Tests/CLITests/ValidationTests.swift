import Driver
import Foundation
import Testing
@testable import GPUCommCLI

/// Bad command lines are answered before any GPU work: exit 2, one line on stderr naming the
/// problem, nothing on stdout, no results file.
@Suite struct ValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let args: [String]
        /// Words the one stderr line must contain.
        let says: [String]
        var testDescription: String { args.joined(separator: " ") }
        init(_ args: String, _ says: String...) {
            self.args = args.split(separator: " ").map(String.init)
            self.says = says
        }
    }

    static let ncclCases: [Case] = [
        Case("nccl all_reduce -o bogus", "unknown op 'bogus'", "-o", "mulsum"),
        Case("nccl all_reduce -d bogus", "unknown data type 'bogus'", "-d", "bfloat16"),
        Case("nccl all_reduce -d float,nope", "unknown data type 'nope'"),
        Case("nccl bogus", "unknown collective 'bogus'", "alltoallv", "hypercube"),
        Case("nccl all_reduce bogus_perf", "unknown collective 'bogus_perf'"),
        Case("nccl -b 1M -e 1K", "-b", "-e", "1048576", "1024"),
        Case("nccl -b 0", "at least 1 byte", "-b"),
        Case("nccl -b 12Q", "-b '12Q' is not a size"),
        Case("nccl -e 1.5M", "-e '1.5M' is not a size"),
        Case("nccl -i x", "-i 'x' is not a size"),
        Case("nccl -b 1K -e 1M -f 1", "step factor 1", "-f"),
        Case("nccl -c 2", "-c must be 0 or 1", "got 2"),
        Case("nccl -z 2", "-z must be 0 or 1", "got 2"),
        Case("nccl -a 7", "-a must be 0, 1, 2 or 3", "got 7"),
        Case("nccl -R 3", "-R must be 0, 1 or 2", "got 3"),
        Case("nccl -t 2", "-t 2", "-g", "--np"),
        Case("nccl --timing bogus", "--timing must be host or events", "'bogus'"),
        Case("nccl -G 5 --timing events", "-G", "--timing events"),
        Case("nccl --json --csv", "--json and --csv"),
        Case("nccl -n 0", "-n must be at least 1", "got 0"),
        Case("nccl -w=-1", "-w must be at least 0"),
        Case("nccl -m 0", "-m must be at least 1"),
        Case("nccl -N 0", "-N must be at least 1"),
        Case("nccl -r x broadcast", "-r 'x'"),
        Case("nccl --skew=-1 alltoallv", "--skew"),
        Case("nccl -g 0", "-g must be at least 1"),
        Case("nccl --np 0", "--np must be at least 1"),
        Case("nccl -T 0", "-T must be at least 1"),
        Case("nccl --rendezvous nohostport", "--rendezvous", "nohostport"),
        Case("nccl --matrix {tmp}/missing.csv alltoallv", "--matrix", "missing.csv"),
        Case("nccl --matrix {tmp}/nonsquare.csv alltoallv", "--matrix", "not square"),
        Case("nccl --matrix {tmp}/negative.csv alltoallv", "--matrix", "line 2", "'-1'"),
        Case("nccl --matrix {tmp}/zeros.csv alltoallv", "--matrix", "row 2 sends nothing"),
    ]

    static let otherCases: [Case] = [
        Case("nccl -n abc", "'abc'", "-n"),
        Case("nccl -b", "-b"),
        Case("nccl --bogus", "'--bogus'"),
        Case("bogus", "bogus"),
        Case("selftest --mode bogus", "--mode", "'bogus'"),
        Case("selftest --buffers none,bogus", "unknown buffer mode 'bogus'"),
        Case("selftest --collectives all_reduce,bogus", "unknown collective 'bogus'"),
        Case("selftest -d bogus", "unknown data type 'bogus'"),
        Case("suite -e 12Q", "-e '12Q'"),
        Case("suite -n 0", "-n must be at least 1"),
        Case("top --interval 1ms", "--interval"),
        Case("top --sort bogus", "--sort", "name, tx, rx, total"),
        Case("top --rdma bogus", "--rdma"),
        Case("top --count 0", "--count"),
    ]

    static func writeMatrices(_ dir: String) throws {
        try "1,2\n3\n".write(toFile: "\(dir)/nonsquare.csv", atomically: true, encoding: .utf8)
        try "1,2\n-1,3\n".write(toFile: "\(dir)/negative.csv", atomically: true, encoding: .utf8)
        try "1,2\n0,0\n".write(toFile: "\(dir)/zeros.csv", atomically: true, encoding: .utf8)
    }

    @Test(arguments: ncclCases)
    func ncclUsageErrors(_ c: Case) throws {
        let r = try CLI.run(c.args + ["--results", "{tmp}/r.jsonl"], setup: Self.writeMatrices)
        check(r, c)
    }

    @Test(arguments: otherCases)
    func otherUsageErrors(_ c: Case) throws {
        check(try CLI.run(c.args), c)
    }

    /// Usage errors are found the same way on a machine that has every library: validation comes first.
    @Test func usageErrorWinsOverAMissingGPU() throws {
        let r = try CLI.run(["nccl", "all_reduce", "-c", "2", "--results", "{tmp}/r.jsonl"])
        #expect(r.status == ExitStatus.usage.rawValue && !r.stderr.contains("CUDA"), "\(r.summary)")
    }

    /// A valid command line on a machine without a GPU: exit 5, one line naming the library, no results file.
    @Test func validRunWithoutGPU() throws {
        let r = try CLI.run(["nccl", "all_reduce", "-b", "8", "-e", "1M", "--results", "{tmp}/r.jsonl"])
        #expect(r.status == ExitStatus.unavailable.rawValue, "\(r.summary)")
        #expect(r.stderrIsOneLine && r.stderr.contains("CUDA") && r.stderr.contains("GPUCOMM_CUDA_LIB"), "\(r.summary)")
        #expect(r.leftovers.isEmpty, "files left: \(r.leftovers)")
    }

    func check(_ r: CLI, _ c: Case, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == ExitStatus.usage.rawValue, "\(r.summary)", sourceLocation: sourceLocation)
        #expect(r.stderrIsOneLine, "stderr must be one line: \(r.stderr.debugDescription)", sourceLocation: sourceLocation)
        for w in c.says {
            #expect(r.stderr.contains(w), "stderr should name \(w.debugDescription): \(r.stderr.debugDescription)", sourceLocation: sourceLocation)
        }
        #expect(!r.stderr.lowercased().contains("usage:"), "no usage block", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, "nothing on stdout: \(r.stdout.prefix(200).debugDescription)", sourceLocation: sourceLocation)
        #expect(r.leftovers.isEmpty, "no results file: \(r.leftovers)", sourceLocation: sourceLocation)
    }
}
