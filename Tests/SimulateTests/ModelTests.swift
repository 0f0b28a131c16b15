import Foundation
import Testing
import Results
@testable import Simulate

struct ModelTests {
    static let topology = ModelTopology(gpusPerNode: 8, nicGBpsPerGPU: 50)

    /// Exact times from known parameters: 50 us + 2 us per peer, NVLink 400 GB/s, NIC 40 GB/s.
    static func synthetic(_ benchmark: String, gpus: [Int], sizes: [Int64], noise: (Int) -> Double = { _ in 1 }) -> [ModelPoint] {
        var points: [ModelPoint] = []
        for n in gpus {
            for s in sizes {
                let f = ByteFactors.of(benchmark: benchmark, ranks: n, nodes: n / 8)!
                let t = 50e-6 + 2e-6 * Double(n - 1) + Double(s) * (f.nvlink / 400e9 + f.nic / 40e9)
                points.append(ModelPoint(sizeBytes: s, ranks: n, nodes: n / 8, seconds: t * noise(points.count)))
            }
        }
        return points
    }

    static let sizes: [Int64] = (20...32).map { Int64(1) << $0 }

    @Test(arguments: ["alltoall", "all_reduce", "all_gather"])
    func fitRecoversKnownAlphaBeta(_ benchmark: String) throws {
        let m = try ScalingFit.fit(benchmark: benchmark, backend: "nccl", variant: nil,
                                   points: Self.synthetic(benchmark, gpus: [16, 32, 64], sizes: Self.sizes), topology: Self.topology)
        #expect(abs(m.alphaSeconds / 50e-6 - 1) < 1e-6)
        #expect(abs(m.alphaPerPeerSeconds / 2e-6 - 1) < 1e-6)
        #expect(abs(m.betaNVLink * 400e9 - 1) < 1e-6)
        #expect(abs(m.betaNIC * 40e9 - 1) < 1e-6)
        #expect(m.medianFitError < 1e-9)
        // Extrapolation to 256 GPUs is exact for exact data.
        let truth = Self.synthetic(benchmark, gpus: [256], sizes: [1 << 30])[0]
        let p = try #require(m.predict(sizeBytes: 1 << 30, ranks: 256))
        #expect(abs(p.seconds / truth.seconds - 1) < 1e-6)
    }

    /// ±5% alternating noise: the fit stays close and the band covers the noise.
    @Test func noisyFitHasBand() throws {
        let points = Self.synthetic("alltoall", gpus: [16, 32, 64], sizes: Self.sizes) { $0 % 2 == 0 ? 1.05 : 0.95 }
        let m = try ScalingFit.fit(benchmark: "alltoall", backend: "nccl", variant: nil, points: points, topology: Self.topology)
        #expect(abs(m.betaNIC * 40e9 - 1) < 0.05)
        #expect(m.band90 > 0.03 && m.band90 < 0.08)
        let p = try #require(m.predict(sizeBytes: 1 << 28, ranks: 32))
        #expect(p.secondsLow < p.seconds && p.seconds < p.secondsHigh)
    }

    @Test func alltoallByteFactors() throws {
        // 16 GPUs in 2 nodes: 8 of 16 destinations are remote, 7 local.
        let f = try #require(ByteFactors.of(benchmark: "alltoall", ranks: 16, nodes: 2))
        #expect(f.nic == 0.5 && f.nvlink == 7.0 / 16 && f.busbw == 15.0 / 16)
        let ar = try #require(ByteFactors.of(benchmark: "all_reduce", ranks: 32, nodes: 4))
        #expect(ar.nic == 2 * 0.75 / 8 && ar.nvlink == 1.75 && ar.busbw == 2 * 31.0 / 32)
        #expect(ByteFactors.of(benchmark: "jacobi", ranks: 16, nodes: 2) == nil)
    }

    @Test func leastSquaresSolvesAndKeepsNonNegative() {
        // y = 2 + 3x exactly.
        let a = (0..<5).map { [1.0, Double($0)] }
        let x = LeastSquares.nonNegative(a, a.map { 2 + 3 * $0[1] })
        #expect(abs(x[0] - 2) < 1e-9 && abs(x[1] - 3) < 1e-9)
        // y = 5 − x: the slope would be negative, so it is dropped and the mean remains.
        let y = a.map { 5 - $0[1] }
        let z = LeastSquares.nonNegative(a, y)
        #expect(z[1] == 0 && abs(z[0] - 3) < 1e-9)
        // A repeated column is collinear: one copy takes the weight.
        let c = (0..<4).map { [Double($0), Double($0)] }
        let w = LeastSquares.solve(c, c.map { 2 * $0[0] })
        #expect(abs(w[0] + w[1] - 2) < 1e-9)
    }

    @Test func tooFewPointsOrUnknownCollective() {
        #expect(throws: SimulationInputError.self) {
            try ScalingFit.fit(benchmark: "alltoall", backend: "nccl", variant: nil,
                               points: Array(Self.synthetic("alltoall", gpus: [16], sizes: Self.sizes).prefix(3)), topology: Self.topology)
        }
        #expect(throws: SimulationInputError.self) {
            try ScalingFit.fit(benchmark: "jacobi", backend: "nccl", variant: nil, points: [], topology: Self.topology)
        }
    }

    @Test func pointFromRow() throws {
        var row = ResultRow(run: "r", benchmark: "alltoall", backend: "nccl", ranks: 16)
        row.sizeBytes = 1_000_000_000
        row.algbwGBps = 50
        let p = try #require(ModelPoint(row: row, topology: Self.topology))
        #expect(p.seconds == 0.02 && p.nodes == 2)
        row.timeUs = 1000
        #expect(ModelPoint(row: row, topology: Self.topology)?.seconds == 0.001)
        row.sizeBytes = nil
        #expect(ModelPoint(row: row, topology: Self.topology) == nil)
    }
}

/// The honest validation on the reference study (fit 16–64 GPUs, predict 128 and 256):
/// pins the numbers docs/model.md and bench/model/ state.
struct StudyValidationTests {
    static func rows() throws -> [ResultRow] {
        let dir = Golden.repoRoot.appendingPathComponent("Sources/Report/Example")
        return try ["nccl_alltoall.csv", "nccl_all_reduce.csv"].flatMap {
            try ResultInputs.load(path: dir.appendingPathComponent($0).path).set.rows
        }
    }

    @Test func ncclMedianErrorWithinGoal() throws {
        let v = try ModelValidation(rows: try Self.rows(), topology: ModelTopology(gpusPerNode: 8), maxFitGPUs: 64)
        #expect(v.models.allSatisfy { $0.fittedGPUs == [16, 32, 64] })
        #expect(Set(v.entries.map(\.ranks)) == [128, 256])
        for b in ["alltoall", "all_reduce"] {
            let e = v.medianError(benchmark: b, backend: "nccl", variant: "out_of_place")
            #expect(e <= 0.15, "\(b) median error \(e)")
            #expect(e > 0.01, "\(b): a near-zero error on held-out data would mean the test data leaked into the fit")
        }
        try Golden.check(v.markdown(), against: "study_validation.md")
    }
}
