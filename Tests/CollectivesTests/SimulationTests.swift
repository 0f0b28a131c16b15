import Testing
@testable import Collectives
import GPU

/// Runs each descriptor's steps on a CPU fake of NCCL (FakeNCCL.swift) and checks every rank's
/// receive buffer against the descriptor's own `expected` segments: the same comparison the GPU
/// check kernel makes, so a wrong offset in a step or in `expected` fails here.
@Suite struct SimulationTests {
    /// The value rank r's send buffer holds at element j (distinct across ranks and elements).
    static func value(_ r: Int, _ j: Int) -> Int32 { Int32(r * 1_000_003 + j + 1) }

    /// Host buffers of one simulated job and what a run left in them.
    final class Job {
        let d: CollectiveDescriptor
        let n: Int
        let root: Int
        let inPlace: Bool
        let dtype: NCCLDataType
        let layouts: [Layout]
        var buffers: [UnsafeMutableRawPointer] = []
        var contexts: [IssueContext] = []
        let group: FakeGroup
        static let poison: Int32 = -0x5A5A5A5A

        init(_ d: CollectiveDescriptor, ranks n: Int, sizeBytes: Int, root: Int, inPlace: Bool, dtype: NCCLDataType = .int32) {
            self.d = d; self.n = n; self.root = root; self.inPlace = inPlace; self.dtype = dtype
            layouts = (0..<n).map { d.layout(sizeBytes: sizeBytes, typeSize: dtype.size, ranks: n, rank: $0) }
            group = FakeGroup(ranks: n)
            let es = dtype.size
            for r in 0..<n {
                let l = layouts[r]
                // Out-of-place: separate send and receive buffers; in-place: one buffer, as Bench.measure places them.
                let recvElems = inPlace ? l.inPlaceElements : l.recvCount
                let recvBase = UnsafeMutableRawPointer.allocate(byteCount: max(1, recvElems * es), alignment: 16)
                buffers.append(recvBase)
                group.allocations.append((UnsafeRawPointer(recvBase), max(1, recvElems * es)))
                for i in 0..<recvElems { store(Job.poison, recvBase, i) }
                let send: UnsafeMutableRawPointer
                if inPlace {
                    send = recvBase + l.sendInPlaceOffset * es
                } else {
                    send = UnsafeMutableRawPointer.allocate(byteCount: max(1, l.sendCount * es), alignment: 16)
                    buffers.append(send)
                    group.allocations.append((UnsafeRawPointer(send), max(1, l.sendCount * es)))
                }
                for j in 0..<l.sendCount { store(SimulationTests.value(r, j), send, j) }
                let recv = inPlace ? recvBase + l.recvInPlaceOffset * es : recvBase
                contexts.append(IssueContext(send: send, recv: recv, layout: l, typeSize: es, rank: r, ranks: n, root: root,
                                             op: NCCLReduceOp.sum.builtin!.rawValue, dtype: dtype.rawValue, issuer: group.issuer(rank: r)))
            }
        }

        deinit { buffers.forEach { $0.deallocate() } }

        func store(_ v: Int32, _ p: UnsafeMutableRawPointer, _ i: Int) {
            if dtype == .float64 { p.storeBytes(of: Double(v), toByteOffset: i * 8, as: Double.self) }
            else { p.storeBytes(of: v, toByteOffset: i * 4, as: Int32.self) }
        }

        func load(_ p: UnsafeRawPointer, _ i: Int) -> Int64 {
            dtype == .float64 ? Int64(p.loadUnaligned(fromByteOffset: i * 8, as: Double.self))
                : Int64(p.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))
        }

        /// Issues the steps as Bench.issueOnce does: each step for every rank, then the group ends.
        func run() throws {
            for step in d.steps(n) {
                for x in contexts { try step(x) }
                group.end()
            }
        }

        /// Wrong elements per rank, comparing with `expected` as the GPU check kernel does.
        func wrong() -> [Int] {
            (0..<n).map { r in
                var bad = 0
                for s in d.expected(layouts[r], ranks: n, rank: r, root: root) {
                    for k in 0..<s.length {
                        let want: Int64 = s.srcRank.map { Int64(SimulationTests.value($0, s.srcOffset + k)) }
                            ?? (0..<n).reduce(Int64(0)) { $0 + Int64(SimulationTests.value($1, s.srcOffset + k)) }
                        guard group.inBounds(contexts[r].recv + (s.dstOffset + k) * dtype.size, dtype.size) else { bad += 1; continue }
                        let got = load(contexts[r].recv, s.dstOffset + k)
                        if dtype == .int32 ? Int32(truncatingIfNeeded: got) != Int32(truncatingIfNeeded: want) : got != want { bad += 1 }
                    }
                }
                return bad
            }
        }
    }

    static func runnable(_ d: CollectiveDescriptor, _ n: Int) -> Bool { !d.needsPowerOfTwo || n & (n - 1) == 0 }

    @Test(arguments: Coll.all, rankCounts)
    func outOfPlace(_ c: Coll, _ n: Int) throws {
        let d = c.descriptor
        guard Self.runnable(d, n) else { return }
        for k in [1, 3, 8] {
            let size = d.granularity(typeSize: 4, ranks: n) * k
            for root in roots(d, n) {
                let job = Job(d, ranks: n, sizeBytes: size, root: root, inPlace: false)
                try job.run()
                #expect(job.wrong() == Array(repeating: 0, count: n), "\(c.name) n=\(n) size \(size) root \(root)")
            }
        }
    }

    /// In-place with the offsets nccl-tests uses. The fake reads before it writes, so the NCCL
    /// race of in-place alltoall and sendrecv does not show; the offsets and steps are what is checked.
    @Test(arguments: Coll.registry, rankCounts)
    func inPlace(_ c: Coll, _ n: Int) throws {
        let d = c.descriptor
        guard Self.runnable(d, n), d.hasInPlace else { return }
        for k in [1, 5] {
            let size = d.granularity(typeSize: 4, ranks: n) * k
            for root in roots(d, n) {
                let job = Job(d, ranks: n, sizeBytes: size, root: root, inPlace: true)
                try job.run()
                #expect(job.wrong() == Array(repeating: 0, count: n), "\(c.name) in-place n=\(n) size \(size) root \(root)")
            }
        }
    }

    /// Element size enters the pointer arithmetic (hypercube's blocks, alltoallv's offsets).
    @Test(arguments: Coll.all, [2, 4, 8])
    func eightByteElements(_ c: Coll, _ n: Int) throws {
        let d = c.descriptor
        guard Self.runnable(d, n) else { return }
        let job = Job(d, ranks: n, sizeBytes: d.granularity(typeSize: 8, ranks: n) * 7, root: n - 1, inPlace: false, dtype: .float64)
        try job.run()
        #expect(job.wrong() == Array(repeating: 0, count: n), "\(c.name) float64 n=\(n)")
    }

    /// Explicit random traffic matrices (with zero pairs) through alltoallv.
    @Test(arguments: rankCounts, [UInt64(11), 12, 13])
    func alltoallvExplicitMatrix(_ n: Int, _ seed: UInt64) throws {
        let m = try TrafficMatrix(csv: TrafficMatrixTests.randomCSV(ranks: n, seed: seed))
        let d = Collectives.alltoallv(matrix: m)
        for total in [n, 8 * n, 96 * n] {
            let job = Job(d, ranks: n, sizeBytes: total * 4, root: 0, inPlace: false)
            try job.run()
            #expect(job.wrong() == Array(repeating: 0, count: n), "n=\(n) seed \(seed) total \(total)")
            // Every element a rank receives is defined: receive counts sum to what was sent.
            #expect(job.layouts.map(\.recvCount).reduce(0, +) == n * total)
            let counts = m.counts(total: total, ranks: n)
            for r in 0..<n {
                let segs = d.expected(job.layouts[r], ranks: n, rank: r, root: 0)
                checkTiling(segs, recvCount: job.layouts[r].recvCount, "alltoallv n=\(n) rank \(r)")
                #expect(segs.map(\.length) == (0..<n).map { counts[$0][r] })
            }
        }
    }

    /// Zero-count pairs are skipped on both sides (NCCL 2.28.9 hung on zero-byte send/recv).
    @Test func alltoallvSkipsZeroPairs() throws {
        let m = try TrafficMatrix(csv: "1,0,0\n0,1,1\n1,0,1")
        let job = Job(Collectives.alltoallv(matrix: m), ranks: 3, sizeBytes: 3 * 4 * 10, root: 0, inPlace: false)
        try job.run()
        #expect(job.wrong() == [0, 0, 0])
        let nonZero = m.counts(total: 30, ranks: 3).joined().filter { $0 > 0 }.count
        #expect(job.group.callCounts["send"] == nonZero && job.group.callCounts["recv"] == nonZero)
    }

    /// The fake itself must catch wrong steps: a descriptor whose receive lands one block off fails.
    @Test func fakeCatchesAWrongOffset() throws {
        let good = Collectives.named("all_gather")!
        let bad = CollectiveDescriptor(key: "bad", summary: "", busFactor: good.busFactor, split: good.split, usesOp: false, usesRoot: false,
                                   layoutFn: good.layoutFn, expectedFn: good.expectedFn,
                                   steps: { n in [{ x in
                                       for p in 0..<x.ranks {
                                           try x.issuer.send(x.send, count: x.layout.paramCount, dtype: x.dtype, peer: p)
                                           try x.issuer.recv(x.recv + ((p + 1) % n) * x.layout.paramCount * x.typeSize,
                                                             count: x.layout.paramCount, dtype: x.dtype, peer: p)
                                       }
                                   }] })
        let job = Job(bad, ranks: 4, sizeBytes: 4 * 4 * 2, root: 0, inPlace: false)
        try job.run()
        #expect(job.wrong() == [8, 8, 8, 8])
        let ok = Job(good, ranks: 4, sizeBytes: 4 * 4 * 2, root: 0, inPlace: false)
        try ok.run()
        #expect(ok.wrong() == [0, 0, 0, 0])
    }

    /// hypercube issues log2(n) exchange steps after its local copy, as nccl-tests.
    @Test(arguments: [1, 2, 4, 8])
    func hypercubeSteps(_ n: Int) throws {
        let d = Collectives.named("hypercube")!
        #expect(d.steps(n).count == 1 + n.trailingZeroBitCount)
        let job = Job(d, ranks: n, sizeBytes: 4 * n * 2, root: 0, inPlace: false)
        try job.run()
        #expect(job.group.copies == n)
        #expect(job.group.callCounts["send", default: 0] == n * n.trailingZeroBitCount)
        let ip = Job(d, ranks: n, sizeBytes: 4 * n * 2, root: 0, inPlace: true)
        try ip.run()
        #expect(ip.group.copies == 0, "in-place: the own block is already in place")
    }
}
