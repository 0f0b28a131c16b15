import Foundation

/// Fixed-precision number and size formatting shared by charts, tables and `compare`.
public enum Fmt {
    /// `v` with exactly `digits` decimals; never `-0.0`, `nan` or `inf` (a non-finite value is `n/a`).
    public static func fixed(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return "n/a" }  // never "inf" or "nan" on a page
        let s = String(format: "%.\(digits)f", v)
        if s.hasPrefix("-"), s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { return String(s.dropFirst()) }
        return s
    }

    /// A value with as few decimals as its size needs for 3–4 significant digits: `477.7`, `2.415`, `12.35`.
    public static func value(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1000 { return fixed(v, 0) }
        if a >= 100 { return fixed(v, 1) }
        if a >= 10 { return fixed(v, 2) }
        return fixed(v, 3)
    }

    /// Size on an axis: binary multiples without a unit, `512`, `1K`, `64M`, `2G`, `1.5G`.
    public static func sizeTick(_ bytes: Double) -> String {
        let units: [(Double, String)] = [(1_099_511_627_776, "T"), (1_073_741_824, "G"), (1_048_576, "M"), (1024, "K")]
        for (scale, suffix) in units where bytes >= scale {
            let v = bytes / scale
            return (v == v.rounded() ? fixed(v, 0) : fixed(v, 1)) + suffix
        }
        return fixed(bytes, 0)
    }

    /// Size in a table or label: `32 MiB`, `128 KiB`, `8 B`, `1.5 GiB`.
    public static func size(_ bytes: Int64) -> String {
        let units: [(Int64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (scale, suffix) in units where bytes >= scale {
            if bytes % scale == 0 { return "\(bytes / scale) \(suffix)" }
            return fixed(Double(bytes) / Double(scale), 2) + " " + suffix
        }
        return "\(bytes) B"
    }

    /// Shortest exact form for a tick: `64`, `0.5`, `0.125`.
    public static func trimmed(_ v: Double) -> String {
        var s = fixed(v, 6)
        while s.contains("."), s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// A whole number when `v` is one, else `value(v)`.
    public static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : value(v)
    }

    /// Percentage with one decimal: `93.6%`.
    public static func percent(_ fraction: Double) -> String { fixed(fraction * 100, 1) + "%" }
}

/// Where ticks go on an axis and how data maps onto it.
struct AxisScale {
    /// Domain ends, in axis space (log2 of the value for a log axis).
    var lo: Double
    var hi: Double
    /// Tick values in data space.
    var ticks: [Double]
    var log: Bool

    /// Decimals that write every tick of a linear axis exactly (0 for 50, 1 for 2.5, 2 for 0.25).
    var decimals: Int {
        guard !log, ticks.count > 1 else { return 0 }
        let step = ticks[1] - ticks[0]
        for d in 0...6 {
            let scaled = step * pow(10, Double(d))
            if abs(scaled - scaled.rounded()) < 1e-9 * Swift.max(1, scaled) { return d }
        }
        return 6
    }

    /// Position of `v` in 0...1 along the axis.
    func fraction(_ v: Double) -> Double {
        let t = log ? Foundation.log2(Swift.max(v, .leastNormalMagnitude)) : v
        return hi == lo ? 0.5 : (t - lo) / (hi - lo)
    }

    /// A linear axis from 0 to a round number at or above `max`, with about five ticks.
    static func linear(max: Double) -> AxisScale {
        let top = max > 0 ? max : 1
        let raw = top / 5
        let mag = pow(10, floor(log10(raw)))
        let norm = raw / mag
        let step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag
        let n = Int((top / step).rounded(.up))
        let ticks = (0...n).map { Double($0) * step }
        return AxisScale(lo: 0, hi: ticks.last!, ticks: ticks, log: false)
    }

    /// A base-2 log axis over `min...max` with ticks on powers of two, at most ten of them,
    /// stepping 2, 5 or 10 powers so that 1K, 1M, 1G stay on ticks; a quarter power of margin each side.
    static func log2(min: Double, max: Double) -> AxisScale {
        let a = Swift.max(min, 1e-9), b = Swift.max(max, a)
        var lo = Int(Foundation.log2(a).rounded(.down))
        var hi = Int(Foundation.log2(b).rounded(.up))
        if lo == hi { lo -= 1; hi += 1 }
        let step = [1, 2, 5, 10, 20].first { (hi - lo) / $0 <= 10 } ?? 20
        // Ends on ticks, so the data never runs past the last labelled value.
        lo = Int((Double(lo) / Double(step)).rounded(.down)) * step
        hi = Int((Double(hi) / Double(step)).rounded(.up)) * step
        var ticks: [Double] = []
        for e in lo...hi where e % step == 0 { ticks.append(pow(2, Double(e))) }  // % keeps negative multiples too
        if ticks.isEmpty { ticks = [pow(2, Double(lo))] }
        let dLo = Foundation.log2(a) - 0.25, dHi = Foundation.log2(b) + 0.25
        // Keep the margin even when the data sits on the domain ends, and keep every tick inside.
        return AxisScale(lo: Swift.min(dLo, Foundation.log2(ticks.first!)), hi: Swift.max(dHi, Foundation.log2(ticks.last!)),
                         ticks: ticks, log: true)
    }
}
