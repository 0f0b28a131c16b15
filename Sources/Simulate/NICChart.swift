import Foundation

/// Per-NIC load bars as a plain value: one group per policy, one bar per NIC of one GPU.
public struct NICLoadChart: Sendable, Equatable {
    public var title: String
    /// Label under each group: the policy name.
    public var groups: [String]
    /// rx max/mean over all NICs per group, printed under the name.
    public var imbalance: [Double]
    /// `values[group][nic]`: rx bytes of that NIC.
    public var values: [[Double]]
    public var yLabel: String

    /// Chart of rx bytes per NIC at the busiest receiving PE of the most imbalanced policy.
    public init(report: NICSimulationReport) {
        let worst = report.results.max(by: { $0.rxImbalance < $1.rxImbalance })
        let pe = worst?.busiestRxPE ?? 0
        let t = report.topology
        title = "rx bytes per NIC at PE \(pe): \(t.nodes)×\(t.gpusPerNode) GPUs, \(t.nicsPerGPU) NICs/GPU, \(report.pattern)"
        groups = report.results.map(\.policy.rawValue)
        imbalance = report.results.map(\.rxImbalance)
        values = report.results.map { r in r.nics.filter { $0.pe == pe }.map { Double($0.rxBytes) } }
        yLabel = "rx bytes (MiB)"
    }

    /// Okabe & Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/).
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

    /// A small, byte-stable SVG: fixed number precision, fixed element order, no timestamps.
    public func svg() -> String {
        let width = 720.0, height = 340.0
        let left = 64.0, right = 16.0, top = 44.0, bottom = 64.0
        let plotW = width - left - right, plotH = height - top - bottom
        let maxMiB = (values.flatMap { $0 }.max() ?? 0) / 1_048_576
        let yMax = NICLoadChart.niceCeiling(maxMiB)
        func f(_ v: Double) -> String { Units.fixed(v, 1) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
        s += "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        s += "<rect width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"#ffffff\"/>\n"
        s += "<text x=\"\(f(left))\" y=\"16\" font-size=\"13\">\(NICLoadChart.escape(title))</text>\n"
        for i in 0...4 {
            let v = yMax * Double(i) / 4
            let y = top + plotH - plotH * Double(i) / 4
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"#dddddd\"/>\n"
            s += "<text x=\"\(f(left - 4))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Units.fixed(v, v < 10 ? 1 : 0))</text>\n"
        }
        s += "<text transform=\"translate(14 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(yLabel)</text>\n"
        let groupW = groups.isEmpty ? plotW : plotW / Double(groups.count)
        for (g, name) in groups.enumerated() {
            let bars = values[g]
            let barW = bars.isEmpty ? 0 : groupW * 0.8 / Double(bars.count)
            let x0 = left + Double(g) * groupW + groupW * 0.1
            for (k, v) in bars.enumerated() {
                let h = yMax > 0 ? plotH * (v / 1_048_576) / yMax : 0
                let colour = NICLoadChart.palette[k % NICLoadChart.palette.count]
                s += "<rect x=\"\(f(x0 + Double(k) * barW))\" y=\"\(f(top + plotH - h))\" width=\"\(f(max(barW - 1, 0.5)))\" "
                s += "height=\"\(f(h))\" fill=\"\(colour)\"><title>\(NICLoadChart.escape(name)) nic\(k): \(Units.bytes(v))</title></rect>\n"
            }
            s += "<text x=\"\(f(x0 + groupW * 0.4))\" y=\"\(f(top + plotH + 15))\" text-anchor=\"middle\">\(NICLoadChart.escape(name))</text>\n"
            s += "<text x=\"\(f(x0 + groupW * 0.4))\" y=\"\(f(top + plotH + 28))\" text-anchor=\"middle\">\(Units.fixed(imbalance[g], 2))</text>\n"
        }
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\" stroke=\"#000000\"/>\n"
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">policy, and its rx max/mean over all NICs</text>\n"
        for k in 0..<(values.map(\.count).max() ?? 0) {
            let x = left + plotW - Double(4 - k % 4) * 56
            let y = 34.0 - Double(k / 4) * 12
            s += "<rect x=\"\(f(x))\" y=\"\(f(y - 8))\" width=\"9.0\" height=\"9.0\" fill=\"\(NICLoadChart.palette[k % NICLoadChart.palette.count])\"/>"
            s += "<text x=\"\(f(x + 12))\" y=\"\(f(y))\">nic\(k)</text>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// The smallest of 1, 2, 5 × 10^k at or above `v` (1 for 0).
    static func niceCeiling(_ v: Double) -> Double {
        guard v > 0 else { return 1 }
        let p = pow(10, floor(log10(v)))
        for m in [1.0, 2, 5, 10] where m * p >= v * (1 - 1e-12) { return m * p }
        return 10 * p
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
