import Foundation

/// Number and time formatting shared by the views: fixed precision, no locale, byte-stable.
enum Format {
    /// `value` with `decimals` digits after the point (locale-free, `-0` printed as `0`).
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "0" }
        let s = String(format: "%.\(decimals)f", value)
        return s.hasPrefix("-") && Double(s) == 0 ? String(s.dropFirst()) : s
    }

    /// Bytes per second in decimal units: `0 B/s`, `812 kB/s`, `12.3 GB/s` (GB = 10^9 bytes).
    static func rate(_ bytesPerSecond: Double?) -> String {
        guard let v = bytesPerSecond else { return "-" }
        return scaled(v, units: ["B/s", "kB/s", "MB/s", "GB/s", "TB/s"])
    }

    /// Events per second: `0/s`, `1.2k/s`, `3.4M/s`.
    static func perSecond(_ v: Double?) -> String {
        guard let v else { return "-" }
        return scaled(v, units: ["/s", "k/s", "M/s", "G/s", "T/s"])
    }

    static func scaled(_ v: Double, units: [String]) -> String {
        var x = v
        var i = 0
        while abs(x) >= 1000 && i < units.count - 1 { x /= 1000; i += 1 }
        let unit = units[i]
        let sep = unit.contains("B/s") ? " " : ""
        if i == 0 { return fixed(x, 0) + sep + unit }
        return fixed(x, x < 10 ? 2 : (x < 100 ? 1 : 0)) + sep + unit
    }

    /// `2026-11-21T17:40:01.123Z` (UTC, milliseconds).
    static func isoTime(_ secondsSince1970: Double) -> String {
        var t = time_t(secondsSince1970.rounded(.down))
        var ms = Int(((secondsSince1970 - Double(t)) * 1000).rounded())
        if ms >= 1000 { t += 1; ms -= 1000 }
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), ms)
    }

    /// Text padded with spaces (or cut) to exactly `width` columns; right-aligned when `right`.
    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        if s.count >= width { return String(s.prefix(width)) }
        let fill = String(repeating: " ", count: width - s.count)
        return right ? fill + s : s + fill
    }

    /// A JSON string literal.
    static func json(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    /// Cumulative counter in its unit (raw × scale), exact when it fits in 64 bits.
    static func cumulative(_ c: CounterReading) -> String {
        let (v, overflow) = c.raw.multipliedReportingOverflow(by: c.scale)
        return overflow ? fixed(Double(c.raw) * Double(c.scale), 0) : String(v)
    }
}
