import GPU
import Measure

/// One case of a benchmark made runnable on this process's GPUs: what the driver checks and times.
///
/// Every rank's process builds its own workload for the same case and the driver calls the same
/// methods in the same order on every rank. The data check is always: `fill`, one `enqueue`,
/// `countWrong` (docs/method.md).
public protocol Workload: AnyObject {
    /// The streams this process's work goes on, one per local GPU (the driver synchronises them,
    /// records events on them and captures graphs from them).
    var streams: [GPU.Stream] { get }
    /// Readies the case (buffers, kernel arguments, graphs); every rank calls it before the rest.
    func prepare() throws
    /// Poisons what will be received and fills what will be sent, for the check.
    func fill() throws
    /// Enqueues one complete operation on every local stream.
    func enqueue() throws
    /// This process's wrong elements after one operation (enqueued behind it on `streams`).
    func countWrong() throws -> Int64
    /// Reports an error a library raised asynchronously during the timed work (NCCL's).
    func finish() throws
    /// The per-iteration barrier (`TimingPlan.barrierEachIteration`) enqueued on `streams`, on the
    /// device, with no host wait (an NVSHMEM barrier on the stream, a one-element all-reduce):
    /// true when done. Then the host keeps enqueuing and no launch latency enters a sample. False
    /// (the default): the driver synchronises the streams and meets the other ranks on the host.
    func enqueueIterationBarrier() throws -> Bool
}

extension Workload {
    public func prepare() throws {}
    public func finish() throws {}
    public func enqueueIterationBarrier() throws -> Bool { false }
}

/// How the driver checks and times one workload.
public struct TimingPlan: Sendable {
    public var iterations = 20
    public var warmup = 5
    /// Operations per timed iteration (nccl-tests `-m`).
    public var aggregate = 1
    public var strategy = TimingStrategy.hostLoop
    /// Graph replays (`strategy == .graphReplay`, nccl-tests `-G`).
    public var graphLaunches = 0
    /// Synchronise the streams after every iteration (nccl-tests `-z 1`).
    public var blocking = false
    /// Check the data before timing.
    public var check = true
    /// How the processes' host-timed figures combine (nccl-tests `-a`).
    public var aggregation = RankAggregation.average
    /// Peers write straight into each other's buffers (one GPU per process, no library ordering):
    /// every rank synchronises and meets the others after filling and after the checked operation.
    public var barrierAroundCheck = false
    /// Count wrong elements again after the timed loop: back-to-back operations must leave the same data.
    public var recheckAfterTiming = false
    /// Events timing only: before every timed iteration, synchronise the streams and meet every
    /// process (`JobChannel.barrier`), then record the start event, so every sample starts with all
    /// ranks together (DeepEP's and pplx's benchmarks meet before every sample). The host clock
    /// would time the barrier: other strategies must leave it off.
    public var barrierEachIteration = false
    /// Events timing only: before every timed iteration (after the barrier, before the start event)
    /// overwrite a device buffer larger than the L2 on every stream (`BenchmarkDriver.l2FlushBytes`),
    /// so no sample finds the previous one's data in L2 (DeepEP's `flush_l2_cache`). Other
    /// strategies must leave it off.
    public var flushL2 = false

    public init() {}

    /// Whether the per-iteration steps (barrier, L2 flush) fit the strategy: only events timing
    /// keeps them out of the timed region.
    public var iterationStepsFit: Bool { strategy == .events || (!barrierEachIteration && !flushL2) }
}

/// What the driver measured for one workload.
public struct Measurement: Sendable {
    /// Time per operation in microseconds, combined across processes.
    public var timeUs: Double
    /// Per-iteration statistics (events timing, device clock).
    public var stats: Summary?
    /// Wrong elements over all ranks; nil when not checked.
    public var wrong: Int64?
    /// Timed operations.
    public var iterations: Int
    /// Each process's own statistics, in process order (with one GPU per process: per rank; a
    /// process driving several GPUs counts per iteration its slowest GPU). Events timing: over its
    /// per-iteration samples; host loop and graph replay: one sample, its time per operation.
    /// nil for one process's self-timed figures.
    public var perRank: [Summary]?

    public init(timeUs: Double, stats: Summary?, wrong: Int64?, iterations: Int, perRank: [Summary]? = nil) {
        self.timeUs = timeUs; self.stats = stats; self.wrong = wrong; self.iterations = iterations; self.perRank = perRank
    }

    /// The process with the highest mean (the first of equals); nil without per-rank figures.
    public var slowestRank: Int? { perRank.flatMap { p in p.indices.max { p[$0].mean < p[$1].mean } } }
    /// The process with the lowest mean (the first of equals).
    public var fastestRank: Int? { perRank.flatMap { p in p.indices.min { p[$0].mean < p[$1].mean } } }

    /// Events timing's statistics from every process's samples (`samples[p][i]`: process p's time
    /// of iteration i, every list as long): per iteration the slowest process's sample, summarised
    /// (what `stats` holds), and each process's own summary (`perRank`).
    public static func acrossRanks(_ samples: [[Double]]) -> (slowest: Summary, perRank: [Summary]) {
        precondition(!samples.isEmpty && samples.allSatisfy { $0.count == samples[0].count }, "samples of unequal iteration counts")
        let slowest = (0..<samples[0].count).map { i in samples.map { $0[i] }.max()! }
        return (Summary(slowest), samples.map { Summary($0) })
    }
}
