import Foundation
import Results

/// Fit on small GPU counts, predict the large ones, compare with what was measured.
public struct ModelValidation: Codable, Sendable, Equatable {
    /// One held-out measurement and its prediction.
    public struct Entry: Codable, Sendable, Equatable {
        public var benchmark: String
        public var backend: String
        public var variant: String?
        public var ranks: Int
        public var sizeBytes: Int64
        /// Bus bandwidth where the benchmark defines one, else algorithm bandwidth (GB/s).
        public var measuredGBps: Double
        public var predictedGBps: Double
        public var lowGBps: Double
        public var highGBps: Double
        /// |predicted − measured| / measured.
        public var error: Double
        public var insideBand: Bool

        enum CodingKeys: String, CodingKey {
            case benchmark, backend, variant, ranks, sizeBytes = "size_bytes", measuredGBps = "measured_gbps"
            case predictedGBps = "predicted_gbps", lowGBps = "low_gbps", highGBps = "high_gbps", error, insideBand = "inside_band"
        }
    }

    public var maxFitGPUs: Int
    public var models: [FittedModel]
    public var entries: [Entry]

    enum CodingKeys: String, CodingKey { case maxFitGPUs = "max_fit_gpus", models, entries }

    /// Fits on rows with at most `maxFitGPUs` GPUs and predicts every row with more.
    /// The held-out rows are never seen by the fit.
    public init(rows: [ResultRow], topology: ModelTopology, maxFitGPUs: Int, congestion: Bool = false) throws {
        self.maxFitGPUs = maxFitGPUs
        models = try ScalingFit.fitAll(rows: rows, topology: topology, maxGPUs: maxFitGPUs, congestion: congestion)
        var out: [Entry] = []
        for row in rows where row.ranks > maxFitGPUs {
            guard let m = models.first(where: { $0.benchmark == row.benchmark && $0.backend == row.backend && $0.variant == row.variant }),
                  let point = ModelPoint(row: row, topology: topology),
                  let p = m.predict(sizeBytes: point.sizeBytes, ranks: point.ranks, nodes: point.nodes),
                  let f = ByteFactors.of(benchmark: row.benchmark, ranks: point.ranks, nodes: point.nodes) else { continue }
            let factor = row.busbwGBps != nil ? f.busbw : 1
            let measured = Double(point.sizeBytes) / point.seconds / 1e9 * factor
            let predicted = Double(point.sizeBytes) / p.seconds / 1e9 * factor
            let low = Double(point.sizeBytes) / p.secondsHigh / 1e9 * factor
            let high = Double(point.sizeBytes) / p.secondsLow / 1e9 * factor
            out.append(Entry(benchmark: row.benchmark, backend: row.backend, variant: row.variant, ranks: row.ranks,
                             sizeBytes: point.sizeBytes, measuredGBps: measured, predictedGBps: predicted,
                             lowGBps: low, highGBps: high, error: abs(predicted - measured) / measured,
                             insideBand: measured >= low && measured <= high))
        }
        entries = out
    }

    /// Median error over the entries of one model (all held-out GPU counts and sizes).
    public func medianError(benchmark: String, backend: String, variant: String?) -> Double {
        Stats.quantile(entries.filter { $0.benchmark == benchmark && $0.backend == backend && $0.variant == variant }.map(\.error), 0.5)
    }

    /// Markdown: a summary per model, then every held-out point.
    public func markdown() -> String {
        var s = "| collective | backend | variant | fitted on GPUs | NIC GB/s per GPU (fit) | held-out GPUs | median error | max error | inside 90% band |\n"
        s += "|---|---|---|---|---:|---|---:|---:|---:|\n"
        for m in models {
            let e = entries.filter { $0.benchmark == m.benchmark && $0.backend == m.backend && $0.variant == m.variant }
            guard !e.isEmpty else { continue }
            let gpus = Set(e.map(\.ranks)).sorted().map(String.init).joined(separator: ", ")
            s += "| \(m.benchmark) | \(m.backend) | \(m.variant ?? "-") | \(m.fittedGPUs.map(String.init).joined(separator: ", ")) | "
            s += "\(m.nicGBps.map { Units.fixed($0, 1) } ?? "-") | \(gpus) | \(pct(Stats.quantile(e.map(\.error), 0.5))) | "
            s += "\(pct(e.map(\.error).max() ?? 0)) | \(e.filter(\.insideBand).count)/\(e.count) |\n"
        }
        s += "\n| collective | backend | variant | GPUs | size | measured GB/s | predicted GB/s | 90% band | error |\n"
        s += "|---|---|---|---:|---:|---:|---:|---|---:|\n"
        for e in entries.sorted(by: { ($0.benchmark, $0.backend, $0.variant ?? "", $0.ranks, $0.sizeBytes) < ($1.benchmark, $1.backend, $1.variant ?? "", $1.ranks, $1.sizeBytes) }) {
            s += "| \(e.benchmark) | \(e.backend) | \(e.variant ?? "-") | \(e.ranks) | \(Units.bytes(Double(e.sizeBytes))) | "
            s += "\(Units.fixed(e.measuredGBps, 2)) | \(Units.fixed(e.predictedGBps, 2)) | \(Units.fixed(e.lowGBps, 1))–\(Units.fixed(e.highGBps, 1)) | \(pct(e.error)) |\n"
        }
        return s
    }

    private func pct(_ v: Double) -> String { Units.fixed(v * 100, 1) + "%" }
}
