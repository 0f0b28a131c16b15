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

    /// Routing number `routing` of every rank (0, the default, is the only one with `routings` 1).
    public init(shape: MoEShape, ranks: Int, routing: Int = 0) {
        self.init(routings: (0..<ranks).map { Routing.generate(shape, rank: $0, ranks: ranks, routing: routing) }, shape: shape)
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

/// Every routing of one shape (`shape.routings` of them, each one per rank): the host references
/// of every operation, whichever routing it used.
public struct RoutingSet: Sendable {
    /// Plan r: routing r of every rank.
    public let plans: [ReceivePlan]

    public init(shape: MoEShape, ranks: Int) {
        self.init(plans: (0..<max(1, shape.routings)).map { ReceivePlan(shape: shape, ranks: ranks, routing: $0) })
    }

    /// The set of given plans (tests build them by hand); at least one, all over the same ranks.
    public init(plans: [ReceivePlan]) {
        precondition(!plans.isEmpty && plans.allSatisfy { $0.ranks == plans[0].ranks && $0.window == plans[0].window })
        self.plans = plans
    }

    public var count: Int { plans.count }
}

/// Which routing each enqueue of a workload uses: the i-th enqueue (from 0) uses routing
/// i mod `count`. A workload advances it once per enqueue and checks against `last`, so the
/// driver's check, warm-up, timed and re-check calls all compare with the routing that ran.
public struct RoutingCycle: Sendable, Equatable {
    public let count: Int
    /// Enqueues so far (since the last `restart`).
    public private(set) var enqueued = 0

    public init(count: Int) {
        precondition(count >= 1)
        self.count = count
    }

    /// The routing of the last enqueue; nil before the first.
    public var last: Int? { enqueued == 0 ? nil : (enqueued - 1) % count }

    /// The routing the next enqueue uses, counted as used.
    public mutating func advance() -> Int {
        let r = enqueued % count
        enqueued += 1
        return r
    }

    /// Starts again at routing 0 (combine's prepare: it always combines routing 0's dispatch).
    public mutating func restart() { enqueued = 0 }
}
