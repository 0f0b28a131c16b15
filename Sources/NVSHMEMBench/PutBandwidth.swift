import CGPU
import Collectives
import Dispatch
import GPU
import Kernels
import Measure

/// Who issues the puts inside the kernel.
public enum PutScope: String, Sendable, CaseIterable {
    case block, warp, thread
}

/// Device-initiated put bandwidth from PE 0 to PE 1 (one way), or both ways at once.
///
/// Byte accounting: `size` bytes moved per put by each sending PE; algbw = size / time per put.
/// Bidirectional runs report the bytes one PE sends (each direction carries `size`), so a
/// link's two directions are not added together.
public final class PutBandwidth {
    public struct Options: Sendable {
        public var scope = PutScope.block
        public var blocking = false
        public var bidirectional = false
        /// Blocks in the grid (each 256 threads); 0 = the device's multiprocessor count.
        public var blocks = 0
        public var iterations = 20
        public var warmup = 5
        public var check = true
        public var seed: UInt32 = 0x5eed
        public init() {}
    }

    public struct Result: Sendable {
        public var sizeBytes: Int
        public var timeUs: Double
        public var algbwGBps: Double
        public var wrong: Int64?
        public var stats: Summary
    }

    let session: NVSHMEMSession
    let stream: Stream
    let kernels: [PutScope: Kernel]
    let check: DataCheckKernels
    let src: DeviceBuffer
    let dst: DeviceBuffer
    let start: Event
    let end: Event
    /// Sums wrong counts over PEs (the job's control channel).
    let sum: (Int64) throws -> Int64

    /// Compiles and loads the kernels and allocates symmetric buffers of `maxBytes` (collective).
    public init(session: NVSHMEMSession, compiler: RuntimeCompiler, maxBytes: Int, sumOverPEs: @escaping (Int64) throws -> Int64) throws {
        self.session = session
        sum = sumOverPEs
        let d = session.device
        let request = try compiler.nvshmemRequest(name: "nvshmem_put", source: KernelSources.nvshmemPut, arch: d.arch, nvshmem: session.lib)
        let module = try session.load(image: try compiler.cubin(for: request))
        var k: [PutScope: Kernel] = [:]
        for s in PutScope.allCases { k[s] = try module.function("gc_put_\(s.rawValue)") }
        kernels = k
        check = try DataCheckKernels(device: d, compiler: compiler)
        stream = try Stream(device: d)
        src = try session.allocate(bytes: maxBytes)
        dst = try session.allocate(bytes: maxBytes)
        start = try Event(device: d)
        end = try Event(device: d)
    }

    /// Whether this PE sends in the run: PE 0 always, PE 1 when bidirectional.
    func sends(_ o: Options) -> Bool { session.pe == 0 || (o.bidirectional && session.pe == 1) }
    var peer: Int { session.pe == 0 ? 1 : 0 }

    func arguments(bytes: Int, iters: Int, _ o: Options) -> KernelArguments {
        KernelArguments([UInt64(dst.address), UInt64(src.address), UInt64(bytes), Int32(peer), Int32(iters), Int32(o.blocking ? 1 : 0)])
    }

    func launch(_ args: KernelArguments, _ o: Options) throws {
        let blocks = o.blocks > 0 ? o.blocks : session.device.multiprocessors
        try kernels[o.scope]!.launch(grid: blocks, block: 256, stream: stream, arguments: args)
    }

    /// Checks, warms up and times one size. Every PE must call it (barriers inside).
    public func measure(bytes: Int, _ o: Options) throws -> Result {
        precondition(bytes <= src.bytes)
        try session.device.makeCurrent()
        var wrong: Int64?
        let u8 = NCCLDataType.uint8
        let mode = DataCheckKernels.valueMode(u8, op: nil)
        if o.check {
            try dst.fill(byte: 0x7F, on: stream)
            try check.fill(src.address, len: bytes, type: u8, rank: session.pe, srcOffset: 0, seed: o.seed, mode: mode, stream: stream)
            try stream.synchronize()
            session.barrier()
            if sends(o) { try launch(arguments(bytes: bytes, iters: 1, o), o) }
            try stream.synchronize()
            session.barrier()
            var mine: Int64 = 0
            let receives = session.pe == 1 || (o.bidirectional && session.pe == 0)
            if receives {
                mine = try check.countWrong(dst.address, segments: [Segment(dstOffset: 0, length: bytes, srcRank: peer, srcOffset: 0)],
                                            type: u8, ranks: 2, op: nil, scalar: 0, seed: o.seed, mode: mode, stream: stream)
            }
            wrong = try sum(mine)
        }
        if sends(o) && o.warmup > 0 { try launch(arguments(bytes: bytes, iters: o.warmup, o), o) }
        try stream.synchronize()
        session.barrier()
        // Per-iteration samples: one kernel launch per iteration, timed by events on the sender.
        var samples: [Double] = []
        let once = arguments(bytes: bytes, iters: 1, o)  // marshalled before the clock starts
        for _ in 0..<o.iterations {
            if sends(o) {
                try start.record(on: stream)
                try launch(once, o)
                try end.record(on: stream)
                try end.synchronize()
                samples.append(try end.milliseconds(since: start) * 1e3)
            }
        }
        session.barrier()
        let s = Summary(samples.isEmpty ? [0] : samples)
        return Result(sizeBytes: bytes, timeUs: s.p50, algbwGBps: Bandwidth.gbps(bytes: bytes, microseconds: s.p50), wrong: wrong, stats: s)
    }
}
