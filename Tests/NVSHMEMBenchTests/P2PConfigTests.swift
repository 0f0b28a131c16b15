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
        #expect(autoInnerIterations(bytes: 256 << 20) == 1)
        #expect(autoInnerIterations(bytes: 64 << 20) == 4)
        #expect(autoInnerIterations(bytes: 100 << 20) == 3)
        #expect(autoInnerIterations(bytes: 1 << 20) == 100)
        #expect(autoInnerIterations(bytes: 8) == 100)
    }

    @Test func latencyShapes() {
        #expect(P2PScope.thread.latencyBlock(threads: 512) == 1)
        #expect(P2PScope.warp.latencyBlock(threads: 512) == 32)
        #expect(P2PScope.block.latencyBlock(threads: 512) == 512)
        #expect(P2PLatency.Op.p.fixedBytes == 8 && P2PLatency.Op.put.fixedBytes == nil)
        #expect(P2PLatency.Op.allCases.map(\.benchmark) == ["p_latency", "g_latency", "put_latency", "get_latency"])
        #expect(P2PScope.allCases.map(\.code) == [0, 1, 2])
    }
}
