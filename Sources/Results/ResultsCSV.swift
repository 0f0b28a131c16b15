import Foundation

/// A flat CSV table of result rows, one line per row, with run provenance columns joined in.
///
/// Columns are fixed (`ResultsCSV.columns`); `metrics` and `labels` are `key=value` pairs joined
/// by `;` in key order. Fields holding a comma, quote or newline are quoted as RFC 4180 says.
public enum ResultsCSV {
    public static let columns = [
        "run", "tool", "source", "benchmark", "backend", "variant", "dtype", "op", "root", "size_bytes", "count",
        "ranks", "nodes", "chunk_bytes", "buffer", "timing", "iterations", "time_us", "algbw_gbps", "busbw_gbps",
        "wrong", "metrics", "labels",
    ]

    /// The header line, without newline.
    public static var header: String { columns.joined(separator: ",") }

    /// One CSV line per row of `set`, without the header, each ending in a newline.
    public static func lines(_ set: ResultSet) -> String {
        var runs: [String: RunInfo] = [:]
        for r in set.runs { runs[r.run] = r }
        var out = ""
        for row in set.rows {
            let run = runs[row.run]
            let fields: [String?] = [
                row.run, run?.tool, run?.source, row.benchmark, row.backend, row.variant, row.dtype, row.op,
                row.root.map(String.init), row.sizeBytes.map(String.init), row.count.map(String.init), String(row.ranks),
                row.nodes.map(String.init), row.chunkBytes.map(String.init), row.buffer, row.timing,
                row.iterations.map(String.init), row.timeUs.map(number), row.algbwGBps.map(number), row.busbwGBps.map(number),
                row.wrong.map(String.init),
                row.metrics.map { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\(number($0.value))" }.joined(separator: ";") },
                row.labels.map { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";") },
            ]
            out += fields.map { quote($0 ?? "") }.joined(separator: ",") + "\n"
        }
        return out
    }

    /// Shortest text that reads back as the same Double; integral values without `.0`.
    public static func number(_ d: Double) -> String {
        if d.isFinite, d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return String(d)
    }

    static func quote(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
