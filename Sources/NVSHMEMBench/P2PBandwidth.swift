import Driver
import Collectives
import GPU
import Kernels
import Measure

/// A benchmark that could not run as asked (kernel shape, missing PE); the message says why.
public struct P2PError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The GPU or its topology lacks what the benchmark needs (an sm_90 GPU, a load/store path to the peer).
    public var unavailable: Bool
    public init(_ d: String, unavailable: Bool = false) { description = d; self.unavailable = unavailable }
}

/// Who moves a host-initiated operation (`nvshmem put|get --host --host-copy`).
public enum HostCopy: String, Sendable, CaseIterable {
    /// `nvshmemx_{put,get}mem[_nbi]_on_stream`.
    case nvshmem
    /// `cuMemcpyDtoDAsync` between this PE's buffer and the peer's, as `nvshmem_ptr` maps it.
    case cuda
}

/// NVSHMEM put or get bandwidth between the two PEs of a pair, device- or host-initiated.
///
/// Byte accounting: each initiating PE moves `size` bytes one way per operation; algbw =
/// size / time per operation. Bidirectional runs report each direction on its own (each carries
/// `size`), never the two added together. A timed sample is one kernel launch (or one batch of
/// on-stream calls) doing `inner` operations back to back, between CUDA events on the initiator;
/// time per operation = sample / inner; the figure is the median over samples.
public final class P2PBandwidth {
    /// One kernel shape for device-initiated runs.
    public struct Config: Sendable, Equatable, CustomStringConvertible {
        public var grid: GridSize
        public var threads: Int
        /// Bytes a unit moves per call; 0 = one equal piece per unit (block, warp or thread);
        /// nil = `autoPiece` pieces handed out round-robin when the equal piece would be larger,
        /// else equal pieces (`effectiveChunk`).
        public var chunk: Int?
        /// The shared-memory ring of `--scope tma` (ignored by the other scopes).
        public var staging: TMAStaging
        public init(grid: GridSize = .perSM(2), threads: Int = 1024, chunk: Int? = nil, staging: TMAStaging = TMAStaging()) {
            self.grid = grid; self.threads = threads; self.chunk = chunk; self.staging = staging
        }
        /// The shape `--scope tma` runs when no flag says otherwise: one block per multiprocessor of
        /// one warp (one thread issues the copies), a ring of 4 × 32 KiB.
        public static let tmaDefault = Config(grid: .perSM(1), threads: 32, chunk: nil, staging: TMAStaging())
        public var description: String { "blocks \(grid) threads \(threads) chunk \(chunk.map { $0 == 0 ? "even" : String($0) } ?? "auto")" }

        /// The piece of the automatic chunk. Measured on 4×H200
        /// (bench/results/2026-11-21-4xH200-session4/call8-interleave): with one equal piece per
        /// block, TMA puts fall from 371 GB/s at 64 MiB to 292 at 128 MiB–1 GiB (pieces of 1 MiB
        /// and more, all blocks spread over the whole buffer) and block puts in both directions
        /// from 366 to 344; with 256 KiB or 1 MiB pieces round-robin both stay at 366–372.
        public static let autoPiece = 256 << 10

        /// Units (blocks, warps or threads: what one piece is handed to) for `blocks` blocks at `scope`.
        public func units(blocks: Int, scope: P2PScope) -> Int {
            switch scope {
            case .block, .tma: return blocks
            case .warp: return blocks * max(1, threads / 32)
            case .thread: return blocks * threads
            }
        }

        /// The chunk the kernel gets for `bytes` over `units` units: `chunk` when set, else
        /// `autoPiece` when one equal piece per unit would be larger, else 0 (equal pieces).
        public func effectiveChunk(bytes: Int, units: Int) -> Int {
            if let chunk { return chunk }
            return (bytes + max(units, 1) - 1) / max(units, 1) > Self.autoPiece ? Self.autoPiece : 0
        }
        /// The description with the ring, for `--scope tma`.
        public func description(scope: P2PScope) -> String { scope == .tma ? "\(description) \(staging)" : description }
    }

    public struct Options: Sendable {
        public var op = P2POp.put
        public var scope = P2PScope.block
        public var blocking = false
        public var bidirectional = false
        /// Host-initiated on-stream calls instead of a kernel.
        public var host = false
        /// Host-initiated: the operations of a sample go round-robin over this many streams
        /// (forked from and joined back into the timed stream), so one copy's start overlaps the
        /// previous one's end; each operation is still one whole `size`-byte call.
        public var hostStreams = 1
        /// Host-initiated: NVSHMEM's on-stream call (default), or `cuMemcpyDtoDAsync` on the peer's
        /// heap address (`nvshmem_ptr`): the copy NVSHMEM makes on NVLink, without the library call.
        public var hostCopy = HostCopy.nvshmem
        public var pair = PEPair(0, 1)
        public var iterations = 20
        public var warmup = 5
        /// Operations per timed sample; 0 = `autoInnerIterations(bytes:)`.
        public var inner = 0
        public var check = true
        public var seed: UInt32 = 0x5eed
        public init() {}

        /// PEs that issue operations: the pair's first, and its second when bidirectional.
        public var initiators: [Int] { bidirectional ? [pair.a, pair.b] : [pair.a] }
        /// PEs whose `dst` receives data (a put lands at the peer, a get at the initiator).
        public var receivers: [Int] { op == .get ? initiators : initiators.map { pair.peer(of: $0)! } }
    }

    /// One direction's figures: data moved `from` → `to` (a put's initiator is `from`, a get's `to`).
    public struct Direction: Sendable {
        public var from: Int
        public var to: Int
        public var stats: Summary
        public var timeUs: Double { stats.p50 }
        public var algbwGBps: Double
    }

    public struct Result: Sendable {
        /// Blocks in the grid (0 for host-initiated runs) and blocks of this shape one SM holds.
        public var blocks: Int
        /// The chunk the kernel ran with (0: equal pieces; 0 for host-initiated runs).
        public var chunk = 0
        public var residentBlocksPerSM: Int
        public var inner: Int
        public var directions: [Direction]
        public var wrong: Int64?
    }

    let session: NVSHMEMSession
    let stream: Stream
    let kernels: [P2PScope: Kernel]
    /// gc_bw_tma (cuda/nvshmem_tma.cu), compiled and loaded on the first `--scope tma` measurement.
    var tmaKernel: Kernel?
    let compiler: RuntimeCompiler
    let host: HostRMA
    let check: PairCheck
    let src: DeviceBuffer
    let dst: DeviceBuffer
    let start: Event
    let end: Event
    /// `--streams` beyond the first, made on first use, with the fork event and one join event each.
    var side: [(stream: Stream, join: Event)] = []
    var fork: Event?
    let channel: JobChannel

    /// Compiles and loads the kernels and allocates two symmetric buffers of `maxBytes` (collective).
    /// `channel` is the job's control channel, one process per PE (process rank = PE).
    public init(session: NVSHMEMSession, compiler: RuntimeCompiler, maxBytes: Int, channel: JobChannel) throws {
        self.session = session
        self.compiler = compiler
        self.channel = channel
        let d = session.device
        let program = KernelSources.nvshmemPut
        let request = try compiler.nvshmemRequest(name: program.name, source: program.source, arch: d.arch, nvshmem: session.lib).with(headers: program.headers)
        let module = try session.load(image: try compiler.cubin(for: request))
        var k: [P2PScope: Kernel] = [:]
        for s in P2PScope.allCases where s != .tma { k[s] = try module.function("gc_bw_\(s.rawValue)") }  // tma: kernel(for:)
        kernels = k
        host = try HostRMA(session.lib)
        let checkKernels = try DataCheckKernels(device: d, compiler: compiler)
        stream = try Stream(device: d)
        src = try session.allocate(bytes: maxBytes)
        dst = try session.allocate(bytes: maxBytes)
        start = try Event(device: d)
        end = try Event(device: d)
        check = PairCheck(session: session, kernels: checkKernels, stream: stream, src: src, dst: dst, channel: channel)
    }

    /// The bandwidth kernel of `scope`; gc_bw_tma is compiled and loaded on first use (sm_90 only).
    func kernel(for scope: P2PScope) throws -> Kernel {
        if scope != .tma { return kernels[scope]! }
        if let k = tmaKernel { return k }
        let d = session.device
        let p = KernelSources.nvshmemTMA
        let request = try compiler.nvshmemRequest(name: p.name, source: p.source, arch: d.arch, nvshmem: session.lib).with(headers: p.headers)
        let k = try session.load(image: try compiler.cubin(for: request)).function("gc_bw_tma")
        try k.allowDynamicSharedBytes(try d.maxSharedBytesPerBlockOptIn())
        tmaKernel = k
        return k
    }

    /// Why this PE cannot run `--scope tma` as asked, or nil: an sm_90+ GPU, the ring within the
    /// device's shared memory, a get or non-blocking put, and a load/store path to the peer.
    func tmaProblem(_ c: Config, _ o: Options) throws -> P2PError? {
        let d = session.device
        let gpu = try c.staging.unavailable(computeCapabilityMajor: d.computeCapability.major, sharedLimit: d.maxSharedBytesPerBlockOptIn)
        if gpu == .architecture {
            return P2PError("--scope tma needs bulk asynchronous copies (sm_90 or newer); \(d.name) is \(d.arch)", unavailable: true)
        }
        if o.blocking { return P2PError("--scope tma has no blocking form (its bulk copies complete at the end of the kernel): drop --blocking") }
        if case .ring(let why)? = gpu { return P2PError(why) }
        if case .sharedMemory(let limit)? = gpu {
            return P2PError("--tma-stage \(c.staging.stageBytes) × --tma-stages \(c.staging.stages) needs \(c.staging.sharedBytes) B of shared memory per block; \(d.name) allows \(limit)")
        }
        if o.initiators.contains(session.pe), let peer = o.pair.peer(of: session.pe),
           session.peerAddress(of: dst, pe: peer) == nil || session.peerAddress(of: src, pe: peer) == nil {
            return P2PError("--scope tma: PE \(peer) is not reachable by load/store from PE \(session.pe) (nvshmem_ptr is NULL): no NVLink/P2P path", unavailable: true)
        }
        return nil
    }

    /// The timed stream and `n - 1` side streams (made, with the fork event, on first use).
    func hostStreams(_ n: Int) throws -> [Stream] {
        guard n > 1 else { return [stream] }
        let d = session.device
        if fork == nil { fork = try Event(device: d, timing: false) }
        while side.count < n - 1 { side.append((try Stream(device: d), try Event(device: d, timing: false))) }
        return [stream] + side.prefix(n - 1).map(\.stream)
    }

    /// A host-initiated sample's streams and the one operation of `bytes` it enqueues on a stream,
    /// resolved before the clock starts (nvshmem_ptr, the call, the side streams stay out of the sample).
    struct HostPlan {
        let lanes: [Stream]
        let operation: (Stream) throws -> Void
    }

    func hostPlan(bytes: Int, _ o: Options) throws -> HostPlan {
        let peer = o.pair.peer(of: session.pe)!
        let lanes = try hostStreams(o.hostStreams)
        if o.hostCopy == .cuda {
            // A put writes the peer's dst, a get reads the peer's src, each as mapped here.
            guard let remote = session.peerAddress(of: o.op == .put ? dst : src, pe: peer) else {
                throw P2PError("--host-copy cuda: PE \(peer) is not load/store reachable from PE \(session.pe) (nvshmem_ptr is NULL)")
            }
            let (from, to) = o.op == .put ? (UnsafeRawPointer(src.pointer()), remote) : (UnsafeRawPointer(remote), dst.pointer())
            return HostPlan(lanes: lanes) { q in try q.copy(from: from, to: to, bytes: bytes) }
        }
        let f = host.call(o.op, blocking: o.blocking)
        let (to, from) = (dst.pointer(), UnsafeRawPointer(src.pointer()))
        return HostPlan(lanes: lanes) { q in f(to, from, bytes, Int32(peer), q) }
    }

    /// Kernel arguments for `iters` operations of `bytes` (marshalled once, outside the timed region).
    func arguments(bytes: Int, iters: Int, chunk: Int, _ c: Config, _ o: Options) -> KernelArguments {
        let peer = o.pair.peer(of: session.pe)!
        let flags = Int32((o.blocking ? 1 : 0) | (o.op == .get ? 2 : 0))
        var a: [any KernelArgument] = [UInt64(dst.address), UInt64(src.address), UInt64(bytes), UInt64(chunk), Int32(peer), Int32(iters), flags]
        if o.scope == .tma { a += [UInt32(c.staging.stageBytes), Int32(c.staging.stages)] }
        return KernelArguments(a)
    }

    /// Issues `iters` operations of `bytes` to this PE's peer and completes them on the stream
    /// (a kernel: `blocks` blocks, pieces of `chunk` bytes; host-initiated: `plan`, else one made now).
    func issue(bytes: Int, iters: Int, blocks: Int, chunk: Int, _ c: Config, _ o: Options,
               prepared: KernelArguments? = nil, plan: HostPlan? = nil) throws {
        if o.host {
            let p = try plan ?? hostPlan(bytes: bytes, o)
            let lanes = p.lanes
            if lanes.count > 1 {
                // The side streams' work starts after everything enqueued on the timed stream before.
                try fork!.record(on: stream)
                for q in lanes.dropFirst() { try q.wait(for: fork!) }
            }
            for i in 0..<iters { try p.operation(lanes[i % lanes.count]) }
            for (q, e) in side.prefix(lanes.count - 1) {
                host.quiet(q)
                try e.record(on: q)
                try stream.wait(for: e)
            }
            host.quiet(stream)
            return
        }
        try kernel(for: o.scope).launch(grid: blocks, block: c.threads, sharedBytes: o.scope == .tma ? c.staging.sharedBytes : 0,
                                        stream: stream, arguments: prepared ?? arguments(bytes: bytes, iters: iters, chunk: chunk, c, o))
    }

    /// Checks, warms up and times one size in one shape. Every PE of the job must call it.
    public func measure(bytes: Int, config c: Config, _ o: Options) throws -> Result {
        precondition(bytes > 0 && bytes <= src.bytes)
        try session.device.makeCurrent()
        let me = session.pe
        let issues = o.initiators.contains(me)
        let blocks = o.host ? 0 : c.grid.blocks(multiprocessors: session.device.multiprocessors)
        let chunk = o.host ? 0 : c.effectiveChunk(bytes: bytes, units: c.units(blocks: blocks, scope: o.scope))
        let inner = o.inner > 0 ? o.inner : autoInnerIterations(bytes: bytes)
        var resident = 0
        if !o.host && o.scope == .tma {
            // Every PE decides together, before any GPU work of this size (a PE that threw alone would leave the others waiting).
            let problem = try tmaProblem(c, o)
            if try channel.sum(problem == nil ? 0 : 1) > 0 {
                throw problem ?? P2PError("--scope tma cannot run on another PE of the pair (its message says why)")
            }
        }
        if !o.host {
            let shared = o.scope == .tma ? c.staging.sharedBytes : 0
            resident = try kernel(for: o.scope).maxActiveBlocksPerSM(block: c.threads, sharedBytes: shared)
            if resident == 0 {
                throw P2PError("gc_bw_\(o.scope.rawValue) cannot run blocks of \(c.threads) threads\(shared > 0 ? " and \(shared) B of shared memory" : "") on \(session.device.name)")
            }
        }
        var wrong: Int64?
        if o.check {
            try check.prepare(fillBytes: bytes, seed: o.seed)
            if issues { try issue(bytes: bytes, iters: 1, blocks: blocks, chunk: chunk, c, o) }
            wrong = try check.countWrong(bytes: bytes, receivers: o.receivers, pair: o.pair, seed: o.seed)
        }
        if issues && o.warmup > 0 { try issue(bytes: bytes, iters: o.warmup, blocks: blocks, chunk: chunk, c, o) }
        try stream.synchronize()
        session.barrier()
        let prepared = o.host || !issues ? nil : arguments(bytes: bytes, iters: inner, chunk: chunk, c, o)  // marshalled before the clock starts
        let plan = o.host && issues ? try hostPlan(bytes: bytes, o) : nil  // resolved before the clock starts
        var samples: [Double] = []
        for _ in 0..<o.iterations {
            session.barrier()  // both directions of a bidirectional run start together
            guard issues else { continue }
            try start.record(on: stream)
            try issue(bytes: bytes, iters: inner, blocks: blocks, chunk: chunk, c, o, prepared: prepared, plan: plan)
            try end.record(on: stream)
            try end.synchronize()
            samples.append(try end.milliseconds(since: start) * 1e3 / Double(inner))
        }
        session.barrier()
        let all = try channel.allGatherDoubles(samples)
        let directions: [Direction] = o.initiators.compactMap { x in
            guard x < all.count, !all[x].isEmpty else { return nil }
            let s = Summary(all[x])
            let other = o.pair.peer(of: x)!
            return Direction(from: o.op == .put ? x : other, to: o.op == .put ? other : x,
                             stats: s, algbwGBps: o.op.accounting(bytes: bytes, ranks: 2).bandwidth(microseconds: s.p50)!.algbw)
        }
        if directions.count != o.initiators.count { throw P2PError("an initiating PE returned no timings") }
        return Result(blocks: blocks, chunk: chunk, residentBlocksPerSM: resident, inner: inner, directions: directions, wrong: wrong)
    }
}
