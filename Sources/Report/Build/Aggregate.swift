import Results

/// Everything that identifies a measurement except the run it came from: rows with equal
/// keys are repeats of one measurement and are summarised by their median.
public struct BenchKey: Hashable, Sendable {
    public var benchmark: String
    public var backend: String
    public var variant: String?
    public var dtype: String?
    public var op: String?
    public var root: Int?
    public var buffer: String?
    public var timing: String?
    public var ranks: Int
    public var nodes: Int?
    public var sizeBytes: Int64?
    public var chunkBytes: Int64?
    /// Labels as sorted `k=v` pairs joined by `, `; empty when none.
    public var labels: String

    public init(_ r: ResultRow) {
        benchmark = r.benchmark; backend = r.backend; variant = r.variant; dtype = r.dtype; op = r.op
        root = r.root; buffer = r.buffer; timing = r.timing; ranks = r.ranks; nodes = r.nodes
        sizeBytes = r.sizeBytes; chunkBytes = r.chunkBytes
        if let l = r.labels, !l.isEmpty {
            labels = l.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        } else {
            labels = ""
        }
    }
}

/// A measured quantity of a row.
public enum Metric: String, Sendable, CaseIterable {
    case busbw, algbw, time
    /// For `ResultRow.metrics` entries.
    case speedup, efficiency

    /// Higher values are better for bandwidths, speedup and efficiency; lower for time.
    public var higherIsBetter: Bool { self != .time }

    public var unit: String {
        switch self {
        case .busbw, .algbw: return "GB/s"
        case .time: return "µs"
        case .speedup: return "×"
        case .efficiency: return "%"
        }
    }

    public var title: String {
        switch self {
        case .busbw: return "bus bandwidth"
        case .algbw: return "algorithm bandwidth"
        case .time: return "time"
        case .speedup: return "speedup"
        case .efficiency: return "efficiency"
        }
    }

    /// The value of this metric in one row, if it has one. Time comes from `time_us`, else
    /// `metrics.time_s`; efficiency is in percent (fractions ≤ 1.5 are scaled by 100).
    public func value(_ r: ResultRow) -> Double? {
        switch self {
        case .busbw: return r.busbwGBps
        case .algbw: return r.algbwGBps
        case .time: return r.timeUs ?? r.metrics?["time_s"].map { $0 * 1e6 }
        case .speedup: return r.metrics?["speedup"]
        case .efficiency:
            guard let e = r.metrics?["efficiency"] else { return nil }
            return e <= 1.5 ? e * 100 : e
        }
    }
}

/// Repeats of one measurement: every value seen per metric, in input order.
public struct Cell: Sendable {
    public var key: BenchKey
    public var values: [Metric: [Double]] = [:]
    /// Link peak (GB/s) of the run the first row came from, when its topology records one.
    public var linkPeak: Double?

    /// Median of a metric over the repeats; nil when no repeat has it.
    public func median(_ m: Metric) -> Double? { values[m].flatMap(Stats.median) }
    /// Smallest and largest value of a metric over the repeats.
    public func range(_ m: Metric) -> ClosedRange<Double>? {
        guard let v = values[m], let lo = v.min(), let hi = v.max() else { return nil }
        return lo...hi
    }
}

/// Median and friends over plain arrays.
public enum Stats {
    /// Median (mean of the middle two for an even count); nil for an empty array.
    public static func median(_ v: [Double]) -> Double? {
        guard !v.isEmpty else { return nil }
        let s = v.sorted()
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
    }
}

/// Rows grouped by `BenchKey`, in the order keys were first seen.
public struct Aggregate: Sendable {
    public var cells: [Cell]

    /// Groups `set.rows`; link peaks come from each row's run (`nvlink_peak_gbps`, else `nic_gbps_per_gpu`).
    public init(_ set: ResultSet) {
        var peaks: [String: Double] = [:]
        for run in set.runs {
            if let p = run.topology?.nvlinkPeakGBps ?? run.topology?.nicGBpsPerGPU { peaks[run.run] = p }
        }
        var index: [BenchKey: Int] = [:]
        var cells: [Cell] = []
        for r in set.rows {
            let k = BenchKey(r)
            let i: Int
            if let j = index[k] {
                i = j
            } else {
                i = cells.count
                index[k] = i
                cells.append(Cell(key: k, linkPeak: peaks[r.run]))
            }
            for m in Metric.allCases {
                if let v = m.value(r), v.isFinite { cells[i].values[m, default: []].append(v) }
            }
        }
        self.cells = cells
    }
}
