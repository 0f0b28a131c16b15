import Testing
@testable import MoE

/// Group-limited routing (DeepEP tests/test_internode.py: group score = the group's best expert,
/// top groups kept, top-k among their experts) and the option checks in `MoEShape.problem`.
@Suite struct GroupRoutingTests {
    /// 8 experts in 4 groups of 2: g0 {1.0, 5.0}, g1 {4.8, 4.7}, g2 {3.0, 1.2}, g3 {2.0, 4.9}.
    /// Group scores (max): 5.0, 4.8, 3.0, 4.9.
    static let scores: [Double] = [1.0, 5.0, 4.8, 4.7, 3.0, 1.2, 2.0, 4.9]

    @Test func handComputedSelection() {
        // Keep 2 groups: g0 (5.0) and g3 (4.9); their experts 1 (5.0), 7 (4.9), 6 (2.0), 0 (1.0).
        #expect(Routing.select(scores: Self.scores, topK: 3, groups: 4, keep: 2) == [1, 7, 6])
        // Without groups the third pick is expert 2 (4.8), in g1, which was not kept.
        #expect(Routing.select(scores: Self.scores, topK: 3) == [1, 7, 2])
        // Top-2 with 2 groups kept: the two best experts always lie in the two best groups.
        #expect(Routing.select(scores: Self.scores, topK: 2, groups: 4, keep: 2) == [1, 7])
        // Keep 1 group: g0 only, so top-2 is both of its experts, best first.
        #expect(Routing.select(scores: Self.scores, topK: 2, groups: 4, keep: 1) == [1, 0])
        // Keep every group: plain top-k.
        #expect(Routing.select(scores: Self.scores, topK: 3, groups: 4, keep: 4) == [1, 7, 2])
    }

    @Test func tiedGroupsKeepTheLowerOne() {
        // g0 and g1 both have 3.0 as best; keep 1 → g0; ties among experts go to the lower id.
        let s: [Double] = [3.0, 2.0, 2.5, 3.0]
        #expect(Routing.select(scores: s, topK: 2, groups: 2, keep: 1) == [0, 1])
        #expect(Routing.select(scores: [2, 2, 2, 2], topK: 3) == [0, 1, 2])
    }

    /// `select` against DeepEP's recipe written independently: group score = max, the top M groups
    /// by sorting, the other groups' scores zeroed (`create_grouped_scores`), then the top-k by
    /// sorting (scores |randn| + 1 are ≥ 1, so a zeroed expert is never picked).
    @Test(arguments: [(8, 4, 2, 2), (64, 8, 3, 6), (256, 8, 4, 8), (288, 8, 4, 8), (16, 16, 5, 5)])
    func selectIsDeepEPsRecipe(_ experts: Int, _ groups: Int, _ keep: Int, _ topK: Int) {
        var rng = SplitMix64(seed: 42)
        let size = experts / groups
        for _ in 0..<100 {
            let scores = (0..<experts).map { _ in abs(rng.normal()) + 1 }
            let best = (0..<groups).map { g in scores[(g * size)..<((g + 1) * size)].max()! }
            let kept = Set((0..<groups).sorted { best[$0] != best[$1] ? best[$0] > best[$1] : $0 < $1 }.prefix(keep))
            let masked = scores.enumerated().map { kept.contains($0.offset / size) ? $0.element : 0 }
            let want = (0..<experts).sorted { masked[$0] != masked[$1] ? masked[$0] > masked[$1] : $0 < $1 }.prefix(topK)
            #expect(Routing.select(scores: scores, topK: topK, groups: groups, keep: keep) == Array(want))
        }
    }

    /// Every token's valid selections fall in at most M groups, for generated routings.
    @Test(arguments: [(64, 8, 3, 6, 1.0), (64, 8, 1, 8, 1.0), (288, 8, 4, 8, 1.0), (256, 16, 4, 8, 8.0), (32, 4, 2, 4, 1.0)])
    func everySelectionLiesInAtMostMGroups(_ experts: Int, _ groups: Int, _ keep: Int, _ topK: Int, _ skew: Double) {
        var s = MoEShape(tokens: 200, hidden: 128, topK: topK, experts: experts)
        s.groups = groups; s.groupTopK = keep; s.skew = skew; s.masked = 7
        #expect(s.problem(ranks: 8) == nil)
        let size = experts / groups
        var spread = Set<Int>()
        for rank in [0, 5] {
            let r = Routing.generate(s, rank: rank, ranks: 8)
            #expect(r.experts.filter { $0 < 0 }.count == 7)
            for t in 0..<r.tokens {
                let valid = (0..<topK).map { r.expert(t, $0) }.filter { $0 >= 0 }
                #expect(Set(valid).count == valid.count, "token \(t) picks an expert twice")
                let used = Set(valid.map { $0 / size })
                #expect(used.count <= keep, "token \(t) of rank \(rank): groups \(used.sorted()) exceed \(keep)")
                spread.formUnion(used)
            }
        }
        if skew == 1 {
            #expect(spread.count == groups, "over 400 tokens every group should be picked somewhere")
        } else {
            // Skew 8 on the 16 hot experts (all of group 0): group 0 always wins and holds all 8 picks.
            #expect(spread == [0])
        }
    }

    @Test func oneGroupIsTheUngroupedRouting() {
        var s = MoEShape(tokens: 64, hidden: 128, topK: 8, experts: 64)
        s.masked = 3
        let plain = Routing.generate(s, rank: 2, ranks: 4)
        s.groups = 8; s.groupTopK = 8  // every group kept: nothing limited
        #expect(Routing.generate(s, rank: 2, ranks: 4) == plain)
        s.groupTopK = 2
        #expect(Routing.generate(s, rank: 2, ranks: 4) != plain)
    }

    @Test func perRankGroupsKeepTokensOnMRanks() {
        // --group-topk 2 alone: one group per rank, so each token goes to at most 2 ranks.
        var s = MoEShape(tokens: 128, hidden: 128, topK: 8, experts: 64)
        s.groups = 0; s.groupTopK = 2
        #expect(s.groupCount(ranks: 8) == 8 && s.keptGroups(ranks: 8) == 2)
        let plan = ReceivePlan(shape: s, ranks: 8)
        for r in plan.routings {
            for t in 0..<r.tokens { #expect(Set((0..<8).map { plan.owner(r.expert(t, $0)) }).count <= 2) }
        }
        #expect(s.routingLabels(ranks: 8) == ["groups": "8", "group_topk": "2", "routings": "1"])
    }

    @Test func defaultsAndDescription() {
        var s = MoEShape(tokens: 16, hidden: 128, topK: 8, experts: 256)
        #expect(s.groupCount(ranks: 8) == 1 && s.keptGroups(ranks: 8) == 1 && !s.groupLimited(ranks: 8))
        s.groups = 8  // DeepSeek-V3's 8 groups: keep min(8, 4) = 4
        #expect(s.keptGroups(ranks: 2) == 4 && s.groupLimited(ranks: 2))
        s.groups = 2
        #expect(s.keptGroups(ranks: 2) == 2 && !s.groupLimited(ranks: 2))
        s.groups = 64  // 4 experts a group: 4 groups hold 16 ≥ 8
        #expect(s.keptGroups(ranks: 2) == 4)
        s.groups = 256  // 1 expert a group: raised to 8 groups for top-8
        #expect(s.keptGroups(ranks: 2) == 8 && s.problem(ranks: 2) == nil)
        s.groups = 8; s.groupTopK = 2
        #expect(s.description == "tokens 16 hidden 128 top-8 experts 256 bf16 group-limited: top-2 of 8 groups layout reused")
        s.groups = 0
        #expect(s.description.contains("group-limited: top-2 of one group per rank"))
        s.routings = 4
        #expect(s.description.hasSuffix(" new routing every iteration (4 routings)"))
        #expect(MoEShape(tokens: 16, hidden: 128, topK: 8, experts: 256).description == "tokens 16 hidden 128 top-8 experts 256 bf16 layout reused")
    }

    @Test func groupOptionsAreCheckedInOneLine() {
        func shape(_ edit: (inout MoEShape) -> Void) -> MoEShape {
            var s = MoEShape(tokens: 16, hidden: 128, topK: 8, experts: 256)
            edit(&s)
            return s
        }
        #expect(shape { $0.groups = 6 }.problem(ranks: nil) == "--groups 6 does not divide --experts 256: each group holds experts/groups contiguous experts")
        #expect(shape { $0.groups = 8; $0.groupTopK = 9 }.problem(ranks: nil) == "--group-topk 9 is more than --groups 8: a token keeps at most every group")
        #expect(shape { $0.groups = 64; $0.groupTopK = 1 }.problem(ranks: nil) == "--topk 8 is more than the 4 experts of --group-topk 1 groups of 4 (--groups 64)")
        #expect(shape { $0.groups = 64; $0.groupTopK = 2 }.problem(ranks: nil) == nil)  // 2 × 4 = 8 experts: just enough
        #expect(shape { $0.groups = 1; $0.groupTopK = 2 }.problem(ranks: nil)?.hasPrefix("--group-topk 2 is more than --groups 1") == true)
        #expect(shape { $0.groups = -1 }.problem(ranks: nil) == "--groups must be at least 1 (got -1)")
        // One group per rank: checked once the rank count is known.
        #expect(shape { $0.groups = 0; $0.groupTopK = 1 }.problem(ranks: nil) == nil)
        #expect(shape { $0.groups = 0; $0.groupTopK = 1 }.problem(ranks: 64) == "--topk 8 is more than the 4 experts of --group-topk 1 groups of 4 (--groups (one per rank, 64))")
        #expect(shape { $0.groups = 0; $0.groupTopK = 1 }.problem(ranks: 8) == nil)
        #expect(shape { $0.groups = 0; $0.groupTopK = 9 }.problem(ranks: 8)?.hasPrefix("--group-topk 9 is more than --groups (one per rank, 8)") == true)
        #expect(shape { $0.routings = 0 }.problem(ranks: nil) == "--routings must be from 1 to 64 (got 0)")
        #expect(shape { $0.routings = 65 }.problem(ranks: nil) == "--routings must be from 1 to 64 (got 65)")
    }
}
