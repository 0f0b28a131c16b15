import Driver
import GPU

// Virtual ranks (docs/moe.md, "Virtual ranks"): the `nccl` style's N ranks in one process on one
// GPU and stream, each a MoEState of its own buffers (transport `.virtual`). NCCL refuses two ranks
// on one GPU, so the ranks' steps are taken one rank after another, step by step: every rank's
// pack, then every transfer, then every reduce. The counts exchange reads every rank's counts back
// (what ncclAllGather delivers), and the NCCL group's sends and receives become device copies of
// the pairs `MoEExchange.match` makes from every rank's lists: the lists the real path posts.
// Correctness only: the ranks take turns on one GPU, so their timings are not results.

/// Where one virtual rank's transfers read and write: its lists (`MoEExchange.dispatch` or
/// `.combine`), the buffer its sends read from and the one its receives write into.
struct VirtualTransfers {
    var lists: (sends: [MoEExchange.Transfer], recvs: [MoEExchange.Transfer])
    var sendBase: DeviceAddress
    var receiveBase: DeviceAddress
}

/// One virtual rank's side of one operation, split where the ranks meet. `VirtualRanksWorkload`
/// takes each step for every rank (rank 0 first) before the next step.
protocol VirtualRankSteps: AnyObject {
    /// Starts the operation's routing cycle again (a dispatch; nothing for the others).
    func restart()
    /// Untimed, after the operation it follows ran: the combine's fake expert.
    func prepare() throws
    /// Poisons what will be received (the rank's own workload's `fill`).
    func fill() throws
    /// The operation's first step: the next routing and, for a dispatch of a new routing, its
    /// layout. Returns the routing whose counts must be exchanged before packing (nil: none).
    func start() throws -> Int?
    /// After every rank's start and the counts exchange: the dispatch's pack.
    func beforeTransfer() throws
    /// What this rank sends and receives, over the last exchange's counts (nil: no transfer).
    var transfers: VirtualTransfers? { get }
    /// After every transfer: the combine's reduce.
    func afterTransfer() throws
    /// This rank's wrong elements (its own workload's check).
    func countWrong() throws -> Int64
}

extension VirtualRankSteps {
    func restart() {}
    func prepare() throws {}
    func beforeTransfer() throws {}
    var transfers: VirtualTransfers? { nil }
    func afterTransfer() throws {}
}

/// What the virtual ranks share: the stream, the counts exchange and the copies.
protocol VirtualFabric: AnyObject {
    var streams: [GPU.Stream] { get }
    /// Every rank's per-expert counts, as the all-gather delivers them, adopted by every rank
    /// (its send offsets and routing `routing`'s receive counts).
    func exchange(routing: Int) throws
    /// One matched send and receive: `bytes` from `source` to `dest`.
    func copy(from source: DeviceAddress, to dest: DeviceAddress, bytes: Int) throws
    func synchronize() throws
}

/// One operation of every virtual rank as one workload, so the driver checks and times it as it
/// does one rank's: every rank's start (layout of a new routing), the counts exchange when a rank
/// asks for it, every rank's pack, every matched transfer, every rank's reduce. Its wrong elements
/// are the sum of every rank's own check.
final class VirtualRanksWorkload: Workload {
    let ranks: [VirtualRankSteps]
    let fabric: VirtualFabric
    /// The operation whose result this one starts from (a combine's dispatch): run once in `prepare`.
    let after: VirtualRanksWorkload?

    init(ranks: [VirtualRankSteps], fabric: VirtualFabric, after: VirtualRanksWorkload? = nil) {
        self.ranks = ranks; self.fabric = fabric; self.after = after
    }

    var streams: [GPU.Stream] { fabric.streams }
    /// One stream for every virtual rank: nothing to meet.
    func enqueueIterationBarrier() throws -> Bool { true }

    func restart() { for r in ranks { r.restart() } }

    func prepare() throws {
        if let first = after {
            first.restart()
            try first.enqueue()
        }
        for r in ranks { try r.prepare() }
        try fabric.synchronize()
    }

    func fill() throws { for r in ranks { try r.fill() } }

    func enqueue() throws {
        let routings = try ranks.map { try $0.start() }
        if let r = routings.first ?? nil {
            precondition(routings.allSatisfy { $0 == r }, "virtual ranks out of step: routings \(routings)")
            try fabric.exchange(routing: r)
        }
        for r in ranks { try r.beforeTransfer() }
        for p in try pairs() { try fabric.copy(from: p.from, to: p.to, bytes: p.bytes) }
        for r in ranks { try r.afterTransfer() }
    }

    /// Every rank's lists matched as NCCL matches them, as device addresses; none when the
    /// operation has no transfer.
    func pairs() throws -> [(from: DeviceAddress, to: DeviceAddress, bytes: Int)] {
        let t = ranks.compactMap(\.transfers)
        if t.isEmpty { return [] }
        precondition(t.count == ranks.count, "some virtual ranks transfer and some do not")
        switch MoEExchange.match(t.map(\.lists)) {
        case .failure(let e): throw Failure(.failure, "moe virtual ranks: \(e)")
        case .success(let pairs):
            return pairs.map { (t[$0.source].sendBase + $0.sourceOffset, t[$0.dest].receiveBase + $0.destOffset, $0.bytes) }
        }
    }

    func countWrong() throws -> Int64 { try ranks.reduce(0) { $0 + (try $1.countWrong()) } }
}

/// A virtual rank's layout operation: its `LayoutWorkload` whole, at the start.
final class VirtualLayoutSteps: VirtualRankSteps {
    let workload: LayoutWorkload
    init(_ w: LayoutWorkload) { workload = w }
    func fill() throws { try workload.fill() }
    func start() throws -> Int? {
        try workload.enqueue()
        return nil
    }
    func countWrong() throws -> Int64 { try workload.countWrong() }
}

/// A virtual rank's dispatch, the steps of `DispatchWorkload`'s NCCL path: the next routing (with
/// several, its layout, then the counts exchange), the pack, then `MoEExchange.dispatch`'s lists.
final class VirtualDispatchSteps: VirtualRankSteps {
    let workload: DispatchWorkload
    private var routing = 0
    init(_ w: DispatchWorkload) { workload = w }

    func restart() { workload.restart() }
    func fill() throws { try workload.fill() }

    func start() throws -> Int? {
        routing = workload.nextRouting()
        guard workload.state.routings.count > 1 else { return nil }
        try workload.state.enqueueLayout(routing: routing)
        return routing
    }

    func beforeTransfer() throws { try workload.state.enqueuePack(routing: routing) }

    var transfers: VirtualTransfers? {
        let s = workload.state
        return VirtualTransfers(lists: s.exchangePlan.dispatch(rank: s.rank, stride: s.format.stride), sendBase: s.staging.address, receiveBase: s.recv.address)
    }

    func countWrong() throws -> Int64 { try workload.countWrong() }
}

/// A virtual rank's combine, the steps of `CombineWorkload`'s NCCL path: `MoEExchange.combine`'s
/// lists over the dispatch's counts, then the reduce; prepared by the fake expert.
final class VirtualCombineSteps: VirtualRankSteps {
    let workload: CombineWorkload
    init(_ w: CombineWorkload) { workload = w }

    func prepare() throws { try workload.enqueueExpert() }
    func fill() throws { try workload.fill() }
    func start() throws -> Int? { nil }

    var transfers: VirtualTransfers? {
        let s = workload.state
        return VirtualTransfers(lists: s.exchangePlan.combine(rank: s.rank, rowBytes: s.shape.hidden * 2), sendBase: s.y.address, receiveBase: s.combRecv.address)
    }

    func afterTransfer() throws { try workload.enqueueReduce() }
    func countWrong() throws -> Int64 { try workload.countWrong() }
}

/// The virtual ranks' states on one GPU and stream: the counts exchange reads every rank's counts
/// back, a transfer is a device-to-device copy on the stream.
final class VirtualRanks: VirtualFabric {
    let states: [MoEState]
    let stream: GPU.Stream

    init(states: [MoEState], stream: GPU.Stream) { self.states = states; self.stream = stream }

    var streams: [GPU.Stream] { [stream] }

    func exchange(routing r: Int) throws {
        try stream.synchronize()
        let all = try states.map { try $0.counts.ints($0.shape.experts) }
        for s in states { try s.adoptExchange(all, routing: r) }
    }

    func copy(from source: DeviceAddress, to dest: DeviceAddress, bytes: Int) throws { try stream.copy(from: source, to: dest, bytes: bytes) }

    func synchronize() throws { try stream.synchronize() }
}

extension MoEBench {
    /// The labels of a virtual-rank run's rows: those of a run of real ranks (`run`) and
    /// `virtual_ranks` = N, which marks them as correctness only (the report leaves them out).
    static func virtualLabels(ranks: Int, blocks: Int, threads: Int, smShare: Int) -> [String: String] {
        ["blocks": String(blocks), "threads": String(threads), "sm_share": String(smShare), "virtual_ranks": String(ranks)]
    }

    /// Layout, dispatch and combine of the `nccl` style over `ranks` virtual ranks (this bench's
    /// rank count) on this GPU, each operation every rank's, checked (the sum of every rank's
    /// wrong elements) and timed by `plan`: correctness only, the timings are not results.
    public func runVirtual(shape: MoEShape, plan: TimingPlan, blocks: Int) throws -> [MoEResult] {
        let reference = RoutingSet(shape: shape, ranks: ranks)
        let fabric = try driver.armed("moe nccl virtual ranks setup (\(shape))") { () throws -> VirtualRanks in
            let states = try (0..<ranks).map { r in
                try MoEState(shape: shape, routings: reference, rank: r, device: device, stream: stream, kernels: kernels, transport: .virtual,
                             blocks: blocks, barrier: {})
            }
            let f = VirtualRanks(states: states, stream: stream)
            try f.exchange(routing: 0)
            try f.synchronize()
            return f
        }
        let states = fabric.states
        let bytes = reference.meanBytes(shape: shape)
        let labels = Self.virtualLabels(ranks: ranks, blocks: blocks, threads: states[0].threads, smShare: multiprocessorShare(device))
        var out: [MoEResult] = []
        func measure(_ op: String, _ w: Workload, _ p: TimingPlan) throws {
            out.append(try measureOp(op, w, p, backend: MoEStyle.nccl.key, shape: shape, label: "nccl, \(ranks) virtual ranks,", bytes: bytes, labels: labels))
        }
        try measure("layout", VirtualRanksWorkload(ranks: states.map { VirtualLayoutSteps(LayoutWorkload($0)) }, fabric: fabric), plan)
        // As the real ranks: check again after the timed loop (back-to-back operations must keep their data right).
        var again = plan
        again.recheckAfterTiming = plan.check
        let dispatches = states.map { DispatchWorkload($0, style: .nccl) }
        let dispatch = VirtualRanksWorkload(ranks: dispatches.map(VirtualDispatchSteps.init), fabric: fabric)
        try measure("dispatch", dispatch, again)
        let combines = zip(states, dispatches).map { VirtualCombineSteps(CombineWorkload($0, style: .nccl, dispatch: $1)) }
        try measure("combine", VirtualRanksWorkload(ranks: combines, fabric: fabric, after: dispatch), again)
        return out
    }
}

/// What a virtual-rank run says about its timings: in the table's header and the run record.
public enum VirtualRankWords {
    /// The table header's line.
    public static let headerLine = "# virtual ranks: correctness only, timings are not results (the ranks take turns on one GPU; device copies stand in for NCCL)"

    /// The run record's note.
    public static func note(_ ranks: Int) -> String {
        "\(ranks) virtual ranks on one GPU (moe --virtual-ranks): correctness only, timings are not results."
    }
}
