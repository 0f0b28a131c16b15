/// Byte sizes as nccl-tests writes them: a number with an optional binary suffix K, M, G or T
/// (1K = 1024), optionally followed by `B` or `iB`.
public enum ByteSize {
    /// Parses `8`, `128K`, `1M`, `1GB`, `4GiB`. Returns nil for anything else (negative, fractional, overflow).
    public static func parse(_ text: String) -> Int? {
        var s = Substring(text.uppercased().filter { $0 != " " })
        if s.hasSuffix("IB") { s = s.dropLast(2) } else if s.hasSuffix("B") { s = s.dropLast() }
        var shift = 0
        if let last = s.last, let i = "KMGT".firstIndex(of: last) {
            shift = 10 * ("KMGT".distance(from: "KMGT".startIndex, to: i) + 1)
            s = s.dropLast()
        }
        guard !s.isEmpty, s.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(s) else { return nil }
        let (v, overflow) = n.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : v
    }

    /// `1073741824` → `1G`, `1536` → `1536`, `3145728` → `3M`: exact binary units only.
    public static func format(_ bytes: Int) -> String {
        for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)"
    }
}

/// A size sweep: `-b min -e max` stepping by `-f factor` (geometric) or `-i step` (linear), as nccl-tests.
public struct Sweep: Sendable, Equatable {
    public var minBytes: Int
    public var maxBytes: Int
    public var factor: Int
    public var step: Int

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case minAboveMax(Int, Int)
        case zeroSize
        case badFactor(Int)
        case bothFactorAndStep
        case tooLarge(Int)

        public var description: String {
            switch self {
            case .minAboveMax(let a, let b): return "minimum size \(a) B (-b) is larger than maximum size \(b) B (-e)"
            case .zeroSize: return "sizes must be at least 1 byte (-b)"
            case .badFactor(let f): return "step factor \(f) (-f) must be at least 2 (or use -i for a linear step)"
            case .bothFactorAndStep: return "give either a step factor (-f) or a step size (-i), not both"
            case .tooLarge(let b): return "maximum size \(b) B (-e) is more than 1T (\(Sweep.largestBytes) B), the largest size a sweep takes"
            }
        }
    }

    /// - Parameters: step 0 means geometric by `factor`.
    /// Largest size a sweep takes: 1 TiB, more than any GPU's memory, and far from Int's limit, so
    /// that sizes × factor and sizes + step never overflow.
    public static let largestBytes = 1 << 40

    public init(minBytes: Int, maxBytes: Int, factor: Int = 2, step: Int = 0) throws(Problem) {
        guard minBytes >= 1 else { throw .zeroSize }
        guard maxBytes <= Self.largestBytes else { throw .tooLarge(maxBytes) }
        guard minBytes <= maxBytes else { throw .minAboveMax(minBytes, maxBytes) }
        if step == 0 && factor < 2 && minBytes != maxBytes { throw .badFactor(factor) }
        self.minBytes = minBytes; self.maxBytes = maxBytes; self.factor = factor; self.step = step
    }

    /// The sizes in order, min first, never past max.
    public var sizes: [Int] {
        var out: [Int] = []
        var s = minBytes
        while s <= maxBytes {
            out.append(s)
            if minBytes == maxBytes { break }
            // Checked: a huge -f or -i ends the sweep instead of trapping.
            let (next, overflow) = step > 0 ? s.addingReportingOverflow(step) : s.multipliedReportingOverflow(by: factor)
            if overflow || next <= s { break }
            s = next
        }
        return out
    }
}
