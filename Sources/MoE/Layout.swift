/// The dispatch layout of one rank's tokens, as the host computes it (the reference for the GPU
/// layout kernel, gc_moe_layout in cuda/moe.cu): how many of its tokens go to each expert, and
/// the slot of each (token, k) among the tokens of its expert, in token order.
public struct DispatchLayout: Sendable, Equatable {
    /// Per expert: this rank's tokens routed to it.
    public var counts: [Int32]
    /// Per (token, k): the token's place among this rank's tokens of that expert; −1 where masked.
    public var slots: [Int32]

    public init(counts: [Int32], slots: [Int32]) { self.counts = counts; self.slots = slots }

    public init(_ r: Routing, experts: Int) {
        var counts = [Int32](repeating: 0, count: experts)
        var slots = [Int32](repeating: -1, count: r.experts.count)
        for (i, e) in r.experts.enumerated() where e >= 0 {
            slots[i] = counts[Int(e)]
            counts[Int(e)] += 1
        }
        self.counts = counts
        self.slots = slots
    }
}

/// Where every dispatched row lands. Rank d holds experts d·L ..< (d+1)·L (L = experts / ranks);
/// its receive buffer is expert-major with a fixed window of `tokens` slots per source rank:
/// row (local expert l, source s, slot) at index (l · ranks + s) · tokens + slot. The row in slot
/// i of (l, s) is source s's i-th token (in token order) routed to expert d·L + l. DeepEP's
/// low-latency kernels use the same windows (`num_max_dispatch_tokens_per_rank` per source).
public struct ReceivePlan: Sendable {
    public let ranks: Int
    public let localExperts: Int
    /// Slots per (local expert, source) window: the shape's tokens per rank.
    public let window: Int
    /// Every rank's routing and layout (the reference for every rank's checks).
    public let routings: [Routing]
    public let layouts: [DispatchLayout]

    public init(shape: MoEShape, ranks: Int) {
        self.init(routings: (0..<ranks).map { Routing.generate(shape, rank: $0, ranks: ranks) }, shape: shape)
    }

    /// The plan for given routings, one per rank (tests build them by hand).
    public init(routings: [Routing], shape: MoEShape) {
        ranks = routings.count
        localExperts = shape.localExperts(ranks: routings.count)
        window = shape.tokens
        self.routings = routings
        layouts = routings.map { DispatchLayout($0, experts: shape.experts) }
    }

    /// Rows rank `dest` receives from `source` for its local expert `local`.
    public func count(dest: Int, local: Int, source: Int) -> Int { Int(layouts[source].counts[dest * localExperts + local]) }

    /// Row index of (local expert, source, slot) in the receive buffer.
    public func row(local: Int, source: Int, slot: Int) -> Int { (local * ranks + source) * window + slot }

    /// The source's token in each slot of window (dest, local, source), in slot order.
    public func tokens(dest: Int, local: Int, source: Int) -> [Int] {
        let e = dest * localExperts + local
        let r = routings[source]
        var out: [Int] = []
        for t in 0..<r.tokens where (0..<r.topK).contains(where: { r.expert(t, $0) == e }) { out.append(t) }
        return out
    }

    /// Rank of an expert's owner.
    public func owner(_ expert: Int) -> Int { expert / localExperts }
}
