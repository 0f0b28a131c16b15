import Collectives
import Dispatch
import GPU
import Measure

/// What one backend measured at one size.
public struct AlltoallMeasurement: Sendable {
    public var bytesPerRank: Int
    /// Time per all-to-all in microseconds (host timing: averaged over ranks as nccl-tests, rank 0's for a
    /// backend issued by rank 0 alone; events: mean of the slowest rank per iteration).
    public var timeUs: Double
    public var stats: Summary?
    public var algbw: Double
    public var busbw: Double
    /// Wrong bytes over all ranks; nil when not checked.
    public var wrong: Int64?
}

/// Byte accounting and expected data of the all-to-all (nccl-tests' alltoall_perf).
public enum AlltoallLayout {
    /// The per-rank buffer size actually moved: `size` rounded down to a multiple of 16 × ranks
    /// (every per-peer block 16-byte aligned, as gpucomm's kernels store 16-byte words).
    public static func effectiveBytes(_ size: Int, ranks: Int) -> Int { size / (16 * ranks) * (16 * ranks) }

    /// algbw = per-rank buffer bytes / time; busbw = algbw × (n−1)/n (nccl-tests' alltoall).
    public static func bandwidth(bytesPerRank: Int, timeUs: Double, ranks: Int) -> (algbw: Double, busbw: Double) {
        let alg = Bandwidth.gbps(bytes: bytesPerRank, microseconds: timeUs)
        return (alg, alg * Double(ranks - 1) / Double(ranks))
    }

    /// Rank `rank`'s receive buffer: block p holds rank p's send block `rank` (bytes, as uint8 elements).
    public static func expected(bytesPerRank: Int, ranks: Int, rank: Int) -> [Segment] {
        let b = bytesPerRank / ranks
        return (0..<ranks).map { Segment(dstOffset: $0 * b, length: b, srcRank: $0, srcOffset: rank * b) }
    }
}

/// Checks and times all-to-all backends on this process's GPU; every rank calls `measure` in the same order.
public final class AlltoallBench {
    public struct Options: Sendable {
        public var iterations = 20
        public var warmup = 5
        public var check = true
        public var timing = TimingMode.host
        public var seed: UInt32 = 0x5eed
        public init() {}
    }

    let device: Device
    let stream: Stream
    let kernels: DataCheckKernels
    let rank: Int
    let ranks: Int
    let channel: JobChannel
    var events: [Event] = []

    public init(device: Device, stream: Stream, compiler: RuntimeCompiler, rank: Int, ranks: Int, channel: JobChannel) throws {
        self.device = device; self.stream = stream; self.rank = rank; self.ranks = ranks; self.channel = channel
        kernels = try DataCheckKernels(device: device, compiler: compiler)
    }

    /// Poisons the receive buffer, fills the send data, runs one all-to-all, counts wrong bytes on every rank.
    public func check(_ b: AlltoallBackend, bytesPerRank: Int, seed: UInt32) throws -> Int64 {
        let mode = DataCheckKernels.valueMode(.uint8, op: nil)
        try b.recv.fill(byte: 0x7F, on: stream)
        try b.send.fill(byte: 0x7F, on: stream)
        try kernels.fill(b.send.address, len: bytesPerRank, type: .uint8, rank: rank, srcOffset: 0, seed: seed, mode: mode, stream: stream)
        try stream.synchronize()
        try channel.barrier()  // no peer writes into a buffer before its owner poisoned it
        try b.enqueue(bytesPerRank: bytesPerRank, stream: stream)
        try stream.synchronize()
        try channel.barrier()
        let mine = try kernels.countWrong(b.recv.address, segments: AlltoallLayout.expected(bytesPerRank: bytesPerRank, ranks: ranks, rank: rank),
                                          type: .uint8, ranks: ranks, op: nil, scalar: 0, seed: seed, mode: mode, stream: stream)
        return try channel.sum(mine)
    }

    /// Checks (unless off), warms up and times `b` at `bytesPerRank` (an effective size).
    public func measure(_ b: AlltoallBackend, bytesPerRank: Int, _ o: Options) throws -> AlltoallMeasurement {
        precondition(bytesPerRank <= b.send.bytes && bytesPerRank % (16 * ranks) == 0)
        try device.makeCurrent()
        try b.prepare(bytesPerRank: bytesPerRank)
        let wrong = o.check ? try check(b, bytesPerRank: bytesPerRank, seed: o.seed) : nil
        for _ in 0..<o.warmup { try b.enqueue(bytesPerRank: bytesPerRank, stream: stream) }
        try stream.synchronize()
        try channel.barrier()
        var timeUs: Double
        var stats: Summary?
        if o.timing == .events {
            while events.count < 2 * o.iterations { events.append(try Event(device: device)) }
            for i in 0..<o.iterations {
                try events[2 * i].record(on: stream)
                try b.enqueue(bytesPerRank: bytesPerRank, stream: stream)
                try events[2 * i + 1].record(on: stream)
            }
            try stream.synchronize()
            let local = try (0..<o.iterations).map { try events[2 * $0 + 1].milliseconds(since: events[2 * $0]) * 1e3 }
            let all = try channel.allGatherDoubles(local)
            let s = Summary((0..<o.iterations).map { i in all.map { $0[i] }.max()! })
            stats = s
            timeUs = s.mean
        } else {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<o.iterations { try b.enqueue(bytesPerRank: bytesPerRank, stream: stream) }
            try stream.synchronize()
            let us = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3 / Double(o.iterations)
            // A backend issued by rank 0 alone leaves the other ranks' loops empty: rank 0's clock is the time.
            let over: RankAggregation = b.issuedByOneRank ? .rank0 : .average
            timeUs = over.combine(try channel.allGatherDoubles([us]).map { $0[0] })
        }
        let bw = AlltoallLayout.bandwidth(bytesPerRank: bytesPerRank, timeUs: timeUs, ranks: ranks)
        return AlltoallMeasurement(bytesPerRank: bytesPerRank, timeUs: timeUs, stats: stats, algbw: bw.algbw, busbw: bw.busbw, wrong: wrong)
    }
}
