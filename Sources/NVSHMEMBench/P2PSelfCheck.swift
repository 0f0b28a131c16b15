import GPU

/// One checked size of every point-to-point benchmark, for `gpucomm selftest`.
public enum P2PSelfCheck {
    /// One benchmark variant's outcome.
    public struct Outcome: Sendable {
        public var benchmark: String
        public var variant: String
        public var wrong: Int64
    }

    /// Symmetric heap `run(bytes:)` needs (two bandwidth buffers, the latency buffers, slack).
    public static func heapBytes(bytes: Int) -> Int { 2 * bytes + 4 * (64 << 10) + (64 << 20) }

    /// Runs put and get (device block nbi, device warp blocking, host), the four latency
    /// operations and the signal ping-pong between `pair` at one size each, checked, with few
    /// iterations. Every PE of the job must call it; returns wrong bytes per variant (summed over PEs).
    public static func run(session: NVSHMEMSession, compiler: RuntimeCompiler, pair: PEPair = PEPair(0, 1), bytes: Int = 4 << 20,
                           sumOverPEs: @escaping (Int64) throws -> Int64,
                           gatherOverPEs: @escaping ([Double]) throws -> [[Double]]) throws -> [Outcome] {
        var out: [Outcome] = []
        let bw = try P2PBandwidth(session: session, compiler: compiler, maxBytes: bytes, sumOverPEs: sumOverPEs, gatherOverPEs: gatherOverPEs)
        for op in P2POp.allCases {
            for (scope, blocking, host, bidir) in [(P2PScope.block, false, false, false), (.warp, true, false, true), (.block, true, true, false)] {
                var o = P2PBandwidth.Options()
                o.op = op; o.scope = scope; o.blocking = blocking; o.host = host; o.bidirectional = bidir; o.pair = pair
                o.iterations = 2; o.warmup = 1; o.inner = 1
                let r = try bw.measure(bytes: bytes, config: P2PBandwidth.Config(), o)
                let variant = "\(host ? "host" : scope.rawValue)\(blocking ? "" : "_nbi")\(bidir ? "_bidir" : "")"
                out.append(Outcome(benchmark: "\(op.rawValue)_bw", variant: variant, wrong: r.wrong ?? 0))
            }
        }
        let lat = try P2PLatency(session: session, compiler: compiler, maxBytes: 64 << 10, sumOverPEs: sumOverPEs, gatherOverPEs: gatherOverPEs)
        var o = P2PLatency.Options()
        o.pair = pair; o.iterations = 50; o.warmup = 5; o.repeats = 2
        for op in P2PLatency.Op.allCases {
            let r = try lat.latency(op, bytes: 4096, o)
            out.append(Outcome(benchmark: op.benchmark, variant: "thread", wrong: r.wrong ?? 0))
        }
        let r = try lat.pingpong(bytes: 4096, o)
        out.append(Outcome(benchmark: "signal_pingpong", variant: "thread", wrong: r.wrong ?? 0))
        return out
    }
}
