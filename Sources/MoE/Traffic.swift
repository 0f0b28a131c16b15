/// What one rank's dispatch and combine move, counted from the routing of every rank: the
/// numbers each byte convention is built from (docs/moe.md, "Byte accounting").
public struct RankTraffic: Sendable, Equatable {
    /// Tokens this rank dispatches.
    public var tokens = 0
    /// Its valid (token, expert) selections; of them, those whose expert is on another rank.
    public var selections = 0
    public var remoteSelections = 0
    /// Selections it receives (rows of its experts from every rank, itself included); remote ones.
    public var receivedSelections = 0
    public var receivedRemoteSelections = 0
    /// Tokens it receives counted once per token and receiving rank (DeepEP normal's recv_x rows), itself included.
    public var receivedTokens = 0

    public init() {}
}

/// The byte conventions gpucomm prints side by side. Each is computed in exactly one place
/// (`bytes(_:)`) and pinned by tests against docs/moe.md.
public enum ByteConvention: String, Sendable, CaseIterable {
    /// DeepEP normal mode (tests/test_intranode.py): rows the rank receives, deduplicated per
    /// (token, receiving rank), its own included, × hidden × 2; FP8 dispatch × (1 + 4/128) / 2.
    /// Combine: the same rows in BF16.
    case deepepNormal = "deepep_normal"
    /// DeepEP low-latency (tests/test_low_latency.py): per valid selection of the rank's own
    /// tokens, hidden + hidden/128 · 4 + 16 bytes in FP8 or hidden × 2 in BF16; combine hidden × 2.
    case deepepLL = "deepep_ll"
    /// pplx-kernels: sender side, tokens × top-k (masked ones too) × (hidden × element bytes +
    /// hidden/128 · 4 scale bytes in FP8); combine tokens × top-k × hidden × 2.
    case pplx
    /// What gpucomm's kernels write into other ranks' memory: remote messages × their 16-byte
    /// stride (header with token, rank, expert; payload; FP8 scales; padding) plus the per-expert
    /// counts (4 bytes per local expert per remote rank); combine: remote rows × hidden × 2.
    /// Signals and NVSHMEM's own headers are not counted.
    case wire

    /// The label printed beside the figure.
    public var label: String {
        switch self {
        case .deepepNormal: return "DeepEP normal (dedup per rank, self incl.)"
        case .deepepLL: return "DeepEP LL (per valid selection)"
        case .pplx: return "pplx (tokens x top-k, sender)"
        case .wire: return "wire (remote only, as sent)"
        }
    }

    /// Bytes rank `t` counts for one dispatch (`combine` false) or one combine, at `shape` over `ranks` ranks.
    public func bytes(_ t: RankTraffic, shape: MoEShape, ranks: Int, combine: Bool) -> Int {
        let h = shape.hidden
        let fp8 = shape.dtype == .fp8 && !combine
        switch self {
        case .deepepNormal:
            // FP8: × (1 + 4/128) / 2 of the BF16 bytes = hidden + hidden/32 per row.
            return t.receivedTokens * (fp8 ? h + h / 32 : h * 2)
        case .deepepLL:
            return t.selections * (fp8 ? h + h / 128 * 4 + 16 : h * 2)
        case .pplx:
            return t.tokens * shape.topK * (fp8 ? h + h / 128 * 4 : h * 2)
        case .wire:
            if combine { return t.receivedRemoteSelections * h * 2 }
            let f = MessageFormat(hidden: h, dtype: shape.dtype)
            return t.remoteSelections * f.stride + (ranks - 1) * shape.localExperts(ranks: ranks) * 4
        }
    }
}

extension ReceivePlan {
    /// Rank `rank`'s traffic.
    public func traffic(rank: Int) -> RankTraffic {
        var t = RankTraffic()
        let r = routings[rank]
        t.tokens = r.tokens
        for e in r.experts where e >= 0 {
            t.selections += 1
            if owner(Int(e)) != rank { t.remoteSelections += 1 }
        }
        for (s, rs) in routings.enumerated() {
            for tok in 0..<rs.tokens {
                var here = false
                for k in 0..<rs.topK where rs.expert(tok, k) >= 0 && owner(rs.expert(tok, k)) == rank {
                    here = true
                    t.receivedSelections += 1
                    if s != rank { t.receivedRemoteSelections += 1 }
                }
                if here { t.receivedTokens += 1 }
            }
        }
        return t
    }

    /// Every convention's bytes for one operation, averaged over ranks (what the table divides by
    /// the time): dispatch and combine.
    public func meanBytes(shape: MoEShape) -> [ByteConvention: (dispatch: Double, combine: Double)] {
        let all = (0..<ranks).map { traffic(rank: $0) }
        var out: [ByteConvention: (Double, Double)] = [:]
        for c in ByteConvention.allCases {
            let d = all.reduce(0) { $0 + c.bytes($1, shape: shape, ranks: ranks, combine: false) }
            let m = all.reduce(0) { $0 + c.bytes($1, shape: shape, ranks: ranks, combine: true) }
            out[c] = (Double(d) / Double(ranks), Double(m) / Double(ranks))
        }
        return out
    }
}

extension RoutingSet {
    /// What the table divides by the time with R routings. Dispatch: each convention's bytes,
    /// the mean over ranks (`ReceivePlan.meanBytes`), then over the R routings (iteration i
    /// dispatches routing i mod R, and the timed count need not be a multiple of R: the mean is
    /// the per-operation figure). Combine: routing 0's, the mean over ranks, since every combine
    /// sends back routing 0's dispatch (`CombineWorkload`). With one routing both are that
    /// routing's `meanBytes`.
    public func meanBytes(shape: MoEShape) -> [ByteConvention: (dispatch: Double, combine: Double)] {
        let each = plans.map { $0.meanBytes(shape: shape) }
        var out: [ByteConvention: (dispatch: Double, combine: Double)] = [:]
        for c in ByteConvention.allCases {
            let d = each.reduce(0.0) { $0 + $1[c]!.dispatch } / Double(each.count)
            out[c] = (d, each[0][c]!.combine)
        }
        return out
    }
}
