import Foundation
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
    /// Identifying labels as sorted `k=v` pairs joined by `, `; empty when none.
    public var labels: String

    /// Labels that annotate a row rather than identify what was measured: a row's timestamp,
    /// the experiment name or instance type. Left out of the key so repeats and baseline vs
    /// candidate still match.
    public static let annotationLabels: Set<String> = ["timestamp", "experiment", "instance"]

    public init(_ r: ResultRow) {
        benchmark = r.benchmark; backend = r.backend; variant = r.variant; dtype = r.dtype; op = r.op
        root = r.root; buffer = r.buffer; timing = r.timing; ranks = r.ranks; nodes = r.nodes
        sizeBytes = r.sizeBytes; chunkBytes = r.chunkBytes
        if let l = r.labels, !l.isEmpty {
            labels = l.filter { !Self.annotationLabels.contains($0.key) }.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
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

/// Values per metric; a metric no row had reads as nil.
public struct MetricValues: Sendable {
    var busbw: [Double] = [], algbw: [Double] = [], time: [Double] = [], speedup: [Double] = [], efficiency: [Double] = []

    public subscript(_ m: Metric) -> [Double]? {
        get {
            let v: [Double]
            switch m {
            case .busbw: v = busbw
            case .algbw: v = algbw
            case .time: v = time
            case .speedup: v = speedup
            case .efficiency: v = efficiency
            }
            return v.isEmpty ? nil : v
        }
    }

    mutating func add(_ r: ResultRow) {
        if let v = r.busbwGBps, v.isFinite { busbw.append(v) }
        if let v = r.algbwGBps, v.isFinite { algbw.append(v) }
        if let v = Metric.time.value(r), v.isFinite { time.append(v) }
        if r.metrics != nil {
            if let v = Metric.speedup.value(r), v.isFinite { speedup.append(v) }
            if let v = Metric.efficiency.value(r), v.isFinite { efficiency.append(v) }
        }
    }

    mutating func add(_ o: MetricValues) {
        busbw += o.busbw; algbw += o.algbw; time += o.time; speedup += o.speedup; efficiency += o.efficiency
    }
}

/// Repeats of one measurement: every value seen per metric, in input order.
public struct Cell: Sendable {
    public var key: BenchKey
    public var values = MetricValues()
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
    /// Large sets are grouped in parallel parts and merged in order, which gives the same cells.
    public init(_ set: ResultSet) {
        var peaks: [String: Double] = [:]
        for run in set.runs {
            if let p = run.topology?.nvlinkPeakGBps ?? run.topology?.nicGBpsPerGPU { peaks[run.run] = p }
        }
        let n = set.rows.count
        let parts = n < 100_000 ? 1 : max(1, ProcessInfo.processInfo.activeProcessorCount)
        let step = (n + parts - 1) / max(parts, 1)
        let box = PartBox(count: parts)
        let rows = set.rows, runPeaks = peaks
        DispatchQueue.concurrentPerform(iterations: parts) { k in
            let lo = min(k * step, n), hi = min(lo + step, n)
            box.store(k, Self.group(rows[lo..<hi], peaks: runPeaks))
        }
        var cells = box.parts[0] ?? []
        if parts > 1 {
            var index: [BenchKey: Int] = [:]
            for (i, c) in cells.enumerated() { index[c.key] = i }
            for part in box.parts.dropFirst() {
                for c in part ?? [] {
                    if let i = index[c.key] {
                        cells[i].values.add(c.values)
                    } else {
                        index[c.key] = cells.count
                        cells.append(c)
                    }
                }
            }
        }
        self.cells = cells
    }

    static func group(_ rows: ArraySlice<ResultRow>, peaks: [String: Double]) -> [Cell] {
        var index: [BenchKey: Int] = [:]
        var cells: [Cell] = []
        for r in rows {
            let k = BenchKey(r)
            let i: Int
            if let j = index[k] {
                i = j
            } else {
                i = cells.count
                index[k] = i
                cells.append(Cell(key: k, linkPeak: peaks[r.run]))
            }
            cells[i].values.add(r)
        }
        return cells
    }

    final class PartBox: @unchecked Sendable {
        var parts: [[Cell]?]
        private let lock = NSLock()
        init(count: Int) { parts = Array(repeating: nil, count: count) }
        func store(_ k: Int, _ cells: [Cell]) {
            lock.lock()
            parts[k] = cells
            lock.unlock()
        }
    }
}
