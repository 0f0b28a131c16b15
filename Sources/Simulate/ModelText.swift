import Foundation

/// Tables and JSON for the model commands.
public enum ModelText {
    /// A model and one of its predictions, for output.
    public struct Predicted: Codable, Sendable, Equatable {
        public var model: FittedModel
        public var prediction: Prediction
        public init(model: FittedModel, prediction: Prediction) {
            self.model = model
            self.prediction = prediction
        }
    }

    /// Sorted-key, pretty JSON: stable across runs.
    public static func json<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self) + "\n"
    }

    /// One row per fitted model: its parameters in readable units.
    public static func table(_ models: [FittedModel]) -> String {
        var rows = [["collective", "backend", "variant", "GPUs fitted", "alpha", "alpha/peer", "NVLink GB/s", "NIC GB/s",
                     "congestion", "median fit error", "90% band"]]
        for m in models {
            // No "inf": a beta of 0 means the fit found no cost on that link, said in words.
            var nic = m.nicGBps.map { Units.fixed($0, 1) } ?? "no cost"
            if let line = m.topology.nicGBpsPerGPU, let g = m.nicGBps { nic += " (\(Units.fixed(100 * g / line, 0))% of \(Units.fixed(line, 0)))" }
            rows.append([
                m.benchmark, m.backend, m.variant ?? "-", m.fittedGPUs.map(String.init).joined(separator: ","),
                Units.seconds(m.alphaSeconds), Units.seconds(m.alphaPerPeerSeconds),
                m.betaNVLink > 0 ? Units.fixed(1 / m.betaNVLink / 1e9, 1) : "no cost", nic,
                m.congestion.map { $0 > 0 ? "+" + Units.fixed(100 * $0 / max(m.betaNIC, .leastNonzeroMagnitude), 1) + "%/2× nodes" : "0" } ?? "off",
                Units.fixed(100 * m.medianFitError, 1) + "%", "×/÷ " + Units.fixed(exp(m.band90), 3),
            ])
        }
        return Units.columns(rows)
    }

    /// One row per prediction: time with its band, algbw, busbw.
    public static func table(_ predictions: [Predicted]) -> String {
        var rows = [["collective", "backend", "variant", "GPUs", "nodes", "size", "time", "90% band", "algbw GB/s", "busbw GB/s"]]
        for p in predictions {
            let q = p.prediction
            rows.append([
                p.model.benchmark, p.model.backend, p.model.variant ?? "-", String(q.ranks), String(q.nodes),
                Units.bytes(Double(q.sizeBytes)), Units.seconds(q.seconds),
                Units.seconds(q.secondsLow) + " – " + Units.seconds(q.secondsHigh),
                Units.fixed(q.algbwGBps, 2), Units.fixed(q.busbwGBps, 2),
            ])
        }
        return Units.columns(rows)
    }
}
