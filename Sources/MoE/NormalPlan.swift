/// The `nvlink-normal` style's knobs (DeepEP normal mode's `Config`): how many channels (each a
/// sender block and a receiver block, so 2 × channels SMs), how many rows a (channel, source) ring
/// holds on the receiver, and after how many rows the sender publishes its tail.
public struct NormalConfig: Sendable, Equatable {
    /// Channels; 0 = automatic (`resolvedChannels`).
    public var channels = 0
    /// Rows per (channel, source) ring on the receiver (DeepEP intranode: 256 tokens).
    public var ringTokens = 256
    /// Rows the sender writes between two tail updates (DeepEP intranode dispatch: 6 tokens).
    public var chunkTokens = 6

    public init(channels: Int = 0, ringTokens: Int = 256, chunkTokens: Int = 6) {
        self.channels = channels; self.ringTokens = ringTokens; self.chunkTokens = chunkTokens
    }

    /// The default channel count: DeepEP's default of 20 SMs (10 channels), fewer when this
    /// process may use fewer multiprocessors (`smShare`), at least 1.
    public static let defaultChannels = 10

    /// Largest rank count: one warp per peer in every block, peers as bits of a 32-bit mask.
    public static let maxRanks = 32
    /// Largest top-k: one lane per selection when a row's expert ids are rewritten.
    public static let maxTopK = 32
    /// Largest channels × ranks: the notify kernel counts them in shared memory.
    public static let maxChannelRanks = 4096

    /// Why these knobs cannot run (one line naming the option), or nil. `ranks` nil when unknown.
    public func problem(ranks: Int?, topK: Int) -> String? {
        if channels < 0 { return "--channels must be at least 0 (0: automatic; got \(channels))" }
        if channels > 512 { return "--channels must be at most 512 (got \(channels))" }
        if ringTokens < 1 || ringTokens > 65_536 { return "--ring-tokens must be from 1 to 65536 (got \(ringTokens))" }
        if chunkTokens < 1 || chunkTokens > ringTokens { return "--chunk-tokens must be from 1 to --ring-tokens \(ringTokens) (got \(chunkTokens))" }
        if topK > Self.maxTopK { return "style nvlink-normal takes --topk up to \(Self.maxTopK) (got \(topK))" }
        if let r = ranks {
            if r > Self.maxRanks { return "style nvlink-normal runs on at most \(Self.maxRanks) ranks (one warp per peer; got \(r))" }
            if channels * r > Self.maxChannelRanks { return "--channels \(channels) × \(r) ranks is more than \(Self.maxChannelRanks)" }
        }
        return nil
    }

    /// Channels to run with when `channels` is 0: min(10, smShare / 2), at least 1.
    public func resolvedChannels(smShare: Int) -> Int {
        channels > 0 ? channels : max(1, min(Self.defaultChannels, smShare / 2))
    }
}

/// Where every row of the `nvlink-normal` style lands, computed on the host from every rank's
/// routing (the reference for its notify, dispatch and combine checks; cuda/moe_normal.cu does
/// the same on the GPU).
///
/// Rank s's tokens are split into `channels` contiguous ranges of P = ceil(T_s / channels); a token
/// goes once to each rank holding any of its experts. Rank d receives source-major, then channel,
/// then token order: the rows of (s, c) start at `base(dest: d, source: s, channel: c)`.
public struct NormalPlan: Sendable {
    public let ranks: Int
    public let channels: Int
    public let localExperts: Int
    public let routings: [Routing]
    /// counts[s][c][d]: rows source s's channel c sends to rank d.
    public let counts: [[[Int]]]

    public init(_ plan: ReceivePlan, channels: Int) {
        ranks = plan.ranks
        self.channels = channels
        localExperts = plan.localExperts
        routings = plan.routings
        var counts: [[[Int]]] = []
        for r in plan.routings {
            var perChannel = [[Int]](repeating: [Int](repeating: 0, count: plan.ranks), count: channels)
            for t in 0..<r.tokens {
                let c = Self.channel(token: t, tokens: r.tokens, channels: channels)
                for d in Self.destinations(r, token: t, localExperts: plan.localExperts) { perChannel[c][d] += 1 }
            }
            counts.append(perChannel)
        }
        self.counts = counts
    }

    /// The channel that sends token `t` of a rank with `tokens` tokens.
    public static func channel(token t: Int, tokens: Int, channels: Int) -> Int { t / ((tokens + channels - 1) / channels) }

    /// The ranks holding any of token t's experts, ascending.
    public static func destinations(_ r: Routing, token t: Int, localExperts: Int) -> [Int] {
        var out: [Int] = []
        for k in 0..<r.topK where r.expert(t, k) >= 0 {
            let d = r.expert(t, k) / localExperts
            if !out.contains(d) { out.append(d) }
        }
        return out.sorted()
    }

    /// Rank `dest`'s ncount as the notify kernel leaves it: [source][channel], flattened.
    public func ncount(dest: Int) -> [Int32] {
        (0..<ranks).flatMap { s in (0..<channels).map { c in Int32(counts[s][c][dest]) } }
    }

    /// Rank `dest`'s rbase: the first row of each (source, channel), flattened like `ncount`.
    public func rbase(dest: Int) -> [Int32] {
        var run: Int32 = 0
        return ncount(dest: dest).map { n in defer { run += n }; return run }
    }

    /// Rows rank `dest` receives.
    public func received(dest: Int) -> Int { (0..<ranks).reduce(0) { a, s in a + counts[s].reduce(0) { $0 + $1[dest] } } }

    /// The (source, token) of every row rank `dest` receives, in row order (channels are contiguous
    /// token ranges in order, so source-major then token order).
    public func rows(dest: Int) -> [(source: Int, token: Int)] {
        var out: [(Int, Int)] = []
        for (s, r) in routings.enumerated() {
            for t in 0..<r.tokens where Self.destinations(r, token: t, localExperts: localExperts).contains(dest) { out.append((s, t)) }
        }
        return out
    }

    /// The top-k list a row of token t of `source` carries to `dest`: the local expert id where the
    /// expert is on `dest`, −1 elsewhere (and where masked).
    public func localIds(dest: Int, source: Int, token t: Int) -> [Int32] {
        let r = routings[source]
        return (0..<r.topK).map { k in
            let e = r.expert(t, k)
            return e >= 0 && e / localExperts == dest ? Int32(e % localExperts) : -1
        }
    }

    /// The bytes gpucomm's normal-mode kernels write into other ranks per operation, averaged over
    /// ranks: dispatch, one row (stride `rowStride`) per (token, other rank holding it); combine,
    /// one BF16 row back per row received from another rank. Signals, counts and tails not counted.
    public func meanWireBytes(rowStride: Int, hidden: Int) -> (dispatch: Double, combine: Double) {
        var remote = 0
        for s in 0..<ranks { for c in 0..<channels { for d in 0..<ranks where d != s { remote += counts[s][c][d] } } }
        let n = Double(max(1, ranks))
        return (Double(remote * rowStride) / n, Double(remote * hidden * 2) / n)
    }
}

/// A normal-mode row: the message (`MessageFormat`), then top-k int32 local expert ids and top-k
/// fp32 weights, the stride rounded up to 16 bytes.
public struct NormalRowFormat: Sendable, Equatable {
    public let message: MessageFormat
    public let topK: Int

    public init(hidden: Int, dtype: MoEDType, topK: Int) { message = MessageFormat(hidden: hidden, dtype: dtype); self.topK = topK }

    /// Where the expert ids start (the message's stride).
    public var idsOffset: Int { message.stride }
    public var weightsOffset: Int { message.stride + 4 * topK }
    public var stride: Int { (message.stride + 8 * topK + 15) / 16 * 16 }
}

/// The normal style's host checks, on bytes read back (tests feed them bytes built by hand).
public enum NormalCheck {
    /// Wrong elements of the received rows: each row's message as `MoECheck.window` counts them,
    /// then each of its top-k expert ids and weights (exact).
    public static func rows(_ bytes: [UInt8], plan: NormalPlan, dest: Int, format f: NormalRowFormat) -> Int {
        var wrong = 0
        let expected = plan.rows(dest: dest)
        let perRow = 4 + f.message.hidden + f.message.scaleBytes / 4 + 2 * f.topK
        for (i, row) in expected.enumerated() {
            let base = i * f.stride
            guard base + f.stride <= bytes.count else { wrong += perRow; continue }
            let slice = Array(bytes[base..<(base + f.stride)])
            wrong += MoECheck.window(slice, expected: [row.token], source: row.source, format: f.message)
            let ids = plan.localIds(dest: dest, source: row.source, token: row.token)
            let r = plan.routings[row.source]
            slice.withUnsafeBytes { raw in
                for k in 0..<f.topK {
                    if raw.loadUnaligned(fromByteOffset: f.idsOffset + 4 * k, as: Int32.self) != ids[k] { wrong += 1 }
                    let w = raw.loadUnaligned(fromByteOffset: f.weightsOffset + 4 * k, as: Float.self)
                    if w.bitPattern != r.weights[row.token * r.topK + k].bitPattern { wrong += 1 }
                }
            }
        }
        return wrong
    }

    /// Wrong elements of rank `rank`'s combined output: as `MoECheck.combine`, with room for one
    /// more BF16 rounding (each rank's partial sum is rounded before the owner adds them).
    public static func combine(_ bytes: [UInt8], routing r: Routing, rank: Int, hidden: Int, dtype: MoEDType) -> Int {
        MoECheck.combine(bytes, routing: r, rank: rank, hidden: hidden, dtype: dtype) { tolerance($0, absWeights: $1, dtype: $2, scale: $3) }
    }

    /// BF16: the expert's, each partial sum's and the output's rounding, 3 × 2^-9 relative, within
    /// 2^-7; FP8: `MoECheck.combineTolerance`, which already allows 2^-7 beside the cast's error.
    public static func tolerance(_ x: Float, absWeights w: Float, dtype: MoEDType, scale: Float) -> Float {
        switch dtype {
        case .bf16: return w * Payload.expertScale * abs(x) * 0x1p-7 + 1e-6
        case .fp8: return MoECheck.combineTolerance(x, absWeights: w, dtype: .fp8, scale: scale)
        }
    }
}
