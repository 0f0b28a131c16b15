import Foundation
import Results

/// A bad simulator or model parameter: one line naming the field and what is allowed.
public struct SimulationInputError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Where the GPUs and NICs are: `nodes` × `gpusPerNode` PEs, each GPU with `nicsPerGPU` NICs.
public struct NICTopology: Codable, Sendable, Equatable {
    public var nodes: Int
    public var gpusPerNode: Int
    public var nicsPerGPU: Int
    /// Line rate of one NIC in one direction, GB/s (10^9 bytes per second).
    public var lineRateGBps: Double

    public init(nodes: Int, gpusPerNode: Int, nicsPerGPU: Int, lineRateGBps: Double) {
        self.nodes = nodes
        self.gpusPerNode = gpusPerNode
        self.nicsPerGPU = nicsPerGPU
        self.lineRateGBps = lineRateGBps
    }

    /// A topology given by its PE count: `pes` must be a multiple of `gpusPerNode`, and not smaller.
    public init(pes: Int, gpusPerNode: Int, nicsPerGPU: Int, lineRateGBps: Double) throws {
        if gpusPerNode < 1 { throw SimulationInputError("--gpus-per-node must be at least 1 (got \(gpusPerNode))") }
        if gpusPerNode > pes { throw SimulationInputError("--gpus-per-node \(gpusPerNode) is more than --pes \(pes)") }
        if pes % gpusPerNode != 0 { throw SimulationInputError("--pes \(pes) is not a multiple of --gpus-per-node \(gpusPerNode)") }
        self.init(nodes: pes / gpusPerNode, gpusPerNode: gpusPerNode, nicsPerGPU: nicsPerGPU, lineRateGBps: lineRateGBps)
    }

    /// Rejects zero nodes, GPUs or NICs and a non-positive line rate, naming the option.
    public func validate() throws {
        if nodes < 1 { throw SimulationInputError("--nodes must be at least 1 (got \(nodes))") }
        if gpusPerNode < 1 { throw SimulationInputError("--gpus-per-node must be at least 1 (got \(gpusPerNode))") }
        if nicsPerGPU < 1 { throw SimulationInputError("--nics-per-gpu must be at least 1 (got \(nicsPerGPU))") }
        if !(lineRateGBps > 0) || !lineRateGBps.isFinite || lineRateGBps > 1e9 {
            throw SimulationInputError("--line-rate must be a positive number of GB/s, at most 1e9 (got \(lineRateGBps))")
        }
        if pes > NICSimulation.maxPEs {
            throw SimulationInputError("\(nodes) nodes × \(gpusPerNode) GPUs is more than \(NICSimulation.maxPEs) PEs, the most simulate handles (docs/simulate.md, 'Limits')")
        }
        if nicsPerGPU > NICSimulation.maxNICsPerGPU {
            throw SimulationInputError("--nics-per-gpu must be at most \(NICSimulation.maxNICsPerGPU) (got \(nicsPerGPU))")
        }
    }

    /// Number of PEs (GPUs) in the job (saturating: `validate()` refuses more than `NICSimulation.maxPEs`).
    public var pes: Int {
        let (p, overflow) = nodes.multipliedReportingOverflow(by: gpusPerNode)
        return overflow ? Int.max : p
    }
    /// Node that PE `pe` sits on (PEs fill nodes in order, as launchers place ranks).
    public func node(of pe: Int) -> Int { pe / gpusPerNode }

    enum CodingKeys: String, CodingKey {
        case nodes, gpusPerNode = "gpus_per_node", nicsPerGPU = "nics_per_gpu", lineRateGBps = "line_rate_gbps"
    }
}

/// Who sends how many bytes to whom.
public enum TrafficPattern: Sendable, Equatable {
    /// Every PE sends `bytesPerPair` to every other PE.
    case allToAll(bytesPerPair: Int64)
    /// MoE token dispatch: every PE sends `bytesPerPair` × (PEs − 1) in total, split over the
    /// other PEs by a Zipf law of exponent `skew` over the destination index (0 = all-to-all).
    case moeDispatch(bytesPerPair: Int64, skew: Double)
    /// Every PE sends `bytesPerPair` to the next PE (pe + 1 mod PEs).
    case ring(bytesPerPair: Int64)
    /// An explicit PEs × PEs matrix of bytes, row = source, column = destination.
    case matrix([[Int64]])

    /// Short name used in output: `all-to-all`, `moe-dispatch`, `ring`, `matrix`.
    public var name: String {
        switch self {
        case .allToAll: "all-to-all"
        case .moeDispatch: "moe-dispatch"
        case .ring: "ring"
        case .matrix: "matrix"
        }
    }

    /// The bytes matrix for `pes` PEs; the diagonal (a PE to itself) is always zero.
    public func bytes(pes: Int) -> [[Int64]] {
        var m = Array(repeating: Array(repeating: Int64(0), count: pes), count: pes)
        switch self {
        case .allToAll(let b):
            for s in 0..<pes { for d in 0..<pes where d != s { m[s][d] = b } }
        case .ring(let b):
            if pes > 1 { for s in 0..<pes { m[s][(s + 1) % pes] = b } }
        case .moeDispatch(let b, let skew):
            for s in 0..<pes where pes > 1 {
                let total = Double(b) * Double(pes - 1)
                // Weights relative to the heaviest destination (index 0, or 1 when s is 0), so a large
                // skew gives 1 for it and 0 for the rest, never 0/0.
                let top = Double(s == 0 ? 2 : 1)
                let weights = (0..<pes).map { d in d == s ? 0 : pow(top / Double(d + 1), skew) }
                let sum = weights.reduce(0, +)
                for d in 0..<pes where d != s {
                    let v = (total * weights[d] / sum).rounded()
                    m[s][d] = v.isFinite && v >= 0 && v < 0x1p62 ? Int64(v) : 0
                }
            }
        case .matrix(let given):
            for s in 0..<pes { for d in 0..<pes where d != s { m[s][d] = given[s][d] } }
        }
        return m
    }

    /// Reads a traffic matrix: CSV, one row per source PE, one non-negative integer byte count
    /// per destination PE; blank lines and lines starting with `#` are skipped.
    public static func parseMatrix(_ text: String, file: String) throws -> [[Int64]] {
        var rows: [[Int64]] = []
        var lineNumber = 0
        for raw in InputText.normalized(text).split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            var row: [Int64] = []
            for field in line.split(separator: ",", omittingEmptySubsequences: false) {
                switch InputNumber.count(field) {
                case .success(let v): row.append(v)
                case .failure(let p): throw SimulationInputError("\(file):\(lineNumber): byte count: \(p.reason)")
                }
            }
            if row.count > NICSimulation.maxPEs || rows.count >= NICSimulation.maxPEs {
                throw SimulationInputError("\(file):\(lineNumber): the matrix is larger than \(NICSimulation.maxPEs) × \(NICSimulation.maxPEs) PEs")
            }
            rows.append(row)
        }
        return rows
    }

    /// Checks that `matrix` is `pes` × `pes`; the error names the file and the shape found.
    public static func checkShape(_ matrix: [[Int64]], pes: Int, file: String) throws {
        if matrix.count != pes || matrix.contains(where: { $0.count != pes }) {
            let widths = Set(matrix.map(\.count)).sorted().map(String.init).joined(separator: "/")
            throw SimulationInputError(
                "traffic matrix \(file) is \(matrix.count)×\(widths.isEmpty ? "0" : widths), expected \(pes)×\(pes) (nodes × gpus-per-node PEs)")
        }
    }
}
