import Foundation

/// A seeded generator (SplitMix64, Steele et al. 2014): the same numbers on every rank and
/// every run, so each rank can rebuild every other rank's routing for its checks.
public struct SplitMix64: Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: 53 random bits, never 0 (Box–Muller takes its logarithm).
    public mutating func unit() -> Double { Double((next() >> 11) + 1) / 9_007_199_254_740_992.0 }

    /// Standard normal (Box–Muller, one of the pair).
    public mutating func normal() -> Double { (-2 * log(unit())).squareRoot() * cos(2 * Double.pi * unit()) }

    /// Uniform in 0..<n.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// One rank's routing: for each token its top-k experts (−1 = masked) and their weights.
///
/// DeepEP's tests draw scores |randn| + 1 per (token, expert), take the top-k, and weights
/// |randn| (deep_ep tests/test_low_latency.py); this is the same idea with our own generator.
/// Skew multiplies the scores of the hot experts (the first max(1, experts/16)); group-limited
/// routing (`select`) then keeps a token's experts within its top groups.
public struct Routing: Sendable, Equatable {
    public let tokens: Int
    public let topK: Int
    /// tokens × topK expert ids, row-major; −1 where masked.
    public var experts: [Int32]
    /// tokens × topK weights (masked selections keep theirs; combine ignores them).
    public var weights: [Float]

    public init(tokens: Int, topK: Int, experts: [Int32], weights: [Float]) {
        precondition(experts.count == tokens * topK && weights.count == tokens * topK)
        self.tokens = tokens; self.topK = topK; self.experts = experts; self.weights = weights
    }

    /// The hot experts that `skew` favours.
    public static func hotExperts(_ experts: Int) -> Int { max(1, experts / 16) }

    /// The generator seed of routing `routing` of rank `rank`: routing 0 keeps the one seed per
    /// rank every run has used (seed × 0x2545F4914F6CDD1D + rank + 1); routing r > 0 hashes
    /// r × 0xD1B54A32D192ED03 into it through one SplitMix64 step, so its numbers are not the
    /// same stream shifted (SplitMix64's state only ever adds its gamma).
    public static func seed(_ seed: UInt64, routing: Int, rank: Int) -> UInt64 {
        let base = seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(rank) &+ 1
        guard routing > 0 else { return base }
        var g = SplitMix64(seed: base ^ (UInt64(routing) &* 0xD1B5_4A32_D192_ED03))
        return g.next()
    }

    /// Rank `rank`'s routing number `routing` (0 ..< shape.routings) for `shape` over `ranks`
    /// ranks: deterministic in (seed, routing, rank).
    public static func generate(_ shape: MoEShape, rank: Int, ranks: Int, routing: Int = 0) -> Routing {
        let t = shape.tokens(rank: rank, ranks: ranks), k = shape.topK, e = shape.experts
        var rng = SplitMix64(seed: seed(shape.seed, routing: routing, rank: rank))
        let hot = hotExperts(e)
        let groups = shape.groupCount(ranks: ranks), kept = shape.keptGroups(ranks: ranks)
        var experts = [Int32](repeating: -1, count: t * k)
        var weights = [Float](repeating: 0, count: t * k)
        var scores = [Double](repeating: 0, count: e)
        for i in 0..<t {
            for j in 0..<e { scores[j] = (abs(rng.normal()) + 1) * (j < hot ? shape.skew : 1) }
            for (j, x) in select(scores: scores, topK: k, groups: groups, keep: kept).enumerated() { experts[i * k + j] = Int32(x) }
            for j in 0..<k { weights[i * k + j] = Float(abs(rng.normal())) }
        }
        // Masked selections: `masked` distinct positions (all of them if there are fewer).
        let n = t * k
        var positions = Array(0..<n)
        for j in 0..<min(shape.masked, n) {
            let m = j + rng.below(n - j)
            positions.swapAt(j, m)
            experts[positions[j]] = -1
        }
        return Routing(tokens: t, topK: k, experts: experts, weights: weights)
    }

    /// One token's top-k experts by `scores`, largest first (ties to the lower id), group-limited
    /// when `keep` < `groups`: the experts split into `groups` contiguous groups, a group's score
    /// is its best expert's, the top `keep` groups stay (ties to the lower group) and the top-k
    /// is taken among their experts only. DeepEP tests/test_internode.py does the same with
    /// torch: `scores.view(tokens, groups, -1).amax(-1)`, topk of the groups, the other groups'
    /// scores zeroed (`create_grouped_scores`), then topk. Needs topK ≤ keep × experts/groups.
    public static func select(scores: [Double], topK k: Int, groups: Int = 1, keep: Int = 1) -> [Int] {
        let e = scores.count
        var allowed = [Bool](repeating: true, count: e)
        if groups > 1 && keep < groups {
            let size = e / groups
            let best = (0..<groups).map { g in scores[(g * size)..<(g * size + size)].max()! }
            var order = Array(0..<groups)
            for j in 0..<keep {
                var b = j
                for m in (j + 1)..<groups where best[order[m]] > best[order[b]] { b = m }
                order.swapAt(j, b)
            }
            allowed = [Bool](repeating: false, count: e)
            for g in order[0..<keep] { for x in (g * size)..<(g * size + size) { allowed[x] = true } }
        }
        // Top-k: the k largest allowed scores, largest first (ties to the lower id).
        var order = (0..<e).filter { allowed[$0] }
        var out: [Int] = []
        for j in 0..<min(k, order.count) {
            var best = j
            for m in (j + 1)..<order.count where scores[order[m]] > scores[order[best]] { best = m }
            order.swapAt(j, best)
            out.append(order[j])
        }
        return out
    }

    public func expert(_ token: Int, _ k: Int) -> Int { Int(experts[token * topK + k]) }
}
