import Foundation
import Results

/// The MoE section: per shape, dispatch and combine bandwidth and time vs tokens per rank, a
/// series per style; under them every byte convention's GB/s and bytes; then the layout and the
/// kernel rows (FP8 cast beside a copy).
extension FigureKit {
    /// `rows` are valid MoE rows; `failed` those that failed the data check (listed, flagged, never charted).
    func moeSection(_ rows: [ResultRow], failed: [ResultRow]) -> Section? {
        let all = rows + failed
        guard !all.isEmpty else { return nil }
        let points = MoEPoint.points(rows, failed: failed)
        // Rows with conventions are transfers (dispatch, combine); rows with a traffic figure are
        // kernels measured alone (the FP8 cast, a copy); the rest (layout) are timed operations.
        let traffic = points.filter { !$0.gbps.isEmpty }
        let kernels = points.filter { $0.gbps.isEmpty && $0.trafficGBps != nil }
        let others = points.filter { $0.gbps.isEmpty && $0.trafficGBps == nil }

        var figures: [Figure] = []
        var shapes: [MoEShape] = []
        for p in traffic where !shapes.contains(p.shape) { shapes.append(p.shape) }
        for shape in shapes.sorted(by: MoEShape.less) {
            let here = traffic.filter { $0.shape == shape }
            var ops: [String] = []
            for p in here where !ops.contains(p.op + "\u{1}" + p.dtype) { ops.append(p.op + "\u{1}" + p.dtype) }
            for od in ops.sorted(by: { a, b in
                let x = a.components(separatedBy: "\u{1}"), y = b.components(separatedBy: "\u{1}")
                return x[0] != y[0] ? MoERows.opLess(x[0], y[0]) : x[1] < y[1]
            }) {
                let charted = here.filter { !$0.failed && $0.op + "\u{1}" + $0.dtype == od }
                figures += moeCharts(charted, shape: shape)
            }
            figures.append(Figure(chart: nil, findings: moeFailedFindings(here), table: Self.conventionTable(here)))
        }
        if !others.isEmpty { figures.append(Figure(chart: nil, findings: moeFailedFindings(others), table: Self.operationTable(others))) }
        if !kernels.isEmpty { figures.append(Figure(chart: nil, findings: moeFailedFindings(kernels), table: Self.kernelTable(kernels))) }

        let present = MoERows.ordered(Set(traffic.flatMap(\.gbps.keys)))
        var intro = ["Rows of `gpucomm moe` (and bench/torch_moe.py, style `torch`): per shape and operation, bandwidth and time "
            + "against tokens per rank, a series per style; the table under them gives every byte convention. GB/s = 10^9 bytes per second "
            + "of a convention's bytes per rank (mean over ranks) at the mean time; MB = 10^6 bytes."]
        if !present.isEmpty {
            intro.append("Byte conventions (docs/moe.md): " + present.map { c in
                MoERows.conventionText[c].map { "`\(c)`: \($0)" } ?? "`\(c)`"
            }.joined(separator: "; ") + ".")
        }
        return Section(title: "MoE dispatch and combine", intro: intro, figures: figures)
    }

    /// The bandwidth chart and the time chart of one shape, op and dtype.
    func moeCharts(_ points: [MoEPoint], shape: MoEShape) -> [Figure] {
        guard let first = points.first else { return [] }
        let op = first.op, dtype = first.dtype
        let series = Set(points.map(\.series)).sorted()
        let xs = points.map { Double($0.tokens) }
        let spansPowers = (xs.min() ?? 0) > 0 && (xs.max() ?? 0) / (xs.min() ?? 1) >= 4
        let x = Axis(label: "tokens per rank", unit: "count", scale: spansPowers ? .log2 : .linear, format: .number)
        let name = "MoE \(op) (\(dtype)), \(shape.text)"
        func lines(_ y: (MoEPoint) -> Double?) -> [Line] {
            series.map { s in
                Line(name: s, values: points.filter { $0.series == s }.compactMap { p in y(p).map { Value(x: Double(p.tokens), y: $0) } }
                    .sorted { $0.x < $1.x })
            }.filter { !$0.values.isEmpty }
        }
        var figures: [Figure] = []
        // The chart's convention: the wire bytes when every point has them, else the first every point has.
        let everywhere = Set(points.flatMap(\.gbps.keys)).filter { c in points.allSatisfy { $0.gbps[c] != nil } }
        if let c = everywhere.contains(MoERows.chartConvention) ? MoERows.chartConvention : MoERows.ordered(everywhere).first {
            let ls = lines { $0.gbps[c] }
            var findings = ["Bandwidth by the `\(c)` convention" + (MoERows.conventionText[c].map { " (\($0))" } ?? "")
                + "; the table below gives every convention."]
            if let (s, v) = ls.flatMap({ l in l.values.map { (l.name, $0) } }).max(by: { $0.1.y < $1.1.y }) {
                findings.append("Highest: \(Fmt.value(v.y)) GB/s (\(s), \(Fmt.number(v.x)) tokens per rank).")
            }
            findings += Self.atMostTokens(ls, unit: "GB/s", higherIsBetter: true)
            figures.append(blank(lineFigure(
                id: Grouping.slug(["moe", op, dtype] + shape.slugParts + ["gbps", c]),
                title: "\(name): GB/s (\(c) bytes) vs tokens per rank", subtitle: "bytes by the \(c) convention",
                x: x, y: Axis(label: "bandwidth, \(c) bytes", unit: "GB/s"), lines: ls, xText: Fmt.number, findings: findings)))
        }
        if points.allSatisfy({ $0.time != nil }) {
            let ls = lines(\.time)
            var findings: [String] = []
            if let (s, v) = ls.flatMap({ l in l.values.map { (l.name, $0) } }).min(by: { $0.1.y < $1.1.y }) {
                findings.append("Lowest time: \(Fmt.value(v.y)) µs (\(s), \(Fmt.number(v.x)) tokens per rank).")
            }
            findings += Self.atMostTokens(ls, unit: "µs", higherIsBetter: false)
            figures.append(blank(lineFigure(
                id: Grouping.slug(["moe", op, dtype] + shape.slugParts + ["time"]),
                title: "\(name): time vs tokens per rank", subtitle: "mean time per operation",
                x: x, y: Axis(label: "time", unit: "µs"), lines: ls, xText: Fmt.number, findings: findings)))
        }
        return figures
    }

    /// The chart's numbers are all in the section's convention table: no table of its own.
    func blank(_ f: Figure) -> Figure {
        var f = f
        f.table = Table(headers: [], rows: [])
        return f
    }

    /// At the most tokens per rank that several styles measured: the best and the worst.
    static func atMostTokens(_ lines: [Line], unit: String, higherIsBetter: Bool) -> [String] {
        let shared = Set(lines.flatMap { $0.values.map(\.x) }).filter { x in lines.filter { $0.y(at: x) != nil }.count > 1 }
        guard let top = shared.max() else { return [] }
        let at = lines.compactMap { l in l.y(at: top).map { (l.name, $0) } }.sorted { higherIsBetter ? $0.1 > $1.1 : $0.1 < $1.1 }
        guard let best = at.first, let worst = at.last else { return [] }
        let ratio = higherIsBetter ? (worst.1 > 0 ? best.1 / worst.1 : nil) : (best.1 > 0 ? worst.1 / best.1 : nil)
        return ["At \(Fmt.number(top)) tokens per rank the best is \(best.0) (\(Fmt.value(best.1)) \(unit)), the worst \(worst.0) "
            + "(\(Fmt.value(worst.1)) \(unit))" + (ratio.map { ", \(Fmt.fixed($0, 2))× apart." } ?? ".")]
    }

    /// One line per failed point's style and op, so that a failure is read before the numbers.
    func moeFailedFindings(_ points: [MoEPoint]) -> [String] {
        let failed = points.filter(\.failed)
        guard !failed.isEmpty else { return [] }
        let wrong = failed.reduce(Int64(0)) { $0.addingReportingOverflow($1.wrong ?? 0).overflow ? .max : $0 + ($1.wrong ?? 0) }
        let which = Set(failed.map { "\($0.series) \($0.op)" }).sorted().joined(separator: ", ")
        return ["\(failed.count) measurement\(failed.count == 1 ? "" : "s") FAILED the data check (\(wrong) wrong elements in all; \(which)): "
            + "listed below, marked FAILED, and drawn in no chart."]
    }

    /// Per style × tokens × op: mean time, GB/s under every convention present, bytes per rank of each, the check.
    static func conventionTable(_ points: [MoEPoint]) -> Table {
        let conventions = MoERows.ordered(Set(points.flatMap(\.gbps.keys)))
        let sorted = points.sorted { a, b in
            if a.series != b.series { return a.series < b.series }
            if a.tokens != b.tokens { return a.tokens < b.tokens }
            if a.op != b.op { return MoERows.opLess(a.op, b.op) }
            if a.dtype != b.dtype { return a.dtype < b.dtype }
            return !a.failed && b.failed
        }
        let headers = ["style", "tokens per rank", "op", "dtype", "mean µs"] + conventions.map { "GB/s \($0)" }
            + conventions.map { "MB/rank \($0)" } + ["check"]
        let rows = sorted.map { p -> [String] in
            let head: [String] = [p.series, String(p.tokens), p.op, p.dtype, p.time.map(Fmt.value) ?? ""]
            let rates: [String] = conventions.map { c in p.gbps[c].map(Fmt.value) ?? "" }
            let sizes: [String] = conventions.map { c in p.bytes[c].map { Fmt.fixed($0 / 1e6, 2) } ?? "" }
            return head + rates + sizes + [p.check]
        }
        return Table(headers: headers, rows: rows)
    }

    /// Operations timed without a byte count (the layout): shape, op, style, tokens, mean and median time.
    static func operationTable(_ points: [MoEPoint]) -> Table {
        let sorted = points.sorted { a, b in
            if a.shape != b.shape { return MoEShape.less(a.shape, b.shape) }
            if a.op != b.op { return MoERows.opLess(a.op, b.op) }
            if a.series != b.series { return a.series < b.series }
            if a.tokens != b.tokens { return a.tokens < b.tokens }
            return !a.failed && b.failed
        }
        return Table(headers: ["op", "shape", "style", "tokens per rank", "mean µs", "p50 µs", "check"], rows: sorted.map { p in
            [p.op, p.shape.text, p.series, String(p.tokens), p.time.map(Fmt.value) ?? "", p.p50.map(Fmt.value) ?? "", p.check]
        })
    }

    /// Kernels timed alone (`--kernels`): traffic GB/s, and each one's fraction of the copy of the same hidden size and tokens.
    static func kernelTable(_ points: [MoEPoint]) -> Table {
        func hidden(_ p: MoEPoint) -> String { p.shape.value("hidden") }
        let sorted = points.sorted { a, b in
            let ha = Double(hidden(a)) ?? 0, hb = Double(hidden(b)) ?? 0
            if ha != hb { return ha < hb }
            if a.tokens != b.tokens { return a.tokens < b.tokens }
            if a.op != b.op { return a.op > b.op }  // fp8_cast before copy
            return !a.failed && b.failed
        }
        let rows = sorted.map { p -> [String] in
            let copy = points.first { $0.op == "copy" && !$0.failed && hidden($0) == hidden(p) && $0.tokens == p.tokens && $0.shape.ranks == p.shape.ranks }
            var of = ""
            if p.op != "copy", let c = copy?.trafficGBps, c > 0, let t = p.trafficGBps { of = Fmt.percent(t / c) }
            return [p.op, hidden(p), String(p.tokens), p.time.map(Fmt.value) ?? "", p.trafficGBps.map(Fmt.value) ?? "", of, p.check]
        }
        return Table(headers: ["kernel", "hidden", "tokens", "mean µs", "traffic GB/s", "of copy", "check"], rows: rows)
    }
}
