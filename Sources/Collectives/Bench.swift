import Dispatch
import GPU
import Measure

/// What several processes of one job share: gathering small blobs and a barrier.
/// One process driving all GPUs uses `SingleProcess`; multi-process jobs use the rendezvous channel.
public protocol JobChannel: AnyObject {
    var processRank: Int { get }
    var processCount: Int { get }
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]]
    func barrier() throws
}

/// The job is this process alone.
public final class SingleProcess: JobChannel {
    public init() {}
    public var processRank: Int { 0 }
    public var processCount: Int { 1 }
    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { [bytes] }
    public func barrier() throws {}
}

extension JobChannel {
    /// Every process's doubles, in process order.
    public func allGatherDoubles(_ xs: [Double]) throws -> [[Double]] {
        try allGather(xs.flatMap { d in withUnsafeBytes(of: d.bitPattern) { Array($0) } }).map { b in
            stride(from: 0, to: b.count, by: 8).map { i in Double(bitPattern: b[i..<i + 8].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }) }
        }
    }

    /// `x` summed over every process (a count such as wrong elements; exact below 2^53).
    public func sum(_ x: Int64) throws -> Int64 {
        try allGatherDoubles([Double(x)]).reduce(0) { $0 + Int64($1[0]) }
    }
}

/// One GPU driven by this process: its device, stream, communicator and check kernels.
public final class LocalRank {
    public let device: Device
    public let stream: Stream
    public let comm: Communicator
    let kernels: DataCheckKernels
    var buffers: BufferSet?
    var events: [Event] = []

    public init(device: Device, comm: Communicator, compiler: RuntimeCompiler) throws {
        self.device = device
        self.comm = comm
        stream = try Stream(device: device)
        kernels = try DataCheckKernels(device: device, compiler: compiler)
    }
}

/// How a timing loop is timed (docs/method.md).
public enum TimingMode: String, Sendable, CaseIterable {
    /// Host clock around the whole loop, streams synchronised at both ends (nccl-tests' method).
    case host
    /// CUDA events around every iteration on every GPU; per-iteration time is the slowest GPU's.
    case events
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

    public func measure(_ c: BenchCase, _ o: BenchOptions) throws -> CollectiveMeasurement {
        let n = worldSize
        try reserve(bytes: bytesNeeded(c), mode: o.buffers)
        let ts = c.type.size
        var contexts: [IssueContext] = []
        var ops: [Int32] = []
        defer { for (lr, op) in zip(ranks, ops) where c.op == .premulsum { lr.comm.destroyOp(NCCLReduction(rawValue: op)) } }
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
        let steps = c.collective.steps(n)
        let nccl = ranks[0].comm.nccl
        func issueOnce() throws {
            for step in steps {
                try nccl.groupStart()
                do { for x in contexts { try step(x) } } catch { try? nccl.groupEnd(); throw error }
                try nccl.groupEnd("ncclGroupEnd (\(c.collective.key))")
            }
        }
        func syncAll() throws { for lr in ranks { try lr.stream.synchronize() } }

        var wrong: Int64?
        if o.check { wrong = try check(c, contexts, issueOnce: issueOnce, seed: o.seed) }
        for _ in 0..<o.warmup { try issueOnce() }
        try syncAll()
        try channel.barrier()

        let perIteration = Double(o.iterations * o.aggregate)
        var timeUs: Double
        var stats: Summary?
        if o.graphLaunches > 0 {
            let graphs = try GraphExec.capture(streams: ranks.map(\.stream)) {
                for _ in 0..<(o.iterations * o.aggregate) { try issueOnce() }
            }
            for (g, lr) in zip(graphs, ranks) { try g.launch(on: lr.stream) }  // warm replay
            try syncAll()
            try channel.barrier()
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<o.graphLaunches { for (g, lr) in zip(graphs, ranks) { try g.launch(on: lr.stream) } }
            try syncAll()
            timeUs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3 / (perIteration * Double(o.graphLaunches))
        } else if o.timing == .events {
            try ensureEvents(2 * o.iterations)
            for i in 0..<o.iterations {
                for lr in ranks { try lr.events[2 * i].record(on: lr.stream) }
                for _ in 0..<o.aggregate { try issueOnce() }
                for lr in ranks { try lr.events[2 * i + 1].record(on: lr.stream) }
                if o.blocking { try syncAll() }
            }
            try syncAll()
            var local = [Double](repeating: 0, count: o.iterations)
            for lr in ranks {
                for i in 0..<o.iterations {
                    let us = try lr.events[2 * i + 1].milliseconds(since: lr.events[2 * i]) * 1e3 / Double(o.aggregate)
                    local[i] = max(local[i], us)
                }
            }
            let all = try channel.allGatherDoubles(local)
            let slowest = (0..<o.iterations).map { i in all.map { $0[i] }.max()! }
            let s = Summary(slowest)
            stats = s
            timeUs = s.mean
        } else {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<o.iterations {
                for _ in 0..<o.aggregate { try issueOnce() }
                if o.blocking { try syncAll() }
            }
            try syncAll()
            timeUs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3 / perIteration
        }
        if o.timing != .events || o.graphLaunches > 0 {
            timeUs = o.aggregation.combine(try channel.allGatherDoubles([timeUs]).map { $0[0] })
        }
        for lr in ranks { try lr.comm.checkAsync() }
        let algbw = Bandwidth.gbps(bytes: c.sizeBytes, microseconds: timeUs) * c.collective.algbwFactor.factor(ranks: n)
        return CollectiveMeasurement(layout: contexts[0].layout, timeUs: timeUs, stats: stats, wrong: wrong, algbw: algbw,
                           busbw: c.collective.busbw(algbw: algbw, ranks: n), iterations: o.iterations * o.aggregate)
    }

    /// Poisons receive buffers, fills send data, runs once, counts wrong elements on every rank.
    func check(_ c: BenchCase, _ contexts: [IssueContext], issueOnce: () throws -> Void, seed: UInt32) throws -> Int64 {
        let mode = DataCheckKernels.valueMode(c.type, op: c.op)
        for (lr, x) in zip(ranks, contexts) {
            let b = lr.buffers!
            try b.recv.fill(byte: 0x7F, on: lr.stream)
            if !c.inPlace { try b.send.fill(byte: 0x7F, on: lr.stream) }
            try lr.kernels.fill(DeviceAddress(x.send), len: x.layout.sendCount, type: c.type, rank: x.rank,
                                srcOffset: 0, seed: seed, mode: mode, stream: lr.stream)
        }
        try issueOnce()
        var wrong: Int64 = 0
        for (lr, x) in zip(ranks, contexts) {
            let segments = c.collective.expected(x.layout, ranks: x.ranks, rank: x.rank, root: c.root)
            wrong += try lr.kernels.countWrong(DeviceAddress(x.recv), segments: segments, type: c.type,
                                               ranks: x.ranks, op: c.op, scalar: preMulSumScalar, seed: seed, mode: mode, stream: lr.stream)
        }
        return try channel.sum(wrong)
    }

    func ensureEvents(_ count: Int) throws {
        for lr in ranks where lr.events.count < count {
            lr.events += try (lr.events.count..<count).map { _ in try Event(device: lr.device) }
        }
    }
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
