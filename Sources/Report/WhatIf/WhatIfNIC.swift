import Simulate

/// Part (a) of the "What if: beyond one host" section: the NIC-selection simulator
/// (`gpucomm simulate nic-selection`, docs/simulate.md) on the chosen shape, every policy.
extension FigureKit {
    /// Per-NIC rx bars per node count, rx imbalance vs policy, and a table of times and gains.
    /// Every number is computed here from the simulator; nothing is copied.
    func nicFigures(_ w: WhatIfOptions) throws -> [Figure] {
        let policies = NICPolicy.allCases
        var figures: [Figure] = []
        var reports: [(Int, NICSimulationReport)] = []
        for n in w.nodes { reports.append((n, try w.simulation(nodes: n).run(policies: policies))) }
        let names = policies.map(\.rawValue)
        let shape = "\(w.gpusPerNode) GPUs × \(w.nicsPerGPU) NICs of \(Fmt.value(w.nicGBps)) GB/s per node"
        let traffic = "all-to-all, \(Fmt.size(w.messageBytes)) per pair in \(Fmt.size(w.chunkBytes)) chunks"
        for (n, r) in reports {
            // The receiver the worst policy piles onto, as `simulate nic-selection` shows it.
            let worst = r.results.max { $0.rxImbalance < $1.rxImbalance }
            let pe = worst?.busiestRxPE ?? 0
            let lines = (0..<w.nicsPerGPU).map { k in
                Line(name: "nic\(k)", values: r.results.enumerated().map { i, p in
                    Value(x: Double(i), y: Double(p.nics.first { $0.pe == pe && $0.nic == k }?.rxBytes ?? 0) / 1_048_576, peak: nil)
                })
            }
            var findings: [String] = []
            if let shared = r.results.first(where: { $0.policy == .roundRobinShared }),
               let offset = r.results.first(where: { $0.policy == .roundRobinOffset }),
               let gain = r.gain(of: .roundRobinOffset, over: .roundRobinShared) {
                findings.append("\(n) nodes: with the shared round-robin start the busiest receiving NIC gets \(Fmt.fixed(shared.rxImbalance, 2))× "
                    + "the mean rx bytes; the per-PE offset brings it to \(Fmt.fixed(offset.rxImbalance, 2))× and finishes in "
                    + "\(Self.micros(offset.completionSeconds)) instead of \(Self.micros(shared.completionSeconds)): \(Fmt.fixed(gain, 2))× faster.")
            }
            if let single = r.results.first(where: { $0.policy == .single }),
               let shared = r.results.first(where: { $0.policy == .roundRobinShared }) {
                let same = abs(single.busiestNICSeconds - shared.busiestNICSeconds) <= 1e-12 * max(single.busiestNICSeconds, 1e-9)
                if same {
                    findings.append("With the shared start the busiest NIC carries as many bytes as with a single NIC (\(w.nicsPerGPU) NICs give no receive bandwidth).")
                }
            }
            var fig = barFigure(
                id: "whatif_nic_rx_\(n)_nodes",
                title: "What if: rx bytes per NIC at the busiest receiver (PE \(pe)), \(n) nodes",
                subtitle: "simulated: \(n) nodes × \(shape); \(traffic)",
                categoryHeader: "NIC-selection policy", categories: names,
                y: Axis(label: "rx bytes", unit: "MiB"), lines: lines, findings: findings)
            fig.table.headers[0] = "policy (rx MiB at PE \(pe))"
            figures.append(fig)
        }
        // Imbalance vs policy, a series per node count.
        let imbalance = reports.map { n, r in
            Line(name: "\(n) nodes", values: r.results.enumerated().map { Value(x: Double($0), y: $1.rxImbalance, peak: nil) })
        }
        var fig = barFigure(
            id: "whatif_nic_imbalance",
            title: "What if: receive imbalance (max/mean rx bytes over all NICs) by policy",
            subtitle: "simulated: \(shape); \(traffic); 1.00 is perfectly even, \(w.nicsPerGPU).00 is everything on one NIC of \(w.nicsPerGPU)",
            categoryHeader: "NIC-selection policy", categories: names,
            y: Axis(label: "rx max/mean", unit: "ratio"), lines: imbalance, findings: [])
        fig.chart?.references = [Reference(name: "perfectly even 1.00", y: 1)]
        figures.append(fig)
        // Times and gains, every policy and node count.
        var rows: [[String]] = []
        for (n, r) in reports {
            for p in r.results {
                rows.append(["\(n) nodes, \(p.policy.rawValue)", Self.micros(p.completionSeconds), Self.micros(p.busiestNICSeconds),
                             Fmt.fixed(p.txImbalance, 2), Fmt.fixed(p.rxImbalance, 2),
                             r.gain(of: p.policy, over: .roundRobinShared).map { Fmt.fixed($0, 2) + "×" } ?? "-"])
            }
        }
        figures.append(Figure(chart: nil, findings: [
            "Completion time is when the last chunk is received; the busiest-NIC bound is the bytes of the busiest NIC at line rate. "
                + "Gain is the shared start's time divided by the policy's (above 1: faster than round-robin-shared).",
        ], table: Table(headers: ["shape, policy", "time", "busiest-NIC bound", "tx max/mean", "rx max/mean", "gain vs round-robin-shared"], rows: rows)))
        return figures
    }

    /// `188.7 µs`.
    static func micros(_ s: Double) -> String { Fmt.fixed(s * 1e6, 1) + " µs" }
}
