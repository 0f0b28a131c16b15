import Testing
@testable import MoE

@Suite struct RoutingLayoutTests {
    /// Rank 0 of 2, 4 experts (2 per rank), top-2, 3 tokens, by hand:
    /// t0 → {0, 1}, t1 → {2, masked}, t2 → {3, 0}.
    static let hand = Routing(tokens: 3, topK: 2, experts: [0, 1, 2, -1, 3, 0], weights: [0.5, 0.25, 1, 9, 2, 0.125])

    @Test func layoutByHand() {
        let l = DispatchLayout(Self.hand, experts: 4)
        #expect(l.counts == [2, 1, 1, 1])
        #expect(l.slots == [0, 0, 0, -1, 0, 1])  // t2's expert 0 is the second token of expert 0
    }

    @Test func trafficByHand() {
        // Rank 1 has no tokens (zero-token rank): its routing is empty.
        var shape = MoEShape(tokens: 3, hidden: 128, topK: 2, experts: 4)
        shape.zeroTokenRanks = 1
        let plan = ReceivePlan(routings: [Self.hand, Routing(tokens: 0, topK: 2, experts: [], weights: [])], shape: shape)
        let t0 = plan.traffic(rank: 0), t1 = plan.traffic(rank: 1)
        #expect(t0.tokens == 3 && t0.selections == 5 && t0.remoteSelections == 2)
        #expect(t0.receivedSelections == 3 && t0.receivedRemoteSelections == 0 && t0.receivedTokens == 2)  // t0 (e0, e1) and t2 (e0)
        #expect(t1.tokens == 0 && t1.selections == 0)
        #expect(t1.receivedSelections == 2 && t1.receivedRemoteSelections == 2 && t1.receivedTokens == 2)  // t1 (e2), t2 (e3)
        #expect(plan.tokens(dest: 0, local: 0, source: 0) == [0, 2])
        #expect(plan.tokens(dest: 1, local: 1, source: 0) == [2])
        #expect(plan.count(dest: 1, local: 0, source: 0) == 1)
        #expect(plan.row(local: 1, source: 1, slot: 2) == (1 * 2 + 1) * 3 + 2)
    }

    @Test func routingIsSeededDistinctAndMasked() {
        var s = MoEShape(tokens: 64, hidden: 128, topK: 8, experts: 32)
        s.masked = 10
        let a = Routing.generate(s, rank: 1, ranks: 4), b = Routing.generate(s, rank: 1, ranks: 4)
        #expect(a == b)
        #expect(a != Routing.generate(s, rank: 2, ranks: 4))
        #expect(a.experts.filter { $0 < 0 }.count == 10)
        for t in 0..<a.tokens {
            let valid = (0..<8).map { a.expert(t, $0) }.filter { $0 >= 0 }
            #expect(Set(valid).count == valid.count, "token \(t) picks an expert twice")
            #expect(valid.allSatisfy { $0 < 32 })
        }
        #expect(a.weights.allSatisfy { $0 >= 0 })
    }

    @Test func skewFavoursTheHotExperts() {
        var s = MoEShape(tokens: 256, hidden: 128, topK: 2, experts: 64)
        let uniform = Routing.generate(s, rank: 0, ranks: 1)
        s.skew = 4
        let skewed = Routing.generate(s, rank: 0, ranks: 1)
        let hot = Int32(Routing.hotExperts(64))  // 4
        func share(_ r: Routing) -> Int { r.experts.filter { $0 >= 0 && $0 < hot }.count }
        // (|randn| + 1) × 4 ≥ 4 beats almost every cold score: nearly every token picks two hot experts.
        #expect(share(skewed) > 400)
        #expect(share(uniform) < 100)
    }

    @Test func zeroTokenRanksDispatchNothing() {
        var s = MoEShape(tokens: 16, hidden: 128, topK: 2, experts: 8)
        s.zeroTokenRanks = 2
        let plan = ReceivePlan(shape: s, ranks: 4)
        #expect(plan.routings.map(\.tokens) == [16, 16, 0, 0])
        #expect(plan.layouts[3].counts.allSatisfy { $0 == 0 })
        #expect(plan.traffic(rank: 2).receivedSelections > 0)  // it still holds experts
    }
}
