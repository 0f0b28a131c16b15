import Testing
@testable import MoE

/// R routings per rank: seeds per (seed, routing, rank), routing 0 unchanged, the references and
/// bytes per routing, and which routing each enqueue uses.
@Suite struct RoutingsTests {
    /// Routing 0 is the routing every run had before `--routings`: these values were printed by a
    /// Python copy of the earlier generator (SplitMix64 seeded seed × 0x2545F4914F6CDD1D + rank + 1,
    /// Box–Muller, top-k by selection, masks last).
    @Test func routingZeroIsTodaysRouting() {
        let a = Routing.generate(MoEShape(tokens: 4, hidden: 128, topK: 3, experts: 16), rank: 1, ranks: 2)
        #expect(a.experts == [10, 15, 4, 15, 2, 5, 2, 9, 11, 2, 10, 8])
        #expect(Array(a.weights.prefix(3)) == [0.938094973564148, 1.2266331911087036, 1.2743737697601318])
        var s = MoEShape(tokens: 3, hidden: 128, topK: 2, experts: 32)
        s.seed = 7; s.masked = 2; s.skew = 2
        let b = Routing.generate(s, rank: 0, ranks: 1, routing: 0)
        #expect(b.experts == [1, -1, 1, -1, 1, 20])
        #expect(Array(b.weights.prefix(2)) == [0.36820080876350403, 1.3387047052383423])
        s.routings = 3  // more routings leave routing 0 as it was
        #expect(Routing.generate(s, rank: 0, ranks: 1) == b)
        #expect(Routing.seed(7, routing: 0, rank: 0) == 7 &* 0x2545_F491_4F6C_DD1D &+ 1)
    }

    /// docs/moe.md's preset table (deepep-ll at 8 ranks, seed 1), computed before routings existed.
    @Test func presetBytesAreUnchanged() {
        let s = MoEPreset.deepepLL.shapes[0]
        let m = RoutingSet(shape: s, ranks: 8).meanBytes(shape: s)
        #expect(m[.deepepNormal]!.dispatch == 4_967_424 && m[.deepepNormal]!.combine == 9_633_792)
        #expect(m[.wire]!.dispatch == 6_542_272 && m[.wire]!.combine == 12_658_688)
        #expect(m[.deepepLL]!.dispatch == 7_511_712)
    }

    @Test func everyRoutingOfEveryRankDiffers() {
        var s = MoEShape(tokens: 32, hidden: 128, topK: 4, experts: 32)
        s.routings = 4
        let set = RoutingSet(shape: s, ranks: 4)
        #expect(set.count == 4)
        var seen: [[Int32]] = []
        for r in 0..<4 {
            for k in 0..<4 {
                let x = set.plans[r].routings[k]
                #expect(x == Routing.generate(s, rank: k, ranks: 4, routing: r))  // rebuilt alike on every rank
                #expect(!seen.contains(x.experts), "routing \(r) of rank \(k) repeats another")
                seen.append(x.experts)
            }
        }
        var seeds = Set<UInt64>()
        for seed: UInt64 in [1, 2] { for r in 0..<64 { for k in 0..<256 { seeds.insert(Routing.seed(seed, routing: r, rank: k)) } } }
        #expect(seeds.count == 2 * 64 * 256)
        // Another seed, another set.
        s.seed = 2
        #expect(RoutingSet(shape: s, ranks: 4).plans[1].routings[0] != set.plans[1].routings[0])
    }

    @Test func eachRoutingHasItsOwnReference() {
        var s = MoEShape(tokens: 24, hidden: 128, topK: 3, experts: 8)
        s.routings = 3; s.masked = 2; s.zeroTokenRanks = 1
        let set = RoutingSet(shape: s, ranks: 4)
        for (r, plan) in set.plans.enumerated() {
            #expect(plan.window == 24 && plan.routings.map(\.tokens) == [24, 24, 24, 0])  // windows do not depend on the routing
            for k in 0..<4 { #expect(plan.layouts[k] == DispatchLayout(Routing.generate(s, rank: k, ranks: 4, routing: r), experts: 8)) }
        }
        #expect(set.plans[0].layouts[0] != set.plans[1].layouts[0])
        #expect(set.plans[1].tokens(dest: 1, local: 0, source: 0) != set.plans[2].tokens(dest: 1, local: 0, source: 0)
                || set.plans[1].tokens(dest: 0, local: 1, source: 2) != set.plans[2].tokens(dest: 0, local: 1, source: 2))
    }

    @Test func dispatchBytesAreTheMeanOverRoutingsAndCombineIsRoutingZeros() {
        var s = MoEShape(tokens: 16, hidden: 256, topK: 4, experts: 16, dtype: .fp8)
        s.routings = 3; s.skew = 3
        let set = RoutingSet(shape: s, ranks: 4)
        let each = set.plans.map { $0.meanBytes(shape: s) }
        let m = set.meanBytes(shape: s)
        for c in ByteConvention.allCases {
            #expect(m[c]!.dispatch == (each[0][c]!.dispatch + each[1][c]!.dispatch + each[2][c]!.dispatch) / 3)
            #expect(m[c]!.combine == each[0][c]!.combine)
        }
        // The routings move different bytes (else the mean would pin nothing).
        #expect(Set(each.map { $0[.wire]!.dispatch }).count > 1)
        // By hand for deepep_ll: Σ valid selections over ranks and routings / (ranks × routings) × (256 + 8 + 16).
        let selections = set.plans.flatMap { p in (0..<4).map { p.traffic(rank: $0).selections } }.reduce(0, +)
        #expect(m[.deepepLL]!.dispatch == Double(selections * 280) / 12)
        // One routing: exactly the plan's.
        s.routings = 1
        let one = RoutingSet(shape: s, ranks: 4).meanBytes(shape: s), plan = ReceivePlan(shape: s, ranks: 4).meanBytes(shape: s)
        for c in ByteConvention.allCases { #expect(one[c]!.dispatch == plan[c]!.dispatch && one[c]!.combine == plan[c]!.combine) }
    }

    @Test func theCycleNamesTheRoutingOfTheLastEnqueue() {
        // The driver's order: check (1 enqueue), warm-up 2, timed 4, re-check (no enqueue).
        var c = RoutingCycle(count: 3)
        #expect(c.last == nil)
        #expect(c.advance() == 0 && c.last == 0)          // the check
        #expect(c.advance() == 1 && c.advance() == 2)     // warm-up
        #expect((0..<4).map { _ in c.advance() } == [0, 1, 2, 0])
        #expect(c.last == 0 && c.enqueued == 7)           // the re-check compares with routing 0
        #expect(c.advance() == 1 && c.last == 1)
        c.restart()                                        // combine's prepare
        #expect(c.last == nil && c.advance() == 0 && c.last == 0)
        var one = RoutingCycle(count: 1)
        #expect((0..<5).map { _ in one.advance() } == [0, 0, 0, 0, 0] && one.last == 0)
    }

    /// Dispatches done on the host into the same receive buffers, one routing after another as
    /// the cycle hands them out (rows of earlier routings stay where a later one writes fewer):
    /// the check against the routing of the last enqueue finds nothing wrong, against another it does.
    @Test(arguments: MoEDType.allCases)
    func checkingTheLastRoutingAfterSeveral(_ d: MoEDType) {
        var s = EndToEndTests.shape(d)
        s.routings = 3
        let set = RoutingSet(shape: s, ranks: 4)
        let f = MessageFormat(hidden: s.hidden, dtype: d)
        let p0 = set.plans[0], n = p0.ranks, l = p0.localExperts
        var recv = [[UInt8]](repeating: [UInt8](repeating: 0x7F, count: l * n * p0.window * f.stride), count: n)
        var counts = [[[Int32]]](repeating: [[Int32]](repeating: [Int32](repeating: -1, count: n * l), count: n), count: set.count)
        var cycle = RoutingCycle(count: set.count)
        for _ in 0..<5 {  // routings 0, 1, 2, 0, 1
            let r = cycle.advance(), plan = set.plans[r]
            for src in 0..<n {
                let rt = plan.routings[src], lay = plan.layouts[src]
                for dest in 0..<n { for j in 0..<l { counts[r][dest][src * l + j] = lay.counts[dest * l + j] } }
                for t in 0..<rt.tokens {
                    for k in 0..<rt.topK where rt.expert(t, k) >= 0 {
                        let e = rt.expert(t, k)
                        let at = plan.row(local: e % l, source: src, slot: Int(lay.slots[t * rt.topK + k])) * f.stride
                        recv[plan.owner(e)].replaceSubrange(at..<(at + f.stride), with: CheckTests.message(source: src, token: t, format: f))
                    }
                }
            }
        }
        #expect(cycle.last == 1)
        #expect(EndToEndTests.dispatchWrong(set.plans[1], f, (recv, counts[1])) == 0)
        #expect(EndToEndTests.dispatchWrong(set.plans[0], f, (recv, counts[1])) > 0)
        #expect(EndToEndTests.dispatchWrong(set.plans[0], f, (recv, counts[0])) > 0)  // routing 1's rows overwrote routing 0's
    }

    /// The NVSHMEM heap grows by one region of receive counts (ranks × L int32) per extra routing;
    /// top-k ids and weights are local memory.
    @Test func symmetricBytesGrowByTheCountsOfEachRouting() {
        var s = MoEPreset.deepepLL.shapes[0]
        let one = MoEState.symmetricBytes(s, ranks: 8)
        s.routings = 5
        #expect(MoEState.symmetricBytes(s, ranks: 8) - one == 4 * 8 * 36 * 4)
    }
}
