import Simulate

/// The shape the "What if: beyond one host" section simulates, and whether to add it.
///
/// Defaults are the reference study's machine (p5.48xlarge: 8 H100 per node, 4 EFA NICs of
/// 100 Gb/s = 12.5 GB/s per GPU) at 2 and 4 nodes, with `gpucomm simulate nic-selection`'s
/// default traffic: all-to-all, 1 MiB per pair in 256 KiB chunks (docs/simulate.md).
public struct WhatIfOptions: Sendable, Equatable {
    /// Node counts to simulate, one NIC-load chart each.
    public var nodes: [Int]
    public var gpusPerNode: Int
    public var nicsPerGPU: Int
    /// Line rate of one NIC per direction, GB/s.
    public var nicGBps: Double
    /// Bytes per (source, destination) pair.
    public var messageBytes: Int64
    public var chunkBytes: Int64

    public init(nodes: [Int] = [2, 4], gpusPerNode: Int = 8, nicsPerGPU: Int = 4, nicGBps: Double = 12.5,
                messageBytes: Int64 = 1 << 20, chunkBytes: Int64 = 256 << 10) {
        self.nodes = nodes
        self.gpusPerNode = gpusPerNode
        self.nicsPerGPU = nicsPerGPU
        self.nicGBps = nicGBps
        self.messageBytes = messageBytes
        self.chunkBytes = chunkBytes
    }

    /// The simulation for `nodes` nodes.
    func simulation(nodes: Int) -> NICSimulation {
        NICSimulation(topology: NICTopology(nodes: nodes, gpusPerNode: gpusPerNode, nicsPerGPU: nicsPerGPU, lineRateGBps: nicGBps),
                      pattern: .allToAll(bytesPerPair: messageBytes), chunkBytes: chunkBytes)
    }

    /// Rejects a shape the simulator cannot run, in one line naming the option (`SimulationInputError`).
    public func validate() throws {
        if nodes.isEmpty { throw SimulationInputError("--what-if-nodes needs at least one node count") }
        for n in nodes where n < 2 {
            throw SimulationInputError("--what-if-nodes \(n): beyond one host needs at least 2 nodes")
        }
        // Bounded work: the node counts together stay within one simulation's chunk limit.
        var chunks = 0
        for n in nodes {
            let s = simulation(nodes: n)
            try s.topology.validate()
            chunks += try s.chunkCount()
            if chunks > NICSimulation.maxChunks {
                throw SimulationInputError("--what-if-nodes \(nodes.map(String.init).joined(separator: ",")): more than \(NICSimulation.maxChunks) chunks to simulate in all (docs/simulate.md, 'Limits'); give fewer or smaller node counts")
            }
            try s.validate()
        }
    }
}
