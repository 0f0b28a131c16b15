import Collectives
import Testing
@testable import AllToAll

@Suite struct LayoutTests {
    @Test(arguments: [(16384, 4, 16384), (1000, 4, 960), (4096, 3, 4080), (63, 4, 0), (1 << 30, 8, 1 << 30)])
    func effectiveSizeIsWholeAlignedBlocks(_ size: Int, _ ranks: Int, _ want: Int) {
        let e = AlltoallLayout.effectiveBytes(size, ranks: ranks)
        #expect(e == want)
        #expect(e % (16 * ranks) == 0 && e <= size)
    }

    @Test func bandwidthFollowsNCCLTests() {
        // 256 MiB per rank in 1000 µs on 4 ranks: algbw 268.435456 GB/s, busbw × 3/4.
        let bw = AlltoallLayout.accounting(bytesPerRank: 256 << 20, ranks: 4).bandwidth(microseconds: 1000)!
        #expect(abs(bw.algbw - 268.435456) < 1e-9)
        #expect(abs(bw.busbw - 268.435456 * 0.75) < 1e-9)
    }

    @Test func expectedBlockPComesFromRankPAtMyOffset() {
        let s = AlltoallLayout.expected(bytesPerRank: 64, ranks: 4, rank: 2)
        #expect(s.count == 4)
        for (p, seg) in s.enumerated() {
            #expect(seg.dstOffset == 16 * p && seg.length == 16 && seg.srcRank == p && seg.srcOffset == 32)
        }
    }

    @Test func matchesTheNCCLAlltoallDescriptor() {
        let c = Collectives.named("alltoall")!
        for r in 0..<4 {
            let l = c.layout(sizeBytes: 4096, typeSize: 1, ranks: 4, rank: r)
            let a = c.expected(l, ranks: 4, rank: r, root: 0)
            let b = AlltoallLayout.expected(bytesPerRank: 4096, ranks: 4, rank: r)
            #expect(a.map(\.dstOffset) == b.map(\.dstOffset) && a.map(\.srcOffset) == b.map(\.srcOffset) && a.map(\.srcRank) == b.map(\.srcRank))
        }
    }
}

@Suite struct KernelOptionsTests {
    @Test func autoIsOneBlockPer64KiBPerPeerCapped() {
        let k = KernelOptions()
        #expect(k.blocksPerPeer(bytesPerPeer: 4096, pes: 4, sms: 132, resident: 264) == 1)
        #expect(k.blocksPerPeer(bytesPerPeer: 1 << 20, pes: 4, sms: 132, resident: 264) == 16)
        #expect(k.blocksPerPeer(bytesPerPeer: 64 << 20, pes: 4, sms: 132, resident: 264) == 33)
        #expect(k.blocksPerPeer(bytesPerPeer: 64 << 20, pes: 4, sms: 132, resident: 40) == 10)
    }

    @Test func explicitBlocksAreSplitAcrossPeers() {
        var k = KernelOptions()
        k.blocks = 66
        #expect(k.blocksPerPeer(bytesPerPeer: 4096, pes: 4, sms: 132, resident: 264) == 16)
        k.blocks = 2
        #expect(k.blocksPerPeer(bytesPerPeer: 4096, pes: 4, sms: 132, resident: 264) == 1)
        k.blocks = 1000
        #expect(k.blocksPerPeer(bytesPerPeer: 4096, pes: 4, sms: 132, resident: 264) == 33)
    }
}
