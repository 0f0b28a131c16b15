import Foundation
import Results

/// Thresholds and the metric for `gpucomm compare`.
public struct CompareOptions: Sendable, Equatable {
    /// Metric to compare; nil picks per measurement: busbw, else algbw, else time.
    public var metric: Metric?
    /// Relative change (0.05 = 5%) a difference must exceed to count as a change.
    public var threshold: Double
    /// Absolute difference (in the metric's unit) a difference must also exceed; nil for none.
    public var absThreshold: Double?
    /// Fields left out of the measurement key on both sides, so that e.g. two backends measured
    /// at the same sizes are put side by side (`backend`, `buffer`, `op`, ...).
    public var ignore: Set<IgnorableField>

    public init(metric: Metric? = nil, threshold: Double = 0.05, absThreshold: Double? = nil, ignore: Set<IgnorableField> = []) {
        self.metric = metric
        self.threshold = threshold
        self.absThreshold = absThreshold
        self.ignore = ignore
    }
}

/// Key fields `compare --ignore` can leave out.
public enum IgnorableField: String, Sendable, CaseIterable, Hashable {
    case backend, variant, dtype, op, root, buffer, timing, labels

    /// The row with this field blanked (backend becomes `*`).
    func blank(_ r: ResultRow) -> ResultRow {
        var r = r
        switch self {
        case .backend: r.backend = "*"
        case .variant: r.variant = nil
        case .dtype: r.dtype = nil
        case .op: r.op = nil
        case .root: r.root = nil
        case .buffer: r.buffer = nil
        case .timing: r.timing = nil
        case .labels: r.labels = nil
        }
        return r
    }
}

/// Median and range of one side's repeats of a measurement.
public struct SideSummary: Sendable, Equatable, Codable {
    public var median: Double
    public var min: Double
    public var max: Double
    /// Repeats (result rows) summarised.
    public var n: Int

    /// Largest distance from the median to either end, relative to the median.
    public var spread: Double { median == 0 ? 0 : Swift.max(max - median, median - min) / abs(median) }
}

/// What one measurement did between baseline and candidate.
public enum Verdict: String, Sendable, Codable, CaseIterable {
    /// Worse past both thresholds, and the repeats' ranges do not overlap.
    case regression
    /// Better past both thresholds, ranges apart.
    case improvement
    /// Within the thresholds.
    case unchanged
    /// Past the thresholds but the repeats' ranges overlap: the spread covers the change.
    case noise
    case onlyBaseline = "only_baseline"
    case onlyCandidate = "only_candidate"
}

/// One measurement compared.
public struct ComparisonRow: Sendable, Equatable {
    public var key: BenchKey
    public var metric: Metric
    public var baseline: SideSummary?
    public var candidate: SideSummary?
    public var verdict: Verdict

    /// Candidate median / baseline median.
    public var ratio: Double? {
        guard let b = baseline?.median, let c = candidate?.median, b != 0 else { return nil }
        return c / b
    }

    /// Relative change, positive when the candidate is better (higher bandwidth, lower time).
    public var gain: Double? {
        guard let r = ratio else { return nil }
        if !metric.higherIsBetter && r == 0 { return nil }  // a time of 0: no finite gain
        return metric.higherIsBetter ? r - 1 : 1 / r - 1
    }

    /// The measurement in words: `all_reduce nccl out_of_place float sum, 8 GPUs, 1 GiB`.
    public var name: String {
        let head = [Dim.benchmark, .backend, .variant, .dtype, .op, .root, .buffer, .timing].compactMap { $0.text(key) }
        let tail = [Dim.ranks, .nodes, .size, .chunk, .labels].compactMap { $0.text(key) }
        return head.joined(separator: " ") + ", " + tail.joined(separator: ", ")
    }
}

/// Baseline vs candidate, per measurement key, in baseline order (then candidate-only keys).
public struct Comparison: Sendable {
    public var rows: [ComparisonRow]
    public var options: CompareOptions
    /// Rows left out of both sides: marked unsupported, or failed their data check (as in the report).
    public var leftOut: (baseline: Int, candidate: Int)

    /// Compares two result sets. Rows with equal keys within a side are repeats: their median is compared.
    public init(baseline: ResultSet, candidate: ResultSet, options: CompareOptions = CompareOptions()) {
        self.options = options
        // Only valid measurements are compared (RowValidity: not unsupported, no wrong elements).
        let (validBase, validCand) = (RowValidity.split(baseline).valid, RowValidity.split(candidate).valid)
        leftOut = (baseline.rows.count - validBase.rows.count, candidate.rows.count - validCand.rows.count)
        func keyed(_ set: ResultSet) -> ResultSet {
            guard !options.ignore.isEmpty else { return set }
            var out = set
            out.rows = set.rows.map { r in options.ignore.sorted { $0.rawValue < $1.rawValue }.reduce(r) { $1.blank($0) } }
            return out
        }
        let base = Aggregate(keyed(validBase)).cells, cand = Aggregate(keyed(validCand)).cells
        var candIndex: [BenchKey: Cell] = [:]
        for c in cand { candIndex[c.key] = c }
        var seen = Set<BenchKey>()
        var rows: [ComparisonRow] = []
        for b in base {
            seen.insert(b.key)
            let c = candIndex[b.key]
            if let m = Self.metric(b, c, options.metric) {
                rows.append(Self.compare(b.key, m, b, c, options))
            } else if let m = Self.metric(b, nil, options.metric) {
                // The candidate measured it but not with this metric: list it, do not compare.
                rows.append(Self.compare(b.key, m, b, nil, options))
            }
        }
        for c in cand where !seen.contains(c.key) {
            guard let m = Self.metric(c, nil, options.metric) else { continue }
            rows.append(Self.compare(c.key, m, nil, c, options))
        }
        self.rows = rows
    }

    /// The chosen metric if both sides have it, else the first of busbw, algbw, time both have.
    static func metric(_ a: Cell, _ b: Cell?, _ chosen: Metric?) -> Metric? {
        let candidates = chosen.map { [$0] } ?? [.busbw, .algbw, .time, .speedup, .efficiency]
        return candidates.first { m in a.values[m] != nil && (b == nil || b!.values[m] != nil) }
    }

    static func summary(_ c: Cell?, _ m: Metric) -> SideSummary? {
        guard let c, let v = c.values[m], let med = Stats.median(v) else { return nil }
        return SideSummary(median: med, min: v.min()!, max: v.max()!, n: v.count)
    }

    static func compare(_ key: BenchKey, _ m: Metric, _ b: Cell?, _ c: Cell?, _ o: CompareOptions) -> ComparisonRow {
        let bs = summary(b, m), cs = summary(c, m)
        var row = ComparisonRow(key: key, metric: m, baseline: bs, candidate: cs, verdict: .unchanged)
        guard let bs, let cs else {
            row.verdict = bs == nil ? .onlyCandidate : .onlyBaseline
            return row
        }
        let gain = row.gain ?? 0
        let absDiff = abs(cs.median - bs.median)
        let past = abs(gain) > o.threshold && (o.absThreshold.map { absDiff > $0 } ?? true)
        if !past {
            row.verdict = .unchanged
        } else if (bs.n > 1 || cs.n > 1) && bs.min <= cs.max && cs.min <= bs.max {
            row.verdict = .noise
        } else {
            row.verdict = gain < 0 ? .regression : .improvement
        }
        return row
    }

    /// Rows with each verdict.
    public func count(_ v: Verdict) -> Int { rows.filter { $0.verdict == v }.count }

    /// Geometric mean of candidate/baseline "gain ratios" (>1 is better) over measurements on both sides.
    public var geomeanGain: Double? {
        let g = rows.compactMap { $0.gain.map { 1 + $0 } }.filter { $0 > 0 }
        guard !g.isEmpty else { return nil }
        return exp(g.map { log($0) }.reduce(0, +) / Double(g.count))
    }

    /// Whether any measurement regressed.
    public var hasRegression: Bool { rows.contains { $0.verdict == .regression } }
}
