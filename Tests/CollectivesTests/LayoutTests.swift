import Driver
import Testing
@testable import Collectives
import Measure

/// Byte accounting, layouts and expected segments of every collective, for 1, 2, 3, 4 and 8 ranks.
@Suite struct LayoutTests {
    /// Sizes (in units of the granularity) tried for each case: one block and a few.
    static let blocks = [1, 3, 16]

    @Test func registryIsNcclTestsOrderWithUniqueKeys() {
        #expect(Collectives.all.map(\.key) == ["all_reduce", "all_gather", "reduce_scatter", "broadcast", "reduce",
                                               "alltoall", "gather", "scatter", "sendrecv", "hypercube"])
        #expect(Set(Collectives.all.map(\.key)).count == Collectives.all.count)
    }

    @Test func namedAcceptsNcclTestsSpellings() {
        #expect(Collectives.named("all_reduce_perf")?.key == "all_reduce")
        #expect(Collectives.named("ALL_GATHER")?.key == "all_gather")
        #expect(Collectives.named("alltoallv")?.key == "alltoallv")
        #expect(Collectives.named("allreduce") == nil)
        #expect(Collectives.named("") == nil)
        #expect(CollectiveDescriptor.isKnown("sendrecv_perf"))
        #expect(!CollectiveDescriptor.isKnown("all_to_all"))
    }

    @Test func flags() {
        func d(_ k: String) -> CollectiveDescriptor { Collectives.named(k)! }
        #expect(Collectives.all.filter(\.usesOp).map(\.key) == ["all_reduce", "reduce_scatter", "reduce"])
        #expect(Collectives.all.filter(\.usesRoot).map(\.key) == ["broadcast", "reduce", "gather", "scatter"])
        #expect(Collectives.all.filter(\.needsPowerOfTwo).map(\.key) == ["hypercube"])
        #expect(Collectives.all.allSatisfy { $0.hasInPlace })
        #expect(!Collectives.alltoallv(matrix: TrafficMatrix(skew: 1)).hasInPlace)
        #expect(Collectives.all.filter { $0.inPlaceUnsupported != nil }.map(\.key) == ["alltoall", "sendrecv"])
        #expect(Collectives.all.filter { $0.split == .whole }.map(\.key) == ["all_reduce", "broadcast", "reduce", "sendrecv"])
        #expect(d("alltoallv").split == .perRank && !d("alltoallv").usesOp && !d("alltoallv").usesRoot)
    }

    @Test(arguments: Coll.registry, rankCounts)
    func layoutMatchesNcclTests(_ c: Coll, _ n: Int) throws {
        let d = c.descriptor
        for type in [1, 2, 4, 8] {
            let g = d.granularity(typeSize: type, ranks: n)
            for k in Self.blocks {
                let size = g * k
                for r in 0..<n {
                    let want = try #require(ncclTestsLayout(d.key, count: size / type, ranks: n, rank: r))
                    let got = d.layout(sizeBytes: size, typeSize: type, ranks: n, rank: r)
                    #expect(got.sendCount == want.sendCount, "\(d.key) n=\(n) rank \(r) size \(size) type \(type)")
                    #expect(got.recvCount == want.recvCount, "\(d.key) n=\(n) rank \(r) size \(size) type \(type)")
                    #expect(got.paramCount == want.paramCount, "\(d.key) n=\(n) rank \(r) size \(size) type \(type)")
                    #expect(got.sendInPlaceOffset == want.sendInPlaceOffset, "\(d.key) n=\(n) rank \(r)")
                    #expect(got.recvInPlaceOffset == want.recvInPlaceOffset, "\(d.key) n=\(n) rank \(r)")
                    // Every element of the size is accounted for: the larger side is the whole size.
                    #expect(max(got.sendCount, got.recvCount) * type == size, "\(d.key) n=\(n) size \(size)")
                    // In-place: send and receive ranges both fit in the one buffer.
                    #expect(got.inPlaceElements >= got.sendInPlaceOffset + got.sendCount)
                    #expect(got.inPlaceElements >= got.recvInPlaceOffset + got.recvCount)
                    #expect(got.inPlaceElements == max(got.sendCount, got.recvCount), "\(d.key): in-place needs no extra room")
                }
            }
        }
    }

    /// Layout.sizeBytes is documented as "bytes nccl-tests prints in its size column", but every
    /// layout function leaves it 0.
    @Test(arguments: Coll.registry)
    func layoutCarriesItsSize(_ c: Coll) {
        let size = c.descriptor.granularity(typeSize: 4, ranks: 4) * 8
        #expect(c.descriptor.layout(sizeBytes: size, typeSize: 4, ranks: 4, rank: 1).sizeBytes == size)
    }

    @Test(arguments: Coll.all, rankCounts)
    func busFactor(_ c: Coll, _ n: Int) {
        let key = c.descriptor.key
        #expect(abs(c.descriptor.busFactor.factor(ranks: n) - ncclTestsBusFactor(key, ranks: n)) < 1e-12, "\(key) n=\(n)")
        let bw = c.descriptor.accounting(bytes: 100_000, ranks: n).bandwidth(microseconds: 1)!  // algbw = 100 GB/s × algbw factor
        #expect(abs(bw.busbw - bw.algbw * ncclTestsBusFactor(key, ranks: n)) < 1e-9)
        #expect(abs(bw.algbw - 100 * ncclTestsAlgbwFactor(key, ranks: n)) < 1e-9)
        #expect(abs(c.descriptor.algbwFactor.factor(ranks: n) - ncclTestsAlgbwFactor(key, ranks: n)) < 1e-12, "\(key) n=\(n)")
    }

    @Test(arguments: Coll.all, rankCounts)
    func granularity(_ c: Coll, _ n: Int) {
        for t in [1, 2, 4, 8] {
            let want = c.descriptor.split == .perRank ? t * n : t
            #expect(c.descriptor.granularity(typeSize: t, ranks: n) == want, "\(c.name) n=\(n) type \(t)")
        }
    }

    /// Expected segments tile each rank's receive buffer exactly once and read inside the source's send buffer.
    @Test(arguments: Coll.all, rankCounts)
    func segmentsTileTheReceiveBuffer(_ c: Coll, _ n: Int) {
        let d = c.descriptor
        for type in [2, 4] {
            for k in Self.blocks {
                let size = d.granularity(typeSize: type, ranks: n) * k
                let layouts = (0..<n).map { d.layout(sizeBytes: size, typeSize: type, ranks: n, rank: $0) }
                for root in roots(d, n) {
                    for r in 0..<n {
                        let l = layouts[r]
                        let segs = d.expected(l, ranks: n, rank: r, root: root)
                        let where_ = "\(c.name) n=\(n) rank \(r) root \(root) size \(size)"
                        if nothingDefined(d.key, rank: r, root: root) {
                            #expect(segs.isEmpty, "\(where_): non-root has nothing defined")
                            continue
                        }
                        checkTiling(segs, recvCount: l.recvCount, where_)
                        for s in segs where s.length > 0 {
                            #expect(s.srcOffset >= 0 && s.length > 0, "\(where_)")
                            if let src = s.srcRank {
                                #expect((0..<n).contains(src), "\(where_): source rank \(src)")
                                if (0..<n).contains(src) {
                                    #expect(s.srcOffset + s.length <= layouts[src].sendCount,
                                            "\(where_): segment \(s) reads past rank \(src)'s \(layouts[src].sendCount) send elements")
                                }
                            } else {
                                #expect(d.usesOp, "\(where_): a reduced segment in a collective without op")
                                for q in 0..<n {
                                    #expect(s.srcOffset + s.length <= layouts[q].sendCount, "\(where_): reduction past rank \(q)'s send buffer")
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// What each collective's receive buffer holds, segment by segment, for 4 ranks at 8 elements per block.
    @Test func expectedSourcesForFourRanks() {
        let n = 4, b = 8
        func segs(_ k: String, rank: Int, root: Int = 0) -> [Segment] {
            let d = Collectives.named(k)!
            let size = d.split == .perRank ? b * n * 4 : b * 4
            return d.expected(d.layout(sizeBytes: size, typeSize: 4, ranks: n, rank: rank), ranks: n, rank: rank, root: root)
        }
        #expect(segs("all_reduce", rank: 2) == [Segment(dstOffset: 0, length: b, srcRank: nil, srcOffset: 0)])
        #expect(segs("reduce_scatter", rank: 2) == [Segment(dstOffset: 0, length: b, srcRank: nil, srcOffset: 2 * b)])
        #expect(segs("broadcast", rank: 3, root: 1) == [Segment(dstOffset: 0, length: b, srcRank: 1, srcOffset: 0)])
        #expect(segs("reduce", rank: 1, root: 1) == [Segment(dstOffset: 0, length: b, srcRank: nil, srcOffset: 0)])
        #expect(segs("scatter", rank: 3, root: 2) == [Segment(dstOffset: 0, length: b, srcRank: 2, srcOffset: 3 * b)])
        #expect(segs("sendrecv", rank: 0) == [Segment(dstOffset: 0, length: b, srcRank: 3, srcOffset: 0)])
        #expect(segs("alltoall", rank: 1).map(\.srcOffset) == [b, b, b, b])
        #expect(segs("alltoall", rank: 1).map(\.srcRank) == [0, 1, 2, 3])
        for k in ["all_gather", "hypercube"] {
            #expect(segs(k, rank: 2) == (0..<n).map { Segment(dstOffset: $0 * b, length: b, srcRank: $0, srcOffset: 0) })
        }
        #expect(segs("gather", rank: 0, root: 0).count == n)
    }
}

/// Records an issue unless the non-empty segments cover [0, recvCount) exactly once.
func checkTiling(_ segments: [Segment], recvCount: Int, _ where_: String, sourceLocation: SourceLocation = #_sourceLocation) {
    var cover = [Int](repeating: 0, count: recvCount)
    for s in segments where s.length > 0 {
        guard s.dstOffset >= 0, s.dstOffset + s.length <= recvCount else {
            Issue.record("\(where_): segment \(s) outside the \(recvCount)-element receive buffer", sourceLocation: sourceLocation)
            continue
        }
        for i in s.dstOffset..<(s.dstOffset + s.length) { cover[i] += 1 }
    }
    if let i = cover.firstIndex(where: { $0 != 1 }) {
        Issue.record("\(where_): element \(i) of \(recvCount) is covered \(cover[i]) times", sourceLocation: sourceLocation)
    }
}
