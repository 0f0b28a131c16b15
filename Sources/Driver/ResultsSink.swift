import Foundation
import Measure
import Results

/// Where a job's rows go: the one place a results file is opened for benchmarks. Only the
/// reporting rank (process rank 0) writes; the run record (provenance) goes first.
public final class ResultsSink {
    public let run: RunInfo
    private let writer: ResultsWriter?
    public private(set) var rowsWritten = 0
    /// Every row written or not (no file): what summaries are built from.
    public private(set) var rows: [ResultRow] = []
    public let reports: Bool

    /// Opens `path` for appending when this process reports and a path is given, and writes `run`.
    public init(path: String?, run: RunInfo, reports: Bool) throws {
        self.run = run
        self.reports = reports
        if reports, let path {
            let w = try ResultsWriter(path: path)
            try w.write(.run(run))
            writer = w
        } else {
            writer = nil
        }
    }

    public var path: String? { writer?.path }

    /// A row of this run, with the fields every benchmark fills.
    public func row(benchmark: String, backend: String, ranks: Int) -> ResultRow {
        ResultRow(run: run.run, benchmark: benchmark, backend: backend, ranks: ranks)
    }

    /// Appends `row` (reporting rank only).
    public func write(_ row: ResultRow) throws {
        guard reports else { return }
        try writer?.write(.result(row))
        rows.append(row)
        if writer != nil { rowsWritten += 1 }
    }

    /// The closing stderr line: how many rows went where.
    public func closingLine() -> String? {
        guard reports, let w = writer else { return nil }
        return "[gpucomm] \(rowsWritten) rows appended to \(w.path)"
    }
}

extension TimeStats {
    /// A results row's statistics from a measured `Summary` (microseconds).
    public init(_ s: Summary) {
        self.init(min: s.min, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max, mean: s.mean, cv: s.cv, samples: s.count)
    }
}
