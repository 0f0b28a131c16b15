import Kernels
import Testing
@testable import NVSHMEMBench

@Suite struct P2PConfigTests {
    @Test func pairParses() {
        #expect(PEPair.parse("0,1") == PEPair(0, 1))
        #expect(PEPair.parse("3, 0") == PEPair(3, 0))
        for bad in ["1,1", "0", "0,1,2", "-1,2", "a,b", "", "0,"] { #expect(PEPair.parse(bad) == nil, "\(bad)") }
    }

    @Test func pairRoles() {
        let p = PEPair(0, 3)
        #expect(p.peer(of: 0) == 3 && p.peer(of: 3) == 0 && p.peer(of: 1) == nil)
        #expect(p.contains(3) && !p.contains(2))
    }

    @Test func initiatorsAndReceivers() {
        var o = P2PBandwidth.Options()
        o.pair = PEPair(1, 2)
        #expect(o.initiators == [1] && o.receivers == [2])
        o.op = .get
        #expect(o.initiators == [1] && o.receivers == [1])
        o.bidirectional = true
        #expect(o.initiators == [1, 2] && o.receivers == [1, 2])
        o.op = .put
        #expect(o.receivers == [2, 1])
    }

    @Test func gridSizes() {
        #expect(GridSize.parse("2x") == .perSM(2))
        #expect(GridSize.parse("264") == .blocks(264))
        #expect(GridSize.parse("4X")?.blocks(multiprocessors: 132) == 528)
        #expect(GridSize.parse("33")?.blocks(multiprocessors: 132) == 33)
        for bad in ["0x", "x", "0", "-2", "1.5x", "65x", ""] { #expect(GridSize.parse(bad) == nil, "\(bad)") }
        #expect(GridSize.perSM(2).description == "2x")
    }

    @Test func lists() {
        #expect(parseList("1x,2x,4x", GridSize.parse) == [.perSM(1), .perSM(2), .perSM(4)])
        #expect(parseList("256,512", { Int($0) }) == [256, 512])
        #expect(parseList("256,,512", { Int($0) }) == nil)
        #expect(parseList("", { Int($0) }) == nil)
    }

    @Test func blockThreads() {
        #expect(validBlockThreads(32) && validBlockThreads(1024) && validBlockThreads(256))
        #expect(!validBlockThreads(0) && !validBlockThreads(48) && !validBlockThreads(2048))
    }

    @Test func innerIterations() {
        #expect(autoInnerIterations(bytes: 1 << 30) == 1)
        #expect(autoInnerIterations(bytes: 256 << 20) == 4)
        #expect(autoInnerIterations(bytes: 64 << 20) == 16)
        #expect(autoInnerIterations(bytes: 100 << 20) == 11)
        #expect(autoInnerIterations(bytes: 1 << 20) == 100)
        #expect(autoInnerIterations(bytes: 8) == 100)
    }

    @Test func latencyShapes() {
        #expect(P2PScope.thread.latencyBlock(threads: 512) == 1)
        #expect(P2PScope.warp.latencyBlock(threads: 512) == 32)
        #expect(P2PScope.block.latencyBlock(threads: 512) == 512)
        #expect(P2PLatency.Op.p.fixedBytes == 8 && P2PLatency.Op.put.fixedBytes == nil)
        #expect(P2PLatency.Op.allCases.map(\.benchmark) == ["p_latency", "g_latency", "put_latency", "get_latency"])
        #expect(P2PScope.allCases.map(\.code) == [0, 1, 2, nil])
        #expect(P2PScope.latencyScopes == [.thread, .warp, .block])
    }

    @Test func tmaHasNoLatencyKernel() throws {
        #expect(P2PScope(rawValue: "tma") == .tma)
        #expect(throws: P2PError.self) { try P2PLatency.scopeCode(.tma) }
        #expect(try P2PLatency.scopeCode(.warp) == 1)
    }

    /// Dynamic shared memory = ring + one 8-byte mbarrier per stage (gc_tma_shared_bytes in nvshmem_tma.cu).
    @Test(arguments: [(32 << 10, 4, 131_104), (16 << 10, 2, 32_784), (16, 8, 192), (48 << 10, 3, 147_480)])
    func tmaSharedBytes(_ stage: Int, _ stages: Int, _ bytes: Int) {
        let t = TMAStaging(stageBytes: stage, stages: stages)
        #expect(t.sharedBytes == bytes)
        #expect(t.problem == nil)
    }

    @Test func tmaRingLimits() throws {
        // 56 KiB × 4 + 32 = 229,408 B fits in sm_90's 227 KiB (232,448 B); 57 KiB × 4 does not.
        #expect(TMAStaging(stageBytes: 56 << 10, stages: 4).problem == nil)
        let big = try #require(TMAStaging(stageBytes: 57 << 10, stages: 4).problem)
        #expect(big.contains("233504") && big.contains("227 KiB"), "\(big)")
        #expect(TMAStaging(stageBytes: 100, stages: 4).problem?.contains("multiple of 16") == true)
        #expect(TMAStaging(stageBytes: 0, stages: 4).problem?.contains("multiple of 16") == true)
        for n in [0, 1, 9] { #expect(TMAStaging(stageBytes: 16 << 10, stages: n).problem?.contains("from 2 to 8") == true, "\(n)") }
        #expect(TMAStaging() == TMAStaging(stageBytes: 32 << 10, stages: 4))
    }

    /// auto: 256 KiB pieces round-robin once an equal piece per unit would be larger; 0 and
    /// explicit sizes pass through. Units are blocks (block, tma), warps or threads.
    @Test func autoChunk() {
        let c = P2PBandwidth.Config()  // 1024 threads
        #expect(c.units(blocks: 264, scope: .block) == 264 && c.units(blocks: 264, scope: .tma) == 264)
        #expect(c.units(blocks: 264, scope: .warp) == 264 * 32 && c.units(blocks: 264, scope: .thread) == 264 * 1024)
        #expect(c.effectiveChunk(bytes: 64 << 20, units: 264) == 0)          // 248 KiB each: equal pieces
        #expect(c.effectiveChunk(bytes: 64 << 20, units: 132) == 256 << 10)  // 496 KiB each
        #expect(c.effectiveChunk(bytes: 1 << 30, units: 264) == 256 << 10)
        #expect(c.effectiveChunk(bytes: 1 << 30, units: 264 * 32) == 0)
        #expect(c.effectiveChunk(bytes: 256 << 10, units: 1) == 0 && c.effectiveChunk(bytes: (256 << 10) + 16, units: 1) == 256 << 10)
        var z = c; z.chunk = 0
        #expect(z.effectiveChunk(bytes: 1 << 30, units: 1) == 0)
        z.chunk = 48 << 10
        #expect(z.effectiveChunk(bytes: 1 << 10, units: 264) == 48 << 10)
        #expect(c.description.hasSuffix("chunk auto") && z.description.hasSuffix("chunk 49152"))
    }

    @Test func tmaDefaultShape() {
        let d = P2PBandwidth.Config.tmaDefault
        #expect(d.grid == .perSM(1) && d.threads == 32 && d.chunk == nil && d.staging.sharedBytes == 131_104)
        #expect(d.description(scope: .tma).hasSuffix("stage 32768 x4"))
        #expect(!P2PBandwidth.Config().description(scope: .block).contains("stage"))
    }
}
