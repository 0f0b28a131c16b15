import Testing
@testable import MoE

/// What the kernels are specified to do (cuda/moe.cu, moe_nvshmem.cu), done on the host for every
/// rank from the layout alone: the checks must find nothing wrong in it, and must find a slot
/// mix-up. Ties the receive plan's slot order, the layout's slots, the message format and both
/// checks together.
@Suite struct EndToEndTests {
    static func shape(_ d: MoEDType) -> MoEShape {
        var s = MoEShape(tokens: 12, hidden: 256, topK: 3, experts: 8, dtype: d)
        s.masked = 4; s.skew = 3; s.zeroTokenRanks = 1
        return s
    }

    /// Every rank's receive buffer and counts after a dispatch that follows the layout.
    static func dispatch(_ plan: ReceivePlan, _ f: MessageFormat, swapFirstTwoSlots: Bool = false) -> (recv: [[UInt8]], counts: [[Int32]]) {
        let n = plan.ranks, l = plan.localExperts
        var recv = [[UInt8]](repeating: [UInt8](repeating: 0x7F, count: l * n * plan.window * f.stride), count: n)
        var counts = [[Int32]](repeating: [Int32](repeating: -1, count: n * l), count: n)
        for s in 0..<n {
            let r = plan.routings[s], lay = plan.layouts[s]
            for d in 0..<n { for j in 0..<l { counts[d][s * l + j] = lay.counts[d * l + j] } }
            for t in 0..<r.tokens {
                let m = CheckTests.message(source: s, token: t, format: f)
                for k in 0..<r.topK where r.expert(t, k) >= 0 {
                    let e = r.expert(t, k)
                    var slot = Int(lay.slots[t * r.topK + k])
                    if swapFirstTwoSlots && slot < 2 && lay.counts[e] >= 2 { slot = 1 - slot }
                    let at = plan.row(local: e % l, source: s, slot: slot) * f.stride
                    recv[plan.owner(e)].replaceSubrange(at..<(at + f.stride), with: m)
                }
            }
        }
        return (recv, counts)
    }

    static func dispatchWrong(_ plan: ReceivePlan, _ f: MessageFormat, _ got: (recv: [[UInt8]], counts: [[Int32]])) -> Int {
        var wrong = 0
        for d in 0..<plan.ranks {
            for s in 0..<plan.ranks {
                for j in 0..<plan.localExperts {
                    let want = plan.tokens(dest: d, local: j, source: s)
                    if got.counts[d][s * plan.localExperts + j] != Int32(want.count) { wrong += 1 }
                    let at = plan.row(local: j, source: s, slot: 0) * f.stride
                    wrong += MoECheck.window(Array(got.recv[d][at..<(at + want.count * f.stride)]), expected: want, source: s, format: f)
                }
            }
        }
        return wrong
    }

    @Test(arguments: MoEDType.allCases)
    func aDispatchThatFollowsTheLayoutChecksRightAndASlotMixUpDoesNot(_ d: MoEDType) {
        let s = Self.shape(d)
        let plan = ReceivePlan(shape: s, ranks: 4)
        let f = MessageFormat(hidden: s.hidden, dtype: d)
        #expect(plan.routings[3].tokens == 0)
        #expect(plan.routings.map { $0.experts.filter { $0 < 0 }.count }.prefix(3).allSatisfy { $0 == 4 })
        #expect(Self.dispatchWrong(plan, f, Self.dispatch(plan, f)) == 0)
        #expect(Self.dispatchWrong(plan, f, Self.dispatch(plan, f, swapFirstTwoSlots: true)) > 0)
    }

    /// The fake expert, the rows back to (expert, slot) at their owner, and the reduce in k order.
    @Test(arguments: MoEDType.allCases)
    func aCombineThatFollowsTheLayoutChecksRight(_ d: MoEDType) {
        let s = Self.shape(d)
        let plan = ReceivePlan(shape: s, ranks: 4)
        let f = MessageFormat(hidden: s.hidden, dtype: d)
        let (recv, _) = Self.dispatch(plan, f)
        let h = s.hidden
        for rank in 0..<plan.ranks {
            let r = plan.routings[rank], lay = plan.layouts[rank]
            var out: [UInt8] = []
            for t in 0..<r.tokens {
                var acc = [Float](repeating: 0, count: h)
                for k in 0..<r.topK where r.expert(t, k) >= 0 {
                    let e = r.expert(t, k)
                    // The owner's received row for (e, rank, slot), through the fake expert.
                    let at = plan.row(local: e % plan.localExperts, source: rank, slot: Int(lay.slots[t * r.topK + k])) * f.stride + 16
                    let row = recv[plan.owner(e)]
                    for i in 0..<h {
                        let x: Float
                        switch d {
                        case .bf16: x = Payload.float(bf16: UInt16(row[at + 2 * i]) | UInt16(row[at + 2 * i + 1]) << 8)
                        case .fp8:
                            let sc = row[(at + h + 4 * (i / 128))..<(at + h + 4 * (i / 128) + 4)].withUnsafeBytes { $0.loadUnaligned(as: Float.self) }
                            x = Payload.float(e4m3: row[at + i]) * sc
                        }
                        acc[i] += r.weights[t * r.topK + k] * Payload.float(bf16: Payload.bf16(1.5 * x))
                    }
                }
                for v in acc { withUnsafeBytes(of: Payload.bf16(v)) { out += $0 } }
            }
            #expect(MoECheck.combine(out, routing: r, rank: rank, hidden: h, dtype: d) == 0, "rank \(rank)")
        }
    }
}
