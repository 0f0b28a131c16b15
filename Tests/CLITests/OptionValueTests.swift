import Driver
import AllToAll
import Collectives
import Foundation
import NVSHMEMBench
import Testing
@testable import GPUCommCLI

/// Option values are read once, when the command line is parsed (`Typed`); numeric options take
/// a leading '-' as a value so the command's own check answers, in one line, exit 2.
@Suite struct OptionValueTests {
    static let negative: [ValidationTests.Case] = [
        .init("nccl -b -5", "sizes must be at least 1 byte (-b)"),
        .init("nccl -n -3", "-n must be at least 1 (got -3)"),
        .init("nccl -w -1", "-w must be at least 0 (got -1)"),
        .init("nccl -e -5", "-e", "-5"),
        .init("nccl -i -5", "-i '-5' is not a size"),
        .init("nccl -r -1 broadcast", "-r '-1' must be a rank number or all"),
        .init("nccl -g -2", "-g must be at least 1 (got -2)"),
        .init("nccl --np -2", "--np must be at least 1 (got -2)"),
        .init("nccl -T -1", "-T must be at least 1 second (got -1)"),
        .init("nccl --skew -1 alltoallv", "--skew must be a non-negative number"),
        .init("alltoall -b -5", "sizes must be at least 1 byte (-b)"),
        .init("alltoall -n -3", "-n must be at least 1 (got -3)"),
        .init("alltoall --chunk -16", "--chunk '-16' must be a size that is a multiple of 16"),
        .init("alltoall --copy-sm -5", "--copy-sm must be a percent from 0 to 90", "-5"),
        .init("nccl-device alltoall -b -5", "sizes must be at least 1 byte (-b)"),
        .init("nccl-device alltoall -n -3", "-n must be ≥ 1"),
        .init("nccl-device alltoall -D -1", "-D/--device-api must be 1, 2 or 1,2", "'-1'"),
        .init("nvshmem put -b -5", "sizes must be at least 1 byte (-b)"),
        .init("nvshmem put -n -3", "-n must be at least 1 (got -3)"),
        .init("nvshmem put --threads -32", "--threads must list multiples of 32", "'-32'"),
        .init("nvshmem latency -b -5", "sizes must be at least 1 byte (-b)"),
        .init("nvshmem signal -n -3", "-n and --repeats must be at least 1"),
        .init("nvshmem barrier -n -3", "-n must be at least 1 (got -3)"),
        .init("jacobi -n -3", "-n/--iterations must be at least 1", "-3"),
        .init("jacobi --gpus -1", "--gpus must be a comma-separated list of GPU counts ≥ 1", "'-1'"),
        .init("suite -e -5", "-e '-5' is not a size"),
        .init("suite -n -3", "-n must be at least 1"),
        .init("_stencil-tune -n -3", "-n must be at least 1"),
    ]

    @Test(arguments: negative)
    func negativeValuesReachTheCommandsOwnCheck(_ c: ValidationTests.Case) throws {
        let r = try CLI.run(c.args + ["--results", "{tmp}/r.jsonl"])
        #expect(r.status == Driver.ExitStatus.usage.rawValue, "\(r.summary)")
        #expect(r.stderrIsOneLine, "\(r.summary)")
        for w in c.says { #expect(r.stderr.contains(w), "missing \(w.debugDescription): \(r.summary)") }
        #expect(!r.stderr.contains("Missing value"), "\(r.summary)")
        #expect(r.stdout.isEmpty && r.leftovers.isEmpty, "\(r.summary)")
    }

    /// A numeric option directly before another flag takes the flag as its value, which its own check
    /// refuses (never a silent swallow); a numeric option with nothing after it is still a missing value.
    @Test(arguments: [["nccl", "-b", "--json"], ["nccl", "-n", "--json"], ["alltoall", "-e", "--np", "2"], ["nccl", "-b"]])
    func aFlagIsNeverSwallowedSilently(_ args: [String]) throws {
        let r = try CLI.run(args + ["--results", "{tmp}/r.jsonl"])
        #expect(r.status == Driver.ExitStatus.usage.rawValue && r.stderrIsOneLine, "\(r.summary)")
        #expect(r.stderr.contains(args[1] == "-b" || args[1] == "-e" ? args[1] : "-n"), "\(r.summary)")
    }

    /// 2^62 bytes: the sweep must refuse it in one line (exit 2), not trap on overflow.
    @Test(arguments: [["nccl", "-e", "4611686018427387904"], ["nccl", "-b", "1", "-e", "4611686018427387904", "-f", "3"],
                      ["nvshmem", "latency", "-e", "4611686018427387904"]])
    func hugeMaximumIsOneLine(_ args: [String]) throws {
        var env = CLI.noGPUEnvironment(home: NSTemporaryDirectory())
        env["SWIFT_BACKTRACE"] = "enable=no"  // a trap ends at once instead of symbolicating for a minute
        let r = try CLI.run(args + ["--results", "{tmp}/r.jsonl"], environment: env)
        if r.crashed {
            // Sweep.sizes multiplies past Int.max: Sources/Measure/Sizes.swift, fixed on another branch of issue 15.
            // Once it throws, validate() maps it to one line (ValidationError) and this branch is not taken.
            withKnownIssue("Sweep.sizes overflows (Measure, fixed separately)") { Issue.record("gpucomm crashed: \(r.summary)") }
            return
        }
        #expect(r.status == Driver.ExitStatus.usage.rawValue && r.stderrIsOneLine, "\(r.summary)")
    }

    @Test func sizesReadOnce() throws {
        #expect(ByteSizeOption(argument: "64K").value == 64 << 10)
        #expect(ByteSizeOption(argument: "-64K").parsed == nil, "plain sizes take no sign")
        #expect(SweepBound(argument: "-5").value == -5, "sweep bounds read a sign, so the sweep refuses them as too small")
        #expect(SweepBound(argument: "12Q").unread == "12Q")
        #expect("\(ByteSizeOption(argument: "1GiB"))" == "1GiB", "help and messages show the text as given")
        let o = try NCCLOptions.parse(["-b", "1K", "-e", "4K", "-i", "1K"])
        #expect(try o.sweep.sizes(stepBytes: o.stepBytes) == [1024, 2048, 3072, 4096])
    }

    @Test func listsNameTheFirstBadItem() {
        #expect(ListOption<IntReading>(argument: "2, 4,x,y").unread == "x")
        #expect(ListOption<IntReading>(argument: "2, 4").value == [2, 4])
        #expect(Typed<DataTypeListReading>(argument: "float,nope").unread == "nope")
        #expect(Typed<DataTypeListReading>(argument: "ALL").value.fromAll)
        #expect(Typed<ChunkListReading>(argument: "16K,,64K").unread == "")
        #expect(Typed<BackendListReading>(argument: "nccl,bogus").problem is BackendListError)
    }

    @Test func typedValuesReachTheCommands() throws {
        #expect(try NVSHMEMLatencyCommand.parse(["--ops", "put,get"]).ops.value == [.put, .get])
        #expect(try NVSHMEMLatencyCommand.parse(["--scope", "warp"]).options.benchOptions.scope == .warp)
        let put = try NVSHMEMPutCommand.parse(["--chunk", "auto,0,64K", "--blocks", "1x,264", "--threads", "64"]).options
        #expect(put.shapes.map(\.chunk) == [nil, 0, 64 << 10, nil, 0, 64 << 10])
        #expect(put.shapes.map(\.grid) == [.perSM(1), .perSM(1), .perSM(1), .blocks(264), .blocks(264), .blocks(264)])
        #expect(try NVSHMEMPutCommand.parse(["--host", "--host-copy", "cuda"]).options.hostCopy?.value == .cuda)
        let a2a = try AlltoallCommand.parse(["--backends", "nccl,nvshmem-put", "--chunks", "16K,1M", "--timing", "events"])
        #expect(a2a.backends.value == [.nccl, .nvshmemPut] && a2a.chunks?.value == [16 << 10, 1 << 20] && a2a.timing.value == .events)
        let s = try SelftestCommand.parse(["--buffers", "symmetric,none", "--mode", "single", "--nvshmem", "off", "-d", "half", "-o", "max"])
        #expect(s.buffers.value == [.symmetric, .none] && s.mode.value == .single && s.nvshmem.value == .off)
        #expect(s.datatype.value.types == [.float16] && s.op.value == [.max])
        #expect(try NVSHMEMBarrierCommand.parse(["--methods", "on-stream"]).methods.value == [.onStream])
        #expect(try JacobiCommand.parse(["--gpus", "1,2"]).gpus?.value == [1, 2])
        #expect(try StencilTuneCommand.parse(["--shapes", "16x1,wave"]).shapes.value.count == 2)
        let d = try NCCLDeviceAlltoallCommand.parse(["-D", "1,2", "--blocks", "0,16"]).plan()
        #expect(d.kernels == [.basic, .optimized] && d.blocks == [0, 16])
    }

    /// `suite` sets NCCL's sweep from its typed -e and -n, with -f 4, instead of re-parsing their text.
    @Test func suiteBuildsNCCLOptionsFromTypedValues() throws {
        var o = try NCCLOptions.parse([])
        let suite = try SuiteCommand.parse(["-e", "1M", "-n", "3"])
        o.sweep.maxBytes = SweepBound(suite.maxBytes.value, text: suite.maxBytes.text)
        o.sweep.minBytes = SweepBound(8, text: "8")
        o.iters = suite.iters
        o.sweep.stepFactor = 4
        let p = try o.plan()
        #expect(p.sizes == [8, 32, 128, 512, 2048, 8192, 32768, 131_072, 524_288] && p.options.iterations == 3)
    }
}
