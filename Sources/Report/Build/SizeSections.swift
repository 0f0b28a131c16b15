/// Sections about sized transfers: bandwidth vs message size, vs GPUs, vs chunk size.
extension FigureKit {
    /// Fields that tell series apart inside one benchmark/backend chart.
    static let seriesDims: [Dim] = [.ranks, .variant, .dtype, .op, .root, .buffer, .timing, .labels]

    /// Drops `in_place` cells when `out_of_place` cells of the same measurement exist
    /// (nccl-tests measures both; charts show out-of-place as nccl-tests' summary does).
    static func preferOutOfPlace(_ cells: [Cell]) -> (cells: [Cell], dropped: Bool) {
        let variants = Set(cells.compactMap(\.key.variant))
        guard variants.contains("out_of_place"), variants.contains("in_place") else { return (cells, false) }
        return (cells.filter { $0.key.variant != "in_place" }, true)
    }

    static let inPlaceNote = "The chart shows out-of-place results; in-place results are left out (they are in the inputs)."

    /// Bandwidth (or time) vs message size: one chart per benchmark and backend, a series per GPU count and variant.
    func sizeSection(_ all: [Cell]) -> Section? {
        let sized = all.filter { $0.key.sizeBytes != nil && $0.key.chunkBytes == nil }
        var figures: [Figure] = []
        for group in Grouping.split(sized, by: { "\($0.benchmark)\u{1}\($0.backend)" }, order: [.benchmark, .backend]) {
            let (cells, dropped) = Self.preferOutOfPlace(group)
            guard let m = Self.metric(cells) else { continue }
            let k = cells[0].key
            let groups = Grouping.series(cells, by: Self.seriesDims, single: "\(k.ranks) GPUs")
            let lines = groups.map {
                Line(name: $0.name, values: values($0.cells, metric: m, x: { $0.sizeBytes.map(Double.init) }))
            }
            // Findings speak of sizes that move data: a 0-byte row (nccl-tests -b 8 on 4 ranks gives
            // them for all_gather and alltoall) times a no-op.
            let moving = lines.map { l in Line(name: l.name, values: l.values.filter { $0.x > 0 }, colour: l.colour, shape: l.shape) }
            var findings = Self.sizeFindings(moving, metric: m)
            // Bandwidth hides small-message cost: when every cell has a time, the table shows it too.
            let times = m != .time && cells.allSatisfy({ $0.values[.time] != nil })
                ? groups.map { Line(name: $0.name, values: values($0.cells, metric: .time, x: { $0.sizeBytes.map(Double.init) })) } : []
            let movingTimes = times.map { l in Line(name: l.name, values: l.values.filter { $0.x > 0 }) }
            if let (name, t) = movingTimes.compactMap({ l in l.values.min { $0.y < $1.y }.map { (l.name, $0) } }).min(by: { $0.1.y < $1.1.y }) {
                findings.append("Smallest time: \(Fmt.value(t.y)) µs (\(name), \(Self.sizeText(t.x))).")
            }
            if dropped { findings.append(Self.inPlaceNote) }
            findings += leftOut["\(k.benchmark)\u{1}\(k.backend)"] ?? []
            var fig = lineFigure(
                id: Grouping.slug(["size", k.benchmark, k.backend, m.rawValue]),
                title: "\(k.benchmark) (\(k.backend)): \(m.title) vs message size", subtitle: nil,
                x: Self.sizeAxis, y: Self.metricAxis(m), lines: lines, xText: Self.sizeText, findings: findings)
            if !times.isEmpty {
                let t = wideTable(times, xHeader: "", xText: Self.sizeText)
                for i in fig.table.headers.indices.dropFirst() {
                    fig.table.headers[i] = times.count == 1 ? "\(m.title) (GB/s)" : "\(fig.table.headers[i]) \(m.rawValue) (GB/s)"
                }
                fig.table.headers += t.headers.dropFirst().map { times.count == 1 ? "time (µs)" : "\($0) time (µs)" }
                for i in fig.table.rows.indices where i < t.rows.count { fig.table.rows[i] += t.rows[i].dropFirst() }
            }
            figures.append(fig)
        }
        guard !figures.isEmpty else { return nil }
        return Section(title: "Bandwidth vs message size", figures: figures)
    }

    static func sizeFindings(_ lines: [Line], metric m: Metric) -> [String] {
        guard m != .time else { return [] }
        var out: [String] = []
        if let (name, best) = lines.compactMap({ l in l.maxValue.map { (l.name, $0) } }).max(by: { $0.1.y < $1.1.y }) {
            out.append("Highest \(m.title): \(Fmt.value(best.y)) GB/s (\(name), \(sizeText(best.x))).")
        }
        // Series whose last (largest-size) value is clearly below their peak.
        var drops: [(String, Value, Value)] = []
        for l in lines {
            guard let peak = l.maxValue, let last = l.last, last.x > peak.x, last.y < 0.9 * peak.y else { continue }
            drops.append((l.name, peak, last))
        }
        if drops.count == lines.count, drops.count > 1 {
            let fr = drops.map { $0.2.y / $0.1.y }
            let sizes = Set(drops.map { $0.2.x }).sorted().map(sizeText).joined(separator: ", ")
            out.append("Every series falls at its largest size (\(sizes)) to \(Fmt.percent(fr.min()!))–\(Fmt.percent(fr.max()!)) of its peak.")
        } else {
            for (name, peak, last) in drops.prefix(4) {
                out.append("\(name) peaks at \(Fmt.value(peak.y)) GB/s (\(sizeText(peak.x))) and falls to \(Fmt.value(last.y)) GB/s at \(sizeText(last.x)), \(Fmt.percent(last.y / peak.y)) of its peak.")
            }
        }
        return out
    }

    /// Bandwidth vs GPUs: the study's scaling figure, collectives side by side, then one chart
    /// per benchmark and backend with a series per message size.
    func scalingSection(_ all: [Cell]) -> Section? {
        let sized = all.filter { $0.key.sizeBytes != nil && $0.key.chunkBytes == nil }
        var figures: [Figure] = []
        // Collectives compared, per backend.
        for backendCells in Grouping.split(sized, by: { $0.backend }, order: [.backend]) {
            let benches = Grouping.split(backendCells, by: { $0.benchmark }, order: [.benchmark])
                .map { Self.preferOutOfPlace($0).cells }
                .filter { Set($0.map(\.key.ranks)).count > 1 }
            guard benches.count > 1, let m = Self.metric(benches.flatMap { $0 }, prefer: [.busbw, .algbw]) else { continue }
            let full = benches.map(Self.sizesAtEveryGPUCount)
            let common = full.dropFirst().reduce(full[0]) { $0.intersection($1) }
            var lines: [Line] = []
            for (i, cells) in benches.enumerated() {
                guard let size = common.max() ?? full[i].max() else { continue }
                let at = cells.filter { $0.key.sizeBytes == size }
                lines.append(Line(name: "\(cells[0].key.benchmark), \(Fmt.size(size))",
                                  values: Self.best(values(at, metric: m, x: { Double($0.ranks) }))))
            }
            let backend = backendCells[0].key.backend
            figures.append(lineFigure(
                id: Grouping.slug(["scaling", "collectives", backend, m.rawValue]),
                title: "\(backend): \(m.title) vs GPUs, collectives compared",
                subtitle: common.isEmpty ? "each at its largest size measured at every GPU count" : "at the largest size all of them measured",
                x: Self.gpuAxis, y: Self.metricAxis(m), lines: lines, xText: Self.gpuText,
                findings: Self.scalingFindings(lines, metric: m) + Self.lowestEverywhere(lines, metric: m)))
        }
        // One chart per benchmark and backend, a series per size.
        for group in Grouping.split(sized, by: { "\($0.benchmark)\u{1}\($0.backend)" }, order: [.benchmark, .backend]) {
            let (cells, dropped) = Self.preferOutOfPlace(group)
            guard Set(cells.map(\.key.ranks)).count > 1, let m = Self.metric(cells) else { continue }
            let multi = cells.filter { c in cells.contains { $0.key.sizeBytes == c.key.sizeBytes && $0.key.ranks != c.key.ranks } }
            let all = Grouping.series(multi, by: [.size, .variant, .dtype, .op, .root, .buffer, .timing, .labels], single: "")
            let picked = spread(all, max: 6)
            let lines = picked.map { Line(name: $0.name, values: Self.best(values($0.cells, metric: m, x: { Double($0.ranks) }))) }
            let k = cells[0].key
            var findings = Self.scalingFindings(lines.suffix(1), metric: m)
            let flat = lines.filter { l in
                guard l.values.count > 1, let hi = l.values.map(\.y).max(), hi > 0 else { return false }
                return (hi - l.values.map(\.y).min()!) / hi < 0.1
            }
            if lines.count > 1, !flat.isEmpty {
                findings.append("\(flat.count) of \(lines.count) sizes drawn are nearly flat across GPU counts (within 10%): \(flat.map(\.name).joined(separator: ", ")).")
            }
            if dropped { findings.append(Self.inPlaceNote) }
            findings += leftOut["\(k.benchmark)\u{1}\(k.backend)"] ?? []
            figures.append(lineFigure(
                id: Grouping.slug(["scaling", k.benchmark, k.backend, m.rawValue]),
                title: "\(k.benchmark) (\(k.backend)): \(m.title) vs GPUs",
                subtitle: picked.count < all.count ? "\(picked.count) of \(all.count) message sizes" : nil,
                x: Self.gpuAxis, y: Self.metricAxis(m), lines: lines, xText: Self.gpuText, findings: findings))
        }
        guard !figures.isEmpty else { return nil }
        return Section(title: "Bandwidth vs number of GPUs", figures: figures)
    }

    /// Keeps the best value per x (several cells can share an x when other fields differ).
    static func best(_ values: [Value]) -> [Value] {
        var out: [Value] = []
        for v in values {
            if let i = out.firstIndex(where: { $0.x == v.x }) {
                if v.y > out[i].y { out[i] = v }
            } else {
                out.append(v)
            }
        }
        return out.sorted { $0.x < $1.x }
    }

    /// Sizes measured at every GPU count of these cells.
    static func sizesAtEveryGPUCount(_ cells: [Cell]) -> Set<Int64> {
        let ranks = Set(cells.map(\.key.ranks))
        var byRank: [Int: Set<Int64>] = [:]
        for c in cells { if let s = c.key.sizeBytes { byRank[c.key.ranks, default: []].insert(s) } }
        return ranks.compactMap { byRank[$0] }.reduce(byRank.values.first ?? []) { $0.intersection($1) }
    }

    /// "At 2 GiB, <series> at 256 GPUs is X GB/s, Y% of its 16-GPU value (Z GB/s)."
    static func scalingFindings<S: Collection>(_ lines: S, metric m: Metric) -> [String] where S.Element == Line {
        lines.compactMap { l in
            guard let a = l.first, let b = l.last, a.x != b.x, a.y > 0 else { return nil }
            let spreadFrac = (l.values.map(\.y).max()! - l.values.map(\.y).min()!) / l.values.map(\.y).max()!
            let flat = spreadFrac < 0.1 ? " (nearly flat: within \(Fmt.percent(spreadFrac)) across \(l.values.count) GPU counts)" : ""
            return "\(l.name): \(m.title) at \(gpuText(b.x)) GPUs is \(Fmt.value(b.y)) \(m.unit), \(Fmt.percent(b.y / a.y)) of its \(gpuText(a.x))-GPU value (\(Fmt.value(a.y)) \(m.unit))\(flat)."
        }
    }

    /// Names the series that is below every other one at every shared x, if there is one.
    static func lowestEverywhere(_ lines: [Line], metric m: Metric) -> [String] {
        for l in lines {
            let others = lines.filter { $0.name != l.name }
            let shared = l.values.filter { v in others.allSatisfy { $0.y(at: v.x) != nil } }
            guard !shared.isEmpty, shared.allSatisfy({ v in others.allSatisfy { $0.y(at: v.x)! > v.y } }) else { continue }
            return ["\(l.name) has the lowest \(m.title) at every GPU count measured (\(shared.count) of them)."]
        }
        return []
    }

    /// Bandwidth vs chunk size: one chart per benchmark and backend, a series per message size and GPU count.
    func chunkSection(_ all: [Cell]) -> Section? {
        let chunked = all.filter { $0.key.chunkBytes != nil }
        var figures: [Figure] = []
        for group in Grouping.split(chunked, by: { "\($0.benchmark)\u{1}\($0.backend)" }, order: [.benchmark, .backend]) {
            guard let m = Self.metric(group) else { continue }
            let k = group[0].key
            let lines = Grouping.series(group, by: [.size] + Self.seriesDims, single: "\(k.ranks) GPUs").map {
                Line(name: $0.name, values: Self.best(values($0.cells, metric: m, x: { $0.chunkBytes.map(Double.init) })))
            }
            let findings = lines.compactMap { l -> String? in
                guard m != .time, let b = l.maxValue, l.values.count > 1 else { return nil }
                return "\(l.name): best chunk size \(Self.sizeText(b.x)) (\(Fmt.value(b.y)) GB/s)."
            }
            figures.append(lineFigure(
                id: Grouping.slug(["chunk", k.benchmark, k.backend, m.rawValue]),
                title: "\(k.benchmark) (\(k.backend)): \(m.title) vs chunk size", subtitle: nil,
                x: Axis(label: "chunk size", unit: "bytes", scale: .log2, format: .bytes), y: Self.metricAxis(m),
                lines: lines, xText: Self.sizeText, findings: Array(findings.prefix(6))))
        }
        guard !figures.isEmpty else { return nil }
        return Section(title: "Bandwidth vs chunk size", figures: figures)
    }
}
