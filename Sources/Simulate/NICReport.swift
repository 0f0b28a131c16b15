import Foundation

/// Bytes one NIC sent and received, in total and per time bin.
public struct NICLoad: Codable, Sendable, Equatable {
    public var pe: Int
    public var node: Int
    /// NIC index on its GPU (0 ..< nics per GPU).
    public var nic: Int
    public var txBytes: Int64
    public var rxBytes: Int64
    /// Bytes per time bin (the policy's completion time cut into equal bins).
    public var txOverTime: [Double]
    public var rxOverTime: [Double]

    enum CodingKeys: String, CodingKey {
        case pe, node, nic, txBytes = "tx_bytes", rxBytes = "rx_bytes", txOverTime = "tx_over_time", rxOverTime = "rx_over_time"
    }
}

/// What one policy did.
public struct PolicyResult: Codable, Sendable, Equatable {
    public var policy: NICPolicy
    /// When the last chunk was received.
    public var completionSeconds: Double
    /// Bytes of the busiest NIC (tx or rx) at line rate: the completion time no schedule can beat.
    public var busiestNICSeconds: Double
    /// max / mean over all NICs of total bytes sent (tx) and received (rx).
    public var txImbalance: Double
    public var rxImbalance: Double
    /// Mean over busy time bins of max / mean rx bytes over all NICs in the bin.
    public var rxImbalanceOverTime: Double
    public var binSeconds: Double
    public var nics: [NICLoad]

    /// The PE whose NIC received the most bytes (lowest PE on ties).
    public var busiestRxPE: Int {
        var best = nics.first
        for n in nics where n.rxBytes > (best?.rxBytes ?? 0) { best = n }
        return best?.pe ?? 0
    }

    enum CodingKeys: String, CodingKey {
        case policy, completionSeconds = "completion_s", busiestNICSeconds = "busiest_nic_s"
        case txImbalance = "tx_max_over_mean", rxImbalance = "rx_max_over_mean"
        case rxImbalanceOverTime = "rx_max_over_mean_over_time", binSeconds = "bin_s", nics
    }
}

/// The outcome of a simulation: one result per policy.
public struct NICSimulationReport: Codable, Sendable, Equatable {
    public var topology: NICTopology
    public var pattern: String
    public var chunkBytes: Int64
    public var window: Int
    /// Bytes that cross NICs (source and destination on different nodes).
    public var interNodeBytes: Int64
    /// Bytes between GPUs of one node: over NVLink, not simulated.
    public var intraNodeBytes: Int64
    public var results: [PolicyResult]

    /// Completion time of `baseline` divided by that of `policy` (> 1: `policy` is faster).
    public func gain(of policy: NICPolicy, over baseline: NICPolicy) -> Double? {
        guard let a = results.first(where: { $0.policy == policy }),
              let b = results.first(where: { $0.policy == baseline }), a.completionSeconds > 0 else { return nil }
        return b.completionSeconds / a.completionSeconds
    }

    enum CodingKeys: String, CodingKey {
        case topology, pattern, chunkBytes = "chunk_bytes", window, interNodeBytes = "inter_node_bytes"
        case intraNodeBytes = "intra_node_bytes", results
    }

    /// JSON with sorted keys: stable across runs.
    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try e.encode(self), as: UTF8.self) + "\n"
    }

    /// The human table: one row per policy, then per-NIC bytes at the busiest receiving GPU.
    /// With `timeline`, also the rx bytes per time bin of each NIC of that GPU, per policy.
    public func table(baseline: NICPolicy, timeline: Bool = false) -> String {
        let t = topology
        var out = "nic-selection: \(t.nodes) nodes × \(t.gpusPerNode) GPUs × \(t.nicsPerGPU) NICs, "
        out += "\(Units.rate(t.lineRateGBps)) per NIC per direction, \(pattern), chunk \(Units.bytes(Double(chunkBytes))), "
        out += "window \(window == 0 ? "unlimited" : String(window))\n"
        out += "inter-node \(Units.bytes(Double(interNodeBytes))) over NICs; intra-node \(Units.bytes(Double(intraNodeBytes))) over NVLink (not simulated)\n\n"
        let gainHeader = "gain vs \(baseline.rawValue)"
        var rows: [[String]] = [["policy", "time", "busiest-NIC bound", "tx max/mean", "rx max/mean", "rx max/mean over time", gainHeader]]
        for r in results {
            rows.append([
                r.policy.rawValue, Units.seconds(r.completionSeconds), Units.seconds(r.busiestNICSeconds),
                Units.fixed(r.txImbalance, 2), Units.fixed(r.rxImbalance, 2), Units.fixed(r.rxImbalanceOverTime, 2),
                gain(of: r.policy, over: baseline).map { Units.fixed($0, 2) + "×" } ?? "-",
            ])
        }
        out += Units.columns(rows)
        guard let worst = results.max(by: { $0.rxImbalance < $1.rxImbalance }) else { return out }
        let pe = worst.busiestRxPE
        out += "\nrx bytes per NIC at PE \(pe) (node \(t.node(of: pe))), the busiest receiver under \(worst.policy.rawValue):\n"
        var nicRows: [[String]] = [["policy"] + (0..<t.nicsPerGPU).map { "nic\($0)" }]
        for r in results {
            nicRows.append([r.policy.rawValue] + r.nics.filter { $0.pe == pe }.map { Units.bytes(Double($0.rxBytes)) })
        }
        out += Units.columns(nicRows)
        guard timeline else { return out }
        out += "\nrx bytes per time bin at PE \(pe) (each policy's completion time in \(results.first?.nics.first?.rxOverTime.count ?? 0) equal bins):\n"
        var binRows: [[String]] = [["policy", "nic", "bin width"] + (1...max(1, results.first?.nics.first?.rxOverTime.count ?? 1)).map(String.init)]
        for r in results {
            for n in r.nics where n.pe == pe {
                binRows.append([r.policy.rawValue, String(n.nic), Units.seconds(r.binSeconds)] + n.rxOverTime.map { Units.bytes($0.rounded()) })
            }
        }
        out += Units.columns(binRows)
        return out
    }
}

/// Fixed-precision formatting shared by tables and charts of this target.
enum Units {
    static func fixed(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }

    static func bytes(_ v: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var x = v
        var i = 0
        while x >= 1024 && i < units.count - 1 { x /= 1024; i += 1 }
        return i == 0 ? "\(Int(x)) B" : fixed(x, x < 10 ? 2 : 1) + " " + units[i]
    }

    static func seconds(_ s: Double) -> String {
        if s >= 1 { return fixed(s, 3) + " s" }
        if s >= 1e-3 { return fixed(s * 1e3, 3) + " ms" }
        return fixed(s * 1e6, 3) + " us"
    }

    static func rate(_ gbps: Double) -> String { (gbps >= 0.01 ? fixed(gbps, 2) : String(format: "%.3g", gbps)) + " GB/s" }

    /// Left-aligned first column, right-aligned others, two spaces between.
    static func columns(_ rows: [[String]]) -> String {
        let n = rows.map(\.count).max() ?? 0
        let widths = (0..<n).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}
