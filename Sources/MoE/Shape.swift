/// What the dispatch sends per token: BF16 rows, or FP8 e4m3 rows with one fp32 scale per 128
/// elements, cast inside the dispatch kernel (combine is BF16 either way).
public enum MoEDType: String, Sendable, CaseIterable {
    case bf16
    case fp8
}

/// One MoE expert-parallel case: per-rank tokens, hidden size, top-k, experts, ranks, and the
/// routing knobs. Every rank builds the same shape; `problem(ranks:)` is the one validation.
public struct MoEShape: Sendable, Equatable, CustomStringConvertible {
    /// Tokens each rank dispatches (the ranks in `zeroTokenRanks` dispatch none).
    public var tokens: Int
    public var hidden: Int
    public var topK: Int
    public var experts: Int
    public var dtype: MoEDType
    /// Selections per rank replaced by −1 (masked), at seeded distinct positions (DeepEP's test masks 10).
    public var masked = 0
    /// Score multiplier of the hot experts (the first max(1, experts/16)); 1 = uniform routing.
    public var skew = 1.0
    /// The last this-many ranks have no tokens at all.
    public var zeroTokenRanks = 0
    public var seed: UInt64 = 1
    /// Group-limited routing (DeepEP tests/test_internode.py, DeepSeek-V3's node-limited routing):
    /// the experts split into this many contiguous groups; 1 = off; 0 = one group per rank (what
    /// `--group-topk` alone asks for, resolved by `groupCount(ranks:)`).
    public var groups = 1
    /// Groups each token may pick from (the top ones by their best expert's score); 0 = the
    /// default, `keptGroups(ranks:)`.
    public var groupTopK = 0
    /// Routings per rank the timed iterations cycle through: 1 = one routing, its layout built
    /// once and reused; R > 1 = iteration i uses routing i mod R and rebuilds the layout inside
    /// every dispatch.
    public var routings = 1

    public init(tokens: Int, hidden: Int, topK: Int, experts: Int, dtype: MoEDType = .bf16) {
        self.tokens = tokens; self.hidden = hidden; self.topK = topK; self.experts = experts; self.dtype = dtype
    }

    /// Largest token count: the BF16 row carries the token index as two bytes (hi, lo).
    public static let maxTokens = 65_536
    /// Largest rank count: the BF16 row carries the source rank in one element (0…255 exact).
    public static let maxRanks = 256
    /// Most routings per rank (`--routings`): each is uploaded whole (top-k ids and weights).
    public static let maxRoutings = 64

    /// Why this shape cannot run on `ranks` ranks (one line naming the field), or nil.
    /// Pass nil for `ranks` when the rank count is not known yet.
    public func problem(ranks: Int?) -> String? {
        if tokens < 0 { return "--tokens must be at least 0 (got \(tokens))" }
        if tokens > Self.maxTokens { return "--tokens must be at most \(Self.maxTokens) (got \(tokens))" }
        if experts < 1 { return "--experts must be at least 1 (got \(experts))" }
        if topK < 1 { return "--topk must be at least 1 (got \(topK))" }
        if topK > experts { return "--topk \(topK) is more than --experts \(experts): each token picks top-k distinct experts" }
        if hidden < 8 || hidden % 8 != 0 { return "--hidden must be a positive multiple of 8 (16-byte rows in BF16; got \(hidden))" }
        if dtype == .fp8 && hidden % 128 != 0 { return "--hidden must be a multiple of 128 for --dtype fp8 (one fp32 scale per 128 elements; got \(hidden))" }
        if masked < 0 { return "--masked must be at least 0 (got \(masked))" }
        if !(skew.isFinite && skew >= 1 && skew <= 1e6) { return "--skew must be a number from 1 (uniform) to 1e6 (got \(skew))" }
        if zeroTokenRanks < 0 { return "--zero-ranks must be at least 0 (got \(zeroTokenRanks))" }
        if routings < 1 || routings > Self.maxRoutings { return "--routings must be from 1 to \(Self.maxRoutings) (got \(routings))" }
        if groups < 0 { return "--groups must be at least 1 (got \(groups))" }
        if groupTopK < 0 { return "--group-topk must be at least 1 (got \(groupTopK))" }
        if let r = ranks {
            if r > Self.maxRanks { return "at most \(Self.maxRanks) ranks (got \(r))" }
            if experts % r != 0 { return "--experts \(experts) is not divisible by \(r) ranks: every rank holds experts/ranks experts" }
            if zeroTokenRanks > r { return "--zero-ranks \(zeroTokenRanks) is more than the \(r) ranks" }
        }
        if let why = groupProblem(ranks: ranks) { return why }
        return nil
    }

    /// The group-limited routing's checks; with `groups` 0 (one per rank) they wait for the rank count.
    func groupProblem(ranks: Int?) -> String? {
        guard let g = groups == 0 ? ranks : groups else { return nil }
        let name = groups == 0 ? "--groups (one per rank, \(g))" : "--groups \(g)"
        if experts % g != 0 { return "\(name) does not divide --experts \(experts): each group holds experts/groups contiguous experts" }
        let m = keptGroups(groups: g)
        if m > g { return "--group-topk \(m) is more than \(name): a token keeps at most every group" }
        if topK > m * (experts / g) {
            return "--topk \(topK) is more than the \(m * (experts / g)) experts of --group-topk \(m) groups of \(experts / g) (\(name))"
        }
        return nil
    }

    /// The number of expert groups on `ranks` ranks (`groups`, or one per rank when it is 0).
    public func groupCount(ranks: Int) -> Int { groups == 0 ? ranks : groups }

    /// Groups a token keeps on `ranks` ranks: `groupTopK`, or by default min(G, 4) (DeepEP's
    /// test_internode.py: num_topk_groups = min(num_nodes, 4); DeepSeek-V3 keeps 4 of 8), raised
    /// to the fewest groups that hold top-k experts.
    public func keptGroups(ranks: Int) -> Int { keptGroups(groups: groupCount(ranks: ranks)) }

    func keptGroups(groups g: Int) -> Int {
        if groupTopK > 0 { return groupTopK }
        let perGroup = max(1, experts / max(1, g))
        return min(g, max(4, (topK + perGroup - 1) / perGroup))
    }

    /// Whether routing is group-limited at all (more than one group, fewer kept than there are).
    public func groupLimited(ranks: Int) -> Bool { groupCount(ranks: ranks) > 1 && keptGroups(ranks: ranks) < groupCount(ranks: ranks) }

    /// Experts each of `ranks` ranks holds.
    public func localExperts(ranks: Int) -> Int { experts / ranks }
    /// Tokens rank `rank` of `ranks` dispatches.
    public func tokens(rank: Int, ranks: Int) -> Int { rank >= ranks - zeroTokenRanks ? 0 : tokens }

    public var description: String {
        var s = "tokens \(tokens) hidden \(hidden) top-\(topK) experts \(experts) \(dtype.rawValue)"
        if masked > 0 { s += " masked \(masked)" }
        if skew != 1 { s += " skew \(skew)" }
        if zeroTokenRanks > 0 { s += " zero-token ranks \(zeroTokenRanks)" }
        if groups != 1 {
            let m = groups == 0 ? groupTopK : keptGroups(groups: groups)
            s += " group-limited: top-\(m) of " + (groups == 0 ? "one group per rank" : "\(groups) groups")
        }
        s += routings > 1 ? " new routing every iteration (\(routings) routings)" : " layout reused"
        return s
    }

    /// The routing fields as results-row labels (`groups` 0 and `group_topk` 0 resolved for `ranks`).
    public func routingLabels(ranks: Int) -> [String: String] {
        ["groups": String(groupCount(ranks: ranks)), "group_topk": String(keptGroups(ranks: ranks)), "routings": String(routings)]
    }
}

/// Shapes that reproduce each published benchmark's anchor (docs/moe.md names the sources).
public enum MoEPreset: String, Sendable, CaseIterable {
    /// DeepEP normal mode's test: 4096 tokens per rank, hidden 7168, top-8 of 256 experts, FP8 dispatch.
    case deepepNormal = "deepep-normal"
    /// DeepEP low-latency test: 128 tokens, hidden 7168, top-8 of 288 experts, 10 selections masked to −1, FP8 dispatch.
    case deepepLL = "deepep-ll"
    /// pplx-kernels' benchmark: (experts, top-k, hidden) = (64, 6, 2048) and (256, 8, 7168), tokens 1…128, FP8 dispatch.
    case pplx
    /// NCCL EP's comparison: BF16 both ways, 256 experts (top-8, hidden 7168, 128 tokens: our choice where it names none).
    case ncclEP = "nccl-ep"

    public var summary: String {
        switch self {
        case .deepepNormal: return "4096 tokens/rank, hidden 7168, top-8, 256 experts, FP8 dispatch (DeepEP normal)"
        case .deepepLL: return "128 tokens/rank, hidden 7168, top-8, 288 experts, 10 selections masked, FP8 dispatch (DeepEP low-latency)"
        case .pplx: return "(64 experts, top-6, hidden 2048) and (256, top-8, 7168) × tokens 1,4,8,16,32,64,128, FP8 dispatch (pplx-kernels)"
        case .ncclEP: return "BF16 both ways, 256 experts, top-8, hidden 7168, 128 tokens/rank (NCCL EP)"
        }
    }

    /// The preset's shapes, in the order they run.
    public var shapes: [MoEShape] {
        switch self {
        case .deepepNormal: return [MoEShape(tokens: 4096, hidden: 7168, topK: 8, experts: 256, dtype: .fp8)]
        case .deepepLL:
            var s = MoEShape(tokens: 128, hidden: 7168, topK: 8, experts: 288, dtype: .fp8)
            s.masked = 10
            return [s]
        case .pplx:
            let tokens = [1, 4, 8, 16, 32, 64, 128]
            return [(64, 6, 2048), (256, 8, 7168)].flatMap { e, k, h in tokens.map { MoEShape(tokens: $0, hidden: h, topK: k, experts: e, dtype: .fp8) } }
        case .ncclEP: return [MoEShape(tokens: 128, hidden: 7168, topK: 8, experts: 256, dtype: .bf16)]
        }
    }
}
