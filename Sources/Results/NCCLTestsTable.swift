import Foundation

extension NCCLTestsTextImporter {
    /// Where each number sits in a table row, read from the header line's column names.
    struct Layout {
        /// Columns before the first time column: size, count, type, redop, root (some absent in old versions).
        var lead: [String]
        /// One group per variant (out-of-place, in-place): column name → offset within the group.
        var groups: [[String]]
        var timestamp: Bool

        init(columns: [String], file: String, line: Int) throws {
            var cols = columns
            timestamp = cols.last == "timestamp"
            if timestamp { cols.removeLast() }
            guard let firstTime = cols.firstIndex(where: { $0 == "time" || $0 == "cputime" }),
                  cols.contains("size") else {
                throw ResultsError(file: file, line: line,
                    "nccl-tests table header without 'size' and 'time' columns: '\(InputText.quote(columns.joined(separator: " ")))'")
            }
            lead = Array(cols[..<firstTime])
            groups = []
            for c in cols[firstTime...] {
                if c == "time" || c == "cputime" || groups.isEmpty { groups.append([c]) } else { groups[groups.count - 1].append(c) }
            }
        }

        var width: Int { lead.count + groups.reduce(0) { $0 + $1.count } + (timestamp ? 2 : 0) }

        /// The rows one table line gives: one per variant group present.
        func rows(_ values: [Substring], line: Int, file: String, make: (String) -> ResultRow) throws -> [ResultRow] {
            var groupsHere = Array(groups.enumerated())
            if values.count != width {
                // Trace replay prints only the in-place group.
                if groups.count == 2 && values.count == width - groups[0].count {
                    groupsHere = [(1, groups[1])]
                } else {
                    throw ResultsError(file: file, line: line,
                        "expected \(width) columns (\(InputText.quote(header, limit: 120))), found \(values.count): the line is truncated or malformed")
                }
            }
            /// Times and bandwidths: finite and ≥ 0; `N/A` and `-` read as absent.
            func number(_ s: Substring, _ column: String, _ range: InputNumber.Range = .nonNegative) throws -> Double? {
                if s == "N/A" || s == "-" { return nil }
                return try InputNumber.real(s, range).value(file: file, line: line, field: "column '\(column)'")
            }
            /// Sizes, counts and wrong elements: whole, ≥ 0, at most 2^62.
            func count(_ s: Substring, _ column: String) throws -> Int64? {
                if s == "N/A" || s == "-" { return nil }
                return try InputNumber.count(s).value(file: file, line: line, field: "column '\(column)'")
            }
            var base = make("")
            for (i, c) in lead.enumerated() {
                let v = values[i]
                switch c {
                case "size": base.sizeBytes = try count(v, c)
                case "count": base.count = try count(v, c)
                case "type": base.dtype = String(v)
                case "redop": base.op = v == "none" ? nil : String(v)
                case "root": base.root = Int32(v).flatMap { $0 >= 0 ? Int($0) : nil }  // -1: no root
                default: break
                }
            }
            if timestamp {
                base.labels = ["timestamp": "\(values[values.count - 2]) \(values[values.count - 1])"]
            }
            var out: [ResultRow] = []
            var offset = lead.count
            for (index, group) in groupsHere {
                var r = base
                r.variant = index == 1 ? "in_place" : "out_of_place"
                var metrics: [String: Double] = [:]
                for (j, c) in group.enumerated() {
                    let v = values[offset + j]
                    switch c {
                    case "time": r.timeUs = try number(v, c)
                    case "cputime":
                        r.timeUs = try number(v, c)
                        r.labels = (r.labels ?? [:]).merging(["time_column": "cputime"]) { a, _ in a }
                    case "algbw": r.algbwGBps = try number(v, c)
                    case "busbw": r.busbwGBps = try number(v, c)
                    case "#wrong": r.wrong = try count(v, c)
                    case "error": metrics["max_error"] = try number(v, c, .any)
                    case "i_min": metrics["time_min_us"] = try number(v, c)
                    case "i_max": metrics["time_max_us"] = try number(v, c)
                    case "i_p99": metrics["time_p99_us"] = try number(v, c)
                    case "i_cv%": metrics["time_cv_pct"] = try number(v, c)
                    default: if let d = try? number(v, c, .any) { metrics[c] = d }
                    }
                }
                r.metrics = metrics.isEmpty ? nil : metrics
                offset += group.count
                out.append(r)
            }
            return out
        }

        private var header: String {
            (lead + groups.flatMap { $0 } + (timestamp ? ["date", "time"] : [])).joined(separator: " ")
        }
    }
}
