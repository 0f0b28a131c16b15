import Foundation
import Results

/// MoE rows as `gpucomm moe` and bench/torch_moe.py write them (docs/moe.md, "Results rows"):
/// `benchmark` `moe_<op>`, `backend` the style, `count` tokens per rank, the shape in labels, each
/// byte convention's bytes and GB/s in `metrics` (`bytes_<convention>`, `gbps_<convention>`).
enum MoERows {
    /// MoE's benchmarks are keyed `moe_<op>`: the one family the report tells by its key, because its
    /// rows carry every byte convention side by side, which the generic sections cannot show.
    static func isMoE(_ r: ResultRow) -> Bool { r.benchmark.hasPrefix("moe_") }

    /// `dispatch` for `moe_dispatch`.
    static func op(_ r: ResultRow) -> String { String(r.benchmark.dropFirst(4)) }

    /// Labels that make up the shape (with `ranks`); `tokens` is the x axis.
    static let shapeLabels = ["hidden", "topk", "experts", "masked", "skew", "zero_ranks", "dispatch_dtype", "groups", "group_topk", "routings"]

    /// Conventions in the order docs/moe.md lists them; others (added later) follow by name.
    static let conventionOrder = ["deepep_normal", "deepep_ll", "pplx", "wire"]
    /// The convention the bandwidth charts use: the wire bytes, which `algbw_gbps` carries too.
    static let chartConvention = "wire"

    /// What each known convention counts (docs/moe.md, "Byte accounting").
    static let conventionText = [
        "deepep_normal": "DeepEP normal mode: rows a rank receives, one per (token, receiving rank), its own included",
        "deepep_ll": "DeepEP low-latency: one per valid selection of the rank's own tokens",
        "pplx": "pplx-kernels: tokens × top-k on the sender, masked selections too",
        "wire": "what gpucomm's kernels write into other ranks' memory, remote rows only, as sent",
    ]

    /// Conventions a row carries GB/s for.
    static func conventions(_ r: ResultRow) -> [String] {
        (r.metrics ?? [:]).keys.filter { $0.hasPrefix("gbps_") }.map { String($0.dropFirst(5)) }
    }

    /// `names` in docs/moe.md's order, unknown ones after it by name.
    static func ordered(_ names: Set<String>) -> [String] {
        conventionOrder.filter(names.contains) + names.subtracting(conventionOrder).sorted()
    }

    /// Tokens per rank: `count`, else the `tokens` label.
    static func tokens(_ r: ResultRow) -> Int64? {
        r.count ?? r.labels?["tokens"].flatMap { Int64($0) }
    }

    /// dispatch first, then combine, then any other op by name.
    static func opLess(_ a: String, _ b: String) -> Bool {
        let order = ["layout", "dispatch", "combine"]
        let ia = order.firstIndex(of: a) ?? order.count, ib = order.firstIndex(of: b) ?? order.count
        return ia != ib ? ia < ib : a < b
    }
}

/// The shape an MoE row was measured at: everything but the tokens per rank, the style and the op.
struct MoEShape: Hashable {
    var ranks: Int
    var values: [String]

    init(_ r: ResultRow) {
        ranks = r.ranks
        values = MoERows.shapeLabels.map { label in
            if let v = r.labels?[label] { return label == "group_topk" && r.labels?["groups"] == "1" ? "1" : v }
            // Rows from before these labels: one group, one routing; the dispatch type is the row's own
            // except on combine rows (BF16 either way), which join the shape that fits them.
            switch label {
            case "groups", "group_topk", "routings": return "1"
            case "dispatch_dtype": return MoERows.op(r) == "combine" ? "?" : (r.dtype ?? "?")
            default: return "?"
            }
        }
    }

    /// Shapes of `rows`, where a row that lacks some shape labels (bench/torch_moe.py writes no
    /// `skew`) takes the one complete shape that agrees with every label it has; with none or
    /// several such shapes it keeps `?` for what it lacks.
    static func resolver(_ rows: [ResultRow]) -> (ResultRow) -> MoEShape {
        let complete = Set(rows.map(MoEShape.init).filter { !$0.values.contains("?") })
        return { r in
            let s = MoEShape(r)
            guard s.values.contains("?") else { return s }
            let fits = complete.filter { c in c.ranks == s.ranks && zip(c.values, s.values).allSatisfy { $1 == "?" || $0 == $1 } }
            return fits.count == 1 ? fits.first! : s
        }
    }

    func value(_ label: String) -> String { values[MoERows.shapeLabels.firstIndex(of: label)!] }

    /// `hidden 7168, top-8 of 256 experts, masked 0, skew 1.0, zero-token ranks 0, 8 ranks`.
    var text: String {
        var s = "hidden \(value("hidden")), top-\(value("topk")) of \(value("experts")) experts, masked \(value("masked")), "
            + "skew \(value("skew")), zero-token ranks \(value("zero_ranks"))"
        // Labels later gpucomm versions write, named only when known and not the default.
        if let d = known("dispatch_dtype") { s += ", \(d) dispatch" }
        if let g = known("groups"), g != "1", let m = known("group_topk") { s += ", top-\(m) of \(g) groups" }
        if let r = known("routings"), r != "1" { s += ", \(r) routings" }
        return s + ", \(ranks) rank\(ranks == 1 ? "" : "s")"
    }

    /// A label's value, nil where the rows did not carry it.
    func known(_ label: String) -> String? { let v = value(label); return v == "?" ? nil : v }

    /// For chart ids: `8r_h7168_k8_e256_m0_s1_0_z0`.
    var slugParts: [String] {
        ["\(ranks)r", "h" + value("hidden"), "k" + value("topk"), "e" + value("experts"), "m" + value("masked"),
         "s" + value("skew"), "z" + value("zero_ranks")]
            + [known("dispatch_dtype"), known("groups").flatMap { $0 == "1" ? nil : "g" + $0 + "-" + value("group_topk") },
               known("routings").flatMap { $0 == "1" ? nil : "r" + $0 }].compactMap { $0 }
    }

    /// Ranks, then each label numerically (text order where a label is not a number).
    static func less(_ a: MoEShape, _ b: MoEShape) -> Bool {
        if a.ranks != b.ranks { return a.ranks < b.ranks }
        for (x, y) in zip(a.values, b.values) where x != y {
            if let dx = Double(x), let dy = Double(y) { return dx < dy }
            return x < y
        }
        return false
    }
}

/// Repeats of one MoE measurement (style, op, dtype, shape, tokens per rank), summarised by their medians.
struct MoEPoint {
    var shape: MoEShape
    var op: String
    var dtype: String
    /// The style, with the labels that tell its series apart (`nvshmem_put, blocks=16`).
    var series: String
    var tokens: Int64
    var time: Double?
    var p50: Double?
    var gbps: [String: Double] = [:]
    var bytes: [String: Double] = [:]
    var trafficGBps: Double?
    /// Wrong elements over the repeats; nil when none was checked.
    var wrong: Int64?
    var failed: Bool

    /// `ok`, `not checked`, or `FAILED: 12 wrong elements (not charted)`.
    var check: String {
        if failed { return "FAILED: \(wrong ?? 0) wrong element\(wrong == 1 ? "" : "s") (not charted)" }
        return wrong == nil ? "not checked" : "ok"
    }

    /// Groups rows into points. `failed` rows (wrong > 0) become points of their own, never merged with clean repeats.
    static func points(_ rows: [ResultRow], failed: [ResultRow]) -> [MoEPoint] {
        let shapeOf = MoEShape.resolver(rows + failed)
        let names = seriesNames(rows + failed, shapeOf: shapeOf)
        var order: [String] = []
        var groups: [String: [ResultRow]] = [:]
        for (isFailed, list) in [(false, rows), (true, failed)] {
            for r in list {
                guard let t = MoERows.tokens(r) else { continue }
                let k = [shapeOf(r).text, MoERows.op(r), r.dtype ?? "", names(r), String(t), isFailed ? "1" : "0"].joined(separator: "\u{1}")
                if groups[k] == nil { order.append(k) }
                groups[k, default: []].append(r)
            }
        }
        return order.map { k in
            let rs = groups[k]!
            let r = rs[0]
            func median(_ f: (ResultRow) -> Double?) -> Double? { Stats.median(rs.compactMap(f).filter(\.isFinite)) }
            var p = MoEPoint(shape: shapeOf(r), op: MoERows.op(r), dtype: r.dtype ?? "", series: names(r), tokens: MoERows.tokens(r)!,
                             failed: k.hasSuffix("\u{1}1"))
            p.time = median { Metric.time.value($0) }
            p.p50 = median { $0.stats?.p50 }
            for c in Set(rs.flatMap(MoERows.conventions)) {
                p.gbps[c] = median { $0.metrics?["gbps_" + c] }
                p.bytes[c] = median { $0.metrics?["bytes_" + c] }
            }
            p.trafficGBps = median { $0.metrics?["traffic_gbps"] }
            let checked = rs.compactMap(\.wrong)
            p.wrong = checked.isEmpty ? nil : checked.reduce(0) { $0.addingReportingOverflow($1).overflow ? .max : $0 + $1 }
            return p
        }
    }

    /// Series names: the style, plus each other label (and the timing method) that takes more than
    /// one value within one style of one shape, so that e.g. two block counts stay two series.
    static func seriesNames(_ rows: [ResultRow], shapeOf: (ResultRow) -> MoEShape) -> (ResultRow) -> String {
        let skip = Set(MoERows.shapeLabels + ["tokens"]).union(BenchKey.annotationLabels)
        func extras(_ r: ResultRow) -> [String: String] {
            var e = (r.labels ?? [:]).filter { !skip.contains($0.key) }
            if let t = r.timing { e["timing"] = t }
            return e
        }
        var seen: [String: [String: Set<String>]] = [:]  // shape+style → label → values ("" when absent)
        var keys = Set<String>()
        for r in rows { keys.formUnion(extras(r).keys) }
        for r in rows {
            let g = shapeOf(r).text + "\u{1}" + r.backend
            let e = extras(r)
            for k in keys { seen[g, default: [:]][k, default: []].insert(e[k] ?? "") }
        }
        let varying = Set(seen.values.flatMap { $0.filter { $0.value.count > 1 }.map(\.key) })
        return { r in
            let e = extras(r)
            let parts = varying.sorted().compactMap { k in e[k].map { "\(k)=\($0)" } }
            return ([r.backend] + parts).joined(separator: ", ")
        }
    }
}
