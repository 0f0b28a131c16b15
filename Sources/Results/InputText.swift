import Foundation

/// Line handling shared by the text importers: numbering, launcher prefixes, fields, run ids.
public enum InputText {
    /// One input line: its 1-based number, its text without launcher prefix, and the prefix's rank tag.
    struct Line {
        var number: Int
        var text: Substring
        /// `1,0` for `[1,0]<stdout>:`, `0` for `0: `, nil without prefix.
        var tag: Substring?
    }

    /// The input's lines with 1-based numbers, launcher prefixes removed, trailing `\r` dropped.
    static func lines(_ text: String) -> [Line] {
        var out: [Line] = []
        var n = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            n += 1
            var line = raw
            if line.last == "\r" { line = line.dropLast() }
            let untimed = stripTimestamp(line)
            let stripped = stripLauncherPrefix(untimed)
            var tag: Substring?
            if stripped.startIndex != untimed.startIndex {
                tag = untimed[untimed.startIndex..<stripped.startIndex].trimmingPrefixAndTag()
            }
            out.append(Line(number: n, text: stripped, tag: tag))
        }
        // A final newline gives one empty trailing piece that is not a line.
        if let last = out.last, last.text.isEmpty, text.hasSuffix("\n") { out.removeLast() }
        return out
    }

    /// `lines(text)` as (number, text) pairs.
    static func numberedLines(_ text: String) -> [(number: Int, text: Substring)] {
        lines(text).map { ($0.number, $0.text) }
    }

    /// Removes `[1,0]<stdout>:` (Open MPI `--tag-output`) or `0: ` (`srun -l`) from the start of a
    /// line, after an RFC 3339 timestamp (`kubectl logs --timestamps`) if there is one.
    static func stripLauncherPrefix(_ line: Substring) -> Substring {
        let line = stripTimestamp(line)
        let u = line.utf8
        var i = u.startIndex
        // Open MPI: [jobid,rank]<stdout>: or <stderr>:
        if u.first == UInt8(ascii: "["), let close = line.firstIndex(of: "]") {
            let inner = line[line.index(after: line.startIndex)..<close]
            let rest = line[line.index(after: close)...]
            if inner.allSatisfy({ $0.isNumber || $0 == "," }) {
                for tag in ["<stdout>:", "<stderr>:"] where rest.hasPrefix(tag) {
                    var r = rest.dropFirst(tag.count)
                    if r.first == " " { r = r.dropFirst() }
                    return r
                }
            }
            return line
        }
        // srun -l: optional spaces, digits, ':' then a space.
        while i < u.endIndex, u[i] == UInt8(ascii: " ") { i = u.index(after: i) }
        let digitsStart = i
        while i < u.endIndex, u[i] >= UInt8(ascii: "0"), u[i] <= UInt8(ascii: "9") { i = u.index(after: i) }
        guard i > digitsStart, i < u.endIndex, u[i] == UInt8(ascii: ":") else { return line }
        let afterColon = u.index(after: i)
        guard afterColon == u.endIndex || u[afterColon] == UInt8(ascii: " ") else { return line }
        let start = afterColon == u.endIndex ? afterColon : u.index(after: afterColon)
        return line[start...]
    }

    /// `2026-11-21T16:57:28.123456789Z ` (as `kubectl logs --timestamps` writes) removed from the start.
    static func stripTimestamp(_ line: Substring) -> Substring {
        let u = Array(line.utf8.prefix(40))
        func digit(_ k: Int) -> Bool { k < u.count && u[k] >= 0x30 && u[k] <= 0x39 }
        func byte(_ k: Int, _ c: Character) -> Bool { k < u.count && u[k] == c.asciiValue! }
        guard u.count >= 21, digit(0), digit(1), digit(2), digit(3), byte(4, "-"), digit(5), digit(6), byte(7, "-"),
              digit(8), digit(9), byte(10, "T"), digit(11), digit(12), byte(13, ":"), digit(14), digit(15), byte(16, ":"),
              digit(17), digit(18) else { return line }
        var k = 19
        if byte(k, ".") { k += 1; while digit(k) { k += 1 } }
        if byte(k, "Z") { k += 1 } else if byte(k, "+") || byte(k, "-") { k += 6 }  // +00:00
        guard byte(k, " ") else { return line }
        return line.dropFirst(k + 1)
    }

    /// Splits a CSV line on commas and trims stray spaces from each field (no quoting in our inputs).
    static func csvFields(_ line: Substring) -> [String] {
        line.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
    }

    /// Splits on runs of spaces and tabs.
    static func words(_ line: Substring) -> [Substring] {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" })
    }

    /// A short stable id for an imported input: the file's base name and a hash of its content.
    static func runID(name: String, text: String, part: Int? = nil) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a 64
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        var base = (name as NSString).lastPathComponent
        if let dot = base.lastIndex(of: "."), dot != base.startIndex { base = String(base[..<dot]) }
        let hex = String(h >> 32, radix: 16)
        let padded = String(repeating: "0", count: max(0, 8 - hex.count)) + hex
        let id = "\(base)-\(padded)"
        return part.map { "\(id)-\($0)" } ?? id
    }

    /// `text` without a leading UTF-8 byte order mark, with CRLF and lone CR line ends turned into LF.
    ///
    /// Every importer reads the normalized text, so Windows and mixed line endings read as Unix
    /// ones (Swift treats "\r\n" as one Character, which a split on "\n" would not cut).
    public static func normalized(_ text: String) -> String {
        let u = text.utf8
        let bom = u.starts(with: [0xEF, 0xBB, 0xBF])
        guard bom || u.contains(0x0D) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(u.count)
        var prevCR = false
        for b in u.dropFirst(bom ? 3 : 0) {
            if b == 0x0D { bytes.append(0x0A); prevCR = true; continue }
            if b == 0x0A && prevCR { prevCR = false; continue }
            prevCR = false
            bytes.append(b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// What an error may quote of the input: its first line, control characters shown as `?`,
    /// cut to `limit` characters with `…`.
    public static func quote(_ text: some StringProtocol, limit: Int = 60) -> String {
        var out = ""
        var n = 0
        for c in text {
            if c == "\n" || c == "\r\n" || c == "\r" { out += "…"; break }
            if n == limit { out += "…"; break }
            out.append(c.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F } ? c : "?")
            n += 1
        }
        return out
    }
}

extension Substring {
    /// The rank tag inside a launcher prefix: `1,0` from `[1,0]<stdout>: `, `0` from ` 0: `.
    fileprivate func trimmingPrefixAndTag() -> Substring {
        if first == "[", let close = firstIndex(of: "]") { return self[index(after: startIndex)..<close] }
        let digits = drop(while: { $0 == " " }).prefix(while: { $0.isNumber })
        return digits
    }
}
