import Foundation

/// Imbalance of one group of paths that should share traffic evenly: all NICs, or one GPU's NVLinks.
///
/// The ratio is max / mean of the members' rates, per direction: 1.0 is perfectly even,
/// N (the member count) means one member carries everything.
public struct Imbalance: Sendable, Hashable {
    /// `nics` for all RDMA devices, or the GPU's name (`gpu0`) for its NVLinks.
    public var group: String
    /// Members that were up and had a rate (NIC devices, or links).
    public var members: Int
    /// max/mean of transmit rates; nil when the group carried nothing or has under two members.
    public var tx: Double?
    /// max/mean of receive rates; nil when the group carried nothing or has under two members.
    public var rx: Double?
    /// Member carrying the most transmit / receive traffic.
    public var busiestTx: String?
    public var busiestRx: String?
    /// True when tx or rx passed the threshold while the group carried at least the policy's floor.
    public var flagged: Bool
}

/// When an imbalance is worth highlighting.
public struct ImbalancePolicy: Sendable, Hashable {
    /// Ratio past which a group is flagged (`--imbalance-threshold`, default 1.5).
    public var threshold: Double
    /// Mean rate (bytes/s per member) under which a group is idle and never flagged: idle noise is not imbalance.
    public var floorBytesPerSecond: Double

    public init(threshold: Double = 1.5, floorBytesPerSecond: Double = 1_000_000) {
        self.threshold = threshold
        self.floorBytesPerSecond = floorBytesPerSecond
    }

    /// max / mean of `values`, or nil when there are under two values or the mean is zero.
    public static func ratio(_ values: [Double]) -> Double? {
        guard values.count >= 2 else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        guard mean > 0, let max = values.max() else { return nil }
        return max / mean
    }

    /// One entry for all NICs (when there are any) and one per GPU, in device order.
    public func evaluate(_ devices: [DeviceRates]) -> [Imbalance] {
        var out: [Imbalance] = []
        let nics = devices.filter { $0.kind == .nic && $0.ports.contains(where: \.isUp) }
        if !nics.isEmpty {
            out.append(group("nics", nics.map { ($0.name, $0.totals["tx_bytes"], $0.totals["rx_bytes"]) }))
        }
        for gpu in devices where gpu.kind == .gpu {
            let links = gpu.ports.filter(\.isUp)
            out.append(group(gpu.name, links.map { ("\(gpu.name)/link\($0.port)", $0.rate("tx_bytes"), $0.rate("rx_bytes")) }))
        }
        return out
    }

    private func group(_ name: String, _ members: [(String, Double?, Double?)]) -> Imbalance {
        let withRates = members.filter { $0.1 != nil || $0.2 != nil }
        let tx = withRates.map { $0.1 ?? 0 }
        let rx = withRates.map { $0.2 ?? 0 }
        let txRatio = Self.ratio(tx)
        let rxRatio = Self.ratio(rx)
        func busy(_ v: [Double]) -> String? {
            guard let m = v.max(), m > 0, let i = v.firstIndex(of: m) else { return nil }
            return withRates[i].0
        }
        func hot(_ r: Double?, _ v: [Double]) -> Bool {
            guard let r, !v.isEmpty else { return false }
            return r > threshold && v.reduce(0, +) / Double(v.count) >= floorBytesPerSecond
        }
        return Imbalance(group: name, members: withRates.count, tx: txRatio, rx: rxRatio,
                         busiestTx: busy(tx), busiestRx: busy(rx),
                         flagged: hot(txRatio, tx) || hot(rxRatio, rx))
    }
}
