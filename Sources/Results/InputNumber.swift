/// The one checked conversion for every number read from a file (and, through `OptionNumber`
/// in the CLI, from an option).
///
/// It refuses non-finite values (`nan`, `inf`, `1e400`), negatives where they make no sense, and
/// values beyond what gpucomm represents, and it never traps: `Int64(someDouble)` on input is a
/// crash waiting to happen (Swift traps on NaN and out-of-range values). The reason is one short
/// phrase; callers add the place (`file:line: column 'size': …`).
public enum InputNumber {
    /// What a number may be.
    public enum Range: Sendable, Equatable {
        /// Any finite value.
        case any
        /// 0 or more.
        case nonNegative
        /// More than 0.
        case positive

        func admits(_ d: Double) -> Bool {
            switch self {
            case .any: return true
            case .nonNegative: return d >= 0
            case .positive: return d > 0
            }
        }

        var words: String {
            switch self {
            case .any: return "a number"
            case .nonNegative: return "a number ≥ 0"
            case .positive: return "a number > 0"
            }
        }
    }

    /// Largest magnitude of a real value (a time, a bandwidth, a ratio): beyond it, sums and
    /// unit conversions (s → µs) could overflow to infinity.
    public static let largestReal = 1e18
    /// Largest byte count, element count or wrong-element count: 2^62, so sums of two stay in Int64.
    public static let largestCount: Int64 = 1 << 62
    /// Largest GPU, rank, node, device or iteration count: 2^31 (products of two stay in Int64).
    public static let largestSmall = 1 << 31

    /// Why a text is not an acceptable number, or nil with the value.
    public static func real(_ text: some StringProtocol, _ range: Range = .nonNegative) -> Result<Double, Problem> {
        let t = text.trimmingSpaces
        guard let d = Double(t) else { return .failure(Problem("expected \(range.words), found '\(shortened(t))'")) }
        return check(d, range, text: t)
    }

    /// `d` when it is finite, within `range` and not beyond `largestReal`; else the reason.
    public static func check(_ d: Double, _ range: Range = .nonNegative, text: String? = nil) -> Result<Double, Problem> {
        let shown = text.map { shortened($0) } ?? "\(d)"
        if !d.isFinite { return .failure(Problem("'\(shown)' is not a finite number")) }
        if !range.admits(d) { return .failure(Problem("expected \(range.words), found \(shown)")) }
        if abs(d) > largestReal { return .failure(Problem("\(shown) is out of range (at most 1e18)")) }
        return .success(d)
    }

    /// A whole count (bytes, elements) read from text: digits, or a real such as `1e3` that is whole.
    public static func count(_ text: some StringProtocol, _ range: Range = .nonNegative) -> Result<Int64, Problem> {
        let t = text.trimmingSpaces
        if let n = Int64(t) { return check(n, range) }
        guard let d = Double(t) else { return .failure(Problem("expected a whole number, found '\(shortened(t))'")) }
        return count(exactly: d, range, text: t)
    }

    /// `d` as a whole count when it is finite, whole, within `range` and at most `largestCount`.
    public static func count(exactly d: Double, _ range: Range = .nonNegative, text: String? = nil) -> Result<Int64, Problem> {
        let shown = text.map { shortened($0) } ?? "\(d)"
        if !d.isFinite { return .failure(Problem("'\(shown)' is not a finite number")) }
        if abs(d) > Double(largestCount) { return .failure(Problem("\(shown) is out of range (at most 2^62)")) }
        if d != d.rounded() { return .failure(Problem("expected a whole number, found \(shown)")) }
        return check(Int64(d), range)
    }

    /// `n` when within `range` and at most `largestCount` in magnitude.
    public static func check(_ n: Int64, _ range: Range = .nonNegative) -> Result<Int64, Problem> {
        if !range.admits(Double(n)) { return .failure(Problem("expected \(range.words.replacingOccurrences(of: "a number", with: "a whole number")), found \(n)")) }
        if n > largestCount || n < -largestCount { return .failure(Problem("\(n) is out of range (at most 2^62)")) }
        return .success(n)
    }

    /// A small whole number (GPUs, ranks, nodes, a device index, iterations) read from text.
    public static func small(_ text: some StringProtocol, _ range: Range = .nonNegative) -> Result<Int, Problem> {
        switch count(text, range) {
        case .failure(let p): return .failure(p)
        case .success(let n): return small(n, range)
        }
    }

    /// `n` as an Int when within `range` and at most `largestSmall` in magnitude.
    public static func small(_ n: Int64, _ range: Range = .nonNegative) -> Result<Int, Problem> {
        if !range.admits(Double(n)) { return .failure(Problem("expected \(range.words.replacingOccurrences(of: "a number", with: "a whole number")), found \(n)")) }
        if n > Int64(largestSmall) || n < -Int64(largestSmall) { return .failure(Problem("\(n) is out of range (at most 2^31)")) }
        return .success(Int(n))
    }

    /// Why a number was refused: one short phrase without the place.
    public struct Problem: Error, CustomStringConvertible, Sendable, Equatable {
        public var reason: String
        public init(_ reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    /// `text` cut to 40 characters (with `…`), on one line: what an error may quote of the input.
    public static func shortened(_ text: some StringProtocol, _ limit: Int = 40) -> String {
        InputText.quote(text, limit: limit)
    }
}

extension Result where Failure == InputNumber.Problem {
    /// The value, or a `ResultsError` naming `file:line` and `field`.
    public func value(file: String, line: Int?, field: String) throws(ResultsError) -> Success {
        switch self {
        case .success(let v): return v
        case .failure(let p): throw ResultsError(file: file, line: line, "\(field): \(p.reason)")
        }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
