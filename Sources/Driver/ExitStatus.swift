import Foundation

/// gpucomm's exit codes: documented API (docs/errors.md). Only `main` exits.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Everything ran and every check passed.
    case ok = 0
    /// Something failed that is not one of the cases below (an I/O error, a library call failing mid-run).
    case failure = 1
    /// Bad command line or input file: nothing was run.
    case usage = 2
    /// A benchmark's data check found wrong elements.
    case wrongResults = 3
    /// `compare` found a regression past its thresholds.
    case regression = 4
    /// No GPU, or a required library (CUDA, NCCL, NVSHMEM, NVML) is missing or too old.
    case unavailable = 5
    /// Another rank failed, never arrived, or the rendezvous timed out or was refused.
    case rankFailed = 6
}

/// An error that ends the command with a chosen exit status and one line on stderr.
public struct Failure: Error, CustomStringConvertible, Sendable {
    public var status: ExitStatus
    public var message: String

    public init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { message }
}

/// An error raised while the driver ran one benchmark: the library's or system's error with the
/// rank, host and benchmark it happened on (what a job's error line says).
public struct BenchmarkError: Error, CustomStringConvertible, @unchecked Sendable {
    public var rank: Int
    public var host: String
    /// The measurement's label (`all_reduce float sum 1048576 B out-of-place`, …).
    public var benchmark: String
    public var underlying: any Error

    public init(rank: Int, host: String, benchmark: String, underlying: any Error) {
        self.rank = rank; self.host = host; self.benchmark = benchmark; self.underlying = underlying
    }

    public var description: String { "rank \(rank) on \(host), \(benchmark): \(underlying)" }

    /// `error` itself, or the error a BenchmarkError carries, as `E`.
    public static func cause<E: Error>(_ error: any Error, as _: E.Type) -> E? {
        (error as? E) ?? ((error as? BenchmarkError)?.underlying as? E)
    }
}
