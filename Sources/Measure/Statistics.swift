/// Summary of per-iteration times.
public struct Summary: Sendable, Equatable {
    public var count: Int
    public var min: Double
    public var max: Double
    public var mean: Double
    public var p50: Double
    public var p95: Double
    public var p99: Double
    /// Coefficient of variation (sample standard deviation / mean); 0 for one sample.
    public var cv: Double

    /// Summarises `samples` (must not be empty). Percentiles interpolate linearly between
    /// closest ranks (the method NumPy calls "linear").
    public init(_ samples: [Double]) {
        precondition(!samples.isEmpty, "Summary of no samples")
        let s = samples.sorted()
        count = s.count
        min = s.first!
        max = s.last!
        mean = s.reduce(0, +) / Double(s.count)
        func q(_ p: Double) -> Double {
            let pos = p * Double(s.count - 1)
            let lo = Int(pos.rounded(.down))
            let hi = Swift.min(lo + 1, s.count - 1)
            return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
        }
        p50 = q(0.50); p95 = q(0.95); p99 = q(0.99)
        if s.count > 1 && mean != 0 {
            let m = mean
            let v = s.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(s.count - 1)
            cv = v.squareRoot() / m
        } else {
            cv = 0
        }
    }
}

/// How a time measured on several ranks becomes one number (nccl-tests `-a`).
public enum RankAggregation: Int, Sendable, CaseIterable {
    /// Rank 0's time (nccl-tests `-a 0`).
    case rank0 = 0
    /// Mean over ranks (nccl-tests `-a 1`, its default).
    case average = 1
    case minimum = 2
    case maximum = 3

    public func combine(_ perRank: [Double]) -> Double {
        precondition(!perRank.isEmpty)
        switch self {
        case .rank0: return perRank[0]
        case .average: return perRank.reduce(0, +) / Double(perRank.count)
        case .minimum: return perRank.min()!
        case .maximum: return perRank.max()!
        }
    }
}
