import Foundation
import Testing
@testable import Simulate

/// Bad parameters are answered with one line naming the field, before any work.
struct InputTests {
    static let topology = NICTopology(nodes: 2, gpusPerNode: 2, nicsPerGPU: 2, lineRateGBps: 12.5)

    @Test(arguments: [
        (NICTopology(nodes: 2, gpusPerNode: 2, nicsPerGPU: 0, lineRateGBps: 12.5), "--nics-per-gpu must be at least 1 (got 0)"),
        (NICTopology(nodes: 0, gpusPerNode: 2, nicsPerGPU: 2, lineRateGBps: 12.5), "--nodes must be at least 1 (got 0)"),
        (NICTopology(nodes: 2, gpusPerNode: 2, nicsPerGPU: 2, lineRateGBps: 0), "--line-rate must be a positive number of GB/s, at most 1e9 (got 0.0)"),
    ])
    func badTopology(_ t: NICTopology, _ message: String) {
        let s = NICSimulation(topology: t, pattern: .allToAll(bytesPerPair: 1), chunkBytes: 1)
        #expect(throws: SimulationInputError(message)) { try s.run(policies: [.single]) }
    }

    @Test func moreGPUsPerNodeThanPEs() {
        #expect(throws: SimulationInputError("--gpus-per-node 8 is more than --pes 4")) {
            try NICTopology(pes: 4, gpusPerNode: 8, nicsPerGPU: 4, lineRateGBps: 12.5)
        }
        #expect(throws: SimulationInputError("--pes 12 is not a multiple of --gpus-per-node 8")) {
            try NICTopology(pes: 12, gpusPerNode: 8, nicsPerGPU: 4, lineRateGBps: 12.5)
        }
        #expect((try? NICTopology(pes: 16, gpusPerNode: 8, nicsPerGPU: 4, lineRateGBps: 12.5))?.nodes == 2)
    }

    @Test func unknownPolicy() {
        #expect(throws: SimulationInputError("unknown policy 'fastest' (allowed: single, round-robin-shared, round-robin-offset, hash, least-loaded, all)")) {
            try NICPolicy.parse("fastest")
        }
        #expect((try? NICPolicy.parse("round-robin-offset")) == .roundRobinOffset)
    }

    @Test func matrixParsingAndShape() throws {
        let m = try TrafficPattern.parseMatrix("# bytes\n0,1,2,3\n4,0,5,6\n\n7,8,0,9\n1,2,3,0\n", file: "t.csv")
        #expect(m.count == 4 && m[1] == [4, 0, 5, 6])
        try TrafficPattern.checkShape(m, pes: 4, file: "t.csv")
        #expect(throws: SimulationInputError("traffic matrix t.csv is 4×4, expected 16×16 (nodes × gpus-per-node PEs)")) {
            try TrafficPattern.checkShape(m, pes: 16, file: "t.csv")
        }
        #expect(throws: SimulationInputError("traffic matrix t.csv is 2×2/3, expected 2×2 (nodes × gpus-per-node PEs)")) {
            try TrafficPattern.checkShape([[0, 1], [1, 0, 2]], pes: 2, file: "t.csv")
        }
        #expect(throws: SimulationInputError("t.csv:2: byte count: expected a whole number ≥ 0, found -5")) {
            try TrafficPattern.parseMatrix("0,1\n-5,0\n", file: "t.csv")
        }
        let wrong = NICSimulation(topology: Self.topology, pattern: .matrix([[0, 1], [1, 0]]), chunkBytes: 1)
        #expect(throws: SimulationInputError.self) { try wrong.run(policies: [.single]) }
    }

    @Test func matrixTrafficIsSimulated() throws {
        // Only PE0 → PE2 (inter-node) and PE0 → PE1 (intra-node) carry bytes.
        let m: [[Int64]] = [[0, 500, 2000, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
        let s = NICSimulation(topology: Self.topology, pattern: .matrix(m), chunkBytes: 1000)
        let report = try s.run(policies: [.roundRobinShared])
        #expect(report.interNodeBytes == 2000 && report.intraNodeBytes == 500)
        let r = try #require(report.results.first)
        #expect(r.nics.filter { $0.pe == 2 }.map(\.rxBytes) == [1000, 1000])
    }

    @Test(arguments: [("4096", Int64(4096)), ("256K", 262_144), ("1M", 1_048_576), ("2GiB", 2_147_483_648), ("1mb", 1_048_576)])
    func byteSizes(_ text: String, _ value: Int64) throws {
        #expect(try ByteSize.parse(text, field: "--size") == value)
    }

    @Test func badByteSize() {
        #expect(throws: SimulationInputError("--chunk-size 'x1' is not a byte count (e.g. 4096, 256K, 1M, 2G)")) {
            try ByteSize.parse("x1", field: "--chunk-size")
        }
    }

    @Test func moeSkewZeroIsAllToAll() {
        #expect(TrafficPattern.moeDispatch(bytesPerPair: 1000, skew: 0).bytes(pes: 8) == TrafficPattern.allToAll(bytesPerPair: 1000).bytes(pes: 8))
        let skewed = TrafficPattern.moeDispatch(bytesPerPair: 1000, skew: 1).bytes(pes: 8)
        // PE 7 sends most to PE 0 (the hottest expert) and least to PE 6.
        #expect(skewed[7][0] > skewed[7][1] && skewed[7][1] > skewed[7][6])
        #expect(abs(skewed[7].reduce(0, +) - 7000) <= 7)
    }

    @Test func ringSendsToNext() {
        let m = TrafficPattern.ring(bytesPerPair: 5).bytes(pes: 3)
        #expect(m == [[0, 5, 0], [0, 0, 5], [5, 0, 0]])
    }

    @Test func chartIsByteStable() throws {
        let s = NICSimulation(topology: NICTopology(nodes: 2, gpusPerNode: 2, nicsPerGPU: 2, lineRateGBps: 1e-6),
                              pattern: .allToAll(bytesPerPair: 1_048_576), chunkBytes: 1_048_576, bins: 2)
        let report = try s.run(policies: NICPolicy.allCases)
        try Golden.check(NICLoadChart(report: report).svg(), against: "nic_chart_2x2x2.svg")
        try Golden.check(report.table(baseline: .roundRobinShared, timeline: true), against: "nic_table_2x2x2.txt")
    }
}
