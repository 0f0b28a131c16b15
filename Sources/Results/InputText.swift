import Foundation

/// Line handling shared by the text importers: numbering, launcher prefixes, fields, run ids.
enum InputText {
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
            let stripped = stripLauncherPrefix(line)
            var tag: Substring?
            if stripped.startIndex != line.startIndex {
                tag = line[line.startIndex..<stripped.startIndex].trimmingPrefixAndTag()
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

    /// Removes `[1,0]<stdout>:` (Open MPI `--tag-output`) or `0: ` (`srun -l`) from the start of a line.
    static func stripLauncherPrefix(_ line: Substring) -> Substring {
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

    static func double(_ s: some StringProtocol) -> Double? {
        Double(s.trimmingCharacters(in: .whitespaces))
    }

    static func int(_ s: some StringProtocol) -> Int? {
        Int(s.trimmingCharacters(in: .whitespaces))
    }

    static func int64(_ s: some StringProtocol) -> Int64? {
        Int64(s.trimmingCharacters(in: .whitespaces))
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
