import Testing
@testable import AllToAll

@Suite struct OneProcessCopyKindTests {
    @Test func nameParsesAndNeedsNoLibrary() throws {
        #expect(try BackendKind.parseList("cuda-ce-1p,cuda-ce") == [.cudaCE1P, .cudaCE])
        let k = BackendKind.cudaCE1P
        #expect(!k.usesNCCL && !k.usesNVSHMEM && !k.ownKernel)
        #expect(k.resultsName == "cuda_ce_1p")
        #expect(k.summary.contains("rank 0") && k.completion.contains("rank 0"))
    }

    /// The results rows' `initiator` label, as the alltoall run wrote it before it moved here.
    @Test func initiatorLabel() {
        let host: [BackendKind] = [.nvshmemHost, .nvshmemHostGraph, .nvshmemCE, .cudaCE, .cudaCE1P]
        for k in BackendKind.allCases {
            #expect(k.initiator == (k.usesNCCL ? "nccl" : host.contains(k) ? "host" : "device"), "\(k)")
        }
        #expect(BackendKind.cudaCE1P.initiator == "host" && BackendKind.nvshmemTMA.initiator == "device" && BackendKind.ncclDevice.initiator == "nccl")
    }

    @Test func copyModeDefaultsToPull() {
        #expect(KernelOptions().copyMode == .pull)
        #expect(KernelOptions().copyRounds == .parallel && KernelOptions().copyLocal == .ce)
        #expect(CopyRounds(rawValue: "serial") == .serial && CopyLocal(rawValue: "sm") == .sm && CopySync(rawValue: "events-graph") == .eventsGraph && CopySync(rawValue: "memops") == nil)
        #expect(KernelOptions().copySync == .relay && CopySync.flags.usesHeads && CopySync.relay.usesHeads && !CopySync.events.usesHeads)
        #expect(CopyMode(rawValue: "pull") == .pull && CopyMode(rawValue: "dst") == nil)
    }
}

@Suite struct OneProcessCopyPlanTests {
    static let shapes: [(Int, Int, Int)] = [(2, 1, 16), (2, 3, 4096), (3, 2, 48), (4, 1, 64 << 20), (4, 4, 1 << 20),
                                            (4, 16, 4096), (4, 7, 160), (8, 5, 1 << 16), (5, 16, 16)]

    /// Every destination's receive buffer is tiled exactly once, each piece from block `dst` of the
    /// right source at the same offset inside the block: what the check kernel expects (AlltoallLayout.expected).
    @Test(arguments: shapes, CopyMode.allCases)
    func everyReceiveBlockWrittenOnceFromTheRightSource(_ shape: (Int, Int, Int), _ mode: CopyMode) {
        let (n, split, bpp) = shape
        let plan = CopyPlan.copies(ranks: n, split: split, bytesPerPeer: bpp, mode: mode)
        #expect(plan.count == n * n * split)
        #expect(plan.reduce(0) { $0 + $1.bytes } == n * n * bpp)
        for d in 0..<n {
            let into = plan.filter { $0.dst == d && $0.bytes > 0 }.sorted { $0.recvOffset < $1.recvOffset }
            var next = 0
            for c in into {
                #expect(c.recvOffset == next, "gap or overlap in rank \(d)'s receive buffer at \(next)")
                next = c.recvOffset + c.bytes
                // The piece stays inside block `src` of the receive buffer and block `dst` of the send buffer, at the same offset.
                #expect(c.recvOffset / bpp == c.src && (c.recvOffset + c.bytes - 1) / bpp == c.src)
                #expect(c.sendOffset - d * bpp == c.recvOffset - c.src * bpp)
                #expect(c.sendOffset >= d * bpp && c.sendOffset + c.bytes <= (d + 1) * bpp)
                if bpp % 16 == 0 { #expect(c.sendOffset % 16 == 0 && c.recvOffset % 16 == 0) }
            }
            #expect(next == n * bpp)
            let expected = AlltoallLayout.expected(bytesPerRank: n * bpp, ranks: n, rank: d)
            for seg in expected {
                let pieces = into.filter { $0.src == seg.srcRank }
                #expect(pieces.first?.recvOffset == seg.dstOffset && pieces.first?.sendOffset == seg.srcOffset)
                #expect(pieces.reduce(0) { $0 + $1.bytes } == seg.length)
            }
        }
    }

    @Test(arguments: shapes, CopyMode.allCases)
    func eachStreamCarriesOneCopyOnTheIssuingGPU(_ shape: (Int, Int, Int), _ mode: CopyMode) {
        let (n, split, bpp) = shape
        let plan = CopyPlan.copies(ranks: n, split: split, bytesPerPeer: bpp, mode: mode)
        var seen = Set<[Int]>()
        for c in plan {
            #expect(c.issuer == (mode == .push ? c.src : c.dst))
            #expect((0..<n * split).contains(c.lane) && n * split == CopyPlan.lanes(ranks: n, split: split, rounds: .parallel))
            #expect(seen.insert([c.issuer, c.lane]).inserted, "stream \(c.lane) of GPU \(c.issuer) used twice")
        }
    }

    /// Round k: every GPU works with a different peer (sources and destinations both a permutation);
    /// round 0 is the local block; push and pull move the same pairs per round; issue order is round by round.
    @Test(arguments: shapes)
    func roundsSpreadSourcesOverDestinations(_ shape: (Int, Int, Int)) {
        let (n, split, bpp) = shape
        let push = CopyPlan.copies(ranks: n, split: split, bytesPerPeer: bpp, mode: .push)
        let pull = CopyPlan.copies(ranks: n, split: split, bytesPerPeer: bpp, mode: .pull)
        #expect(push.map(\.round) == push.map(\.round).sorted())
        #expect(push.allSatisfy { $0.lane / split == $0.round })
        for k in 0..<n {
            let round = push.filter { $0.round == k && $0.lane % split == 0 }
            #expect(Set(round.map(\.src)).count == n && Set(round.map(\.dst)).count == n)
            #expect(round.allSatisfy { $0.dst == ($0.src + k) % n })
            let pairs = { (p: [PairCopy]) in Set(p.filter { $0.round == k }.map { [$0.src, $0.dst, $0.sendOffset, $0.bytes] }) }
            #expect(pairs(push) == pairs(pull))
        }
        #expect(push.prefix(n * split).allSatisfy { $0.src == $0.dst })
    }

    /// Serial rounds: the same copies, the local block's pieces on lanes 0..<split, every other
    /// round's piece i on lane split + i, so each lane of a GPU runs its rounds in order.
    @Test(arguments: shapes, CopyMode.allCases)
    func serialRoundsShareOneLanePerPiece(_ shape: (Int, Int, Int), _ mode: CopyMode) {
        let (n, split, bpp) = shape
        let parallel = CopyPlan.copies(ranks: n, split: split, bytesPerPeer: bpp, mode: mode)
        let serial = CopyPlan.copies(ranks: n, split: split, bytesPerPeer: bpp, mode: mode, rounds: .serial)
        let strip = { (c: PairCopy) -> PairCopy in var c = c; c.lane = 0; return c }
        #expect(serial.map(strip) == parallel.map(strip))
        let lanes = CopyPlan.lanes(ranks: n, split: split, rounds: .serial)
        #expect(lanes == 2 * split)
        for c in serial {
            #expect(c.lane == (c.round == 0 ? 0 : split) + c.lane % split && c.lane < lanes)
        }
        for g in 0..<n {
            for lane in split..<lanes {
                let onLane = serial.filter { $0.issuer == g && $0.lane == lane }
                #expect(onLane.map(\.round) == Array(1..<n), "GPU \(g) lane \(lane)")
            }
        }
    }

    /// With an SM share, every receive block is still tiled exactly once from the right source; the
    /// SM pieces are the tails of the peers' blocks, one per (issuer, round), on the extra last lane.
    @Test(arguments: shapes, [10, 25, 90])
    func smShareTilesTheSameBytes(_ shape: (Int, Int, Int), _ percent: Int) {
        let (n, split, bpp) = shape
        let plan = CopyPlan.copies(ranks: n, split: split, bytesPerPeer: bpp, mode: .pull, smPercent: percent)
        let lanes = CopyPlan.lanes(ranks: n, split: split, rounds: .parallel, smPercent: percent)
        #expect(lanes == n * split + 1)
        #expect(plan.reduce(0) { $0 + $1.bytes } == n * n * bpp)
        let sm = plan.filter(\.bySM)
        #expect(sm.count == n * (n - 1))
        #expect(sm.allSatisfy { $0.lane == lanes - 1 && $0.round > 0 && $0.bytes == CopyPlan.smBytes(bpp, percent) && $0.bytes % 16 == 0 })
        #expect(sm.allSatisfy { $0.recvOffset + $0.bytes == ($0.src + 1) * bpp && $0.sendOffset + $0.bytes == ($0.dst + 1) * bpp })
        for d in 0..<n {
            let into = plan.filter { $0.dst == d && $0.bytes > 0 }.sorted { $0.recvOffset < $1.recvOffset }
            var next = 0
            for c in into {
                #expect(c.recvOffset == next && c.sendOffset - d * bpp == c.recvOffset - c.src * bpp)
                next = c.recvOffset + c.bytes
            }
            #expect(next == n * bpp)
        }
        #expect(CopyPlan.smBytes(1000, 25) == 240 && CopyPlan.smBytes(15, 50) == 0)
    }

    /// A stream waits for its fork before its first copy and records its join after its last:
    /// exactly one of each per (issuer, lane), at the lowest and highest index of its copies.
    @Test(arguments: shapes, [(CopyRounds.parallel, 0), (.serial, 0), (.parallel, 25), (.serial, 25)])
    func laneEndsMarkEachStreamsFirstAndLastCopy(_ shape: (Int, Int, Int), _ variant: (CopyRounds, Int)) {
        let (n, split, bpp) = shape
        let plan = CopyPlan.copies(ranks: n, split: split, bytesPerPeer: bpp, mode: .pull, rounds: variant.0, smPercent: variant.1)
        let ends = CopyPlan.laneEnds(plan)
        #expect(ends.first.count == plan.count && ends.last.count == plan.count)
        let streams = Dictionary(grouping: plan.indices) { [plan[$0].issuer, plan[$0].lane] }
        #expect(ends.first.filter { $0 }.count == streams.count && ends.last.filter { $0 }.count == streams.count)
        for (key, at) in streams {
            #expect(at.filter { ends.first[$0] } == [at.min()!], "stream \(key)")
            #expect(at.filter { ends.last[$0] } == [at.max()!], "stream \(key)")
        }
        if variant == (.parallel, 0) { #expect(ends.first.allSatisfy { $0 } && ends.last.allSatisfy { $0 }) }
    }

    @Test func laneEndsOfThreeRanksInSerialRounds() {
        let ends = CopyPlan.laneEnds(CopyPlan.copies(ranks: 3, split: 1, bytesPerPeer: 64, mode: .pull, rounds: .serial))
        // Round 0 on lane 0, rounds 1 and 2 on lane 1, each round over GPUs 0, 1, 2.
        #expect(ends.first == [true, true, true, true, true, true, false, false, false])
        #expect(ends.last == [true, true, true, false, false, false, true, true, true])
        #expect(CopyPlan.laneEnds([]).first.isEmpty)
    }

    @Test func fourRanksPushOrder() {
        let p = CopyPlan.copies(ranks: 4, split: 1, bytesPerPeer: 64, mode: .push)
        #expect(p.map { "\($0.src)>\($0.dst)" } == ["0>0", "1>1", "2>2", "3>3", "0>1", "1>2", "2>3", "3>0",
                                                      "0>2", "1>3", "2>0", "3>1", "0>3", "1>0", "2>1", "3>2"])
        // 1 -> 2 in round 1: block 2 of rank 1's send buffer into block 1 of rank 2's receive buffer.
        #expect(p[5] == PairCopy(src: 1, dst: 2, issuer: 1, round: 1, lane: 1, sendOffset: 128, recvOffset: 64, bytes: 64))
        let q = CopyPlan.copies(ranks: 4, split: 2, bytesPerPeer: 64, mode: .pull)
        #expect(q[10] == PairCopy(src: 0, dst: 1, issuer: 1, round: 1, lane: 2, sendOffset: 64, recvOffset: 0, bytes: 32))
    }
}

@Suite struct OneProcessAdvertTests {
    let a = OneProcessAdvert(host: "node7 boot 1f-2e", pciBusId: "0000:19:00.0")

    @Test func roundTrips() {
        #expect((try? OneProcessAdvert.decode(a.encoded()).get()) == a)
    }

    @Test func failuresAndBadBytesAreProblems() {
        #expect(throws: OneProcessAdvert.Problem(text: "cuMemAlloc failed")) { try OneProcessAdvert.decode(OneProcessAdvert.failure("cuMemAlloc failed")).get() }
        #expect(throws: OneProcessAdvert.Problem.self) { try OneProcessAdvert.decode(Array("+node7 without bus id".utf8)).get() }
        #expect(throws: OneProcessAdvert.Problem.self) { try OneProcessAdvert.decode([]).get() }
    }

    @Test func theJobDecidesOnEveryRanksAdvert() {
        var b = a
        b.pciBusId = "0000:2a:00.0"
        #expect(OneProcessAdvert.problem([.success(a), .success(b)]) == nil)
        let failed = OneProcessAdvert.problem([.success(a), .failure(.init(text: "out of memory")), .success(b)])
        #expect(failed == "rank 1: out of memory")
        var c = b
        c.host = "node8 boot 9a"
        let hosts = OneProcessAdvert.problem([.success(a), .success(b), .success(c)]) ?? ""
        #expect(hosts.contains("more than one host") && hosts.contains("rank 2: node8"))
    }

    @Test func thisHostNamesTheBoot() {
        #expect(OneProcessAdvert.thisHost().contains(" boot "))
    }

    /// Rank 0's message gives each other rank its own pair, and its failure to everyone.
    @Test func handlesReachTheirRank() throws {
        let pair = { (k: Int) in ([UInt8](repeating: UInt8(2 * k), count: 64), [UInt8](repeating: UInt8(2 * k + 1), count: 64)) }
        let msg = OneProcessHandles.encode([([], [])] + (1..<4).map(pair))
        for k in 1..<4 {
            let h = try OneProcessHandles.decode(msg, rank: k, ranks: 4).get()
            #expect(h.send == pair(k).0 && h.recv == pair(k).1)
        }
        #expect(throws: OneProcessAdvert.Problem.self) { try OneProcessHandles.decode(msg, rank: 1, ranks: 3).get() }
        #expect(throws: OneProcessAdvert.Problem(text: "no peer access")) { try OneProcessHandles.decode(OneProcessHandles.failure("no peer access"), rank: 2, ranks: 4).get() }
    }
}
