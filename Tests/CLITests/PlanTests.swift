import Driver
import ArgumentParser
import Collectives
import Foundation
import GPU
import Measure
import Testing
@testable import GPUCommCLI

/// What `gpucomm nccl` makes of its flags before any GPU work (NCCLOptions.plan, collective
/// names, the size and root checks that need only the rank count).
@Suite struct PlanTests {
    func plan(_ args: String) throws -> NCCLOptions.Plan {
        try NCCLOptions.parse(args.split(separator: " ").map(String.init)).plan()
    }

    @Test func defaultsAreNcclTests() throws {
        let p = try plan("")
        #expect(p.sizes == [32 << 20])
        #expect(p.types == [.float32] && !p.typesFromAll)
        #expect(p.ops == [.sum])
        #expect(p.roots == [0])
        #expect(p.options.iterations == 20 && p.options.warmup == 5 && p.options.aggregate == 1)
        #expect(p.options.check && !p.options.blocking && p.options.graphLaunches == 0)
        #expect(p.options.timing == .host && p.options.aggregation == .average)
        #expect(p.buffers == .none && p.options.buffers == .none)
        #expect(p.matrix == TrafficMatrix(skew: 1), "alltoallv's default skew is 1 (Zipf)")
    }

    @Test func sweeps() throws {
        #expect(try plan("-b 8 -e 128 -f 2").sizes == [8, 16, 32, 64, 128])
        #expect(try plan("-b 1K -e 1M -f 4").sizes == [1024, 4096, 16384, 65536, 262_144, 1_048_576])
        #expect(try plan("-b 1K -e 4K -i 1K").sizes == [1024, 2048, 3072, 4096])
        #expect(try plan("-b 100 -e 1000 -f 3").sizes == [100, 300, 900], "never past -e")
        #expect(try plan("-b 1G -e 1GB").sizes == [1 << 30])
        #expect(try plan("-b 64M -e 64M -f 1").sizes == [64 << 20], "one size needs no factor")
    }

    @Test func everyFlagReachesTheOptions() throws {
        let p = try plan("-n 7 -w 0 -m 3 -c 0 -z 1 -a 3 -R 2 -G 4 -d half,bf16,f8e5m2 -o prod,mulsum -r 3")
        #expect(p.options.iterations == 7 && p.options.warmup == 0 && p.options.aggregate == 3)
        #expect(!p.options.check && p.options.blocking && p.options.graphLaunches == 4)
        #expect(p.options.aggregation == .maximum)
        #expect(p.buffers == .symmetric && p.options.buffers == .symmetric)
        #expect(p.types == [.float16, .bfloat16, .float8e5m2])
        #expect(p.ops == [.prod, .premulsum])
        #expect(p.roots == [3])
        #expect(try plan("-R 1").buffers == .registered)
        #expect(try plan("-a 0").options.aggregation == .rank0)
        #expect(try plan("-a 2").options.aggregation == .minimum)
        #expect(try plan("--timing events").options.timing == .events)
    }

    @Test func allMeansAll() throws {
        let p = try plan("-d all -o all -r all")
        #expect(p.types == NCCLDataType.allCases && p.typesFromAll)
        #expect(p.ops == NCCLReduceOp.allCases)
        #expect(p.roots == nil)
        #expect(try plan("-d ALL").typesFromAll)
    }

    @Test func matrixFileIsRead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString).csv").path
        try "# 3 ranks\n1,2,3\n3,2,1\n0,0,1\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let p = try plan("--matrix \(path)")
        #expect(p.matrix.fixedRanks == 3)
        #expect(try plan("--skew 0").matrix == TrafficMatrix(skew: 0))
    }

    @Test func collectiveNames() throws {
        let m = TrafficMatrix(skew: 0)
        #expect(try resolveCollectives(["all"], matrix: m).map(\.key) == Collectives.all.map(\.key))
        #expect(try resolveCollectives(["all_reduce_perf", "ALLTOALLV", "hypercube"], matrix: m).map(\.key) == ["all_reduce", "alltoallv", "hypercube"])
        #expect(throws: ValidationError.self) { try resolveCollectives(["all_reduce", "allreduce"], matrix: m) }
        // alltoallv gets the matrix it was given, not the placeholder.
        let csv = try TrafficMatrix(csv: "1,0\n0,1")
        let v = try resolveCollectives(["alltoallv"], matrix: csv)[0]
        #expect(v.layout(sizeBytes: 16, typeSize: 4, ranks: 2, rank: 0).recvCount == 4, "the diagonal matrix: each rank keeps its own data")
    }

    @Test func sizeChecks() throws {
        let ag = Collectives.named("all_gather")!, ar = Collectives.named("all_reduce")!, hc = Collectives.named("hypercube")!
        try checkSizes([ag, ar], types: [.float32], sizes: [32, 64], ranks: 8, roots: [0], matrix: TrafficMatrix(skew: 1))
        let e = try #require(throws: Failure.self) {
            try checkSizes([ag], types: [.float32], sizes: [32, 100], ranks: 8, roots: [0], matrix: TrafficMatrix(skew: 1))
        }
        #expect(e.status == .usage)
        #expect(e.message.contains("size 100 B") && e.message.contains("multiples of 32 B") && e.message.contains("-b 96"), "\(e.message)")
        // all_reduce only needs whole elements.
        try checkSizes([ar], types: [.float64], sizes: [8, 24], ranks: 3, roots: nil, matrix: TrafficMatrix(skew: 1))
        #expect(throws: Failure.self) { try checkSizes([ar], types: [.float64], sizes: [12], ranks: 3, roots: nil, matrix: TrafficMatrix(skew: 1)) }
        // A root that does not exist is an error for rooted collectives only.
        try checkSizes([ar], types: [.float32], sizes: [8], ranks: 4, roots: [4], matrix: TrafficMatrix(skew: 1))
        let bcast = try #require(Collectives.named("broadcast"))
        let root = try #require(throws: Failure.self) {
            try checkSizes([ar, bcast], types: [.float32], sizes: [8], ranks: 4, roots: [4], matrix: TrafficMatrix(skew: 1))
        }
        #expect(root.status == .usage && root.message.contains("root 4"))
        let pow2 = try #require(throws: Failure.self) {
            try checkSizes([hc], types: [.float32], sizes: [96], ranks: 6, roots: [0], matrix: TrafficMatrix(skew: 1))
        }
        #expect(pow2.message.contains("power-of-two"))
        let v = Collectives.alltoallv(matrix: try TrafficMatrix(csv: "1,1\n1,1"))
        let wrong = try #require(throws: Failure.self) {
            try checkSizes([v], types: [.float32], sizes: [64], ranks: 4, roots: [0], matrix: try TrafficMatrix(csv: "1,1\n1,1"))
        }
        #expect(wrong.message.contains("2×2") && wrong.message.contains("4 ranks"))
    }

    @Test func smallestSizeSuggestionIsAMultiple() throws {
        // A size below one block suggests the block itself.
        let ag = Collectives.named("all_gather")!
        let e = try #require(throws: Failure.self) {
            try checkSizes([ag], types: [.float64], sizes: [8], ranks: 4, roots: [0], matrix: TrafficMatrix(skew: 1))
        }
        #expect(e.message.contains("-b 32"), "\(e.message)")
    }

    @Test(arguments: [(8, 0, 8), (8, 1, 4), (8, 3, 2), (8, 7, 1), (16, 4, 8), (4, 8, 4)])
    func splitMaskGroupSizes(_ world: Int, _ mask: Int, _ size: Int) throws {
        #expect(try subSize(world: world, mask: mask) == size)
    }

    @Test func unevenSplitIsUsage() {
        let e = #expect(throws: Failure.self) { try subSize(world: 6, mask: 3) }
        #expect(e?.status == .usage && e?.message.contains("--split-mask 3") == true)
    }
}
