import Foundation

/// Output formats of `gpucomm compare`.
public enum CompareFormat: String, Sendable, CaseIterable {
    case text, markdown, json
}

extension Comparison {
    /// The comparison in `format`; text and Markdown end with a one-line summary.
    public func render(_ format: CompareFormat) -> String {
        switch format {
        case .text: return text()
        case .markdown: return markdown()
        case .json: return json()
        }
    }

    static let headers = ["measurement", "metric", "baseline", "candidate", "change", "verdict"]

    func cells(_ r: ComparisonRow) -> [String] {
        func side(_ s: SideSummary?) -> String {
            guard let s else { return "-" }
            let v = Fmt.value(s.median)
            return s.n > 1 ? "\(v) ±\(Fmt.fixed(s.spread * 100, 0))% (n=\(s.n))" : v
        }
        let change = r.ratio.map { ratio in
            let pct = (ratio - 1) * 100
            return (pct >= 0 ? "+" : "") + Fmt.fixed(pct, 1) + "%"
        } ?? ""
        return [r.name, "\(r.metric.rawValue) (\(r.metric.unit))", side(r.baseline), side(r.candidate), change, r.verdict.rawValue]
    }

    /// One line: counts per verdict and the geometric mean gain.
    public var summaryLine: String {
        var parts = ["\(rows.count) measurements", "\(count(.regression)) regressions", "\(count(.improvement)) improvements",
                     "\(count(.unchanged)) unchanged", "\(count(.noise)) within noise"]
        let only = count(.onlyBaseline) + count(.onlyCandidate)
        if only > 0 { parts.append("\(count(.onlyBaseline)) only in baseline, \(count(.onlyCandidate)) only in candidate") }
        var s = parts.joined(separator: "; ")
        if let g = geomeanGain { s += "; geometric mean change \(g >= 1 ? "+" : "")\(Fmt.fixed((g - 1) * 100, 1))% (positive is better)" }
        let abs = options.absThreshold.map { " and \(Fmt.value($0)) absolute" } ?? ""
        return s + " (threshold \(Fmt.fixed(options.threshold * 100, 1))%\(abs))."
    }

    /// Aligned columns for a terminal.
    func text() -> String {
        let table = [Self.headers] + rows.map(cells)
        let widths = Self.headers.indices.map { i in table.map { $0[i].count }.max() ?? 0 }
        var out = ""
        for row in table {
            let padded = row.enumerated().map { i, c -> String in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return i == 0 || i == row.count - 1 ? c + pad : pad + c
            }
            out += padded.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
        }
        return out + summaryLine + "\n"
    }

    /// A Markdown table and summary, for CI comments.
    func markdown() -> String {
        let t = Table(headers: Self.headers, rows: rows.map(cells))
        return ReportWriter.markdownTable(t) + "\n" + summaryLine + "\n"
    }

    struct JSONRow: Encodable {
        var benchmark: String
        var backend: String
        var variant: String?
        var dtype: String?
        var op: String?
        var root: Int?
        var buffer: String?
        var timing: String?
        var ranks: Int
        var nodes: Int?
        var sizeBytes: Int64?
        var chunkBytes: Int64?
        var labels: String?
        var metric: String
        var unit: String
        var baseline: SideSummary?
        var candidate: SideSummary?
        var ratio: Double?
        var verdict: String

        enum CodingKeys: String, CodingKey {
            case benchmark, backend, variant, dtype, op, root, buffer, timing, ranks, nodes
            case sizeBytes = "size_bytes", chunkBytes = "chunk_bytes", labels, metric, unit, baseline, candidate, ratio, verdict
        }
    }

    struct JSONDoc: Encodable {
        var threshold: Double
        var absThreshold: Double?
        var regressions: Int
        var improvements: Int
        var rows: [JSONRow]

        enum CodingKeys: String, CodingKey {
            case threshold, absThreshold = "abs_threshold", regressions, improvements, rows
        }
    }

    /// One JSON object: thresholds, counts and every row (snake_case keys, sorted).
    func json() -> String {
        let doc = JSONDoc(threshold: options.threshold, absThreshold: options.absThreshold,
                          regressions: count(.regression), improvements: count(.improvement),
                          rows: rows.map { r in
                              let k = r.key
                              return JSONRow(benchmark: k.benchmark, backend: k.backend, variant: k.variant, dtype: k.dtype, op: k.op,
                                             root: k.root, buffer: k.buffer, timing: k.timing, ranks: k.ranks, nodes: k.nodes,
                                             sizeBytes: k.sizeBytes, chunkBytes: k.chunkBytes, labels: k.labels.isEmpty ? nil : k.labels,
                                             metric: r.metric.rawValue, unit: r.metric.unit, baseline: r.baseline, candidate: r.candidate,
                                             ratio: r.ratio, verdict: r.verdict.rawValue)
                          })
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (String(data: (try? e.encode(doc)) ?? Data("{}".utf8), encoding: .utf8) ?? "{}") + "\n"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
