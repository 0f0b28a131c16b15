import Driver
import ArgumentParser
import Foundation
import Simulate

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate multi-NIC selection policies beyond one host.",
        subcommands: [NICSelectionCommand.self]
    )
}

/// `gpucomm simulate nic-selection`: chunks through NICs in time order, per policy (docs/simulate.md).
struct NICSelectionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nic-selection",
        abstract: "Per-NIC tx/rx load, imbalance and completion time of NIC-selection policies.",
        discussion: """
        Every inter-node chunk occupies a tx NIC at the sender and the NIC with the same index at \
        the receiver, each at line rate. Defaults are the study's shape: 2 p5.48xlarge nodes, \
        8 GPUs, 4 EFA NICs per GPU at 12.5 GB/s each. See docs/simulate.md.
        """
    )

    @Option(parsing: .unconditional, help: "Nodes.") var nodes: Int = 2
    @Option(parsing: .unconditional, help: "PEs (GPUs) in all; sets nodes = pes / gpus-per-node.") var pes: Int?
    @Option(parsing: .unconditional, help: "GPUs per node (one NVLink domain).") var gpusPerNode: Int = 8
    @Option(parsing: .unconditional, help: "NICs per GPU.") var nicsPerGPU: Int = 4
    @Option(parsing: .unconditional, help: "NIC line rate per direction in GB/s (10^9 bytes/s).") var lineRate: Double = 12.5
    @Option(parsing: .unconditional, help: "Bytes per (source, destination) pair, e.g. 1M.") var messageSize: String = "1M"
    @Option(parsing: .unconditional, help: "Chunk size, e.g. 256K.") var chunkSize: String = "256K"
    @Option(help: "all-to-all, moe, ring or matrix.") var pattern: String = "all-to-all"
    @Option(parsing: .unconditional, help: "MoE dispatch skew: Zipf exponent over destination PEs (0 = uniform).") var skew: Double = 1.0
    @Option(help: "Traffic matrix CSV: PEs × PEs byte counts, row = source (implies --pattern matrix).") var matrix: String?
    @Option(help: "Policies, comma-separated, or 'all': \(NICPolicy.names).") var policy: String = "all"
    @Option(help: "Policy the gain is measured against.") var baseline: String = "round-robin-shared"
    @Option(parsing: .unconditional, help: "Chunks in flight per PE; 0 = no limit.") var window: Int = 0
    @Option(parsing: .unconditional, help: "Time bins for the load over time.") var bins: Int = 10
    @Flag(help: "JSON instead of the table.") var json = false
    @Flag(help: "Add rx bytes per time bin at the busiest receiving GPU to the table.") var timeline = false
    @Option(help: "Also write a per-NIC load bar chart (SVG) to this file.") var svg: String?

    func validate() throws {
        // Numbers first ("must be ≥ …"), then the output, all before anything is read or simulated.
        try OptionNumber.atLeast(nodes, 1, "--nodes")
        if let pes { try OptionNumber.atLeast(pes, 1, "--pes") }
        try OptionNumber.atLeast(gpusPerNode, 1, "--gpus-per-node")
        try OptionNumber.atLeast(nicsPerGPU, 1, "--nics-per-gpu")
        try OptionNumber.finite(lineRate, atLeast: 0, strictly: true, "--line-rate")
        try OptionNumber.finite(skew, atLeast: 0, "--skew")
        try OptionNumber.atLeast(window, 0, "--window")
        try OptionNumber.within(bins, 1...1000, "--bins")
        if let svg { try OutputPath.checkFile(svg, option: "--svg") }
    }

    func run() throws {
        let (simulation, policies, base) = try settings()
        let report: NICSimulationReport
        do { report = try simulation.run(policies: policies) } catch let e as SimulationInputError {
            throw Failure(.usage, e.message)
        }
        // The chart first: a write that fails leaves no table printed as if all went well.
        if let svg { try OutputPath.write(NICLoadChart(report: report).svg(), to: svg) }
        print(json ? try report.json() : report.table(baseline: base, timeline: timeline), terminator: "")
    }

    /// Every parameter checked before any work; bad ones are `Failure(.usage, …)`.
    func settings() throws -> (NICSimulation, [NICPolicy], NICPolicy) {
        do {
            let topology = try pes.map { try NICTopology(pes: $0, gpusPerNode: gpusPerNode, nicsPerGPU: nicsPerGPU, lineRateGBps: lineRate) }
                ?? NICTopology(nodes: nodes, gpusPerNode: gpusPerNode, nicsPerGPU: nicsPerGPU, lineRateGBps: lineRate)
            try topology.validate()
            let message = try ByteSize.parse(messageSize, field: "--message-size")
            let chunk = try ByteSize.parse(chunkSize, field: "--chunk-size")
            let traffic: TrafficPattern
            switch matrix != nil ? "matrix" : pattern {
            case "all-to-all", "alltoall": traffic = .allToAll(bytesPerPair: message)
            case "moe", "moe-dispatch": traffic = .moeDispatch(bytesPerPair: message, skew: skew)
            case "ring": traffic = .ring(bytesPerPair: message)
            case "matrix":
                guard let matrix else { throw SimulationInputError("--pattern matrix needs --matrix FILE") }
                guard let text = try? String(contentsOfFile: matrix, encoding: .utf8) else {
                    throw SimulationInputError("cannot read traffic matrix \(matrix)")
                }
                let m = try TrafficPattern.parseMatrix(text, file: matrix)
                try TrafficPattern.checkShape(m, pes: topology.pes, file: matrix)
                traffic = .matrix(m)
            default:
                throw SimulationInputError("unknown --pattern '\(pattern)' (allowed: all-to-all, moe, ring, matrix)")
            }
            let policies = policy == "all" ? NICPolicy.allCases
                : try policy.split(separator: ",").map { try NICPolicy.parse(String($0).trimmingCharacters(in: .whitespaces)) }
            let base = try NICPolicy.parse(baseline)
            let simulation = NICSimulation(topology: topology, pattern: traffic, chunkBytes: chunk, window: window, bins: bins)
            try simulation.validate()
            return (simulation, policies.isEmpty ? NICPolicy.allCases : policies, base)
        } catch let e as SimulationInputError {
            throw Failure(.usage, e.message)
        }
    }
}
