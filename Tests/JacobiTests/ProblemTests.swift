import Testing
@testable import Jacobi

@Suite struct ProblemTests {
    /// The NCCL samples' split: (ny-2)/N rows each, the last (ny-2) mod N ranks one more, contiguous, covering 1 ... ny-2.
    @Test(arguments: [(16384, 1), (16384, 3), (16384, 4), (1000, 7), (10, 4), (103, 8)])
    func slabsCoverTheInteriorOnce(_ ny: Int, _ ranks: Int) {
        let p = JacobiProblem(nx: 64, ny: ny)
        let s = p.slabs(ranks: ranks)
        #expect(s.count == ranks)
        #expect(s.first?.firstRow == 1)
        for i in 1..<s.count { #expect(s[i].firstRow == s[i - 1].firstRow + s[i - 1].rows) }
        #expect(s.map(\.rows).reduce(0, +) == ny - 2)
        let low = (ny - 2) / ranks
        #expect(s.allSatisfy { $0.rows == low || $0.rows == low + 1 })
        #expect(zip(s, s.dropFirst()).allSatisfy { $0.rows <= $1.rows }, "the longer slabs come last")
        #expect(s.allSatisfy { $0.rows + 2 <= p.bufferRows(ranks: ranks) })
    }

    @Test func byteAccounting() {
        let p = JacobiProblem(nx: 16384, ny: 16384)
        #expect(p.interiorElements == 16382 * 16382)
        #expect(p.bytesPerIteration == 8 * 16382 * 16382)
        // Two full grids + two slabs + heap (two slabs + 64 MiB) + 256 MiB at 4 GPUs.
        let slab = Int64(16384) * Int64(p.bufferRows(ranks: 4)) * 4
        #expect(p.bufferRows(ranks: 4) == 4096 + 2)
        #expect(p.bytesPerGPU(ranks: 4) == 2 * 16384 * 16384 * 4 + 4 * slab + (64 << 20) + (256 << 20))
    }

    @Test func validation() {
        let ok = JacobiProblem()
        #expect(ok.problem(ranks: [1, 2, 4, 8]) == nil)
        #expect(JacobiProblem(nx: 2, ny: 100).problem(ranks: [1])?.contains("at least 3") == true)
        #expect(JacobiProblem(nx: 100, ny: (1 << 20) + 1).problem(ranks: [1])?.contains("at most") == true)
        #expect(JacobiProblem(nx: 100, ny: 9).problem(ranks: [1, 4])?.contains("grid too small for 4 GPUs") == true)
        #expect(JacobiProblem(nx: 100, ny: 10).problem(ranks: [4]) == nil, "8 interior rows: 2 each")
        #expect(JacobiProblem(iterations: 0).problem(ranks: [1])?.contains("-n") == true)
        #expect(JacobiProblem(warmup: 3).problem(ranks: [1])?.contains("--warmup") == true)
        #expect(JacobiProblem(normEvery: -1).problem(ranks: [1])?.contains("--norm-every") == true)
        #expect(ok.memoryProblem(ranks: 4, freeBytes: 140 << 30) == nil)
        let m = ok.memoryProblem(ranks: 1, freeBytes: 1 << 30)
        #expect(m?.contains("needs") == true && m?.contains("1.00 GiB is free") == true, "\(m ?? "nil")")
    }

    @Test func normCadence() {
        #expect((0..<5).filter(JacobiProblem(normEvery: 2).computesNorm) == [0, 2, 4])
        #expect((0..<5).filter(JacobiProblem(normEvery: 0).computesNorm).isEmpty)
        #expect((0..<3).filter(JacobiProblem(normEvery: 1).computesNorm) == [0, 1, 2])
    }

    @Test func variantLists() throws {
        #expect(try JacobiVariant.parseList("all") == JacobiVariant.allCases)
        #expect(try JacobiVariant.parseList("nccl, nvshmem_opt,nccl") == [.nccl, .nvshmemOpt])
        #expect(throws: JacobiInputError.self) { try JacobiVariant.parseList("nccl,bogus") }
        #expect(throws: JacobiInputError.self) { try JacobiVariant.parseList("") }
        #expect(JacobiVariant.allCases.map(\.rawValue) == ["single_gpu", "nccl", "nccl_overlap", "nccl_graphs", "nccl_ub", "nccl_symm",
                                                          "nvshmem", "nvshmem_block", "nvshmem_opt", "nccl_lsa"])
        #expect(JacobiVariant.nvshmemBlock.backend == "nvshmem" && JacobiVariant.ncclSymm.backend == "nccl" && JacobiVariant.singleGPU.backend == "cuda")
    }
}
