import Testing
@testable import MoE

/// The `nvlink-normal` style's host side: the plan against a case worked by hand, and what
/// cuda/moe_normal.cu is specified to do, done on the host for every rank, against its checks.
@Suite struct NormalTests {
    /// 2 ranks, 4 experts (2 per rank), top-2, 2 channels. Rank 0 (3 tokens, P = 2):
    /// t0 → experts 0, 1 (rank 0); t1 → 1, 2 (ranks 0, 1); t2 → 3, masked (rank 1).
    /// Rank 1 (2 tokens, P = 1): t0 → 2, 3 (rank 1); t1 → 0, 3 (ranks 0, 1).
    static func handPlan() -> NormalPlan {
        let shape = MoEShape(tokens: 3, hidden: 128, topK: 2, experts: 4)
        let r0 = Routing(tokens: 3, topK: 2, experts: [0, 1, 1, 2, 3, -1], weights: [1, 2, 3, 4, 5, 6])
        let r1 = Routing(tokens: 2, topK: 2, experts: [2, 3, 0, 3], weights: [7, 8, 9, 10])
        return NormalPlan(ReceivePlan(routings: [r0, r1], shape: shape), channels: 2)
    }

    @Test func thePlanOfACaseWorkedByHand() {
        let p = Self.handPlan()
        // counts[s][c][d]: rank 0's channel 0 (t0, t1) sends 2 rows to rank 0 and 1 to rank 1; channel 1 (t2) 1 to rank 1.
        #expect(p.counts[0] == [[2, 1], [0, 1]])
        #expect(p.counts[1] == [[0, 1], [1, 1]])
        #expect(p.ncount(dest: 0) == [2, 0, 0, 1])
        #expect(p.rbase(dest: 0) == [0, 2, 2, 2])
        #expect(p.received(dest: 0) == 3)
        #expect(p.rows(dest: 0).map { [$0.source, $0.token] } == [[0, 0], [0, 1], [1, 1]])
        #expect(p.ncount(dest: 1) == [1, 1, 1, 1])
        #expect(p.rbase(dest: 1) == [0, 1, 2, 3])
        #expect(p.rows(dest: 1).map { [$0.source, $0.token] } == [[0, 1], [0, 2], [1, 0], [1, 1]])
        // Rank 1 holds experts 2 and 3: token 1 of rank 0 (experts 1, 2) carries [-1, 0] there, [1, -1] to rank 0.
        #expect(p.localIds(dest: 1, source: 0, token: 1) == [-1, 0])
        #expect(p.localIds(dest: 0, source: 0, token: 1) == [1, -1])
        #expect(p.localIds(dest: 1, source: 0, token: 2) == [1, -1])
        // Remote rows: rank 0 → 1 twice (t1, t2), rank 1 → 0 once (t1): 3 rows over 2 ranks.
        let w = p.meanWireBytes(rowStride: 304, hidden: 128)
        #expect(w.dispatch == 3 * 304 / 2.0 && w.combine == 3 * 256 / 2.0)
        #expect(NormalRowFormat(hidden: 128, dtype: .bf16, topK: 2).stride == 288)  // 16 + 256 = 272, + 16 → 288
        #expect(NormalRowFormat(hidden: 7168, dtype: .fp8, topK: 8).stride == 7472)  // 7408 + 64
    }

    @Test func channelsSplitTokensIntoContiguousRanges() {
        #expect((0..<10).map { NormalPlan.channel(token: $0, tokens: 10, channels: 4) } == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3])
        // Fewer tokens than channels: the last channels send nothing.
        #expect((0..<3).map { NormalPlan.channel(token: $0, tokens: 3, channels: 8) } == [0, 1, 2])
    }

    static func shape(_ d: MoEDType) -> MoEShape {
        var s = MoEShape(tokens: 13, hidden: 256, topK: 3, experts: 8, dtype: d)
        s.masked = 4; s.skew = 3; s.zeroTokenRanks = 1
        return s
    }

    static func row(_ p: NormalPlan, dest: Int, source: Int, token: Int, _ f: NormalRowFormat) -> [UInt8] {
        var r = CheckTests.message(source: source, token: token, format: f.message)
        r += [UInt8](repeating: 0, count: f.stride - r.count)
        let ids = p.localIds(dest: dest, source: source, token: token), rt = p.routings[source]
        for k in 0..<f.topK {
            withUnsafeBytes(of: ids[k]) { for (i, b) in $0.enumerated() { r[f.idsOffset + 4 * k + i] = b } }
            withUnsafeBytes(of: rt.weights[token * rt.topK + k]) { for (i, b) in $0.enumerated() { r[f.weightsOffset + 4 * k + i] = b } }
        }
        return r
    }

    /// Every rank's received rows after a dispatch that follows the plan.
    static func dispatch(_ p: NormalPlan, _ f: NormalRowFormat) -> [[UInt8]] {
        (0..<p.ranks).map { d in p.rows(dest: d).flatMap { row(p, dest: d, source: $0.source, token: $0.token, f) } }
    }

    /// The 4-rank, 3-channel case: its shape, plan, row format and every rank's received rows.
    static func dispatched(_ d: MoEDType) -> (MoEShape, NormalPlan, NormalRowFormat, [[UInt8]]) {
        let s = shape(d)
        let p = NormalPlan(ReceivePlan(shape: s, ranks: 4), channels: 3)
        let f = NormalRowFormat(hidden: s.hidden, dtype: d, topK: s.topK)
        return (s, p, f, dispatch(p, f))
    }

    @Test(arguments: MoEDType.allCases)
    func aDispatchThatFollowsThePlanChecksRightAndMistakesAreCaught(_ d: MoEDType) {
        let (s, p, f, recv) = Self.dispatched(d)
        #expect(p.routings[3].tokens == 0)
        for dest in 0..<4 { #expect(NormalCheck.rows(recv[dest], plan: p, dest: dest, format: f) == 0, "rank \(dest)") }
        // Two rows swapped.
        var swapped = recv[0]
        let a = Array(swapped[0..<f.stride]), b = Array(swapped[f.stride..<(2 * f.stride)])
        swapped.replaceSubrange(0..<f.stride, with: b)
        swapped.replaceSubrange(f.stride..<(2 * f.stride), with: a)
        #expect(NormalCheck.rows(swapped, plan: p, dest: 0, format: f) >= 2)
        // One expert id and one weight wrong: exactly two elements.
        var ids = recv[1]
        ids[f.idsOffset] ^= 1
        ids[f.stride + f.weightsOffset + 1] ^= 0x10
        #expect(NormalCheck.rows(ids, plan: p, dest: 1, format: f) == 2)
        // The last row missing counts all of its elements.
        #expect(NormalCheck.rows(Array(recv[2].dropLast(f.stride)), plan: p, dest: 2, format: f) == 4 + s.hidden + f.message.scaleBytes / 4 + 2 * s.topK)
    }

    /// The fake expert's partial sums per received row (cuda/moe_normal.cu gc_moe_normal_expert),
    /// then the owner's sum over ranks in rank order (gc_moe_normal_combine), BF16 at each step.
    static func combine(_ p: NormalPlan, _ f: NormalRowFormat, _ recv: [[UInt8]], dropRank: Int? = nil) -> [[UInt8]] {
        let h = f.message.hidden
        var partial: [[Int: [UInt16]]] = Array(repeating: [:], count: p.ranks)  // [owner][token*ranks + holder]
        for d in 0..<p.ranks {
            for (i, row) in p.rows(dest: d).enumerated() {
                let at = i * f.stride
                let bytes = Array(recv[d][at..<(at + f.stride)])
                var out = [UInt16](repeating: 0, count: h)
                for e in 0..<h {
                    let x: Float
                    switch f.message.dtype {
                    case .bf16: x = Payload.float(bf16: UInt16(bytes[16 + 2 * e]) | UInt16(bytes[17 + 2 * e]) << 8)
                    case .fp8:
                        let sc = bytes[(16 + h + 4 * (e / 128))..<(20 + h + 4 * (e / 128))].withUnsafeBytes { $0.loadUnaligned(as: Float.self) }
                        x = Payload.float(e4m3: bytes[16 + e]) * sc
                    }
                    let fx = Payload.float(bf16: Payload.bf16(1.5 * x))
                    var acc: Float = 0
                    for k in 0..<f.topK {
                        let id = bytes[(f.idsOffset + 4 * k)..<(f.idsOffset + 4 * k + 4)].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
                        let w = bytes[(f.weightsOffset + 4 * k)..<(f.weightsOffset + 4 * k + 4)].withUnsafeBytes { $0.loadUnaligned(as: Float.self) }
                        if id >= 0 { acc += w * fx }
                    }
                    out[e] = Payload.bf16(acc)
                }
                partial[row.source][row.token * p.ranks + d] = out
            }
        }
        return (0..<p.ranks).map { s in
            var bytes: [UInt8] = []
            for t in 0..<p.routings[s].tokens {
                var acc = [Float](repeating: 0, count: h)
                for b in 0..<p.ranks where b != dropRank {
                    guard let row = partial[s][t * p.ranks + b] else { continue }
                    for e in 0..<h { acc[e] += Payload.float(bf16: row[e]) }
                }
                for v in acc { withUnsafeBytes(of: Payload.bf16(v)) { bytes += $0 } }
            }
            return bytes
        }
    }

    @Test(arguments: MoEDType.allCases)
    func aCombineOfPartialSumsChecksRightAndAMissingRankIsCaught(_ d: MoEDType) {
        let (s, p, f, recv) = Self.dispatched(d)
        let out = Self.combine(p, f, recv)
        for rank in 0..<4 {
            #expect(NormalCheck.combine(out[rank], routing: p.routings[rank], rank: rank, hidden: s.hidden, dtype: d) == 0, "rank \(rank)")
        }
        let missing = Self.combine(p, f, recv, dropRank: 1)
        #expect(NormalCheck.combine(missing[0], routing: p.routings[0], rank: 0, hidden: s.hidden, dtype: d) > 0)
    }

    @Test func knobsAreCheckedInOneLine() {
        #expect(NormalConfig().problem(ranks: 8, topK: 8) == nil)
        #expect(NormalConfig(chunkTokens: 300).problem(ranks: 8, topK: 8) == "--chunk-tokens must be from 1 to --ring-tokens 256 (got 300)")
        #expect(NormalConfig(ringTokens: 0).problem(ranks: 8, topK: 8)?.hasPrefix("--ring-tokens must be from 1") == true)
        #expect(NormalConfig(channels: -1).problem(ranks: nil, topK: 8)?.hasPrefix("--channels must be at least 0") == true)
        #expect(NormalConfig().problem(ranks: 33, topK: 8) == "style nvlink-normal runs on at most 32 ranks (one warp per peer; got 33)")
        #expect(NormalConfig().problem(ranks: 8, topK: 33) == "style nvlink-normal takes --topk up to 32 (got 33)")
        #expect(NormalConfig(channels: 200).problem(ranks: 32, topK: 8) == "--channels 200 × 32 ranks is more than 4096")
        #expect(NormalConfig().resolvedChannels(smShare: 132) == 10)
        #expect(NormalConfig().resolvedChannels(smShare: 15) == 7)
        #expect(NormalConfig().resolvedChannels(smShare: 1) == 1)
        #expect(NormalConfig(channels: 24).resolvedChannels(smShare: 15) == 24)
    }

    @Test func theHeapHoldsTheRingsAndNotTheWindowsWhenOnlyNormalRuns() {
        let s = MoEPreset.deepepNormal.shapes[0]
        let normal = MoEBench.heapBytes([s], ranks: 8, styles: [.nvlinkNormal])
        // 10 channels × 8 sources × 256 rows of 7472 B, the same of 14336 B, the counters; + 128 MiB.
        #expect(normal == 10 * 8 * 256 * 7472 + 10 * 8 * 256 * 14336 + 8 * 10 * 4 + 6 * 10 * 8 * 8 + 8 * 8 + 5 * (1 << 20) + (128 << 20))
        #expect(MoEBench.heapBytes([s], ranks: 8) == MoEState.symmetricBytes(s, ranks: 8) + (128 << 20))
        // With 3 routings each holds its own ncount (8 sources × 10 channels of int32).
        var three = s
        three.routings = 3
        let c = NormalConfig()
        #expect(NormalState.symmetricBytes(three, ranks: 8, channels: 10, config: c) - NormalState.symmetricBytes(s, ranks: 8, channels: 10, config: c) == 2 * 8 * 10 * 4)
    }

    @Test func everyRoutingHasItsOwnPlan() {
        var s = Self.shape(.bf16)
        s.routings = 3
        let set = RoutingSet(shape: s, ranks: 4)
        let plans = set.plans.map { NormalPlan($0, channels: 3) }
        // Routing 0 is the one-routing plan; the others differ somewhere.
        #expect(plans[0].counts == NormalPlan(ReceivePlan(shape: Self.shape(.bf16), ranks: 4), channels: 3).counts)
        #expect(plans[1].counts != plans[0].counts || plans[2].counts != plans[0].counts)
        // A dispatch of routing 2 checks right against routing 2's plan and not against routing 0's.
        let f = NormalRowFormat(hidden: s.hidden, dtype: .bf16, topK: s.topK)
        let recv = Self.dispatch(plans[2], f)
        #expect(NormalCheck.rows(recv[0], plan: plans[2], dest: 0, format: f) == 0)
        #expect(NormalCheck.rows(recv[0], plan: plans[0], dest: 0, format: f) > 0)
    }
}
