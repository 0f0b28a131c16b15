import Driver
import Results
import GPU
import Testing
@testable import MoE

/// The virtual-rank composite (`VirtualRanksWorkload`) with fake ranks and a fake fabric: every
/// rank's step before the next step, the counts exchange only when asked, the matched pairs as
/// copies between the right addresses, the sum of every rank's wrong elements; and, played on the
/// host with the real lists, a dispatch that checks right.
@Suite struct VirtualRanksTests {
    final class Log { var lines: [String] = [] }

    final class FakeRank: VirtualRankSteps {
        let rank: Int, log: Log
        var exchanges: Int?
        var lists: (sends: [MoEExchange.Transfer], recvs: [MoEExchange.Transfer])?
        var wrong: Int64 = 0
        init(_ rank: Int, _ log: Log) { self.rank = rank; self.log = log }
        /// Sends from rank r's 0x1000·(r+1), receives into 0x100000·(r+1).
        static func sendBase(_ r: Int) -> UInt64 { 0x1000 * UInt64(r + 1) }
        static func receiveBase(_ r: Int) -> UInt64 { 0x10_0000 * UInt64(r + 1) }

        func restart() { log.lines.append("restart \(rank)") }
        func prepare() throws { log.lines.append("prepare \(rank)") }
        func fill() throws { log.lines.append("fill \(rank)") }
        func start() throws -> Int? { log.lines.append("start \(rank)"); return exchanges }
        func beforeTransfer() throws { log.lines.append("pack \(rank)") }
        var transfers: VirtualTransfers? {
            lists.map { VirtualTransfers(lists: $0, sendBase: DeviceAddress(bits: Self.sendBase(rank)), receiveBase: DeviceAddress(bits: Self.receiveBase(rank))) }
        }
        func afterTransfer() throws { log.lines.append("reduce \(rank)") }
        func countWrong() throws -> Int64 { wrong }
    }

    final class FakeFabric: VirtualFabric {
        let log: Log
        init(_ log: Log) { self.log = log }
        var streams: [GPU.Stream] { [] }
        func exchange(routing: Int) throws { log.lines.append("exchange \(routing)") }
        func copy(from source: DeviceAddress, to dest: DeviceAddress, bytes: Int) throws {
            log.lines.append("copy 0x\(String(source.bits, radix: 16)) -> 0x\(String(dest.bits, radix: 16)) \(bytes)")
        }
        func synchronize() throws { log.lines.append("sync") }
    }

    /// ExchangeTests' hand-worked case: 2 ranks, 4 experts (2 each), window 3, stride 10.
    static let handCase = MoEExchange(counts: [[0, 2, 1, 0], [1, 0, 0, 3]], localExperts: 2, window: 3)

    static func ranks(_ n: Int, _ log: Log, exchanging r: Int? = nil, lists: Bool = true) -> [FakeRank] {
        (0..<n).map { i in
            let f = FakeRank(i, log)
            f.exchanges = r
            if lists { f.lists = handCase.dispatch(rank: i, stride: 10) }
            return f
        }
    }

    @Test func aDispatchOfANewRoutingStartsEveryRankThenExchangesThenPacksThenCopiesInNCCLsOrder() throws {
        let log = Log()
        let w = VirtualRanksWorkload(ranks: Self.ranks(2, log, exchanging: 2), fabric: FakeFabric(log))
        try w.enqueue()
        // The pairs worked by hand (ExchangeTests.aCaseWorkedByHand): rank 0's 2 rows for expert 1
        // into its own (local 1, source 0) window at row 6; its 1 row for expert 2 into rank 1's
        // (local 0, source 0) at row 0; rank 1's row for expert 0 into rank 0's (local 0, source 1)
        // at row 3; its 3 rows for expert 3 into its own (local 1, source 1) at row 9.
        #expect(log.lines == ["start 0", "start 1", "exchange 2", "pack 0", "pack 1",
                              "copy 0x1000 -> 0x10003c 20", "copy 0x1014 -> 0x200000 10", "copy 0x2000 -> 0x10001e 10", "copy 0x200a -> 0x20005a 30",
                              "reduce 0", "reduce 1"])
    }

    @Test func withOneRoutingThereIsNoExchangeAndWithoutListsNoCopy() throws {
        let log = Log()
        try VirtualRanksWorkload(ranks: Self.ranks(3, log, lists: false), fabric: FakeFabric(log)).enqueue()
        #expect(log.lines == ["start 0", "start 1", "start 2", "pack 0", "pack 1", "pack 2", "reduce 0", "reduce 1", "reduce 2"])
    }

    @Test func aCombinePreparesByRunningItsDispatchFromTheStartThenEveryRanksExpert() throws {
        let log = Log()
        let fabric = FakeFabric(log)
        let dispatch = VirtualRanksWorkload(ranks: Self.ranks(2, log, exchanging: 0, lists: false), fabric: fabric)
        let combine = VirtualRanksWorkload(ranks: Self.ranks(2, log, lists: false), fabric: fabric, after: dispatch)
        try combine.prepare()
        #expect(log.lines == ["restart 0", "restart 1", "start 0", "start 1", "exchange 0", "pack 0", "pack 1", "reduce 0", "reduce 1",
                              "prepare 0", "prepare 1", "sync"])
        log.lines = []
        try combine.fill()
        #expect(log.lines == ["fill 0", "fill 1"])
    }

    @Test func wrongElementsAreEveryRanksSum() throws {
        let log = Log()
        let ranks = Self.ranks(3, log, lists: false)
        for (r, n) in zip(ranks, [1, 20, 300] as [Int64]) { r.wrong = n }
        #expect(try VirtualRanksWorkload(ranks: ranks, fabric: FakeFabric(log)).countWrong() == 321)
    }

    @Test func listsThatDoNotMatchAreAFailureInOneLine() {
        let log = Log()
        let ranks = Self.ranks(2, log)
        ranks[1].lists = (sends: [], recvs: [MoEExchange.Transfer(peer: 0, offset: 0, bytes: 16)])
        ranks[0].lists = (sends: [MoEExchange.Transfer(peer: 1, offset: 0, bytes: 8)], recvs: [])
        do {
            try VirtualRanksWorkload(ranks: ranks, fabric: FakeFabric(log)).enqueue()
            Issue.record("matched")
        } catch let f as Failure {
            #expect(f.message == "moe virtual ranks: rank 0 sends 8 B to rank 1, which receives 16 B")
            #expect(!log.lines.contains { $0.hasPrefix("copy") || $0.hasPrefix("reduce") })
        } catch {
            Issue.record("\(error)")
        }
    }

    // MARK: played on the host

    /// Host memory behind fake device addresses: rank r's staging at 0x1000_0000·(r+1), its receive
    /// buffer at 0x8000_0000 + 0x1000_0000·r.
    final class HostMemory: VirtualFabric {
        var buffers: [UInt64: [UInt8]] = [:]
        var dropLastCopy = false
        private var pending: [(DeviceAddress, DeviceAddress, Int)] = []
        var streams: [GPU.Stream] { [] }
        func exchange(routing: Int) throws {}
        func copy(from source: DeviceAddress, to dest: DeviceAddress, bytes: Int) throws { pending.append((source, dest, bytes)) }
        func synchronize() throws {}
        func locate(_ a: DeviceAddress) -> (UInt64, Int) {
            let base = buffers.keys.filter { $0 <= a.bits }.max()!
            return (base, Int(a.bits - base))
        }
        /// Plays the copies enqueued so far (all but the last one with `dropLastCopy`).
        func play() {
            for (s, d, n) in dropLastCopy ? pending.dropLast() : pending[...] {
                let (sb, so) = locate(s), (db, dof) = locate(d)
                buffers[db]!.replaceSubrange(dof..<(dof + n), with: buffers[sb]![so..<(so + n)])
            }
            pending = []
        }
    }

    /// One rank's dispatch on the host: the pack as gc_moe_pack_nccl leaves it, the real lists.
    final class HostDispatch: VirtualRankSteps {
        let rank: Int, plan: ReceivePlan, format: MessageFormat, memory: HostMemory
        var stagingBase: UInt64 { 0x1000_0000 * UInt64(rank + 1) }
        var recvBase: UInt64 { 0x8000_0000 + 0x1000_0000 * UInt64(rank) }
        init(_ rank: Int, _ plan: ReceivePlan, _ f: MessageFormat, _ m: HostMemory) {
            self.rank = rank; self.plan = plan; format = f; memory = m
            let r = plan.routings[rank]
            m.buffers[stagingBase] = [UInt8](repeating: 0, count: max(1, r.tokens * r.topK) * f.stride)
            m.buffers[recvBase] = [UInt8](repeating: 0x7F, count: plan.localExperts * plan.ranks * plan.window * f.stride)
        }
        func fill() throws {}
        func start() throws -> Int? { nil }
        func beforeTransfer() throws {
            let r = plan.routings[rank], lay = plan.layouts[rank]
            var offsets: [Int] = [], run = 0
            for c in lay.counts { offsets.append(run); run += Int(c) }
            for t in 0..<r.tokens {
                for k in 0..<r.topK where r.expert(t, k) >= 0 {
                    let at = (offsets[r.expert(t, k)] + Int(lay.slots[t * r.topK + k])) * format.stride
                    memory.buffers[stagingBase]!.replaceSubrange(at..<(at + format.stride), with: CheckTests.message(source: rank, token: t, format: format))
                }
            }
        }
        var transfers: VirtualTransfers? {
            let x = MoEExchange(counts: plan.layouts.map(\.counts), localExperts: plan.localExperts, window: plan.window)
            return VirtualTransfers(lists: x.dispatch(rank: rank, stride: format.stride), sendBase: DeviceAddress(bits: stagingBase), receiveBase: DeviceAddress(bits: recvBase))
        }
        func countWrong() throws -> Int64 { 0 }
    }

    @Test(arguments: MoEDType.allCases)
    func playedOnTheHostTheCompositeDispatchChecksRightAndAMissingCopyDoesNot(_ d: MoEDType) throws {
        let s = EndToEndTests.shape(d)
        let plan = ReceivePlan(shape: s, ranks: 4)
        let f = MessageFormat(hidden: s.hidden, dtype: d)
        let counts: [[Int32]] = (0..<4).map { dest in
            (0..<4).flatMap { src in (0..<plan.localExperts).map { j in Int32(plan.count(dest: dest, local: j, source: src)) } }
        }
        for drop in [false, true] {
            let memory = HostMemory()
            memory.dropLastCopy = drop
            let ranks = (0..<4).map { HostDispatch($0, plan, f, memory) }
            try VirtualRanksWorkload(ranks: ranks, fabric: memory).enqueue()
            memory.play()
            let wrong = EndToEndTests.dispatchWrong(plan, f, (ranks.map { memory.buffers[$0.recvBase]! }, counts))
            if drop { #expect(wrong > 0) } else { #expect(wrong == 0) }
        }
    }
}

/// A virtual-rank run's results rows: backend nccl, the ranks it stood in for, and `virtual_ranks`.
@Suite struct VirtualRanksRowTests {
    @Test func theRowCarriesVirtualRanks() throws {
        let shape = MoEShape(tokens: 64, hidden: 1024, topK: 4, experts: 32)
        let m = Driver.Measurement(timeUs: 50, stats: nil, wrong: 0, iterations: 3, perRank: nil)
        var r = MoEResult(backend: MoEStyle.nccl.key, op: "dispatch", shape: shape, measurement: m,
                          labels: MoEBench.virtualLabels(ranks: 8, blocks: 132, threads: 256, smShare: 132))
        r.bytes = [.wire: 1e6]
        let sink = try ResultsSink(path: nil, run: RunInfo(run: "r", tool: "gpucomm"), reports: false)
        let row = MoETable.record(r, sink: sink, ranks: 8, plan: TimingPlan())
        #expect(row.backend == "nccl" && row.benchmark == "moe_dispatch" && row.ranks == 8)
        #expect(row.labels?["virtual_ranks"] == "8" && row.labels?["blocks"] == "132" && row.labels?["tokens"] == "64")
        #expect(VirtualRankWords.headerLine.hasPrefix("# virtual ranks: correctness only, timings are not results"))
        #expect(VirtualRankWords.note(8) == "8 virtual ranks on one GPU (moe --virtual-ranks): correctness only, timings are not results.")
    }
}
