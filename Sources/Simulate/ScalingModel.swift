import Foundation
import Measure
import Results

/// The machine the model speaks of: GPUs per NVLink domain (node) and, when known, the NIC
/// bandwidth per GPU. The node count of a row is `row.nodes`, else ceil(ranks / gpusPerNode).
public struct ModelTopology: Codable, Sendable, Equatable {
    public var gpusPerNode: Int
    /// NIC line rate per GPU and direction in GB/s; only used to say how much of it the fit reaches.
    public var nicGBpsPerGPU: Double?

    public init(gpusPerNode: Int, nicGBpsPerGPU: Double? = nil) {
        self.gpusPerNode = gpusPerNode
        self.nicGBpsPerGPU = nicGBpsPerGPU
    }

    enum CodingKeys: String, CodingKey { case gpusPerNode = "gpus_per_node", nicGBpsPerGPU = "nic_gbps_per_gpu" }
}

/// Which bytes of a collective cross which link, per byte of the message size (docs/model.md).
public struct ByteFactors: Sendable, Equatable {
    /// Bytes per GPU over NVLink (inside the node), per byte of size.
    public var nvlink: Double
    /// Bytes per GPU over its NICs (between nodes), per byte of size.
    public var nic: Double
    /// nccl-tests' busbw / algbw factor: Measure's `BusFactor`, the one the benchmarks use.
    public var busbw: Double

    /// Factors for `benchmark` on `ranks` GPUs in `nodes` nodes, or nil when no formula is known.
    public static func of(benchmark: String, ranks: Int, nodes: Int) -> ByteFactors? {
        let n = Double(max(nodes, 1))
        let N = Double(ranks)
        let g = Double(max(ranks / max(nodes, 1), 1))
        switch benchmark {
        case "alltoall", "all_to_all":
            // Each GPU sends size/N to every GPU: (g−1)/N of it stays in the node, (N−g)/N crosses NICs.
            return ByteFactors(nvlink: (g - 1) / N, nic: (N - g) / N, busbw: BusFactor.nMinus1OverN.factor(ranks: ranks))
        case "all_reduce":
            // Hierarchical: reduce-scatter + all-gather in the node (2(g−1)/g), all-reduce of size/g
            // between nodes on each GPU's rail (2(n−1)/n · 1/g).
            return ByteFactors(nvlink: 2 * (g - 1) / g, nic: 2 * (n - 1) / n / g, busbw: BusFactor.allReduce.factor(ranks: ranks))
        case "all_gather", "reduce_scatter":
            return ByteFactors(nvlink: (g - 1) / g, nic: (n - 1) / n / g, busbw: BusFactor.nMinus1OverN.factor(ranks: ranks))
        default:
            return nil
        }
    }
}

/// A fitted alpha–beta model for one collective, backend and variant:
/// `t = a0 + a1·(N−1) + S·(bNVL·fNVL + bNIC·fNIC [+ c·fNIC·log2 n])`.
public struct FittedModel: Codable, Sendable, Equatable {
    public var benchmark: String
    public var backend: String
    public var variant: String?
    public var topology: ModelTopology
    /// Seconds: fixed latency, and per peer (N−1).
    public var alphaSeconds: Double
    public var alphaPerPeerSeconds: Double
    /// Seconds per byte over NVLink and over the NICs (1/bandwidth).
    public var betaNVLink: Double
    public var betaNIC: Double
    /// Extra seconds per NIC byte per doubling of the node count; nil when not fitted.
    public var congestion: Double?
    /// |log(measured / fitted)| at the 90th percentile over the fit's points: the band half-width.
    public var band90: Double
    public var medianFitError: Double
    public var points: Int
    public var fittedGPUs: [Int]

    enum CodingKeys: String, CodingKey {
        case benchmark, backend, variant, topology, alphaSeconds = "alpha_s", alphaPerPeerSeconds = "alpha_per_peer_s"
        case betaNVLink = "beta_nvlink_s_per_byte", betaNIC = "beta_nic_s_per_byte", congestion = "congestion_s_per_byte"
        case band90 = "band90_log", medianFitError = "median_fit_error", points, fittedGPUs = "fitted_gpus"
    }

    /// Effective NIC bandwidth per GPU implied by betaNIC, GB/s.
    public var nicGBps: Double? { betaNIC > 0 ? 1 / betaNIC / 1e9 : nil }

    /// Predicted time and bandwidth at `sizeBytes` on `ranks` GPUs (nodes from the topology unless given).
    public func predict(sizeBytes: Int64, ranks: Int, nodes: Int? = nil) -> Prediction? {
        let n = nodes ?? Int((Double(ranks) / Double(topology.gpusPerNode)).rounded(.up))
        guard let x = ScalingFit.features(benchmark: benchmark, sizeBytes: sizeBytes, ranks: ranks, nodes: n,
                                          congestion: congestion != nil),
              let f = ByteFactors.of(benchmark: benchmark, ranks: ranks, nodes: n) else { return nil }
        let coefficients = [alphaSeconds, alphaPerPeerSeconds, betaNVLink, betaNIC] + (congestion.map { [$0] } ?? [])
        let t = zip(x, coefficients).map(*).reduce(0, +)
        guard t > 0 else { return nil }
        let s = Double(sizeBytes)
        return Prediction(sizeBytes: sizeBytes, ranks: ranks, nodes: n, seconds: t,
                          secondsLow: t * exp(-band90), secondsHigh: t * exp(band90),
                          algbwGBps: s / t / 1e9, busbwGBps: s / t / 1e9 * f.busbw)
    }
}

/// One prediction with its band (from the fit's residuals, not a statistical interval).
public struct Prediction: Codable, Sendable, Equatable {
    public var sizeBytes: Int64
    public var ranks: Int
    public var nodes: Int
    public var seconds: Double
    public var secondsLow: Double
    public var secondsHigh: Double
    public var algbwGBps: Double
    public var busbwGBps: Double

    enum CodingKeys: String, CodingKey {
        case sizeBytes = "size_bytes", ranks, nodes, seconds = "time_s", secondsLow = "time_low_s", secondsHigh = "time_high_s"
        case algbwGBps = "algbw_gbps", busbwGBps = "busbw_gbps"
    }
}

/// One measured point the model uses: size, GPUs, nodes, seconds.
public struct ModelPoint: Sendable, Equatable {
    public var sizeBytes: Int64
    public var ranks: Int
    public var nodes: Int
    public var seconds: Double

    /// The point of a result row: time from `time_us`, else size / algbw; nil without either.
    public init?(row: ResultRow, topology: ModelTopology) {
        guard let size = row.sizeBytes, size > 0, row.ranks > 0 else { return nil }
        let seconds: Double
        if let us = row.timeUs, us > 0 { seconds = us * 1e-6 } else if let a = row.algbwGBps, a > 0 {
            seconds = Double(size) / (a * 1e9)
        } else { return nil }
        self.init(sizeBytes: size, ranks: row.ranks,
                  nodes: row.nodes ?? Int((Double(row.ranks) / Double(topology.gpusPerNode)).rounded(.up)), seconds: seconds)
    }

    public init(sizeBytes: Int64, ranks: Int, nodes: Int, seconds: Double) {
        self.sizeBytes = sizeBytes
        self.ranks = ranks
        self.nodes = nodes
        self.seconds = seconds
    }
}

/// Fits `FittedModel`s to result rows.
public enum ScalingFit {
    /// The model's regressors: 1, N−1, S·fNVL, S·fNIC [, S·fNIC·log2 n].
    static func features(benchmark: String, sizeBytes: Int64, ranks: Int, nodes: Int, congestion: Bool) -> [Double]? {
        guard let f = ByteFactors.of(benchmark: benchmark, ranks: ranks, nodes: nodes) else { return nil }
        let s = Double(sizeBytes)
        var x = [1, Double(ranks - 1), s * f.nvlink, s * f.nic]
        if congestion { x.append(s * f.nic * log2(Double(max(nodes, 1)))) }
        return x
    }

    /// Fits one model to `points` by non-negative least squares on relative error
    /// (each equation divided by the measured time), so 32 MB and 8 GB points weigh alike.
    public static func fit(benchmark: String, backend: String, variant: String?, points: [ModelPoint],
                           topology: ModelTopology, congestion: Bool = false) throws -> FittedModel {
        guard ByteFactors.of(benchmark: benchmark, ranks: 2, nodes: 1) != nil else {
            throw SimulationInputError("no scaling formula for benchmark '\(benchmark)' (modelled: alltoall, all_reduce, all_gather, reduce_scatter)")
        }
        let columns = congestion ? 5 : 4
        guard points.count >= columns else {
            throw SimulationInputError("\(benchmark)/\(backend): \(points.count) points, the fit needs at least \(columns)")
        }
        var a: [[Double]] = []
        for p in points {
            guard let x = features(benchmark: benchmark, sizeBytes: p.sizeBytes, ranks: p.ranks, nodes: p.nodes, congestion: congestion) else { continue }
            a.append(x.map { $0 / p.seconds })
        }
        let c = LeastSquares.nonNegative(a, Array(repeating: 1, count: a.count))
        var model = FittedModel(
            benchmark: benchmark, backend: backend, variant: variant, topology: topology,
            alphaSeconds: c[0], alphaPerPeerSeconds: c[1], betaNVLink: c[2], betaNIC: c[3],
            congestion: congestion ? c[4] : nil, band90: 0, medianFitError: 0, points: points.count,
            fittedGPUs: Set(points.map(\.ranks)).sorted())
        let logs = points.compactMap { p in model.predict(sizeBytes: p.sizeBytes, ranks: p.ranks, nodes: p.nodes).map { abs(log(p.seconds / $0.seconds)) } }
        model.band90 = Stats.quantile(logs, 0.9)
        model.medianFitError = Stats.quantile(logs.map { exp($0) - 1 }, 0.5)
        return model
    }

    /// One model per (benchmark, backend, variant) found in `rows`, for rows with at most `maxGPUs` GPUs.
    public static func fitAll(rows: [ResultRow], topology: ModelTopology, maxGPUs: Int? = nil,
                              congestion: Bool = false) throws -> [FittedModel] {
        var groups: [String: (String, String, String?, [ModelPoint])] = [:]
        for row in rows where ByteFactors.of(benchmark: row.benchmark, ranks: 2, nodes: 1) != nil {
            guard maxGPUs.map({ row.ranks <= $0 }) ?? true, let p = ModelPoint(row: row, topology: topology) else { continue }
            let key = [row.benchmark, row.backend, row.variant ?? ""].joined(separator: "/")
            groups[key, default: (row.benchmark, row.backend, row.variant, [])].3.append(p)
        }
        if groups.isEmpty {
            throw SimulationInputError("no rows with a size and a time or bandwidth for a modelled collective (alltoall, all_reduce, all_gather, reduce_scatter)")
        }
        return try groups.keys.sorted().map { k in
            let g = groups[k]!
            return try fit(benchmark: g.0, backend: g.1, variant: g.2, points: g.3, topology: topology, congestion: congestion)
        }
    }
}

/// Order statistics.
public enum Stats {
    /// Linear-interpolated quantile (q in 0…1) of `values`; 0 for none.
    public static func quantile(_ values: [Double], _ q: Double) -> Double {
        let v = values.sorted()
        guard !v.isEmpty else { return 0 }
        let pos = q * Double(v.count - 1)
        let lo = Int(pos.rounded(.down)), hi = Int(pos.rounded(.up))
        return v[lo] + (v[hi] - v[lo]) * (pos - Double(lo))
    }
}
