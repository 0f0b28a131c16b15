import Driver
import Foundation
import GPU

/// One measured operation of a MoE case: what the command prints and writes as a row.
public struct MoEResult: Sendable {
    /// The style (`MoEStyle.key`) or kernel (`MoEKernel.key`, `copy`).
    public var backend: String
    /// layout, dispatch, combine; or fp8_cast, copy.
    public var op: String
    public var shape: MoEShape
    public var measurement: Driver.Measurement
    /// Dispatch and combine: each convention's bytes per operation, the mean over ranks.
    public var bytes: [ByteConvention: Double] = [:]
    /// fp8_cast and copy: bytes read + written per operation.
    public var trafficBytes: Int?
    public var labels: [String: String] = [:]

    /// GB/s (10^9 B/s) for `bytes` per operation at this measurement's mean time.
    public func gbps(_ b: Double) -> Double { measurement.timeUs > 0 ? b / 1e3 / measurement.timeUs : 0 }
}

/// Runs the MoE cases of one job: builds each style's state, measures layout, dispatch and
/// combine through the driver (checked first, every element), and the one-GPU kernels.
public final class MoEBench {
    let driver: BenchmarkDriver
    let channel: JobChannel
    let device: Device
    let stream: GPU.Stream
    let rank: Int, ranks: Int
    public let kernels: MoEKernels
    let compiler: RuntimeCompiler
    let session: NVSHMEMSession?
    /// The `nvlink-normal` kernels, compiled on first use.
    private var normalKernels: NormalKernels?

    public init(driver: BenchmarkDriver, channel: JobChannel, device: Device, stream: GPU.Stream, compiler: RuntimeCompiler,
                rank: Int, ranks: Int, session: NVSHMEMSession?) throws {
        self.driver = driver; self.channel = channel; self.device = device; self.stream = stream; self.rank = rank; self.ranks = ranks
        self.compiler = compiler; self.session = session
        kernels = try MoEKernels(device: device, compiler: compiler, session: session)
    }

    /// NVSHMEM heap each PE needs for every shape in `shapes` (one at a time) plus NVSHMEM's own:
    /// the put/store styles' buffers, or (`normal`) the normal style's rings at its largest channel count.
    public static func heapBytes(_ shapes: [MoEShape], ranks: Int, styles: [MoEStyle] = MoEStyle.allCases, normal: NormalConfig = NormalConfig()) -> Int {
        let windows = styles.contains { $0 == .nvshmemPut || $0 == .nvlinkLL }
        let channels = normal.channels > 0 ? normal.channels : NormalConfig.defaultChannels
        let need = shapes.map { s in
            max(windows ? MoEState.symmetricBytes(s, ranks: ranks) : 0,
                styles.contains(.nvlinkNormal) ? NormalState.symmetricBytes(s, ranks: ranks, channels: channels, config: normal) : 0)
        }
        return (need.max() ?? 0) + (128 << 20)
    }

    /// Channels of the `nvlink-normal` style: `config`'s, or (0) min(10, SM share / 2); the same on
    /// every rank (the smallest); unavailable when their 2 × channels blocks cannot all be resident.
    public func normalChannels(_ config: NormalConfig) throws -> Int {
        let k = try normal()
        let threads = NormalKernels.threads(ranks: ranks)
        var c = config.resolvedChannels(smShare: multiprocessorShare(device))
        let resident = try k.resident(threads: threads, multiprocessors: device.multiprocessors)
        if 2 * c > resident { c = -max(1, resident / 2) }
        let all = try channel.allGatherDoubles([Double(c)]).map { $0[0] }
        if let bad = all.first(where: { $0 < 0 }) {
            throw Failure(.unavailable, "moe nvlink-normal: \(2 * config.resolvedChannels(smShare: multiprocessorShare(device))) blocks of \(threads) threads cannot all be resident (use --channels \(Int(-bad)) or fewer)")
        }
        return Int(all.min()!)
    }

    /// The load/store styles' requirement in one line, nil when it holds: every rank reaches every
    /// PE's symmetric memory by load/store (`unreachable[r]`: rank r's first PE whose `nvshmem_ptr`
    /// is NULL, or nil).
    public static func loadStoreProblem(_ unreachable: [Int?]) -> String? {
        guard let r = unreachable.firstIndex(where: { $0 != nil }), let pe = unreachable[r] else { return nil }
        return "rank \(r) has no load/store path to PE \(pe) (nvshmem_ptr is NULL): nvlink-ll and nvlink-normal store through it (NVLink/P2P only)"
    }

    /// `loadStoreProblem` for this job, the same on every rank: a 16-byte symmetric probe's address
    /// on every PE, gathered. Collective (nvshmem_malloc, the gather): every rank calls it or none.
    public func loadStoreProblem() throws -> String? {
        guard let s = session else { return nil }
        let probe = try s.allocate(bytes: 16)
        let missing = (0..<ranks).first { s.peerAddress(of: probe, pe: $0) == nil }
        let all = try channel.allGatherDoubles([Double(missing ?? -1)]).map { $0[0] < 0 ? nil : Int($0[0]) }
        return Self.loadStoreProblem(all)
    }

    func normal() throws -> NormalKernels {
        if let k = normalKernels { return k }
        guard let s = session else { throw Failure(.unavailable, "style nvlink-normal needs NVSHMEM") }
        let k = try NormalKernels(device: device, compiler: compiler, session: s)
        normalKernels = k
        return k
    }

    /// Notify (its "layout" row), dispatch and combine of the `nvlink-normal` style at `shape` with
    /// `channels` channels, each checked and timed by `plan`.
    public func runNormal(shape: MoEShape, config: NormalConfig, channels: Int, plan: TimingPlan) throws -> [MoEResult] {
        guard let session else { throw Failure(.unavailable, "style nvlink-normal needs NVSHMEM") }
        let reference = RoutingSet(shape: shape, ranks: ranks)
        let k = try normal()
        let state = try driver.armed("moe nvlink-normal setup (\(shape))") {
            try NormalState(shape: shape, routings: reference, rank: rank, channels: channels, config: config, device: device, stream: stream,
                            kernels: k, layoutKernels: kernels, session: session, barrier: { [channel] in try channel.barrier() })
        }
        var bytes = reference.meanBytes(shape: shape)
        // Its own wire bytes: dispatch the mean over routings, combine routing 0's (what it returns).
        let wires = state.plans.map { $0.meanWireBytes(rowStride: state.format.stride, hidden: shape.hidden) }
        bytes[.wire] = (wires.map(\.dispatch).reduce(0, +) / Double(wires.count), wires[0].combine)
        let labels = ["blocks": String(2 * channels), "channels": String(channels), "threads": String(state.threads),
                      "ring_tokens": String(config.ringTokens), "chunk_tokens": String(config.chunkTokens), "sm_share": String(multiprocessorShare(device))]
        var out: [MoEResult] = []
        var peers = plan
        peers.barrierAroundCheck = true
        peers.recheckAfterTiming = plan.check
        func measure(_ op: String, _ w: Workload) throws {
            out.append(try measureOp(op, w, peers, backend: MoEStyle.nvlinkNormal.key, shape: shape, label: "nvlink-normal", bytes: bytes, labels: labels))
        }
        try measure("layout", NormalNotifyWorkload(state))
        let dispatch = NormalDispatchWorkload(state)
        try measure("dispatch", dispatch)
        try measure("combine", NormalCombineWorkload(state, dispatch: dispatch))
        try channel.barrier()
        return out
    }

    /// Dispatch and combine blocks: `requested`, or (0) every multiprocessor this process may use,
    /// at least one per rank (block b waits for rank b); the same on every rank (the smallest);
    /// unavailable when they cannot all be resident at once.
    public func blocks(requested: Int) throws -> Int {
        let share = multiprocessorShare(device)
        var b = max(requested > 0 ? requested : share, ranks)
        if let d = kernels.dispatch, let c = kernels.combine {
            // Residency over the multiprocessors this process sees (under MPS the device reports its
            // share); the MPS percentage only sizes the default grid above. Multiplying by the
            // percentage here as well counted the share twice: 8 ranks on one GPU (12% each) were
            // refused with "at most 4 on 1 multiprocessors" (H100, session 6).
            let resident = min(try d.maxActiveBlocksPerSM(block: 256), try c.maxActiveBlocksPerSM(block: 256)) * device.multiprocessors
            if b > resident { b = -resident }
        }
        let all = try channel.allGatherDoubles([Double(b)]).map { $0[0] }
        if let bad = all.first(where: { $0 < 0 }) {
            throw Failure(.unavailable, "moe: \(max(requested, ranks)) blocks of 256 threads cannot all be resident (at most \(Int(-bad)) on \(device.multiprocessors) multiprocessors)")
        }
        return Int(all.min()!)
    }

    /// One operation measured by the driver and tallied: its row, with `bytes` (dispatch and
    /// combine, every convention) as `MoESplit.bytes` gives them for `op`.
    func measureOp(_ op: String, _ w: Workload, _ plan: TimingPlan, backend: String, shape: MoEShape, label: String,
                   bytes: [ByteConvention: (dispatch: Double, combine: Double)], labels: [String: String]) throws -> MoEResult {
        let m = try driver.measure(w, plan, label: "moe \(label) \(op) (\(shape))")
        driver.tally(m.wrong)
        var r = MoEResult(backend: backend, op: op, shape: shape, measurement: m, labels: labels)
        r.bytes = MoESplit.bytes(op: op, bytes)
        return r
    }

    /// Layout, dispatch and combine of `style` at `shape`, each checked and timed by `plan`; with
    /// `split` (NVSHMEM styles) also each half of dispatch and combine (`MoESplit.ops`).
    public func run(style: MoEStyle, shape: MoEShape, transport: MoETransport, plan: TimingPlan, blocks: Int, split: Bool = false) throws -> [MoEResult] {
        let reference = RoutingSet(shape: shape, ranks: ranks)
        let state = try driver.armed("moe \(style.rawValue) setup (\(shape))") {
            try MoEState(shape: shape, routings: reference, rank: rank, device: device, stream: stream, kernels: kernels, transport: transport,
                         blocks: blocks, barrier: { [channel] in try channel.barrier() })
        }
        let bytes = reference.meanBytes(shape: shape)
        let labels = ["blocks": String(blocks), "threads": String(state.threads), "sm_share": String(multiprocessorShare(device))]
        // Peers write straight into each other's buffers: meet around the check; and check again after
        // the timed loop (back-to-back operations must keep their signal counts and data right).
        var peers = plan
        peers.barrierAroundCheck = true
        peers.recheckAfterTiming = plan.check
        let dispatch = DispatchWorkload(state, style: style)
        let combine = CombineWorkload(state, style: style, dispatch: dispatch)
        var out: [MoEResult] = []
        for op in MoESplit.ops(style: style, split: split) {
            let w: Workload
            switch op {
            case "layout": w = LayoutWorkload(state)
            case "dispatch": w = dispatch
            case "combine": w = combine
            default:
                guard let half = MoESplit.half(op) else { preconditionFailure("no workload for moe op \(op)") }
                w = SplitWorkload(op.hasPrefix("dispatch") ? dispatch : combine, half: half, plan: plan)
            }
            out.append(try measureOp(op, w, op == "layout" ? plan : peers, backend: style.key, shape: shape, label: style.rawValue, bytes: bytes, labels: labels))
        }
        try channel.barrier()
        return out
    }

    /// The layout kernel alone on this GPU, for `shape`'s rank-0 routing (one rank), checked.
    public func layout(shape: MoEShape, plan: TimingPlan) throws -> MoEResult {
        let reference = RoutingSet(shape: shape, ranks: 1)
        let state = try MoEState(shape: shape, routings: reference, rank: 0, device: device, stream: stream, kernels: kernels, transport: .local,
                                 blocks: 1, barrier: {})
        let m = try driver.measure(LayoutWorkload(state), plan, label: "moe layout (\(shape))")
        driver.tally(m.wrong)
        return MoEResult(backend: MoEKernel.layout.key, op: "layout", shape: shape, measurement: m)
    }

    /// On this GPU alone: the FP8 cast of `tokens` × `hidden` and a device copy of the same BF16
    /// bytes (the memory ceiling), both checked.
    public func castAndCopy(tokens: Int, hidden: Int, plan: TimingPlan) throws -> [MoEResult] {
        let shape = MoEShape(tokens: tokens, hidden: hidden, topK: 1, experts: 1, dtype: .fp8)
        let cast = try CastWorkload(kernels: kernels, device: device, stream: stream, tokens: tokens, hidden: hidden)
        let copy = try CopyWorkload(kernels: kernels, device: device, stream: stream, tokens: tokens, hidden: hidden)
        var out: [MoEResult] = []
        for (name, w, traffic) in [(MoEKernel.fp8Cast.key, cast as Workload, cast.trafficBytes), ("copy", copy, copy.trafficBytes)] {
            let m = try driver.measure(w, plan, label: "moe \(name) (\(tokens) x \(hidden))")
            driver.tally(m.wrong)
            var r = MoEResult(backend: name, op: name, shape: shape, measurement: m)
            r.trafficBytes = traffic
            out.append(r)
        }
        return out
    }
}
