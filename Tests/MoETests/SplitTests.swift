import Driver
import GPU
import Kernels
import Measure
import Results
import Testing
@testable import MoE

/// A split operation with no GPU: logs what it is asked, in one log with the channel's barriers,
/// and counts sends not yet received (what the kernels' signal counters would hold).
final class LoggedOperation: SplitOperation {
    var log: [String] = []
    let routings: Int
    var sends = 0
    /// Sends not yet received, per routing (a receive of a routing with none would wait forever).
    var outstanding: [Int: Int] = [:]
    init(routings: Int) { self.routings = routings }
    var streams: [GPU.Stream] { [] }
    func prepare() throws { log.append("prepare") }
    func fill() throws { log.append("fill") }
    func enqueue() throws { log.append("whole") }
    func enqueueSend() throws -> Int {
        let r = sends % routings
        sends += 1
        outstanding[r, default: 0] += 1
        log.append("send \(r)")
        return r
    }
    func enqueueReceive(routing r: Int) throws {
        log.append("recv \(r)")
        if outstanding[r, default: 0] == 0 { log.append("HANG") }
        outstanding[r, default: 0] -= 1
    }
    /// Wrong when any send is not received yet (its rows may not be in place).
    func countWrong() throws -> Int64 {
        log.append("count")
        return Int64(outstanding.values.reduce(0, +))
    }
    func finish() throws { log.append("finish") }
}

/// One process whose barriers go into the operation's log.
final class LoggedChannel: JobChannel {
    let op: LoggedOperation
    init(_ op: LoggedOperation) { self.op = op }
    var processRank: Int { 0 }
    var processCount: Int { 1 }
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { [bytes] }
    func barrier() throws { op.log.append("barrier") }
}

/// The send/receive split (`--split`, docs/moe.md "Send/receive split"): the kernels' arguments
/// against their declarations, what each half's workload enqueues where the driver checks and
/// times it, the rows and their bytes.
@Suite struct SplitTests {
    /// The phase is the kernels' last parameter and every other argument is the same in the three
    /// launches; the argument count and sizes follow the declarations in cuda/moe_nvshmem.cu.
    @Test func kernelArgumentsFollowTheDeclarations() throws {
        let p = KernelSources.moeNVSHMEM
        let dispatch = try #require(p.parameters(of: "gc_moe_dispatch"))
        #expect(dispatch == ["x", "topk", "slots", "counts", "staging", "recv", "recvCount", "sig", "tokens", "k", "hidden", "fp8", "L", "window",
                             "stride", "style", "phase"])
        let combine = try #require(p.parameters(of: "gc_moe_combine"))
        #expect(combine == ["y", "recvCount", "counts", "combRecv", "sig", "hidden", "L", "window", "style", "phase"])
        func d(_ phase: MoEPhase) -> [[UInt8]] {
            MoEKernelArguments.dispatch(buffers: (1...8).map { UInt64($0) << 32 }, tokens: 48, topK: 6, hidden: 512, fp8: true, localExperts: 32,
                                        window: 48, stride: 688, style: 1, phase: phase).map(\.bytes)
        }
        func c(_ phase: MoEPhase) -> [[UInt8]] {
            MoEKernelArguments.combine(buffers: (1...5).map { UInt64($0) << 32 }, hidden: 512, localExperts: 32, window: 48, style: 0, phase: phase).map(\.bytes)
        }
        // Pointers and u64 stride 8 bytes, ints 4 (the declarations' types).
        #expect(d(.send).map(\.count) == [8, 8, 8, 8, 8, 8, 8, 8, 4, 4, 4, 4, 4, 4, 8, 4, 4])
        #expect(c(.send).map(\.count) == [8, 8, 8, 8, 8, 4, 4, 4, 4, 4])
        let phaseSlot = p.slot("phase", of: "gc_moe_dispatch"), styleSlot = p.slot("style", of: "gc_moe_dispatch")
        for (phase, value) in [(MoEPhase.send, Int32(1)), (.receive, 2), (.both, 3)] {
            #expect(d(phase)[phaseSlot] == value.bytes)
            #expect(c(phase)[p.slot("phase", of: "gc_moe_combine")] == value.bytes)
            #expect(Array(d(phase).prefix(phaseSlot)) == Array(d(.both).prefix(phaseSlot)))
        }
        #expect(d(.both)[styleSlot] == Int32(1).bytes && d(.both)[p.slot("stride", of: "gc_moe_dispatch")] == UInt64(688).bytes)
        #expect(d(.both)[p.slot("fp8", of: "gc_moe_dispatch")] == Int32(1).bytes)
    }

    /// The send half: the check is the whole operation; then every enqueue is one send, and every
    /// send's receive waits until `finish`, oldest first.
    @Test func sendScheduleKeepsTheReceivesPendingUntilFinish() {
        var s = SplitSchedule(half: .send, batch: 25)
        s.fill()
        #expect(s.enqueue() == [.send, .receive])
        #expect(s.pending == 0)
        for i in 1...5 {
            #expect(s.enqueue() == [.send])
            #expect(s.pending == i)
        }
        #expect(s.finish() == Array(repeating: .receive, count: 5))
        #expect(s.pending == 0 && s.finish() == [])
    }

    /// The receive half: after the check the first enqueue sends a batch, then every enqueue receives
    /// one; past the batch it sends another.
    @Test func receiveScheduleSendsTheBatchBeforeTheFirstReceive() {
        var s = SplitSchedule(half: .receive, batch: 4)
        s.fill()
        #expect(s.enqueue() == [.send, .receive])
        #expect(s.enqueue() == [.send, .send, .send, .send, .receive])
        #expect(s.pending == 3)
        #expect(s.enqueue() == [.receive] && s.enqueue() == [.receive] && s.enqueue() == [.receive])
        #expect(s.pending == 0)
        #expect(s.enqueue() == [.send, .send, .send, .send, .receive])
        #expect(s.finish() == [.receive, .receive, .receive])
        // Unchecked (-c 0): the first enqueue sends the batch.
        var u = SplitSchedule(half: .receive, batch: 2)
        #expect(u.enqueue() == [.send, .send, .receive])
        #expect(u.finish() == [.receive])
    }

    static func plan() -> TimingPlan {
        var p = TimingPlan()
        p.strategy = .events
        p.barrierEachIteration = true
        p.iterations = 3; p.warmup = 2
        p.barrierAroundCheck = true
        p.recheckAfterTiming = true
        return p
    }

    /// Through the driver: each timed iteration (after its barrier) is one send and nothing else;
    /// the check sees send then receive; the receives of the warm-ups and timed sends come after
    /// the loop, in the order sent (three routings cycling); both checks find nothing outstanding.
    @Test func sendRowTimesSendsAlone() throws {
        let op = LoggedOperation(routings: 3)
        let d = BenchmarkDriver(channel: LoggedChannel(op), watchdog: nil)
        let m = try d.measure(SplitWorkload(op, half: .send, plan: Self.plan()), Self.plan(), label: "t")
        #expect(op.log == ["prepare", "fill", "barrier", "send 0", "recv 0", "barrier", "count",
                           "send 1", "send 2", "barrier",
                           "barrier", "send 0", "barrier", "send 1", "barrier", "send 2",
                           "recv 1", "recv 2", "recv 0", "recv 1", "recv 2", "finish", "count"])
        #expect(m.wrong == 0)
        #expect(op.outstanding.values.allSatisfy { $0 == 0 })
    }

    /// Through the driver: the first warm-up sends the warm-ups' and the timed loop's operations,
    /// each timed iteration (after its barrier) is one receive and nothing else.
    @Test func receiveRowTimesReceivesAlone() throws {
        let op = LoggedOperation(routings: 3)
        let d = BenchmarkDriver(channel: LoggedChannel(op), watchdog: nil)
        let m = try d.measure(SplitWorkload(op, half: .receive, plan: Self.plan()), Self.plan(), label: "t")
        #expect(op.log == ["prepare", "fill", "barrier", "send 0", "recv 0", "barrier", "count",
                           "send 1", "send 2", "send 0", "send 1", "send 2", "recv 1", "recv 2", "barrier",
                           "barrier", "recv 0", "barrier", "recv 1", "barrier", "recv 2",
                           "finish", "count"])
        #expect(m.wrong == 0)
        #expect(!op.log.contains("HANG") && !op.log.contains("whole"))
    }

    @Test func rowsOfEachStyle() {
        let halves = ["layout", "dispatch", "dispatch_send", "dispatch_recv", "combine", "combine_send", "combine_recv"]
        #expect(MoESplit.ops(style: .nvshmemPut, split: true) == halves)
        #expect(MoESplit.ops(style: .nvlinkLL, split: true) == halves)
        #expect(MoESplit.ops(style: .nccl, split: true) == ["layout", "dispatch", "combine"])
        #expect(MoESplit.ops(style: .nvshmemPut, split: false) == ["layout", "dispatch", "combine"])
        #expect(MoEStyle.allCases.filter(\.hasHalves) == [.nvshmemPut, .nvlinkLL])
        #expect(MoESplit.half("dispatch_send") == .send && MoESplit.half("combine_recv") == .receive && MoESplit.half("combine") == nil)
    }

    /// The send rows carry the whole operation's bytes (docs/moe.md's anchor: 7,585,792 B to
    /// dispatch and 14,680,064 B to combine at the low-latency shape unmasked), the receive rows none.
    @Test func sendRowsCarryTheOperationsBytesReceiveRowsNone() {
        var s = MoEPreset.deepepLL.shapes[0]
        s.masked = 0
        let b = RoutingSet(shape: s, ranks: 8).meanBytes(shape: s)
        #expect(MoESplit.bytes(op: "dispatch_send", b)[.deepepLL] == 7_585_792)
        #expect(MoESplit.bytes(op: "combine_send", b)[.deepepLL] == 14_680_064)
        #expect(MoESplit.bytes(op: "dispatch_send", b) == MoESplit.bytes(op: "dispatch", b))
        #expect(MoESplit.bytes(op: "combine_send", b) == MoESplit.bytes(op: "combine", b))
        #expect(MoESplit.bytes(op: "dispatch", b).count == ByteConvention.allCases.count)
        #expect(MoESplit.bytes(op: "dispatch_recv", b).isEmpty && MoESplit.bytes(op: "combine_recv", b).isEmpty && MoESplit.bytes(op: "layout", b).isEmpty)
    }

    /// Results rows: benchmark moe_<op>; the combine halves are BF16, the dispatch halves the
    /// dispatch type; a receive row has no size and no GB/s.
    @Test func resultsRowsOfTheHalves() {
        let shape = MoEShape(tokens: 128, hidden: 7168, topK: 8, experts: 256, dtype: .fp8)
        let sink = try! ResultsSink(path: nil, run: RunInfo(run: "r", tool: "gpucomm"), reports: false)
        var p = TimingPlan()
        p.strategy = .events
        func row(_ op: String, _ bytes: [ByteConvention: Double]) -> ResultRow {
            MoETable.record(TimingLinesTests.result(op, shape: shape, bytes: bytes, ranks: [[10, 10], [20, 20]]), sink: sink, ranks: 2, plan: p)
        }
        let send = row("dispatch_send", [.wire: 2e6])
        #expect(send.benchmark == "moe_dispatch_send" && send.dtype == "fp8" && send.sizeBytes == 2_000_000)
        #expect(send.algbwGBps == 2e6 / 1e3 / 20)  // the slowest rank's 20 us per iteration
        let recv = row("combine_recv", [:])
        #expect(recv.benchmark == "moe_combine_recv" && recv.dtype == "bf16" && recv.sizeBytes == nil && recv.algbwGBps == nil)
        #expect(recv.metrics?.keys.contains { $0.hasPrefix("gbps_") } == false)
        #expect(row("combine_send", [.wire: 1e6]).dtype == "bf16" && row("dispatch_recv", [:]).dtype == "fp8")
    }

    /// The table's op column fits the split rows' names; without --split it is as before.
    @Test func tableOpColumn() {
        #expect(MoETable(reports: false, ranks: 2, perRankLines: false).opWidth == 10)
        let t = MoETable(reports: false, ranks: 2, perRankLines: false, split: true)
        #expect(t.opWidth == 15 && t.pad("dispatch_send", t.opWidth) == "  dispatch_send")
        #expect(MoETable.splitLines.count == 3 && MoETable.splitLines.allSatisfy { $0.hasPrefix("#") })
    }
}
