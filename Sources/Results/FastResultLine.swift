import Foundation

/// A direct UTF-8 parser for `result` lines, about ten times faster than `JSONDecoder`
/// (docs/results-format.md, "Reading speed"), so that a million-row file reads in seconds.
///
/// It accepts exactly what the `Codable` path accepts for a well-formed result line and gives up
/// (returns nil) on anything else: `run` lines, unexpected types, missing required fields,
/// malformed JSON. The caller then decodes the line with `JSONDecoder`, which produces the
/// precise error message. Unknown keys are skipped, as `JSONDecoder` does.
struct FastResultLine {
    private let b: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var end = 0
    /// Last value seen per string field: rows repeat run ids, benchmarks and variants, so equal
    /// bytes reuse the same String instead of allocating a new one.
    private var cache = [String](repeating: "", count: 8)

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.b = bytes
    }

    /// The row in `bytes[from..<to]`, or nil when the line is not a plain, valid result line.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> ResultRow? {
        var p = FastResultLine(bytes)
        return p.parse(from: from, to: to)
    }

    /// The row in `bytes[from..<to]`, reusing this parser's string cache.
    mutating func parse(from: Int, to: Int) -> ResultRow? {
        i = from
        end = to
        return row()
    }

    private mutating func row() -> ResultRow? {
        var run: String?, benchmark: String?, backend: String?, ranks: Int?, type: String?
        var r = ResultRow(run: "", benchmark: "", backend: "", ranks: 0)
        guard take(UInt8(ascii: "{")) else { return nil }
        skipSpace()
        if peek == UInt8(ascii: "}") { return nil }
        while true {
            guard let key = rawKey(), take(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            switch key {
            case .type: guard let v = string(cached: 0) else { return nil }; type = v
            case .run: guard let v = string(cached: 1) else { return nil }; run = v
            case .benchmark: guard let v = string(cached: 2) else { return nil }; benchmark = v
            case .backend: guard let v = string(cached: 3) else { return nil }; backend = v
            case .ranks: guard let v = integer() else { return nil }; ranks = Int(v)
            case .variant: guard optionalString(&r.variant, cached: 4) else { return nil }
            case .dtype: guard optionalString(&r.dtype, cached: 5) else { return nil }
            case .op: guard optionalString(&r.op, cached: 6) else { return nil }
            case .buffer: guard optionalString(&r.buffer, cached: 7) else { return nil }
            case .timing: guard optionalString(&r.timing, cached: 7) else { return nil }
            case .root: guard optionalInt(&r.root) else { return nil }
            case .nodes: guard optionalInt(&r.nodes) else { return nil }
            case .iterations: guard optionalInt(&r.iterations) else { return nil }
            case .sizeBytes: guard optionalInt64(&r.sizeBytes) else { return nil }
            case .count: guard optionalInt64(&r.count) else { return nil }
            case .chunkBytes: guard optionalInt64(&r.chunkBytes) else { return nil }
            case .wrong: guard optionalInt64(&r.wrong) else { return nil }
            case .timeUs: guard optionalDouble(&r.timeUs) else { return nil }
            case .algbw: guard optionalDouble(&r.algbwGBps) else { return nil }
            case .busbw: guard optionalDouble(&r.busbwGBps) else { return nil }
            case .metrics:
                if null() { break }
                guard let m = doubleMap() else { return nil }
                r.metrics = m
            case .labels:
                if null() { break }
                guard let m = stringMap() else { return nil }
                r.labels = m
            case .stats:
                if null() { break }
                guard let s = stats() else { return nil }
                r.stats = s
            case .other:
                guard skipValue() else { return nil }
            }
            skipSpace()
            if take(UInt8(ascii: ",")) { skipSpace(); continue }
            guard take(UInt8(ascii: "}")) else { return nil }
            break
        }
        skipSpace()
        guard i == end, type == "result", let run, let benchmark, let backend, let ranks else { return nil }
        r.run = run
        r.benchmark = benchmark
        r.backend = backend
        r.ranks = ranks
        return r
    }

    // MARK: values

    private var peek: UInt8? { i < end ? b[i] : nil }

    private mutating func skipSpace() {
        while i < end, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D || b[i] == 0x0A { i += 1 }
    }

    private mutating func take(_ c: UInt8) -> Bool {
        skipSpace()
        guard i < end, b[i] == c else { return false }
        i += 1
        return true
    }

    private mutating func null() -> Bool {
        guard i + 4 <= end, b[i] == UInt8(ascii: "n"), b[i + 1] == UInt8(ascii: "u"), b[i + 2] == UInt8(ascii: "l"),
              b[i + 3] == UInt8(ascii: "l") else { return false }
        i += 4
        return true
    }

    private mutating func optionalString(_ out: inout String?, cached slot: Int) -> Bool {
        if null() { out = nil; return true }
        guard let s = string(cached: slot) else { return false }
        out = s
        return true
    }

    private mutating func optionalInt(_ out: inout Int?) -> Bool {
        if null() { out = nil; return true }
        guard let v = integer() else { return false }
        out = Int(v)
        return true
    }

    private mutating func optionalInt64(_ out: inout Int64?) -> Bool {
        if null() { out = nil; return true }
        guard let v = integer() else { return false }
        out = v
        return true
    }

    private mutating func optionalDouble(_ out: inout Double?) -> Bool {
        if null() { out = nil; return true }
        guard let v = double() else { return false }
        out = v
        return true
    }

    /// A string value, reusing the cached String in `slot` when the bytes are the same.
    private mutating func string(cached slot: Int) -> String? {
        skipSpace()
        guard i < end, b[i] == UInt8(ascii: "\"") else { return nil }
        var j = i + 1
        while j < end, b[j] != UInt8(ascii: "\""), b[j] != UInt8(ascii: "\\"), b[j] >= 0x20 { j += 1 }
        if j < end, b[j] == UInt8(ascii: "\"") {
            let raw = UnsafeBufferPointer(rebasing: b[(i + 1)..<j])
            i = j + 1
            let last = cache[slot]
            if last.utf8.count == raw.count, last.utf8.elementsEqual(raw) { return last }
            let s = String(decoding: raw, as: UTF8.self)
            cache[slot] = s
            return s
        }
        return string()
    }

    private enum Key { case type, run, benchmark, backend, ranks, variant, dtype, op, buffer, timing, root, nodes
        case iterations, sizeBytes, count, chunkBytes, wrong, timeUs, algbw, busbw, metrics, labels, stats, other }

    private static let keys: [(StaticString, Key)] = [
        ("type", .type), ("run", .run), ("benchmark", .benchmark), ("backend", .backend), ("ranks", .ranks),
        ("variant", .variant), ("dtype", .dtype), ("op", .op), ("buffer", .buffer), ("timing", .timing),
        ("root", .root), ("nodes", .nodes), ("iterations", .iterations), ("size_bytes", .sizeBytes),
        ("count", .count), ("chunk_bytes", .chunkBytes), ("wrong", .wrong), ("time_us", .timeUs),
        ("algbw_gbps", .algbw), ("busbw_gbps", .busbw), ("metrics", .metrics), ("labels", .labels), ("stats", .stats),
    ]

    /// An object key matched against the known keys by its bytes; nil when it is not a plain string.
    private mutating func rawKey() -> Key? {
        skipSpace()
        guard i < end, b[i] == UInt8(ascii: "\"") else { return nil }
        var j = i + 1
        while j < end, b[j] != UInt8(ascii: "\""), b[j] != UInt8(ascii: "\\"), b[j] >= 0x20 { j += 1 }
        guard j < end, b[j] == UInt8(ascii: "\"") else { return nil }
        let start = i + 1, count = j - start
        i = j + 1
        for (name, key) in Self.keys where name.utf8CodeUnitCount == count {
            if memcmp(name.utf8Start, b.baseAddress! + start, count) == 0 { return key }
        }
        return .other
    }

    /// A JSON string; escapes are decoded. Nil when the next value is not a string.
    private mutating func string() -> String? {
        skipSpace()
        guard i < end, b[i] == UInt8(ascii: "\"") else { return nil }
        i += 1
        let start = i
        var escaped = false
        while i < end, b[i] != UInt8(ascii: "\"") {
            if b[i] == UInt8(ascii: "\\") { escaped = true; i += 1 }
            else if b[i] < 0x20 { return nil }
            i += 1
        }
        guard i < end else { return nil }
        let raw = UnsafeBufferPointer(rebasing: b[start..<i])
        i += 1
        if !escaped { return String(decoding: raw, as: UTF8.self) }
        // Rare: let Foundation decode escapes exactly as JSONDecoder would.
        var quoted = [UInt8(ascii: "\"")]
        quoted.append(contentsOf: raw)
        quoted.append(UInt8(ascii: "\""))
        return try? JSONDecoder().decode(String.self, from: Data(quoted))
    }

    /// The bytes of a JSON number, checked against the JSON grammar.
    private mutating func numberBytes() -> UnsafeBufferPointer<UInt8>? {
        skipSpace()
        let start = i
        if i < end, b[i] == UInt8(ascii: "-") { i += 1 }
        let intStart = i
        while i < end, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
        guard i > intStart, !(b[intStart] == 0x30 && i - intStart > 1) else { return nil }
        if i < end, b[i] == UInt8(ascii: ".") {
            i += 1
            let f = i
            while i < end, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            guard i > f else { return nil }
        }
        if i < end, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < end, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            let e = i
            while i < end, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            guard i > e else { return nil }
        }
        return UnsafeBufferPointer(rebasing: b[start..<i])
    }

    /// An integer-valued JSON number (as `Int`/`Int64` Codable accepts: no fraction digits other than zeros).
    private mutating func integer() -> Int64? {
        guard let n = numberBytes() else { return nil }
        var neg = false
        var v: Int64 = 0
        for (k, c) in n.enumerated() {
            if k == 0 && c == UInt8(ascii: "-") { neg = true; continue }
            guard c >= 0x30, c <= 0x39 else {
                // Fractions or exponents: rare; accept only when the value is integral.
                guard let d = Double(String(decoding: n, as: UTF8.self)), d == d.rounded(), abs(d) < 9.0e15 else { return nil }
                return Int64(d)
            }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(c - 0x30))
            guard !o1, !o2 else { return nil }
            v = s
        }
        return neg ? -v : v
    }

    private mutating func double() -> Double? {
        guard let n = numberBytes() else { return nil }
        return Self.exactDouble(n) ?? Double(String(decoding: n, as: UTF8.self))
    }

    private static let powers: [Double] = (0...22).map { e in (0..<e).reduce(1.0) { a, _ in a * 10 } }

    /// Clinger's fast path: up to 15 significant digits and a decimal exponent within ±22 give a
    /// correctly rounded value from one multiplication or division; nil otherwise.
    static func exactDouble(_ n: UnsafeBufferPointer<UInt8>) -> Double? {
        var k = 0, neg = false
        if n[0] == UInt8(ascii: "-") { neg = true; k = 1 }
        var mantissa: UInt64 = 0, digits = 0, scale = 0
        var seenDot = false
        while k < n.count {
            let c = n[k]
            if c == UInt8(ascii: ".") { seenDot = true; k += 1; continue }
            if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { break }
            if mantissa != 0 || c != 0x30 { digits += 1 }
            if digits > 15 { return nil }
            mantissa = mantissa * 10 + UInt64(c - 0x30)
            if seenDot { scale -= 1 }
            k += 1
        }
        if k < n.count {
            k += 1
            var eneg = false, e = 0
            if n[k] == UInt8(ascii: "+") { k += 1 } else if n[k] == UInt8(ascii: "-") { eneg = true; k += 1 }
            while k < n.count { e = e * 10 + Int(n[k] - 0x30); if e > 400 { return nil }; k += 1 }
            scale += eneg ? -e : e
        }
        guard scale >= -22, scale <= 22 else { return nil }
        var v = Double(mantissa)
        v = scale < 0 ? v / powers[-scale] : v * powers[scale]
        return neg ? -v : v
    }

    private mutating func doubleMap() -> [String: Double]? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var m: [String: Double] = [:]
        if take(UInt8(ascii: "}")) { return m }
        repeat {
            guard let k = string(), take(UInt8(ascii: ":")), let v = double() else { return nil }
            m[k] = v
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}")) ? m : nil
    }

    private mutating func stringMap() -> [String: String]? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var m: [String: String] = [:]
        if take(UInt8(ascii: "}")) { return m }
        repeat {
            guard let k = string(), take(UInt8(ascii: ":")), let v = string() else { return nil }
            m[k] = v
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}")) ? m : nil
    }

    private mutating func stats() -> TimeStats? {
        guard let m = doubleMap(), m.count == 8, let min = m["min"], let p50 = m["p50"], let p95 = m["p95"],
              let p99 = m["p99"], let max = m["max"], let mean = m["mean"], let cv = m["cv"],
              let samples = m["samples"], samples == samples.rounded() else { return nil }
        return TimeStats(min: min, p50: p50, p95: p95, p99: p99, max: max, mean: mean, cv: cv, samples: Int(samples))
    }

    /// Skips any JSON value (for keys this build does not know).
    private mutating func skipValue() -> Bool {
        skipSpace()
        guard let c = peek else { return false }
        switch c {
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            i += 1
            if take(close) { return true }
            repeat {
                if c == UInt8(ascii: "{") { guard string() != nil, take(UInt8(ascii: ":")) else { return false } }
                guard skipValue() else { return false }
            } while take(UInt8(ascii: ","))
            return take(close)
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            for word in ["true", "false", "null"] {
                let w = Array(word.utf8)
                if i + w.count <= end, Array(b[i..<(i + w.count)]) == w { i += w.count; return true }
            }
            return false
        default:
            return numberBytes() != nil
        }
    }
}
