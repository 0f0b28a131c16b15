import Foundation
import Results

/// Parses one `{"type":"result",...}` line from bytes into a `ResultRow`, or gives up (nil)
/// so the caller can use the full decoder. Gives up on anything unusual: escapes in strings,
/// arrays, non-integer numbers where integers belong, a missing required field, another type.
struct LineParser {
    let b: UnsafeBufferPointer<UInt8>
    var i: Int
    let end: Int

    mutating func skipSpace() {
        while i < end, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D { i += 1 }
    }

    mutating func eat(_ c: UInt8) -> Bool {
        skipSpace()
        guard i < end, b[i] == c else { return false }
        i += 1
        return true
    }

    /// A string without escapes.
    mutating func string() -> String? {
        guard eat(UInt8(ascii: "\"")) else { return nil }
        let s = i
        while i < end, b[i] != UInt8(ascii: "\"") {
            if b[i] == UInt8(ascii: "\\") || b[i] < 0x20 { return nil }
            i += 1
        }
        guard i < end else { return nil }
        let str = String(decoding: UnsafeBufferPointer(rebasing: b[s..<i]), as: UTF8.self)
        i += 1
        return str
    }

    /// True when the next value is `null` (and consumes it).
    mutating func null() -> Bool {
        skipSpace()
        guard i + 4 <= end, b[i] == UInt8(ascii: "n"), b[i + 1] == UInt8(ascii: "u"),
              b[i + 2] == UInt8(ascii: "l"), b[i + 3] == UInt8(ascii: "l") else { return false }
        i += 4
        return true
    }

    /// A JSON number as Double (strtod on a NUL-terminated copy: correctly rounded, like the decoder).
    mutating func double() -> Double? {
        skipSpace()
        let s = i
        while i < end {
            let c = b[i]
            guard (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
                || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") else { break }
            i += 1
        }
        let n = i - s
        guard n > 0, n < 64 else { return nil }
        // Integers up to 15 digits: exact without strtod.
        var v: Int64 = 0, neg = false, j = s, simple = true
        if b[j] == UInt8(ascii: "-") { neg = true; j += 1 }
        if j == i || i - j > 15 { simple = false }
        while simple, j < i {
            let c = b[j]
            guard c >= 0x30 && c <= 0x39 else { simple = false; break }
            v = v * 10 + Int64(c - 0x30)
            j += 1
        }
        if simple { return Double(neg ? -v : v) }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buf -> Double? in
            for k in 0..<n { buf[k] = CChar(bitPattern: b[s + k]) }
            buf[n] = 0
            var endp: UnsafeMutablePointer<CChar>?
            let d = strtod(buf.baseAddress!, &endp)
            guard let endp, endp - buf.baseAddress! == n, d.isFinite else { return nil }
            return d
        }
    }

    /// A JSON integer (no fraction or exponent).
    mutating func int() -> Int64? {
        skipSpace()
        var v: Int64 = 0, neg = false, digits = 0
        if i < end, b[i] == UInt8(ascii: "-") { neg = true; i += 1 }
        while i < end, b[i] >= 0x30, b[i] <= 0x39 {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(b[i] - 0x30))
            guard !o1, !o2 else { return nil }
            v = a
            i += 1
            digits += 1
        }
        guard digits > 0 else { return nil }
        if i < end, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") { return nil }
        return neg ? -v : v
    }

    /// Skips one value of any kind except arrays and escaped strings (gives up on those).
    mutating func skipValue() -> Bool {
        skipSpace()
        guard i < end else { return false }
        switch b[i] {
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "{"):
            i += 1
            if eat(UInt8(ascii: "}")) { return true }
            repeat {
                guard string() != nil, eat(UInt8(ascii: ":")), skipValue() else { return false }
            } while eat(UInt8(ascii: ","))
            return eat(UInt8(ascii: "}"))
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            while i < end, b[i] >= UInt8(ascii: "a"), b[i] <= UInt8(ascii: "z") { i += 1 }
            return true
        case UInt8(ascii: "["): return false
        default: return double() != nil
        }
    }

    /// Parses `{"k": value, ...}` calling `field` for each key; `field` returns false to give up.
    mutating func object(_ field: (inout LineParser, String) -> Bool) -> Bool {
        guard eat(UInt8(ascii: "{")) else { return false }
        if eat(UInt8(ascii: "}")) { return true }
        repeat {
            guard let k = string(), eat(UInt8(ascii: ":")), field(&self, k) else { return false }
        } while eat(UInt8(ascii: ","))
        return eat(UInt8(ascii: "}"))
    }

    /// Keys of a result line, matched on bytes (making a String per key cost more than the rest).
    enum Key: String, CaseIterable {
        case type, run, benchmark, backend, ranks, variant, dtype, op, buffer, timing, root, nodes, iterations
        case size_bytes, count, chunk_bytes, wrong, time_us, algbw_gbps, busbw_gbps, metrics, labels, stats

        /// Keys by their length in bytes.
        static let byLength: [[(bytes: [UInt8], key: Key)]] = {
            var t = Array(repeating: [([UInt8], Key)](), count: 16)
            for k in allCases { t[k.rawValue.utf8.count].append((Array(k.rawValue.utf8), k)) }
            return t
        }()
    }

    /// A top-level key: one of `Key`, or nil for another (valid, unescaped) key; fails on an escape.
    mutating func key() -> (ok: Bool, key: Key?) {
        guard eat(UInt8(ascii: "\"")) else { return (false, nil) }
        let s = i
        while i < end, b[i] != UInt8(ascii: "\"") {
            if b[i] == UInt8(ascii: "\\") || b[i] < 0x20 { return (false, nil) }
            i += 1
        }
        guard i < end else { return (false, nil) }
        let n = i - s
        i += 1
        guard n < Key.byLength.count else { return (true, nil) }
        outer: for (bytes, k) in Key.byLength[n] {
            for j in 0..<n where bytes[j] != b[s + j] { continue outer }
            return (true, k)
        }
        return (true, nil)
    }

    /// The row, or nil to fall back to the full decoder.
    mutating func resultRow() -> ResultRow? {
        var type: String?, run: String?, benchmark: String?, backend: String?, ranks: Int?
        var row = ResultRow(run: "", benchmark: "", backend: "", ranks: 0)
        guard eat(UInt8(ascii: "{")) else { return nil }
        var ok = true
        if !eat(UInt8(ascii: "}")) {
            repeat {
                let (good, key) = self.key()
                guard good, eat(UInt8(ascii: ":")), field(key, &row, &type, &run, &benchmark, &backend, &ranks) else { ok = false; break }
            } while eat(UInt8(ascii: ","))
            ok = ok && eat(UInt8(ascii: "}"))
        }
        skipSpace()
        guard ok, i == end, type == "result", let run, let benchmark, let backend, let ranks else { return nil }
        row.run = run
        row.benchmark = benchmark
        row.backend = backend
        row.ranks = ranks
        return row
    }

    /// Reads the value of one top-level field into the row; false gives up on the line.
    mutating func field(_ key: Key?, _ row: inout ResultRow, _ type: inout String?, _ run: inout String?,
                        _ benchmark: inout String?, _ backend: inout String?, _ ranks: inout Int?) -> Bool {
        // An explicit null is an absent optional; required fields then fail in the caller.
        if null() { return true }
        guard let key else { return skipValue() }
        switch key {
        case .type: type = string(); return type != nil
        case .run: run = string(); return run != nil
        case .benchmark: benchmark = string(); return benchmark != nil
        case .backend: backend = string(); return backend != nil
        case .ranks: guard let v = int(), let r = Int(exactly: v) else { return false }; ranks = r; return true
        case .variant: row.variant = string(); return row.variant != nil
        case .dtype: row.dtype = string(); return row.dtype != nil
        case .op: row.op = string(); return row.op != nil
        case .buffer: row.buffer = string(); return row.buffer != nil
        case .timing: row.timing = string(); return row.timing != nil
        case .root: guard let v = int(), let r = Int(exactly: v) else { return false }; row.root = r; return true
        case .nodes: guard let v = int(), let r = Int(exactly: v) else { return false }; row.nodes = r; return true
        case .iterations: guard let v = int(), let r = Int(exactly: v) else { return false }; row.iterations = r; return true
        case .size_bytes: row.sizeBytes = int(); return row.sizeBytes != nil
        case .count: row.count = int(); return row.count != nil
        case .chunk_bytes: row.chunkBytes = int(); return row.chunkBytes != nil
        case .wrong: row.wrong = int(); return row.wrong != nil
        case .time_us: row.timeUs = double(); return row.timeUs != nil
        case .algbw_gbps: row.algbwGBps = double(); return row.algbwGBps != nil
        case .busbw_gbps: row.busbwGBps = double(); return row.busbwGBps != nil
        case .metrics:
            var m: [String: Double] = [:]
            guard object({ q, k in
                guard let v = q.double() else { return false }
                m[k] = v
                return true
            }) else { return false }
            row.metrics = m
            return true
        case .labels:
            var l: [String: String] = [:]
            guard object({ q, k in
                guard let v = q.string() else { return false }
                l[k] = v
                return true
            }) else { return false }
            row.labels = l
            return true
        case .stats:
            var v: [String: Double] = [:]
            guard object({ q, k in
                guard let d = q.double() else { return false }
                v[k] = d
                return true
            }) else { return false }
            guard let mn = v["min"], let p50 = v["p50"], let p95 = v["p95"], let p99 = v["p99"], let mx = v["max"],
                  let mean = v["mean"], let cv = v["cv"], let n = v["samples"], let samples = Int(exactly: n) else { return false }
            row.stats = TimeStats(min: mn, p50: p50, p95: p95, p99: p99, max: mx, mean: mean, cv: cv, samples: samples)
            return true
        }
    }
}
