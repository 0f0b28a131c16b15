import Driver
import ArgumentParser

/// Checks for numbers given as options: one line, "must be ≥ …", naming the option.
///
/// How to make `-b -5` a value rather than "Missing value for '-b <minbytes>'": declare the
/// option with `@Option(parsing: .unconditional)`, which takes the next word as the value even
/// when it starts with `-`; then check it here in `validate()`:
///
///     @Option(name: .shortAndLong, parsing: .unconditional, help: "…") var nodes: Int = 2
///     func validate() throws { try OptionNumber.atLeast(nodes, 1, "--nodes") }
///
/// `gpucomm simulate nic-selection --nodes -1` then says `--nodes must be ≥ 1 (got -1)`, exit 2.
/// (A value that is not a number at all, `--nodes x`, is still ArgumentParser's own
/// "The value 'x' is invalid for '--nodes <nodes>'".) Double options also accept `nan` and
/// `inf`: `finite(...)` refuses them.
enum OptionNumber {
    /// `value` ≥ `least`, else a `ValidationError` (exit 2).
    static func atLeast<T: BinaryInteger>(_ value: T, _ least: T, _ option: String) throws {
        if value < least { throw ValidationError("\(option) must be ≥ \(least) (got \(value))") }
    }

    /// `value` within `range`, else a `ValidationError` naming both ends.
    static func within<T: BinaryInteger>(_ value: T, _ range: ClosedRange<T>, _ option: String) throws {
        if value < range.lowerBound { throw ValidationError("\(option) must be ≥ \(range.lowerBound) (got \(value))") }
        if value > range.upperBound { throw ValidationError("\(option) must be ≤ \(range.upperBound) (got \(value))") }
    }

    /// A finite `value` ≥ `least` (or > `least` when `strictly`), at most 1e18; else a `ValidationError`.
    static func finite(_ value: Double, atLeast least: Double, strictly: Bool = false, _ option: String) throws {
        guard value.isFinite else { throw ValidationError("\(option) must be a finite number (got \(value))") }
        if strictly ? !(value > least) : !(value >= least) {
            throw ValidationError("\(option) must be \(strictly ? ">" : "≥") \(format(least)) (got \(format(value)))")
        }
        if value > 1e18 { throw ValidationError("\(option) must be ≤ 1e18 (got \(value))") }
    }

    private static func format(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }
}
