import GPU

/// The `nccl` style's point-to-point plan: what each rank sends and receives, in the order it
/// posts them inside one NCCL group, for dispatch and for combine. NCCL matches a pair's sends and
/// receives in the order they are posted, so the i-th send from s to d must be the i-th receive at d
/// from s, with the same byte count; `match` checks exactly that. The NCCL workloads post these
/// lists, and the virtual-rank mode (several ranks' buffers on one GPU, copies instead of NCCL) plays
/// the matched pairs; both read them from here.
public struct MoEExchange: Sendable {
    /// One posted send or receive: the peer, where in this rank's buffer, how many bytes.
    public struct Transfer: Sendable, Equatable {
        public var peer: Int
        public var offset: Int
        public var bytes: Int
        public init(peer: Int, offset: Int, bytes: Int) { self.peer = peer; self.offset = offset; self.bytes = bytes }
    }

    /// A send matched with its receive: `bytes` from `source`'s buffer at `sourceOffset` into
    /// `dest`'s at `destOffset`.
    public struct Pair: Sendable, Equatable {
        public var source: Int, sourceOffset: Int
        public var dest: Int, destOffset: Int
        public var bytes: Int
    }

    /// Every rank's per-expert counts as the layout exchange delivers them: counts[s][e].
    public let counts: [[Int32]]
    public let localExperts: Int
    /// Rows per (local expert, source) receive window (`ReceivePlan.window`).
    public let window: Int
    public var ranks: Int { counts.count }

    public init(counts: [[Int32]], localExperts: Int, window: Int) {
        self.counts = counts; self.localExperts = localExperts; self.window = window
    }

    /// Row (local, source, slot) of the expert-major receive buffer, as `ReceivePlan.row`.
    func row(local: Int, source: Int) -> Int { (local * ranks + source) * window }

    /// Dispatch at `rank`: one send per non-empty expert from the packed buffer (messages ordered by
    /// expert, `stride` bytes each), then one receive per non-empty (source, local expert) window.
    public func dispatch(rank: Int, stride: Int) -> (sends: [Transfer], recvs: [Transfer]) {
        var sends: [Transfer] = [], off = 0
        for (e, c) in counts[rank].enumerated() {
            if c > 0 { sends.append(Transfer(peer: e / localExperts, offset: off * stride, bytes: Int(c) * stride)) }
            off += Int(c)
        }
        var recvs: [Transfer] = []
        for src in 0..<ranks {
            for j in 0..<localExperts {
                let n = Int(counts[src][rank * localExperts + j])
                if n > 0 { recvs.append(Transfer(peer: src, offset: row(local: j, source: src) * stride, bytes: n * stride)) }
            }
        }
        return (sends, recvs)
    }

    /// Combine at `rank`: one send per non-empty received window back to its source (the expert's
    /// BF16 rows, `rowBytes` each), then one receive per non-empty own expert into the combine buffer
    /// (expert e's rows at e · window).
    public func combine(rank: Int, rowBytes: Int) -> (sends: [Transfer], recvs: [Transfer]) {
        var sends: [Transfer] = []
        for src in 0..<ranks {
            for j in 0..<localExperts {
                let n = Int(counts[src][rank * localExperts + j])
                if n > 0 { sends.append(Transfer(peer: src, offset: row(local: j, source: src) * rowBytes, bytes: n * rowBytes)) }
            }
        }
        var recvs: [Transfer] = []
        for (e, c) in counts[rank].enumerated() where c > 0 {
            recvs.append(Transfer(peer: e / localExperts, offset: e * window * rowBytes, bytes: Int(c) * rowBytes))
        }
        return (sends, recvs)
    }

    /// Every rank's lists matched as NCCL matches them (per ordered pair, in posting order), or the
    /// first mismatch in one line.
    public static func match(_ lists: [(sends: [Transfer], recvs: [Transfer])]) -> Result<[Pair], MoEUsageError> {
        var pairs: [Pair] = []
        for s in lists.indices {
            for d in lists.indices {
                let out = lists[s].sends.filter { $0.peer == d }
                let into = lists[d].recvs.filter { $0.peer == s }
                guard out.count == into.count else {
                    return .failure(MoEUsageError("rank \(s) posts \(out.count) sends to rank \(d), which posts \(into.count) receives from it"))
                }
                for (a, b) in zip(out, into) {
                    guard a.bytes == b.bytes else {
                        return .failure(MoEUsageError("rank \(s) sends \(a.bytes) B to rank \(d), which receives \(b.bytes) B"))
                    }
                    pairs.append(Pair(source: s, sourceOffset: a.offset, dest: d, destOffset: b.offset, bytes: a.bytes))
                }
            }
        }
        return .success(pairs)
    }
}

extension Communicator {
    /// Posts one rank's lists (`MoEExchange.dispatch` or `.combine`) inside one NCCL group, as
    /// bytes: every send from `source` at its offset, then every receive into `dest` at its
    /// offset; `call` names the ncclGroupEnd in an error.
    func post(_ lists: (sends: [MoEExchange.Transfer], recvs: [MoEExchange.Transfer]), from source: DeviceBuffer, into dest: DeviceBuffer,
              stream: GPU.Stream, _ call: String) throws {
        try groupStart()
        for t in lists.sends { try send(UnsafeRawPointer(source.pointer(offset: t.offset)), count: t.bytes, type: .uint8, peer: t.peer, stream: stream) }
        for t in lists.recvs { try recv(dest.pointer(offset: t.offset), count: t.bytes, type: .uint8, peer: t.peer, stream: stream) }
        try groupEnd(call)
    }
}
