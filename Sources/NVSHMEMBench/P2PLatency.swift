import Driver
import Collectives
import GPU
import Kernels
import Measure

/// Small-message latency between the two PEs of a pair: p, g, put and get one after another,
/// and a putmem_signal ping-pong (kernels in cuda/nvshmem_p2p.cu).
///
/// Timing: each launch runs `warmup` untimed then `iterations` timed operations (or round trips)
/// in one kernel; the kernel reads the GPU's %globaltimer around the timed ones, so launch cost
/// and host skew are excluded. Time per operation = interval / iterations; one-way ping-pong
/// latency = round trip / 2. The figure is the median over `repeats` launches.
public final class P2PLatency {
    /// The operations `latency` times; p and g move one 8-byte word.
    public enum Op: String, Sendable, CaseIterable {
        case p, g, put, get
        var code: Int32 {
            switch self {
            case .p: return 0
            case .g: return 1
            case .put: return 2
            case .get: return 3
            }
        }
        /// Results-file benchmark key.
        public var benchmark: String { "\(rawValue)_latency" }
        /// p and g always move one 8-byte word.
        public var fixedBytes: Int? { self == .p || self == .g ? 8 : nil }
        /// Data flows from the pair's second PE to the first (g, get) rather than first to second.
        var readsPeer: Bool { self == .g || self == .get }
    }

    public struct Options: Sendable {
        public var pair = PEPair(0, 1)
        public var scope = P2PScope.thread
        /// Threads of the block at scope block.
        public var threads = 256
        public var iterations = 1000
        public var warmup = 100
        public var repeats = 10
        public var check = true
        public var seed: UInt32 = 0x5eed
        public init() {}
    }

    public struct Result: Sendable {
        /// Microseconds per operation (one-way for the ping-pong) over the repeats.
        public var stats: Summary
        public var wrong: Int64?
    }

    /// Words p and g cycle over (GC_WORDS in the kernel).
    static let words = KernelConstants.p2pWords

    let session: NVSHMEMSession
    let stream: Stream
    let latencyKernel: Kernel
    let pingpongKernel: Kernel
    let check: PairCheck
    let src: DeviceBuffer
    let dst: DeviceBuffer
    let sig: DeviceBuffer
    let out: DeviceBuffer
    let channel: JobChannel

    /// Compiles and loads the kernels and allocates symmetric buffers (collective).
    /// `channel` is the job's control channel, one process per PE (process rank = PE).
    public init(session: NVSHMEMSession, compiler: RuntimeCompiler, maxBytes: Int, channel: JobChannel) throws {
        self.session = session
        self.channel = channel
        let d = session.device
        let k = KernelSources.nvshmemP2P
        let request = try compiler.nvshmemRequest(name: k.name, source: k.source, arch: d.arch, nvshmem: session.lib).with(headers: k.headers)
        let module = try session.load(image: try compiler.cubin(for: request))
        latencyKernel = try module.function("gc_latency")
        pingpongKernel = try module.function("gc_pingpong")
        let checkKernels = try DataCheckKernels(device: d, compiler: compiler)
        stream = try Stream(device: d)
        let bytes = max(maxBytes, P2PLatency.words * 8)
        src = try session.allocate(bytes: bytes)
        dst = try session.allocate(bytes: bytes)
        sig = try session.allocate(bytes: 8)
        out = try DeviceBuffer(device: d, bytes: 8)
        check = PairCheck(session: session, kernels: checkKernels, stream: stream, src: src, dst: dst, channel: channel)
    }

    /// The latency kernels' code for `scope`; `tma` has none (every PE throws the same, before any GPU work).
    static func scopeCode(_ scope: P2PScope) throws -> Int32 {
        guard let c = scope.code else { throw P2PError("--scope \(scope.rawValue) has no latency kernel: use thread, warp or block") }
        return c
    }

    /// Every launch starts from a poisoned dst and all of src filled (p and g cycle over its words), checked or not.
    func prepare(_ o: Options) throws {
        try session.device.makeCurrent()
        try check.prepare(fillBytes: src.bytes, seed: o.seed)
    }

    func elapsedNs() throws -> Double {
        try stream.synchronize()
        let b = try out.copyToHost(count: 8)
        return Double(b.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    }

    /// The initiator's samples, seen by every PE.
    func summary(_ samples: [Double], initiator: Int) throws -> Summary {
        let all = try channel.allGatherDoubles(samples)
        guard initiator < all.count, !all[initiator].isEmpty else { throw P2PError("PE \(initiator) returned no timings") }
        return Summary(all[initiator])
    }

    /// Times `op` of `bytes` issued by the pair's first PE (the other PEs wait). Every PE calls it.
    public func latency(_ op: Op, bytes: Int, _ o: Options) throws -> Result {
        let n = op.fixedBytes ?? bytes
        precondition(n > 0 && n <= src.bytes)
        let scopeCode = try Self.scopeCode(o.scope)
        try prepare(o)
        let me = session.pe
        let block = op.fixedBytes != nil ? 1 : o.scope.latencyBlock(threads: o.threads)
        var samples: [Double] = []
        if me == o.pair.a {
            let args = KernelArguments([UInt64(dst.address), UInt64(src.address), UInt64(n), Int32(o.pair.b), op.code, scopeCode,
                                        Int32(o.warmup), Int32(o.iterations), UInt64(out.address)])
            for _ in 0..<o.repeats {
                try latencyKernel.launch(grid: 1, block: block, stream: stream, arguments: args)
                samples.append(try elapsedNs() / 1e3 / Double(o.iterations))
            }
        }
        var wrong: Int64?
        if o.check {
            // p and g wrote words 0, 1, … of the 8 KiB-word window, restarting at each launch.
            let written = op.fixedBytes != nil ? min(o.warmup + o.iterations, P2PLatency.words) * 8 : n
            wrong = try check.countWrong(bytes: written, receivers: [op.readsPeer ? o.pair.a : o.pair.b], pair: o.pair, seed: o.seed)
        } else {
            session.barrier()
        }
        return Result(stats: try summary(samples, initiator: o.pair.a), wrong: wrong)
    }

    /// Ping-pong of `bytes` with a signal between the pair (both PEs launch; the others wait).
    /// One-way latency = round trip / 2. Every PE calls it.
    public func pingpong(bytes: Int, _ o: Options) throws -> Result {
        precondition(bytes > 0 && bytes <= src.bytes)
        let scopeCode = try Self.scopeCode(o.scope)
        try prepare(o)
        let me = session.pe
        let inPair = o.pair.contains(me)
        let block = o.scope.latencyBlock(threads: o.threads)
        if inPair, try pingpongKernel.maxActiveBlocksPerSM(block: block) < 1 {
            throw P2PError("gc_pingpong cannot run a block of \(block) threads on \(session.device.name)")
        }
        var samples: [Double] = []
        for _ in 0..<o.repeats {
            try sig.fill(byte: 0, on: stream)
            try stream.synchronize()
            session.barrier()  // both signal words are 0 before either PE sends
            guard inPair else { continue }
            let peer = o.pair.peer(of: me)!
            // Cooperative: the kernel waits on the other PE (one block always fits).
            try pingpongKernel.launchCooperative(grid: 1, block: block, stream: stream, args: [
                UInt64(dst.address), UInt64(src.address), UInt64(bytes), UInt64(sig.address), Int32(peer),
                Int32(me == o.pair.a ? 1 : 0), scopeCode, Int32(o.warmup), Int32(o.iterations), UInt64(out.address),
            ])
            let ns = try elapsedNs()
            if me == o.pair.a { samples.append(ns / 1e3 / Double(o.iterations) / 2) }
        }
        let wrong = o.check ? try check.countWrong(bytes: bytes, receivers: [o.pair.a, o.pair.b], pair: o.pair, seed: o.seed) : nil
        if !o.check { session.barrier() }
        return Result(stats: try summary(samples, initiator: o.pair.a), wrong: wrong)
    }
}
