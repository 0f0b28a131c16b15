/// Sections that set methods side by side: backends of one benchmark, and application
/// variants (Jacobi) by time, speedup and efficiency.
extension FigureKit {
    /// Backend comparison per benchmark measured with more than one backend: peak bandwidth per
    /// GPU count as grouped bars, then each pair of backends at the message sizes both measured.
    func backendSection(_ all: [Cell]) -> Section? {
        let sized = all.filter { $0.key.sizeBytes != nil && $0.key.chunkBytes == nil }
        var figures: [Figure] = []
        for bench in Grouping.split(sized, by: { $0.benchmark }, order: [.benchmark]) {
            let backends = Grouping.split(bench, by: { $0.backend }, order: [.backend]).map { Self.preferOutOfPlace($0).cells }
            guard backends.count > 1, let m = Self.metric(backends.flatMap { $0 }, prefer: [.busbw, .algbw]) else { continue }
            let name = bench[0].key.benchmark
            let ranks = Set(bench.map(\.key.ranks)).sorted()
            let categories = ranks.map { "\($0) GPUs" }
            var lines: [Line] = []
            for cells in backends {
                let vals = ranks.enumerated().compactMap { i, r -> Value? in
                    values(cells.filter { $0.key.ranks == r }, metric: m, x: { _ in Double(i) }).max { $0.y < $1.y }
                }
                lines.append(Line(name: cells[0].key.backend, values: vals))
            }
            figures.append(barFigure(
                id: Grouping.slug(["backends", name, m.rawValue]),
                title: "\(name): best \(m.title) over message sizes, by backend",
                subtitle: "highest median over all sizes measured at each GPU count",
                categoryHeader: "GPUs", categories: categories, y: Self.metricAxis(m), lines: lines,
                findings: Self.aheadFindings(lines, categories: categories, metric: m) + Self.flatFindings(lines, categories: categories)))
            // Four or more backends (gpucomm alltoall --backends all): one chart, a series per backend;
            // pairs only for up to three (six pair charts at four backends tell less than one chart).
            if backends.count > 3 {
                figures += allBackendsFigures(backends, metric: m)
                continue
            }
            // Pairs at common sizes.
            for i in 0..<backends.count {
                for j in (i + 1)..<backends.count {
                    if let fig = pairFigure(backends[i], backends[j], metric: m) { figures.append(fig) }
                }
            }
        }
        guard !figures.isEmpty else { return nil }
        return Section(title: "Backend comparison", figures: figures)
    }

    /// Every backend of one benchmark vs message size, one chart per GPU count measured by several backends.
    func allBackendsFigures(_ backends: [[Cell]], metric m: Metric) -> [Figure] {
        let bench = backends[0][0].key.benchmark
        let ranks = Set(backends.flatMap { $0.map(\.key.ranks) }).sorted()
        var figures: [Figure] = []
        for r in ranks {
            let lines = backends.compactMap { cells -> Line? in
                let vals = Self.best(values(cells.filter { $0.key.ranks == r }, metric: m, x: { $0.sizeBytes.map(Double.init) }))
                return vals.isEmpty ? nil : Line(name: cells[0].key.backend, values: vals)
            }
            guard lines.count > 1 else { continue }
            // Per size, the highest series; runs of sizes with the same leader merged.
            var runs: [(String, [Double])] = []
            for x in Set(lines.flatMap { $0.values.map(\.x) }).sorted() {
                let at = lines.compactMap { l in l.y(at: x).map { (l.name, $0) } }
                guard at.count > 1, let w = at.max(by: { $0.1 < $1.1 }) else { continue }
                if runs.last?.0 == w.0 { runs[runs.count - 1].1.append(x) } else { runs.append((w.0, [x])) }
            }
            let parts = runs.map { name, xs in
                "\(name) at \(Self.sizeText(xs.first!))\(xs.count > 1 ? "–" + Self.sizeText(xs.last!) : "")"
            }
            var findings = parts.isEmpty ? [] : ["Highest \(m.title) by size: " + parts.joined(separator: "; ") + "."]
            if let top = lines.flatMap({ l in l.values.map { (l.name, $0) } }).max(by: { $0.1.y < $1.1.y }) {
                findings.append("Peak: \(top.0), \(Fmt.fixed(top.1.y, 1)) at \(Self.sizeText(top.1.x)).")
            }
            figures.append(lineFigure(
                id: Grouping.slug(["backends", bench, "all", "\(r)gpus", m.rawValue]),
                title: "\(bench): \(m.title) vs message size, every backend",
                subtitle: "\(r) GPUs", x: Self.sizeAxis, y: Self.metricAxis(m), lines: lines,
                xText: Self.sizeText, findings: findings))
        }
        return figures
    }

    /// Two backends at the sizes both measured: vs GPUs when both measured several GPU counts, else vs size.
    func pairFigure(_ a: [Cell], _ b: [Cell], metric m: Metric) -> Figure? {
        let sizes = Set(a.compactMap(\.key.sizeBytes)).intersection(b.compactMap(\.key.sizeBytes)).sorted()
        guard !sizes.isEmpty else { return nil }
        let ranks = Set(a.map(\.key.ranks)).intersection(b.map(\.key.ranks)).sorted()
        guard !ranks.isEmpty else { return nil }
        let an = a[0].key.backend, bn = b[0].key.backend, bench = a[0].key.benchmark
        var lines: [Line] = []
        let byGPUs = ranks.count > 1
        if byGPUs {
            // Colour tells the backend, marker and dash tell the size.
            for (si, s) in spread(sizes, max: 4).enumerated() {
                for (bi, cells) in [a, b].enumerated() {
                    let at = cells.filter { $0.key.sizeBytes == s && ranks.contains($0.key.ranks) }
                    lines.append(Line(name: "\(cells[0].key.backend), \(Fmt.size(s))",
                                      values: Self.best(values(at, metric: m, x: { Double($0.ranks) })), colour: bi, shape: si))
                }
            }
        } else {
            for cells in [a, b] {
                let at = cells.filter { $0.key.ranks == ranks[0] && sizes.contains($0.key.sizeBytes!) }
                lines.append(Line(name: cells[0].key.backend, values: Self.best(values(at, metric: m, x: { $0.sizeBytes.map(Double.init) }))))
            }
        }
        var findings: [String] = []
        var ratios: [Double] = []
        if byGPUs {
            // Per size: at which GPU counts each backend is ahead.
            for s in spread(sizes, max: 4) {
                let la = lines.first { $0.name == "\(an), \(Fmt.size(s))" }, lb = lines.first { $0.name == "\(bn), \(Fmt.size(s))" }
                guard let la, let lb else { continue }
                var ahead: [String: [String]] = [:]
                for v in la.values { if let w = lb.y(at: v.x) { ahead[v.y >= w ? an : bn, default: []].append(Self.gpuText(v.x)) } }
                let parts = [an, bn].compactMap { n in ahead[n].map { "\(n) at \($0.joined(separator: ", ")) GPUs" } }
                if !parts.isEmpty { findings.append("At \(Fmt.size(s)) the higher \(m.title) is " + parts.joined(separator: "; ") + ".") }
                for v in la.values { if let w = lb.y(at: v.x), w > 0 { ratios.append(v.y / w) } }
            }
            if let lo = ratios.min(), let hi = ratios.max(), lo > 1 || hi < 1 {
                let (hiName, loName, r0, r1) = lo > 1 ? (an, bn, lo, hi) : (bn, an, 1 / hi, 1 / lo)
                findings.append("\(hiName) reaches \(Fmt.fixed(r0, 2))×–\(Fmt.fixed(r1, 2))× the \(m.title) of \(loName) at every common point (\(ratios.count)).")
            }
        } else if lines.count == 2 {
            for v in lines[0].values { if let w = lines[1].y(at: v.x), w > 0 { ratios.append(v.y / w) } }
            if let lo = ratios.min(), let hi = ratios.max() {
                let x = { (r: Double) in Fmt.fixed(r, 2) + "×" }
                if lo > 1 {
                    findings.append("\(an) is ahead of \(bn) at every common size (\(ratios.count)): \(x(lo))–\(x(hi)) its \(m.title).")
                } else if hi < 1 {
                    findings.append("\(bn) is ahead of \(an) at every common size (\(ratios.count)): \(x(1 / hi))–\(x(1 / lo)) its \(m.title).")
                } else {
                    findings.append("Neither is ahead at every size: \(an) is ahead at \(ratios.filter { $0 > 1 }.count) of \(ratios.count) (ratio \(x(lo))–\(x(hi))).")
                }
            }
        }
        return lineFigure(
            id: Grouping.slug(["backends", bench, an, "vs", bn, m.rawValue]),
            title: "\(bench): \(an) vs \(bn), \(m.title) at common message sizes",
            subtitle: byGPUs ? nil : "\(ranks[0]) GPUs",
            x: byGPUs ? Self.gpuAxis : Self.sizeAxis, y: Self.metricAxis(m), lines: lines,
            xText: byGPUs ? Self.gpuText : Self.sizeText, findings: findings)
    }

    /// Which series is highest in each category, runs of categories merged.
    static func aheadFindings(_ lines: [Line], categories: [String], metric m: Metric) -> [String] {
        var winners: [(String, [String])] = []
        for (i, c) in categories.enumerated() {
            let present = lines.compactMap { l in l.y(at: Double(i)).map { (l.name, $0) } }
            guard present.count > 1, let w = present.max(by: { $0.1 < $1.1 }) else { continue }
            if winners.last?.0 == w.0 { winners[winners.count - 1].1.append(c) } else { winners.append((w.0, [c])) }
        }
        guard !winners.isEmpty else { return [] }
        if winners.count == 1 {
            let w = winners[0]
            return [w.1.count > 1 ? "\(w.0) has the highest \(m.title) at each of the \(w.1.count) GPU counts."
                                  : "\(w.0) has the highest \(m.title) (\(w.1[0]))."]
        }
        let parts = winners.map { "\($0.0) at \($0.1.joined(separator: ", "))" }
        return ["Highest \(m.title): " + parts.joined(separator: "; ") + "."]
    }

    /// For each series over several categories: nearly flat (spread under 10%) or how far it falls.
    static func flatFindings(_ lines: [Line], categories: [String]) -> [String] {
        lines.compactMap { l in
            guard l.values.count > 1, let a = l.first, let b = l.last, let hi = l.values.map(\.y).max(), hi > 0 else { return nil }
            let lo = l.values.map(\.y).min()!
            if (hi - lo) / hi < 0.1 {
                return "\(l.name) is nearly flat: within \(Fmt.percent((hi - lo) / hi)) from \(categories[Int(a.x)]) to \(categories[Int(b.x)])."
            }
            guard a.y > 0 else { return "\(l.name) goes from \(Fmt.value(a.y)) at \(categories[Int(a.x)]) to \(Fmt.value(b.y)) at \(categories[Int(b.x)])." }
            return "\(l.name) at \(categories[Int(b.x)]) is \(Fmt.percent(b.y / a.y)) of its value at \(categories[Int(a.x)])."
        }
    }

    /// Application results (rows without a message size that carry time, speedup or efficiency):
    /// per benchmark, time and speedup vs GPUs per variant, efficiency as grouped bars.
    func applicationSection(_ all: [Cell]) -> Section? {
        let app = all.filter { c in c.key.sizeBytes == nil && c.key.chunkBytes == nil
            && (c.values[.time] != nil || c.values[.speedup] != nil || c.values[.efficiency] != nil) }
        var figures: [Figure] = []
        for bench in Grouping.split(app, by: { $0.benchmark }, order: [.benchmark]) {
            let name = bench[0].key.benchmark
            let groups = Grouping.series(bench, by: [.variant, .backend, .dtype, .buffer, .timing, .labels], single: name)
            let ranks = Set(bench.map(\.key.ranks)).sorted()
            let x: (BenchKey) -> Double? = { Double($0.ranks) }
            if bench.allSatisfy({ $0.values[.time] != nil }) {
                let maxUs = bench.compactMap { $0.median(.time) }.max() ?? 0
                let seconds = maxUs >= 1e5
                let lines = groups.map { g in
                    Line(name: g.name, values: values(g.cells, metric: .time, x: x).map { Value(x: $0.x, y: seconds ? $0.y / 1e6 : $0.y) })
                }
                let unit = seconds ? "s" : "µs"
                var findings: [String] = []
                if let top = ranks.last, ranks.count > 1 {
                    let at = lines.compactMap { l in l.y(at: Double(top)).map { (l.name, $0) } }
                    if let best = at.min(by: { $0.1 < $1.1 }), let worst = at.max(by: { $0.1 < $1.1 }), at.count > 1 {
                        // A ratio only over a non-zero time (the fuzzer found "inf× slower" for a time of 0).
                        let slower = best.1 > 0 ? ", \(Fmt.fixed(worst.1 / best.1, 2))× slower" : ""
                        findings.append("At \(top) GPUs the fastest is \(best.0) (\(Fmt.value(best.1)) \(unit)); the slowest is \(worst.0) (\(Fmt.value(worst.1)) \(unit))\(slower).")
                    }
                }
                figures.append(lineFigure(
                    id: Grouping.slug(["app", name, "time"]), title: "\(name): time vs GPUs", subtitle: nil,
                    x: Self.gpuAxis, y: Axis(label: "time", unit: unit), lines: lines, xText: Self.gpuText, findings: findings))
            }
            if bench.contains(where: { $0.values[.speedup] != nil }) {
                let lines = groups.map { Line(name: $0.name, values: values($0.cells, metric: .speedup, x: x)) }.filter { !$0.values.isEmpty }
                var findings: [String] = []
                if let top = ranks.last, ranks.count > 1 {
                    let at = lines.compactMap { l in l.y(at: Double(top)).map { (l.name, $0) } }
                    if let best = at.max(by: { $0.1 < $1.1 }), let worst = at.min(by: { $0.1 < $1.1 }), at.count > 1 {
                        findings.append("At \(top) GPUs the highest speedup is \(best.0) (\(Fmt.fixed(best.1, 2))×); the lowest is \(worst.0) (\(Fmt.fixed(worst.1, 2))×).")
                    }
                }
                figures.append(lineFigure(
                    id: Grouping.slug(["app", name, "speedup"]), title: "\(name): speedup vs GPUs", subtitle: nil,
                    x: Self.gpuAxis, y: Axis(label: "speedup", unit: "×"), lines: lines, xText: Self.gpuText,
                    findings: findings))
            }
            if bench.contains(where: { $0.values[.efficiency] != nil }) {
                let categories = ranks.map { "\($0) GPUs" }
                let lines = groups.map { g in
                    Line(name: g.name, values: ranks.enumerated().compactMap { i, r in
                        g.cells.first { $0.key.ranks == r }?.median(.efficiency).map { Value(x: Double(i), y: $0) }
                    })
                }.filter { !$0.values.isEmpty }
                var findings: [String] = []
                if let i = ranks.indices.last, ranks.count > 1 {
                    let at = lines.compactMap { l in l.y(at: Double(i)).map { (l.name, $0) } }
                    if let best = at.max(by: { $0.1 < $1.1 }), let worst = at.min(by: { $0.1 < $1.1 }), at.count > 1 {
                        findings.append("At \(ranks[i]) GPUs the most efficient is \(best.0) (\(Fmt.fixed(best.1, 1))%); the least is \(worst.0) (\(Fmt.fixed(worst.1, 1))%).")
                    }
                }
                figures.append(barFigure(
                    id: Grouping.slug(["app", name, "efficiency"]), title: "\(name): parallel efficiency by variant",
                    subtitle: nil, categoryHeader: "GPUs", categories: categories,
                    y: Axis(label: "efficiency", unit: "%"), lines: lines, findings: findings))
            }
        }
        guard !figures.isEmpty else { return nil }
        return Section(title: "Application scaling", figures: figures)
    }
}
