import ArgumentParser
import Driver
import Testing
@testable import GPUCommCLI
@testable import MoE

/// `gpucomm moe --virtual-ranks N`: what it refuses (one line, exit 2, before any GPU work), what it
/// runs, and the selftest cases that check the nccl style as virtual ranks when ranks share GPUs.
@Suite struct VirtualRanksCLITests {
    @Test(arguments: [
        (["--virtual-ranks", "4", "--styles", "nccl", "--np", "4"], "--virtual-ranks runs N ranks of the nccl style in one process on one GPU: leave out --np"),
        (["--virtual-ranks", "4"], "--virtual-ranks runs N ranks of the nccl style in one process on one GPU: add --styles nccl (got 'all'"),
        (["--virtual-ranks", "4", "--styles", "nccl,nvlink-ll"], "add --styles nccl (got 'nccl,nvlink-ll'"),
        (["--virtual-ranks", "1", "--styles", "nccl"], "--virtual-ranks must be from 2 to 32 (got 1)"),
        (["--virtual-ranks", "33", "--styles", "nccl"], "--virtual-ranks must be from 2 to 32 (got 33)"),
        (["--virtual-ranks=-2", "--styles", "nccl"], "--virtual-ranks must be from 2 to 32 (got -2)"),
        (["--virtual-ranks", "3", "--styles", "nccl"], "--experts 256 is not divisible by 3 ranks"),
        (["--virtual-ranks", "4", "--styles", "nccl", "--zero-ranks", "5"], "--zero-ranks 5 is more than the 4 ranks"),
        (["--virtual-ranks", "8", "--styles", "nccl", "--experts", "32", "--topk", "6", "--group-topk", "1"],
         "--topk 6 is more than the 4 experts of --group-topk 1 groups of 4 (--groups (one per rank, 8))"),
        (["--virtual-ranks", "4", "--styles", "nccl", "--kernels"], "--kernels is another run"),
        (["--virtual-ranks", "4", "--styles", "nccl", "--dump", "x.jsonl"], "--dump and --ranks are another run"),
        (["--virtual-ranks", "4", "--styles", "nccl", "-c", "0"], "to check them: -c must be 1"),
        (["--virtual-ranks", "4", "--styles", "nccl", "--deepep-lines"], "its timings are not results, so --deepep-lines, --pplx-lines and --per-rank are refused"),
        (["--virtual-ranks", "4", "--styles", "nccl", "--per-rank"], "--per-rank are refused"),
    ])
    func refusedInOneLine(_ args: [String], _ words: String) {
        let m = MoECommandTests.problem(args)
        #expect(m?.contains(words) == true, "\(args): \(m ?? "accepted")")
        #expect(m?.contains("\n") == false)
    }

    @Test func acceptedWithTheShapesOfNRanks() throws {
        let c = try #require(try GPUComm.parseAsRoot(["moe", "--virtual-ranks", "8", "--styles", "nccl", "--dtype", "fp8", "--masked", "7", "--zero-ranks", "1",
                                                      "--routings", "3"]) as? MoECommand)
        #expect(c.virtualRanks == 8 && c.requestedStyles == [.nccl] && c.launch.np == nil)
        #expect(c.shapes.map(\.routings) == [3] && c.shapes[0].zeroTokenRanks == 1)
        #expect(MoECommandTests.problem(["--virtual-ranks", "32", "--styles", "nccl"]) == nil)
        #expect(MoECommandTests.problem(["--virtual-ranks", "2", "--styles", "nccl", "--preset", "deepep-ll,nccl-ep", "--tokens", "32"]) == nil)
    }

    /// With ranks sharing one GPU the nccl style is no longer waived: three virtual-rank cases
    /// (BF16; FP8 with masked selections, skew and a zero-token rank; new routings every iteration
    /// with group-limited routing) check it with as many ranks as the NVSHMEM styles, one process each.
    @Test(arguments: [2, 4, 8])
    func selftestChecksTheNCCLStyleAsVirtualRanksWhenRanksShareGPUs(_ pes: Int) throws {
        let shape = JobShape(ranks: pes, sharesGPUs: true)
        let stage = SelftestStage(shape: shape, timeout: 20, families: pes == 8 ? [.moe] : nil, reason: "moe only")
        #expect(stage.uncovered.isEmpty, "no selftest case for \(stage.uncovered)")
        #expect(!stage.waived.contains { $0.key == "moe/nccl" })
        let virtual = stage.cases.filter { $0.arguments.contains("--virtual-ranks") }
        #expect(virtual.count == 3)
        for c in virtual {
            #expect(c.covers == ["moe/nccl"])
            #expect(Array(c.arguments.prefix(5)) == ["moe", "--virtual-ranks", String(pes), "--styles", "nccl"])
            #expect(!c.arguments.contains("--np"))
            _ = try GPUComm.parseAsRoot(c.arguments)
        }
        #expect(virtual[1].arguments.contains("fp8") && virtual[1].arguments.contains("--masked") && virtual[1].arguments.contains("--skew")
                && virtual[1].arguments.contains("--zero-ranks"))
        #expect(virtual[2].arguments.contains("--routings") && virtual[2].arguments.contains("--group-topk"))
        // The other NCCL benchmarks stay waived: they need a GPU per rank.
        #expect(stage.waived.contains { $0.key == "alltoall/nccl" } || pes == 8)
    }

    /// GPUs of their own: the nccl style runs with --np as before, no virtual ranks.
    @Test(arguments: [JobShape(ranks: 2), JobShape(ranks: 8), JobShape(ranks: 1, sharesGPUs: true)])
    func noVirtualRanksWhereNCCLRunsOrThereIsOneRank(_ shape: JobShape) {
        let stage = SelftestStage(shape: shape, timeout: 20)
        #expect(!stage.cases.contains { $0.arguments.contains("--virtual-ranks") })
        #expect(!SelftestStage.virtualNCCL(shape))
    }
}
