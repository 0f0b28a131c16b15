import Driver
import GPU
import Measure

/// One GPU driven by this process: its device, stream, communicator and check kernels.
public final class LocalRank {
    public let device: Device
    public let stream: Stream
    public let comm: Communicator
    let kernels: DataCheckKernels
    var buffers: BufferSet?

    public init(device: Device, comm: Communicator, compiler: RuntimeCompiler) throws {
        self.device = device
        self.comm = comm
        stream = try Stream(device: device)
        kernels = try DataCheckKernels(device: device, compiler: compiler)
    }
}

/// How the benchmark's buffers are given to NCCL.
public enum BufferMode: String, Sendable, CaseIterable {
    /// Plain `cuMemAlloc` buffers.
    case none
    /// `ncclCommRegister`ed buffers (user-buffer registration).
    case registered
    /// `ncclMemAlloc` buffers in a symmetric window (`ncclCommWindowRegister`).
    case symmetric
}

public struct BenchOptions: Sendable {
    public var iterations = 20
    public var warmup = 5
    /// Operations per iteration (nccl-tests `-m`).
    public var aggregate = 1
    /// Graph launches (nccl-tests `-G`): capture the iterations into a CUDA graph and replay it this often; 0 = off.
    public var graphLaunches = 0
    /// Synchronise the streams after every operation (nccl-tests `-z 1`).
    public var blocking = false
    public var timing = TimingMode.host
    public var check = true
    public var buffers = BufferMode.none
    public var aggregation = RankAggregation.average
    public var seed: UInt32 = 0x5eed
    public init() {}
}

/// One thing to measure.
public struct BenchCase: Sendable {
    public var collective: CollectiveDescriptor
    public var type: NCCLDataType
    public var op: NCCLReduceOp?
    public var root: Int
    public var sizeBytes: Int
    public var inPlace: Bool

    public init(collective: CollectiveDescriptor, type: NCCLDataType, op: NCCLReduceOp?, root: Int, sizeBytes: Int, inPlace: Bool) {
        self.collective = collective; self.type = type; self.op = op; self.root = root
        self.sizeBytes = sizeBytes; self.inPlace = inPlace
    }
}

/// What one case measured.
public struct CollectiveMeasurement: Sendable {
    public var layout: Layout
    /// Time per operation in microseconds, combined across processes by the aggregation mode.
    public var timeUs: Double
    /// Per-iteration statistics (events timing only).
    public var stats: Summary?
    /// Wrong elements over all ranks; nil when not checked.
    public var wrong: Int64?
    public var algbw: Double
    public var busbw: Double
    public var iterations: Int
}

/// The premulsum scalar gpucomm uses: exact in every type.
public let preMulSumScalar = 2.0

/// Runs collectives on the local GPUs of a job and measures them.
public final class CollectiveBench {
    public let ranks: [LocalRank]
    public let channel: JobChannel
    public var worldSize: Int { ranks[0].comm.size }

    public init(ranks: [LocalRank], channel: JobChannel) {
        precondition(!ranks.isEmpty)
        self.ranks = ranks
        self.channel = channel
    }

    /// Bytes each rank's send and receive buffers need for `c`.
    public func bytesNeeded(_ c: BenchCase) -> Int {
        ranks.map { lr in
            let l = c.collective.layout(sizeBytes: c.sizeBytes, typeSize: c.type.size, ranks: worldSize, rank: lr.comm.rank)
            return max(l.sendCount, l.recvCount, l.inPlaceElements) * c.type.size
        }.max()!
    }

    /// Allocates (or keeps) buffers of at least `bytes` in `mode` on every local GPU.
    public func reserve(bytes: Int, mode: BufferMode) throws {
        if let b = ranks[0].buffers, b.bytes >= bytes, b.mode == mode { return }
        releaseBuffers()
        let sets = try ranks.map { try BufferSet.allocate(for: $0, bytes: bytes, mode: mode) }
        try BufferSet.register(sets, ranks: ranks)
        for (lr, s) in zip(ranks, sets) { lr.buffers = s }
    }

    /// Frees every rank's buffers; window deregistration is collective, so inside one NCCL group.
    public func releaseBuffers() {
        guard ranks[0].buffers != nil else { return }
        BufferSet.deregister(ranks.compactMap(\.buffers))
        for lr in ranks { lr.buffers = nil }  // memory freed only now, after the group that deregistered it
    }

    /// The driver's plan for these options.
    public static func plan(_ o: BenchOptions) -> TimingPlan {
        var p = TimingPlan()
        p.iterations = o.iterations; p.warmup = o.warmup; p.aggregate = o.aggregate
        p.strategy = o.graphLaunches > 0 ? .graphReplay : o.timing == .events ? .events : .hostLoop
        p.graphLaunches = o.graphLaunches; p.blocking = o.blocking; p.check = o.check; p.aggregation = o.aggregation
        return p
    }

    /// Checks and times one case through the driver (`label` names it if it hangs).
    public func measure(_ c: BenchCase, _ o: BenchOptions, driver: BenchmarkDriver, label: @autoclosure () -> String = "") throws -> CollectiveMeasurement {
        let n = worldSize
        try reserve(bytes: bytesNeeded(c), mode: o.buffers)
        let w = try CollectiveWorkload(c, ranks: ranks, worldSize: n, seed: o.seed)
        defer { w.release() }
        let m = try driver.measure(w, Self.plan(o), label: label())
        let bw = c.collective.accounting(bytes: c.sizeBytes, ranks: n).bandwidth(microseconds: m.timeUs)!
        return CollectiveMeasurement(layout: w.contexts[0].layout, timeUs: m.timeUs, stats: m.stats, wrong: m.wrong, algbw: bw.algbw,
                                     busbw: bw.busbw, iterations: m.iterations)
    }
}

/// One collective case on every local GPU: NCCL calls issued for all local ranks inside one NCCL
/// group per step; the check fills with DataCheckKernels and counts against the descriptor's segments.
final class CollectiveWorkload: Workload {
    let c: BenchCase
    let ranks: [LocalRank]
    let contexts: [IssueContext]
    let ops: [Int32]
    let steps: [IssueStep]
    let seed: UInt32
    let nccl: NCCL

    init(_ c: BenchCase, ranks: [LocalRank], worldSize n: Int, seed: UInt32) throws {
        self.c = c
        self.ranks = ranks
        self.seed = seed
        nccl = ranks[0].comm.nccl
        let ts = c.type.size
        var contexts: [IssueContext] = []
        var ops: [Int32] = []
        do {
            for lr in ranks {
                let l = c.collective.layout(sizeBytes: c.sizeBytes, typeSize: ts, ranks: n, rank: lr.comm.rank)
                let b = lr.buffers!
                let send = c.inPlace ? b.recv.pointer(offset: l.sendInPlaceOffset * ts) : b.send.pointer()
                let recv = c.inPlace ? b.recv.pointer(offset: l.recvInPlaceOffset * ts) : b.recv.pointer()
                var op: Int32 = 0
                if let o = c.op { op = try (o.builtin ?? lr.comm.preMulSum(scalar: preMulSumScalar, type: c.type)).rawValue }
                ops.append(op)
                contexts.append(IssueContext(send: send, recv: recv, layout: l, typeSize: ts, rank: lr.comm.rank, ranks: n,
                                             root: c.root, op: op, dtype: c.type.rawValue, issuer: CommIssuer(comm: lr.comm, stream: lr.stream)))
            }
        } catch {
            for (lr, op) in zip(ranks, ops) where c.op == .premulsum { lr.comm.destroyOp(NCCLReduction(rawValue: op)) }
            throw error
        }
        self.contexts = contexts
        self.ops = ops
        steps = c.collective.steps(n)
    }

    /// Destroys the premulsum ops this case created.
    func release() { for (lr, op) in zip(ranks, ops) where c.op == .premulsum { lr.comm.destroyOp(NCCLReduction(rawValue: op)) } }

    var streams: [GPU.Stream] { ranks.map(\.stream) }

    func enqueue() throws {
        for step in steps {
            try nccl.groupStart()
            do { for x in contexts { try step(x) } } catch { try? nccl.groupEnd(); throw error }
            try nccl.groupEnd("ncclGroupEnd (\(c.collective.key))")
        }
    }

    /// Poisons receive buffers and fills send data on every local rank.
    func fill() throws {
        let mode = DataCheckKernels.valueMode(c.type, op: c.op)
        for (lr, x) in zip(ranks, contexts) {
            let b = lr.buffers!
            try b.recv.fill(byte: 0x7F, on: lr.stream)
            if !c.inPlace { try b.send.fill(byte: 0x7F, on: lr.stream) }
            try lr.kernels.fill(DeviceAddress(x.send), len: x.layout.sendCount, type: c.type, rank: x.rank,
                                srcOffset: 0, seed: seed, mode: mode, stream: lr.stream)
        }
    }

    func countWrong() throws -> Int64 {
        let mode = DataCheckKernels.valueMode(c.type, op: c.op)
        var wrong: Int64 = 0
        for (lr, x) in zip(ranks, contexts) {
            let segments = c.collective.expected(x.layout, ranks: x.ranks, rank: x.rank, root: c.root)
            wrong += try lr.kernels.countWrong(DeviceAddress(x.recv), segments: segments, type: c.type,
                                               ranks: x.ranks, op: c.op, scalar: preMulSumScalar, seed: seed, mode: mode, stream: lr.stream)
        }
        return wrong
    }

    func finish() throws { for lr in ranks { try lr.comm.checkAsync() } }
}

/// Send and receive buffers of one rank in one buffer mode, with their NCCL registrations.
final class BufferSet {
    let comm: Communicator
    let mode: BufferMode
    let bytes: Int
    let send: DeviceBuffer
    let recv: DeviceBuffer
    var handles: [UnsafeMutableRawPointer?] = []

    init(comm: Communicator, mode: BufferMode, bytes: Int, send: DeviceBuffer, recv: DeviceBuffer) {
        self.comm = comm; self.mode = mode; self.bytes = bytes; self.send = send; self.recv = recv
    }

    static func allocate(for lr: LocalRank, bytes: Int, mode: BufferMode) throws -> BufferSet {
        let rounded = (bytes + 4095) / 4096 * 4096  // windows need 4096-byte alignment
        let alloc: () throws -> DeviceBuffer = mode == .symmetric
            ? { try lr.comm.nccl.allocate(bytes: rounded, on: lr.device) }
            : { try DeviceBuffer(device: lr.device, bytes: rounded) }
        return BufferSet(comm: lr.comm, mode: mode, bytes: rounded, send: try alloc(), recv: try alloc())
    }

    /// Registers every rank's buffers; window registration is collective, so it runs in one NCCL group.
    static func register(_ sets: [BufferSet], ranks: [LocalRank]) throws {
        guard let first = sets.first, first.mode != .none else { return }
        let nccl = first.comm.nccl
        if first.mode == .symmetric {
            for buffer in [\BufferSet.send, \BufferSet.recv] {
                let windows = try nccl.registerWindows(sets.map { ($0.comm, $0[keyPath: buffer]) })
                for (s, w) in zip(sets, windows) { s.handles.append(w) }
            }
        } else {
            for s in sets { s.handles = [try s.comm.register(s.send), try s.comm.register(s.recv)] }
        }
    }

    /// Deregisters every set's buffers while their memory is still allocated: windows inside one
    /// NCCL group (collective), registrations one by one.
    static func deregister(_ sets: [BufferSet]) {
        guard let first = sets.first else { return }
        if first.mode == .symmetric {
            first.comm.nccl.deregisterWindows(sets.flatMap { s in s.handles.map { (s.comm, $0) } })
        } else {
            for s in sets { for h in s.handles { s.comm.deregister(h) } }
        }
        for s in sets { s.handles = [] }
    }

    deinit {
        // Only sets never handed to `deregister` (an error on the way). Windows are left to
        // ncclCommDestroy: deregistering one communicator's window alone would wait for its peers.
        if mode != .symmetric { for h in handles { comm.deregister(h) } }
    }
}
