import Foundation
import Testing
@testable import Simulate

/// 2 nodes × 2 GPUs × 2 NICs, all-to-all, one 1000-byte chunk per pair, NICs at 1000 B/s:
/// one chunk takes exactly 1 s. PEs 0,1 on node 0; 2,3 on node 1. Posting order (pe + i mod 4,
/// inter-node only): PE0 → 2,3; PE1 → 2,3; PE2 → 0,1; PE3 → 0,1. Expected values below are
/// worked out by hand in the comments, not by running the simulator.
struct SmallCaseTests {
    static let topology = NICTopology(nodes: 2, gpusPerNode: 2, nicsPerGPU: 2, lineRateGBps: 1e-6)
    static let simulation = NICSimulation(topology: topology, pattern: .allToAll(bytesPerPair: 1000), chunkBytes: 1000, bins: 2)

    /// rx bytes per (pe, nic) in units of one chunk.
    struct Expected: Sendable, CustomTestStringConvertible {
        var policy: NICPolicy
        var rx: [[Int64]]
        var tx: [[Int64]]
        var completion: Double
        var bound: Double
        var testDescription: String { policy.rawValue }
    }

    static let cases: [Expected] = [
        // Every chunk on NIC 0: each tx NIC 0 sends 2, rx NIC 0 of every PE receives 2.
        // PE1's chunk to PE3 waits for PE0's (rx of PE3 NIC 0 busy 1–2 s) and ends at 3 s.
        Expected(policy: .single, rx: [[2, 0], [2, 0], [2, 0], [2, 0]], tx: [[2, 0], [2, 0], [2, 0], [2, 0]], completion: 3, bound: 2),
        // Counters start at 0 everywhere: PE0 and PE1 both send to PE2 on NIC 0 and to PE3 on NIC 1.
        Expected(policy: .roundRobinShared, rx: [[2, 0], [0, 2], [2, 0], [0, 2]], tx: [[1, 1], [1, 1], [1, 1], [1, 1]], completion: 2, bound: 2),
        // PE1 and PE3 start at NIC 1: PE0→2 on 0, PE1→2 on 1, …: one chunk per rx NIC.
        Expected(policy: .roundRobinOffset, rx: [[1, 1], [1, 1], [1, 1], [1, 1]], tx: [[1, 1], [1, 1], [1, 1], [1, 1]], completion: 1, bound: 1),
        // splitmix64(src << 32 | dst) mod 2: (0,2)→0 (0,3)→1 (1,2)→0 (1,3)→1 (2,0)→0 (2,1)→1 (3,0)→1 (3,1)→0.
        Expected(policy: .hash, rx: [[1, 1], [1, 1], [2, 0], [0, 2]], tx: [[1, 1], [1, 1], [1, 1], [1, 1]], completion: 2, bound: 2),
        // PE0: →2 on 0 (all empty), →3 on 1 (its tx 0 is loaded). PE1: →2 on 1 (rx 0 of PE2 loaded),
        // →3 on 0. PE2 and PE3 the same: the offset round-robin's placement.
        Expected(policy: .leastLoaded, rx: [[1, 1], [1, 1], [1, 1], [1, 1]], tx: [[1, 1], [1, 1], [1, 1], [1, 1]], completion: 1, bound: 1),
    ]

    @Test(arguments: cases)
    func policy(_ e: Expected) throws {
        let r = try #require(try Self.simulation.run(policies: [e.policy]).results.first)
        let rx = (0..<4).map { pe in r.nics.filter { $0.pe == pe }.map { $0.rxBytes / 1000 } }
        let tx = (0..<4).map { pe in r.nics.filter { $0.pe == pe }.map { $0.txBytes / 1000 } }
        #expect(rx == e.rx)
        #expect(tx == e.tx)
        #expect(abs(r.completionSeconds - e.completion) < 1e-9)
        #expect(abs(r.busiestNICSeconds - e.bound) < 1e-9)
        let rxFlat = e.rx.flatMap { $0 }.map(Double.init)
        #expect(abs(r.rxImbalance - Double(rxFlat.max()!) / (rxFlat.reduce(0, +) / 8)) < 1e-12)
    }

    @Test func gainAndTraffic() throws {
        let report = try Self.simulation.run(policies: NICPolicy.allCases)
        #expect(report.interNodeBytes == 8000)
        #expect(report.intraNodeBytes == 4000)
        #expect(report.gain(of: .roundRobinOffset, over: .roundRobinShared) == 2)
        #expect(report.gain(of: .roundRobinShared, over: .single) == 1.5)
    }

    /// Timeline: with 2 bins over 2 s, the shared start's PE2 NIC 0 receives one chunk per second.
    @Test func bytesOverTime() throws {
        let r = try #require(try Self.simulation.run(policies: [.roundRobinShared]).results.first)
        let nic = try #require(r.nics.first { $0.pe == 2 && $0.nic == 0 })
        #expect(r.binSeconds == 1)
        #expect(nic.rxOverTime == [1000, 1000])
        #expect(nic.txOverTime == [1000, 0])  // PE2 itself sends to PE0 on NIC 0 during 0–1 s
        let pe0 = try #require(r.nics.first { $0.pe == 0 && $0.nic == 0 })
        #expect(pe0.txOverTime == [1000, 0])
    }

    /// A window of one chunk per PE serialises each sender: PE0 posts its second chunk only at 1 s.
    @Test func windowOfOne() throws {
        var s = Self.simulation
        s.window = 1
        let r = try #require(try s.run(policies: [.roundRobinOffset]).results.first)
        #expect(abs(r.completionSeconds - 2) < 1e-9)
    }
}

/// The study's shape: 2 p5 nodes × 8 GPUs × 4 NICs (4 EFA NICs per H100).
struct StudyShapeTests {
    static func run(_ policy: NICPolicy, chunksPerPair: Int64) throws -> PolicyResult {
        let t = NICTopology(nodes: 2, gpusPerNode: 8, nicsPerGPU: 4, lineRateGBps: 12.5)
        let s = NICSimulation(topology: t, pattern: .allToAll(bytesPerPair: 262_144 * chunksPerPair), chunkBytes: 262_144)
        return try #require(try s.run(policies: [policy]).results.first)
    }

    @Test(arguments: [Int64(1), 4])
    func sharedStartPilesOntoOneReceivingNIC(chunksPerPair: Int64) throws {
        let r = try Self.run(.roundRobinShared, chunksPerPair: chunksPerPair)
        for pe in 0..<16 {
            let rx = r.nics.filter { $0.pe == pe }.map(\.rxBytes)
            // All 8 remote senders' chunks land on one NIC of the receiver.
            #expect(rx.filter { $0 > 0 }.count == 1, "PE \(pe) rx \(rx)")
            #expect(rx.reduce(0, +) == 8 * 262_144 * chunksPerPair)
        }
        #expect(abs(r.rxImbalance - 4) < 1e-12)
        #expect(abs(r.txImbalance - 1) < 1e-12)
        // 8 × chunks arrive at one NIC one after another.
        let chunk = 262_144 / 12.5e9
        #expect(r.completionSeconds >= 8 * Double(chunksPerPair) * chunk - 1e-12)
    }

    @Test(arguments: [Int64(1), 4])
    func perPEOffsetBalances(chunksPerPair: Int64) throws {
        let shared = try Self.run(.roundRobinShared, chunksPerPair: chunksPerPair)
        let r = try Self.run(.roundRobinOffset, chunksPerPair: chunksPerPair)
        for pe in 0..<16 {
            #expect(r.nics.filter { $0.pe == pe }.map(\.rxBytes) == Array(repeating: 2 * 262_144 * chunksPerPair, count: 4))
        }
        #expect(abs(r.rxImbalance - 1) < 1e-12)
        #expect(abs(r.busiestNICSeconds * 4 - shared.busiestNICSeconds) < 1e-12)
        #expect(shared.completionSeconds / r.completionSeconds >= 3)
    }

    /// A single NIC is no better than the shared start: the simulator shows 4 NICs ≈ 1 NIC.
    @Test func singleNICMatchesSharedStartBound() throws {
        let single = try Self.run(.single, chunksPerPair: 4)
        let shared = try Self.run(.roundRobinShared, chunksPerPair: 4)
        #expect(single.busiestNICSeconds == shared.busiestNICSeconds)
    }
}
