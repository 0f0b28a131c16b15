import Testing
@testable import MoE

/// The `nccl` style's send/receive lists: matched as NCCL matches them, and played as byte copies
/// on the host they leave every receive window and every combine row where the checks want it.
@Suite struct ExchangeTests {
    static func exchange(_ plan: ReceivePlan) -> MoEExchange {
        MoEExchange(counts: plan.layouts.map(\.counts), localExperts: plan.localExperts, window: plan.window)
    }

    @Test func aCaseWorkedByHand() throws {
        // 2 ranks, 4 experts (2 each), window 3. Rank 0 sends 2 rows to expert 1, 1 to expert 2;
        // rank 1 sends 1 to expert 0 and 3 to expert 3.
        let x = MoEExchange(counts: [[0, 2, 1, 0], [1, 0, 0, 3]], localExperts: 2, window: 3)
        let d0 = x.dispatch(rank: 0, stride: 10)
        #expect(d0.sends == [.init(peer: 0, offset: 0, bytes: 20), .init(peer: 1, offset: 20, bytes: 10)])
        // Rank 0 receives (local 1, source 0) at row (1·2 + 0)·3 = 6, (local 0, source 1) at row 1·3 = 3.
        #expect(d0.recvs == [.init(peer: 0, offset: 60, bytes: 20), .init(peer: 1, offset: 30, bytes: 10)])
        let pairs = try MoEExchange.match([d0, x.dispatch(rank: 1, stride: 10)]).get()
        #expect(pairs.contains(.init(source: 1, sourceOffset: 10, dest: 1, destOffset: (1 * 2 + 1) * 3 * 10, bytes: 30)))
        #expect(pairs.map(\.bytes).reduce(0, +) == 70)
        let c1 = x.combine(rank: 1, rowBytes: 4)
        // Rank 1 returns (local 0 = expert 2, source 0): 1 row from row 0; (local 1 = expert 3, source 1): 3 rows from row 9.
        #expect(c1.sends == [.init(peer: 0, offset: 0, bytes: 4), .init(peer: 1, offset: 36, bytes: 12)])
        #expect(c1.recvs == [.init(peer: 0, offset: 0, bytes: 4), .init(peer: 1, offset: 36, bytes: 12)])
    }

    @Test func aMismatchIsOneLine() {
        let a = (sends: [MoEExchange.Transfer(peer: 1, offset: 0, bytes: 8)], recvs: [MoEExchange.Transfer]())
        let b = (sends: [MoEExchange.Transfer](), recvs: [MoEExchange.Transfer(peer: 0, offset: 0, bytes: 16)])
        guard case .failure(let e) = MoEExchange.match([a, b]) else { Issue.record("matched"); return }
        #expect(e.description == "rank 0 sends 8 B to rank 1, which receives 16 B")
        guard case .failure(let f) = MoEExchange.match([a, (sends: [], recvs: [])]) else { Issue.record("matched"); return }
        #expect(f.description == "rank 0 posts 1 sends to rank 1, which posts 0 receives from it")
    }

    @Test(arguments: MoEDType.allCases)
    func playedOnTheHostTheDispatchChecksRight(_ d: MoEDType) throws {
        let s = EndToEndTests.shape(d)
        let plan = ReceivePlan(shape: s, ranks: 4)
        let f = MessageFormat(hidden: s.hidden, dtype: d)
        let x = Self.exchange(plan)
        // Each rank's packed buffer as gc_moe_pack_nccl leaves it: messages ordered by expert, then slot.
        let packed: [[UInt8]] = (0..<4).map { rank in
            let r = plan.routings[rank], lay = plan.layouts[rank]
            var offsets: [Int] = [], run = 0
            for c in lay.counts { offsets.append(run); run += Int(c) }
            var buf = [UInt8](repeating: 0, count: max(1, run) * f.stride)
            for t in 0..<r.tokens {
                for k in 0..<r.topK where r.expert(t, k) >= 0 {
                    let at = (offsets[r.expert(t, k)] + Int(lay.slots[t * r.topK + k])) * f.stride
                    buf.replaceSubrange(at..<(at + f.stride), with: CheckTests.message(source: rank, token: t, format: f))
                }
            }
            return buf
        }
        var recv = [[UInt8]](repeating: [UInt8](repeating: 0x7F, count: plan.localExperts * 4 * plan.window * f.stride), count: 4)
        for p in try MoEExchange.match((0..<4).map { x.dispatch(rank: $0, stride: f.stride) }).get() {
            recv[p.dest].replaceSubrange(p.destOffset..<(p.destOffset + p.bytes), with: packed[p.source][p.sourceOffset..<(p.sourceOffset + p.bytes)])
        }
        let counts: [[Int32]] = (0..<4).map { dest in
            (0..<4).flatMap { src in (0..<plan.localExperts).map { j in Int32(plan.count(dest: dest, local: j, source: src)) } }
        }
        #expect(EndToEndTests.dispatchWrong(plan, f, (recv, counts)) == 0)
    }

    @Test func playedOnTheHostTheCombineReturnsEveryRowToItsExpertAndSlot() throws {
        let s = EndToEndTests.shape(.bf16)
        let plan = ReceivePlan(shape: s, ranks: 4)
        let x = Self.exchange(plan)
        let l = plan.localExperts, w = plan.window, rowBytes = 4
        // y at rank d: row (j, src, slot) tagged [j, src, slot, d].
        var y: [[UInt8]] = []
        for d in 0..<4 {
            var rows: [UInt8] = []
            for r in 0..<(l * 4 * w) {
                let j = r / (4 * w), src = r / w % 4, slot = r % w
                rows += [UInt8(j), UInt8(src), UInt8(slot), UInt8(d)]
            }
            y.append(rows)
        }
        var comb = [[UInt8]](repeating: [UInt8](repeating: 0xFF, count: s.experts * w * rowBytes), count: 4)
        for p in try MoEExchange.match((0..<4).map { x.combine(rank: $0, rowBytes: rowBytes) }).get() {
            comb[p.dest].replaceSubrange(p.destOffset..<(p.destOffset + p.bytes), with: y[p.source][p.sourceOffset..<(p.sourceOffset + p.bytes)])
        }
        var rows = 0
        for src in 0..<4 {
            for e in 0..<s.experts {
                for slot in 0..<Int(plan.layouts[src].counts[e]) {
                    let at = (e * w + slot) * rowBytes
                    #expect(Array(comb[src][at..<(at + 4)]) == [UInt8(e % l), UInt8(src), UInt8(slot), UInt8(e / l)], "rank \(src) expert \(e) slot \(slot)")
                    rows += 1
                }
            }
        }
        #expect(rows == plan.routings.reduce(0) { $0 + $1.experts.filter { $0 >= 0 }.count })
    }
}
