import Foundation
import GPU
import Measure
import Results

/// The job, NVSHMEM session, results sink and driver of one NVSHMEM command (point-to-point,
/// latency, signal, barrier): started once, handed to the command's body.
public struct NVSHMEMRun {
    public let job: Job
    public let session: NVSHMEMSession
    public let compiler: RuntimeCompiler
    public let sink: ResultsSink
    /// Arms the watchdog around each measurement and tallies wrong bytes.
    public let driver: BenchmarkDriver
    public var reports: Bool { job.reports }

    /// Spawns under --np (returns in the launcher with the ranks' status as a Failure), checks the
    /// PE count with `validate(worldSize)` before any GPU work, starts NVSHMEM with a heap of
    /// `heapBytes`, writes the run record on the reporting rank, and runs `body`.
    public static func start(_ launch: LaunchSpec, heapBytes: Int, resultsPath: String?, validate: (Int) throws -> Void,
                             body: (NVSHMEMRun) throws -> Void) throws {
        if let status = try Job.spawnIfAsked(launch) {
            throw Failure(ExitStatus(rawValue: status) ?? .failure, "")
        }
        let job = try Job(launch, needsNCCL: false) { world, _ in try validate(world) }
        defer { job.close() }
        let compiler = try RuntimeCompiler()
        let session = try job.startNVSHMEM(heapBytes: heapBytes)
        try withExtendedLifetime(session) {
            var run = Provenance.runInfo(inventory: job.inventory, launcher: job.launcher)
            run.nvshmem = session.lib.version
            let sink = try ResultsSink(path: resultsPath, run: run, reports: job.reports)
            let driver = BenchmarkDriver(channel: job.channel, watchdog: Watchdog(seconds: launch.timeout, rank: job.globalRanks[0]), rank: job.globalRanks[0])
            try body(NVSHMEMRun(job: job, session: session, compiler: compiler, sink: sink, driver: driver))
        }
    }

    /// A result row timed by `stats` (time = the median), with the given labels.
    public func row(benchmark: String, backend: String, variant: String, bytes: Int, stats: Summary, timing: String,
                    iterations: Int, wrong: Int64?, labels: [String: String], ranks: Int = 2) -> ResultRow {
        var row = sink.row(benchmark: benchmark, backend: backend, ranks: ranks)
        row.variant = variant
        row.sizeBytes = Int64(bytes)
        row.timing = timing
        row.iterations = iterations
        row.timeUs = stats.p50
        row.stats = TimeStats(stats)
        row.wrong = wrong
        row.labels = labels
        return row
    }
}

/// One progress line on stderr (rank 0's business to call it).
public func progress(_ s: String) { FileHandle.standardError.write(Data("[gpucomm] \(s)\n".utf8)) }
