import AllToAll
import Collectives
import Foundation
import NVSHMEMBench
import Testing
@testable import GPUCommCLI

/// Option values are read once, when the command line is parsed (`Typed`).
@Suite struct OptionValueTests {
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
