import Results
import Simulate

extension FigureKit {
    /// "What if: beyond one host": the NIC-selection simulator on the chosen shape, then the
    /// scaling model fitted to the inputs where they span GPU counts and nodes. The
    /// assumptions are stated under the charts; docs/simulate.md and docs/model.md give them in full.
    func whatIfSection(_ set: ResultSet, whatIf w: WhatIfOptions) -> Section {
        var intro = [
            "Two views of what no single machine shows, computed on paper (no GPU): how the choice of NIC for each chunk "
                + "spreads all-to-all traffic over the NICs of \(w.nodes.map(String.init).joined(separator: " and ")) nodes, and what a latency–bandwidth "
                + "model fitted to these results predicts at more GPUs. Both are models with stated assumptions, not measurements.",
        ]
        var figures: [Figure] = []
        do {
            figures += try nicFigures(w)
        } catch {
            intro.append("NIC-selection simulation: not run (\(error)).")
        }
        figures.append(Figure(chart: nil, findings: Self.nicAssumptions(w), table: Table(headers: ["simulator assumption", "see"], rows: [
            ["NICs are the only bottleneck: NVLink, PCIe and the network core are infinitely fast; no loss, no congestion control, unlimited buffering", "docs/simulate.md"],
            ["the receiving NIC has the sender's NIC index (rail-matched)", "docs/simulate.md"],
            ["every PE starts at time 0 and posts one chunk per destination per round, destinations in the order pe+1, pe+2, …", "docs/simulate.md"],
        ])))
        let (modelFigs, note) = modelFigures(set, whatIf: w)
        figures += modelFigs
        if let note { figures.append(Figure(chart: nil, findings: [note], table: Table(headers: ["model assumption", "see"], rows: Self.modelAssumptionRows))) }
        else if !modelFigs.isEmpty {
            figures.append(Figure(chart: nil, findings: [
                "The band is the 90th percentile of the fit's own residuals, not a confidence interval: it says nothing about effects "
                    + "absent from the fitted GPU counts, such as NCCL switching algorithms at scale or congestion in the network core.",
            ], table: Table(headers: ["model assumption", "see"], rows: Self.modelAssumptionRows)))
        }
        return Section(title: "What if: beyond one host", intro: intro, figures: figures)
    }

    static let modelAssumptionRows: [[String]] = [
        ["t = a0 + a1·(N−1) + S·(bNVL·fNVL + bNIC·fNIC): fixed and per-peer latency, seconds per byte over NVLink and over the NICs", "docs/model.md"],
        ["byte factors per collective: all-to-all sends (N−g)/N of its bytes over NICs; all-reduce is hierarchical (NVLink inside the node, one rail per GPU between nodes)", "docs/model.md"],
        ["one algorithm per collective: NCCL's switch to trees at scale and network congestion are not modelled", "docs/model.md"],
    ]

    static func nicAssumptions(_ w: WhatIfOptions) -> [String] {
        ["Shape simulated: \(w.gpusPerNode) GPUs per node, \(w.nicsPerGPU) NICs per GPU at \(Fmt.value(w.nicGBps)) GB/s per direction, "
            + "all-to-all of \(Fmt.size(w.messageBytes)) per pair in \(Fmt.size(w.chunkBytes)) chunks; bytes between GPUs of one node go over NVLink "
            + "and are not simulated. Change it with --what-if-nodes, --what-if-gpus-per-node, --what-if-nics-per-gpu, --what-if-nic-gbps."]
    }
}
