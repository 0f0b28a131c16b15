import Foundation
import Results
import Simulate

/// Part (b) of the "What if: beyond one host" section: the alpha–beta scaling model
/// (`gpucomm model`, docs/model.md) fitted on the inputs' multi-GPU-count data.
extension FigureKit {
    /// One measured collective the model can be fitted to: its valid rows and what they span.
    struct ModelGroup {
        var benchmark: String
        var backend: String
        var variant: String?
        var rows: [ResultRow]
        var ranks: [Int]
    }

    /// Groups of valid, sized rows of a modelled collective, out-of-place preferred over
    /// in-place, that span several GPU counts and more than one node.
    static func modelGroups(_ rows: [ResultRow], gpusPerNode: Int) -> [ModelGroup] {
        var byKey: [String: ModelGroup] = [:]
        for r in rows where r.sizeBytes != nil && RowValidity.reason(r) == nil
            && ByteFactors.of(benchmark: r.benchmark, ranks: 2, nodes: 1) != nil {
            let k = "\(r.benchmark)\u{1}\(r.backend)\u{1}\(r.variant ?? "")"
            byKey[k, default: ModelGroup(benchmark: r.benchmark, backend: r.backend, variant: r.variant, rows: [], ranks: [])].rows.append(r)
        }
        var groups: [ModelGroup] = []
        for k in byKey.keys.sorted() {
            var g = byKey[k]!
            if g.variant == "in_place", byKey["\(g.benchmark)\u{1}\(g.backend)\u{1}out_of_place"] != nil { continue }
            g.ranks = Set(g.rows.map(\.ranks)).sorted()
            let multiNode = g.rows.contains { ($0.nodes ?? Int((Double($0.ranks) / Double(gpusPerNode)).rounded(.up))) > 1 }
            if g.ranks.count > 1, multiNode, g.rows.count >= 4 { groups.append(g) }
        }
        return groups
    }

    /// GPUs per node: from rows that record nodes, else the runs' topology, else the what-if shape.
    static func gpusPerNode(_ set: ResultSet, fallback: Int) -> Int {
        if let g = set.rows.compactMap({ r in r.nodes.flatMap { $0 > 0 ? r.ranks / $0 : nil } }).max(), g > 0 { return g }
        if let g = set.runs.compactMap({ $0.topology?.gpusPerNode }).max(), g > 0 { return g }
        return fallback
    }

    /// Model figures, or the one sentence saying why there are none.
    func modelFigures(_ set: ResultSet, whatIf w: WhatIfOptions) -> (figures: [Figure], note: String?) {
        let gpn = Self.gpusPerNode(set, fallback: w.gpusPerNode)
        let groups = Self.modelGroups(set.rows, gpusPerNode: gpn)
        guard !groups.isEmpty else {
            let counts = Set(set.rows.filter { ByteFactors.of(benchmark: $0.benchmark, ranks: 2, nodes: 1) != nil }.map(\.ranks)).sorted()
            let seen = counts.isEmpty ? "no all-to-all, all-reduce, all-gather or reduce-scatter rows"
                : "modelled collectives at \(counts.map(String.init).joined(separator: ", ")) GPUs only"
            return ([], "Scaling model: not fitted. The inputs have \(seen); the model needs one collective measured at several GPU counts, "
                + "some of them across more than one node (\(gpn) GPUs per node), to fit the NIC term that decides scaling beyond one host.")
        }
        let topology = ModelTopology(gpusPerNode: gpn, nicGBpsPerGPU: w.nicGBps * Double(w.nicsPerGPU))
        return (groups.compactMap { modelFigure($0, topology: topology) }, nil)
    }

    /// Predicted bandwidth vs GPUs with its band and the measured points, for up to two sizes.
    func modelFigure(_ g: ModelGroup, topology: ModelTopology) -> Figure? {
        // Hold out the larger half of the GPU counts when the smaller half still spans nodes.
        let fitCounts = Array(g.ranks.prefix((g.ranks.count + 1) / 2))
        let maxFit = g.ranks.count >= 3 ? fitCounts.last! : g.ranks.last!
        var validation: ModelValidation?
        if maxFit < g.ranks.last!, g.rows.contains(where: { $0.ranks <= maxFit && ($0.nodes ?? ($0.ranks + topology.gpusPerNode - 1) / topology.gpusPerNode) > 1 }) {
            validation = try? ModelValidation(rows: g.rows, topology: topology, maxFitGPUs: maxFit)
        }
        let model: FittedModel
        if let m = validation?.models.first { model = m } else {
            let points = g.rows.compactMap { ModelPoint(row: $0, topology: topology) }
            guard let m = try? ScalingFit.fit(benchmark: g.benchmark, backend: g.backend, variant: g.variant, points: points, topology: topology) else { return nil }
            model = m
            validation = nil
        }
        let metric: Metric = g.rows.allSatisfy { $0.busbwGBps != nil } ? .busbw : .algbw
        let sizesPerCount = g.ranks.map { r in Set(g.rows.filter { $0.ranks == r }.compactMap(\.sizeBytes)) }
        let common = sizesPerCount.dropFirst().reduce(sizesPerCount[0]) { $0.intersection($1) }.sorted()
        guard !common.isEmpty else { return nil }
        let sizes = spread(common, max: 2)
        // GPU counts: the measured ones and doublings up to twice the largest.
        var xs = Set(g.ranks)
        var n = g.ranks[0]
        while n < 2 * g.ranks.last! { n *= 2; xs.insert(n) }
        let gpus = xs.sorted()
        var series: [Series] = [], bands: [Band] = [], misses: [String] = []
        var columns: [(String, [Int: String])] = []
        for (i, s) in sizes.enumerated() {
            var modelPts: [Point] = [], ranges: [BandPoint] = [], text: [Int: String] = [:]
            for x in gpus {
                guard let p = model.predict(sizeBytes: s, ranks: x) else { continue }
                let y = metric == .busbw ? p.busbwGBps : p.algbwGBps
                let lo = y * p.seconds / p.secondsHigh, hi = y * p.seconds / p.secondsLow
                modelPts.append(Point(x: Double(x), y: y))
                ranges.append(BandPoint(x: Double(x), low: lo, high: hi))
                text[x] = "\(Fmt.value(y)) (\(Fmt.value(lo))–\(Fmt.value(hi)))"
            }
            var measured: [Point] = [], mtext: [Int: String] = [:]
            for r in g.ranks {
                let v = g.rows.filter { $0.ranks == r && $0.sizeBytes == s }.compactMap { metric.value($0) }
                if let m = Stats.median(v) { measured.append(Point(x: Double(r), y: m)); mtext[r] = Fmt.value(m) }
            }
            // The text must agree with the points drawn: the fit's error over all sizes can hide a
            // size it does not follow at all (NVSHMEM host all-to-all falls to a quarter at 128 MiB).
            let ratios = measured.compactMap { m in modelPts.first { $0.x == m.x }.map { $0.y / m.y } }.filter { $0.isFinite && $0 > 0 }
            var name = "model, \(Fmt.size(s))"
            let sides = measured.compactMap { m in ranges.first { $0.x == m.x }.map { m.y < $0.low ? -1 : m.y > $0.high ? 1 : 0 } }
            if let r = Stats.median(ratios), r > 1.25 || r < 0.8 {
                name += " (\(Fmt.fixed(r, 2))× the measured)"
                misses.append("At \(Fmt.size(s)) the model is \(Fmt.fixed(r, 2))× the measured \(metric.title) (median over \(ratios.count) GPU counts): "
                    + "the fit's median error over all \(model.points) points (\(Fmt.percent(model.medianFitError))) does not hold at this size, "
                    + "and neither line nor band describes it (docs/model.md, 'Where it misses').")
            } else if sides.count > 1, let side = sides.first, side != 0, sides.allSatisfy({ $0 == side }) {
                // A size whose every measured point lies on one side of the band: an effect the model lacks.
                misses.append("At \(Fmt.size(s)) every measured point (\(sides.count) GPU counts) lies \(side < 0 ? "below" : "above") the band: "
                    + "an effect the alpha–beta model does not capture (docs/model.md, 'Where it misses').")
            }
            series.append(Series(name: name, points: modelPts, colour: i, shape: 0))
            series.append(Series(name: "measured, \(Fmt.size(s))", points: measured, colour: i, shape: 1, markersOnly: true))
            bands.append(Band(name: "90% band, \(Fmt.size(s))", colour: i, ranges: ranges))
            columns.append(("measured \(Fmt.size(s))", mtext))
            columns.append(("model \(Fmt.size(s)) (band)", text))
        }
        let fitted = model.fittedGPUs
        let heldOut = g.ranks.filter { $0 > maxFit && validation != nil }
        let beyond = gpus.filter { !g.ranks.contains($0) }
        let rows = gpus.map { x -> [String] in
            let role = fitted.contains(x) ? "fitted" : heldOut.contains(x) ? "held out" : g.ranks.contains(x) ? "measured" : "predicted only"
            return ["\(x)", role] + columns.map { $0.1[x] ?? "" }
        }
        var findings = ["Fitted on \(fitted.map(String.init).joined(separator: ", ")) GPUs (\(model.points) points, \(topology.gpusPerNode) GPUs per node): "
            + "median fit error \(Fmt.percent(model.medianFitError)) over all sizes, band ×/÷ \(Fmt.fixed(exp(model.band90), 2)); "
            + "NIC bandwidth per GPU implied by the fit \(model.nicGBps.map { Fmt.value($0) + " GB/s" } ?? "unbounded (no NIC time fitted)")."]
        if let v = validation, !v.entries.isEmpty {
            let e = v.entries.map(\.error)
            findings.append("Held out \(heldOut.map(String.init).joined(separator: ", ")) GPUs (never seen by the fit): median error "
                + "\(Fmt.percent(Simulate.Stats.quantile(e, 0.5))), max \(Fmt.percent(e.max()!)) over \(e.count) points at every measured size; "
                + "\(v.entries.filter(\.insideBand).count) of \(e.count) inside the 90% band.")
        }
        findings += misses
        if let top = gpus.last, !g.ranks.contains(top), let s = sizes.last, let p = model.predict(sizeBytes: s, ranks: top) {
            let y = metric == .busbw ? p.busbwGBps : p.algbwGBps
            findings.append("At \(top) GPUs (not measured) the model predicts \(Fmt.value(y)) GB/s \(metric.title) at \(Fmt.size(s)), "
                + "band \(Fmt.value(y * p.seconds / p.secondsHigh))–\(Fmt.value(y * p.seconds / p.secondsLow)) GB/s.")
        }
        let variant = g.variant.map { ", \($0)" } ?? ""
        let chart = Chart(
            id: Grouping.slug(["whatif", "model", g.benchmark, g.backend, g.variant ?? "", metric.rawValue]),
            title: "What if: \(g.benchmark) (\(g.backend)\(variant)), \(metric.title) vs GPUs, model and measurements",
            subtitle: "alpha–beta model fitted on \(fitted.map(String.init).joined(separator: ", ")) GPUs"
                + (heldOut.isEmpty ? "" : "; \(heldOut.map(String.init).joined(separator: ", ")) held out")
                + (beyond.isEmpty ? "" : "; \(beyond.map(String.init).joined(separator: ", ")) not measured")
                + "; shaded: 90% band from the fit's residuals",
            kind: .line, x: Self.gpuAxis, y: Self.metricAxis(metric), series: series, bands: bands)
        return Figure(chart: chart, findings: findings,
                      table: Table(headers: ["GPUs", "role"] + columns.map { "\($0.0) GB/s" }, rows: rows))
    }
}
