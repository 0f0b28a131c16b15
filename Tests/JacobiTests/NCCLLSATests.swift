import Kernels
import Testing
@testable import Jacobi

/// nccl_lsa without a GPU: its window layout, the halo epochs, and what the Swift side assumes
/// about the kernels' geometry.
@Suite struct NCCLLSATests {
    static let shapes: [(Int, Int)] = [(16384, 4), (16384, 2), (16384, 1), (1030, 4), (1030, 3), (4097, 8), (3, 2)]

    /// Both grids, the norm area and the flags are disjoint, 4096-aligned, inside a window whose
    /// size is a multiple of 4096 and the same on every rank (it depends only on the problem).
    @Test(arguments: shapes)
    func windowRegionsAreDisjointAndAligned(_ side: Int, _ ranks: Int) {
        let p = JacobiProblem(nx: side, ny: side)
        let bufferBytes = p.bufferRows(ranks: ranks) * p.nx * 4
        let norm = DeviceNormLayout(problem: p, ranks: ranks)
        let l = LSAWindowLayout(bufferBytes: bufferBytes, blocksX: StencilKernels.blocksX(nx: p.nx), norm: norm)
        let regions = [(l.grid[0], bufferBytes), (l.grid[1], bufferBytes), (l.normOffset, l.norm.bytes),
                       (l.flagOffset, 2 * 4 * l.blocksX)].sorted { $0.0 < $1.0 }
        for (a, b) in zip(regions, regions.dropFirst()) { #expect(a.0 + a.1 <= b.0, "\(a) overlaps \(b)") }
        #expect(regions.allSatisfy { $0.0 % LSAWindowLayout.alignment == 0 })
        #expect(regions.last.map { $0.0 + $0.1 <= l.bytes } == true && l.bytes % 4096 == 0)
        #expect(l.control.offset == l.normOffset && l.control.offset + l.control.bytes == l.bytes)
        // Every rank's grid fits the norm area, one wave or 16-row blocks, whatever its slab.
        for slab in p.slabs(ranks: ranks) {
            for wave in [0, 1, 33, 2112] { #expect(StencilKernels.grid(nx: p.nx, rows: slab.rows, wave: wave) <= norm.blocks) }
        }
        // Flags: one u32 per (side, column block), all distinct, inside the flag region.
        let flags = [LSAWindowLayout.Side.top, .bottom].flatMap { s in (0..<l.blocksX).map { l.flag(from: s, block: $0) } }
        #expect(Set(flags).count == 2 * l.blocksX)
        #expect(flags.allSatisfy { $0 >= l.flagOffset && $0 + 4 <= l.bytes && $0 % 4 == 0 })
    }

    @Test func windowAt16384OnFourGPUs() {
        let slab = (4096 + 2) * 16384 * 4  // bufferRows(4) × nx floats
        // 16-row blocks over 4096 rows: 256 block rows × 32 block columns; a float pair per warp after the slots.
        let norm = DeviceNormLayout(problem: JacobiProblem(nx: 16384, ny: 16384), ranks: 4)
        #expect(norm.blocks == 32 * 256)
        let l = LSAWindowLayout(bufferBytes: slab, blocksX: 32, norm: norm)
        #expect(l.grid == [0, slab] && slab % 4096 == 0)
        #expect(l.norm.bytes == 16 + 4 * 32 + 8 * 4 * 8192)
        #expect(l.normOffset == 2 * slab && l.flagOffset == 2 * slab + 65 * 4096 && l.bytes == 2 * slab + 66 * 4096)
        #expect(l.flag(from: .top, block: 0) == l.flagOffset && l.flag(from: .bottom, block: 5) == l.flagOffset + 4 * (32 + 5))
    }

    /// Iteration c stores epoch c + 1 (so the first waits for 0, what zeroed flags hold); the
    /// count wraps at 32 bits instead of trapping.
    @Test func epochs() {
        #expect(LSAWindowLayout.epoch(iteration: 0) == 1 && LSAWindowLayout.epoch(iteration: 1009) == 1010)
        #expect(LSAWindowLayout.epoch(iteration: Int(UInt32.max) - 1) == UInt32.max)
        #expect(LSAWindowLayout.epoch(iteration: Int(UInt32.max)) == 0)
    }

    /// The Swift launch geometry is the kernels' (JBX, GC_COUNT_WRONG_THREADS from the generated
    /// gc_constants.cuh), every Jacobi source gets the stencil through `#include "jacobi.cuh"`, and
    /// the nccl_lsa source carries the kernels the scheme looks up.
    @Test func kernelGeometryAndSymbols() {
        for p in [KernelSources.jacobi, KernelSources.jacobiNVSHMEM, KernelSources.jacobiNCCLLSA] {
            let constants = p.headers.first { $0.name == "gc_constants.cuh" }?.source ?? ""
            #expect(constants.contains("#define JBX \(StencilKernels.blockX)\n"), "\(p.name)")
            #expect(p.headers.contains { $0.name == "jacobi.cuh" && $0.source.contains("jacobi_rows(") }, "\(p.name)")
            #expect(!p.headers.contains { $0.name.hasSuffix(".cu") }, "\(p.name): includes only headers")
        }
        let jacobi = KernelSources.jacobi.headers.first { $0.name == "gc_constants.cuh" }?.source ?? ""
        #expect(jacobi.contains("#define GC_COUNT_WRONG_THREADS \(StencilKernels.countWrongThreads)\n"))
        #expect(StencilKernels.blockX % 32 == 0 && StencilKernels.countWrongThreads % 32 == 0)
        let lsa = KernelSources.jacobiNCCLLSA
        #expect(lsa.parameters(of: "gc_jacobi_lsa") != nil && lsa.parameters(of: "gc_jacobi_lsa_finish") != nil)
        #expect(KernelSources.catalog.contains { $0.name == "jacobi_nccl_lsa" && $0.kind == .ncclDevice })
    }

    /// The argument slots the schemes patch every iteration are the kernels' parameters of those
    /// names (read from the declarations), at the positions the arguments are built in.
    @Test func patchedArgumentSlots() {
        let lsa = KernelSources.jacobiNCCLLSA, shmem = KernelSources.jacobiNVSHMEM
        #expect(["publish", "epoch", "send", "assemble", "out"].map { lsa.slot($0, of: "gc_jacobi_lsa") } == [7, 16, 18, 19, 20])
        #expect(lsa.parameters(of: "gc_jacobi_lsa")?.count == 21)
        #expect(["publish", "wait", "send", "assemble", "out"].map { shmem.slot($0, of: "gc_jacobi_shmem_opt") } == [7, 12, 13, 14, 15])
        #expect(shmem.parameters(of: "gc_jacobi_shmem_opt")?.count == 16)
        // The common head StencilKernels.head builds: (a_new, a, norm, iy_start, iy_end, nx, nbx, calc_norm).
        let head = ["a_new", "a", "norm", "iy_start", "iy_end", "nx", "nbx", "calc_norm"]
        #expect(KernelSources.jacobi.parameters(of: "gc_jacobi") == head)
        #expect(shmem.parameters(of: "gc_jacobi_shmem_p").map { Array($0.prefix(8)) } == head)
        #expect(shmem.parameters(of: "gc_jacobi_shmem_block").map { Array($0.prefix(8)) } == head)
    }

    @Test func variants() throws {
        #expect(JacobiVariant.allCases.allSatisfy { $0.isBuilt })
        #expect(JacobiVariant.allCases.filter(\.overlapsNorm) == [.nvshmemOpt, .ncclLSA])
        #expect(try JacobiVariant.parseList("nccl_lsa,nvshmem_opt") == [.ncclLSA, .nvshmemOpt])
        #expect(JacobiVariant.ncclLSA.usesNCCL && !JacobiVariant.ncclLSA.usesNVSHMEM && JacobiVariant.ncclLSA.backend == "nccl")
    }
}
