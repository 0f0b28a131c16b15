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
/// Skew multiplies the scores of the hot experts (the first max(1, experts/16)).
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

    /// Rank `rank`'s routing for `shape` over `ranks` ranks: deterministic in (seed, rank).
    public static func generate(_ shape: MoEShape, rank: Int, ranks: Int) -> Routing {
        let t = shape.tokens(rank: rank, ranks: ranks), k = shape.topK, e = shape.experts
        var rng = SplitMix64(seed: shape.seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(rank) &+ 1)
        let hot = hotExperts(e)
        var experts = [Int32](repeating: -1, count: t * k)
        var weights = [Float](repeating: 0, count: t * k)
        var scores = [Double](repeating: 0, count: e)
        var order = Array(0..<e)
        for i in 0..<t {
            for j in 0..<e { scores[j] = (abs(rng.normal()) + 1) * (j < hot ? shape.skew : 1) }
            // Top-k: the k largest scores, largest first (ties to the lower id).
            for j in 0..<e { order[j] = j }
            for j in 0..<k {
                var best = j
                for m in (j + 1)..<e where scores[order[m]] > scores[order[best]] { best = m }
                order.swapAt(j, best)
                experts[i * k + j] = Int32(order[j])
            }
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

    public func expert(_ token: Int, _ k: Int) -> Int { Int(experts[token * topK + k]) }
}
