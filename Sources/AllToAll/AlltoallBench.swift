import Driver
import Collectives
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

    /// The all-to-all's byte accounting, whatever the backend: nccl-tests' alltoall
    /// (algbw = per-rank buffer bytes / time; busbw = algbw × (n−1)/n), from its descriptor.
    public static func accounting(bytesPerRank: Int, ranks: Int) -> Accounting {
        Collectives.named("alltoall")!.accounting(bytes: bytesPerRank, ranks: ranks)
    }

    /// Rank `rank`'s receive buffer: block p holds rank p's send block `rank` (bytes, as uint8 elements).
    public static func expected(bytesPerRank: Int, ranks: Int, rank: Int) -> [Segment] {
        let a = Collectives.named("alltoall")!
        return a.expected(a.layout(sizeBytes: bytesPerRank, typeSize: 1, ranks: ranks, rank: rank), ranks: ranks, rank: rank, root: 0)
    }
}

/// Checks and times all-to-all backends on this process's GPU through the driver; every rank
/// calls `measure` in the same order.
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
    let driver: BenchmarkDriver

    public init(device: Device, stream: Stream, compiler: RuntimeCompiler, rank: Int, ranks: Int, driver: BenchmarkDriver) throws {
        self.device = device; self.stream = stream; self.rank = rank; self.ranks = ranks; self.driver = driver
        kernels = try DataCheckKernels(device: device, compiler: compiler)
    }

    /// The driver's plan: peers write into each other's buffers, so the check meets around the
    /// operation; a backend issued by rank 0 alone leaves the other ranks' loops empty, so host
    /// timing takes rank 0's clock.
    func plan(_ b: AlltoallBackend, _ o: Options) -> TimingPlan {
        var p = TimingPlan()
        p.iterations = o.iterations; p.warmup = o.warmup; p.check = o.check
        p.strategy = o.timing == .events ? .events : .hostLoop
        p.aggregation = b.issuedByOneRank ? .rank0 : .average
        p.barrierAroundCheck = true
        return p
    }

    /// Checks (unless off), warms up and times `b` at `bytesPerRank` (an effective size).
    public func measure(_ b: AlltoallBackend, bytesPerRank: Int, _ o: Options) throws -> AlltoallMeasurement {
        precondition(bytesPerRank <= b.send.bytes && bytesPerRank % (16 * ranks) == 0)
        try device.makeCurrent()
        let w = AlltoallWorkload(backend: b, bytesPerRank: bytesPerRank, bench: self, seed: o.seed)
        let m = try driver.measure(w, plan(b, o), label: "alltoall \(b.kind.rawValue) \(bytesPerRank) B")
        let bw = AlltoallLayout.accounting(bytesPerRank: bytesPerRank, ranks: ranks).bandwidth(microseconds: m.timeUs)!
        return AlltoallMeasurement(bytesPerRank: bytesPerRank, timeUs: m.timeUs, stats: m.stats, algbw: bw.algbw, busbw: bw.busbw, wrong: m.wrong)
    }
}

/// One backend at one size as the driver runs it.
final class AlltoallWorkload: Workload {
    let backend: AlltoallBackend
    let bytesPerRank: Int
    let bench: AlltoallBench
    let seed: UInt32

    init(backend: AlltoallBackend, bytesPerRank: Int, bench: AlltoallBench, seed: UInt32) {
        self.backend = backend; self.bytesPerRank = bytesPerRank; self.bench = bench; self.seed = seed
    }

    var streams: [Stream] { [bench.stream] }
    var mode: Int32 { DataCheckKernels.valueMode(.uint8, op: nil) }

    func prepare() throws { try backend.prepare(bytesPerRank: bytesPerRank) }

    /// Poisons the receive buffer and fills the send data.
    func fill() throws {
        try backend.recv.fill(byte: 0x7F, on: bench.stream)
        try backend.send.fill(byte: 0x7F, on: bench.stream)
        try bench.kernels.fill(backend.send.address, len: bytesPerRank, type: .uint8, rank: bench.rank, srcOffset: 0, seed: seed, mode: mode,
                               stream: bench.stream)
    }

    func enqueue() throws { try backend.enqueue(bytesPerRank: bytesPerRank, stream: bench.stream) }

    func countWrong() throws -> Int64 {
        try bench.kernels.countWrong(backend.recv.address, segments: AlltoallLayout.expected(bytesPerRank: bytesPerRank, ranks: bench.ranks, rank: bench.rank),
                                     type: .uint8, ranks: bench.ranks, op: nil, scalar: 0, seed: seed, mode: mode, stream: bench.stream)
    }
}
