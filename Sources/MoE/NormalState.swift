import Driver
import Foundation
import GPU
import Kernels

/// The compiled kernels of the `nvlink-normal` style (cuda/moe_normal.cu), loaded on first use.
final class NormalKernels {
    let notify, dispatch, expert, combine: Kernel

    init(device: Device, compiler: RuntimeCompiler, session: NVSHMEMSession) throws {
        let p = KernelSources.moeNormal
        let r = try compiler.nvshmemRequest(name: p.name, source: p.source, arch: device.arch, nvshmem: session.lib).with(headers: p.headers)
        let m = try session.load(image: try compiler.cubin(for: r))
        notify = try m.function("gc_moe_normal_notify")
        dispatch = try m.function("gc_moe_normal_dispatch")
        expert = try m.function("gc_moe_normal_expert")
        combine = try m.function("gc_moe_normal_combine")
    }

    /// Threads of the dispatch and combine blocks for `ranks` ranks: one warp per peer, at least 8 warps.
    static func threads(ranks: Int) -> Int { 32 * max(ranks, 8) }

    /// Blocks of `threads` both kernels can keep resident at once on this process's multiprocessors.
    func resident(threads: Int, multiprocessors: Int) throws -> Int {
        min(try dispatch.maxActiveBlocksPerSM(block: threads), try combine.maxActiveBlocksPerSM(block: threads)) * multiprocessors
    }
}

/// One rank's buffers for the `nvlink-normal` style at one shape: its tokens filled, the host
/// references (`NormalPlan`, one per routing) built, and the notify run once per routing (rows per
/// channel and source, row bases). With R routings the top-k ids, weights, ncount, rbase and rtotal
/// are held once per routing: a peer one dispatch ahead writes the next routing's ncount, never the
/// one this rank is still reading (peers are at most one dispatch apart: a dispatch ends on a rank
/// only when every rank has sent it this dispatch's rows).
final class NormalState {
    let shape: MoEShape, plans: [NormalPlan], format: NormalRowFormat
    var plan: NormalPlan { plans[0] }
    var routingCount: Int { plans.count }
    let rank: Int, ranks: Int, channels: Int, config: NormalConfig
    let device: Device, stream: GPU.Stream
    let kernels: NormalKernels, layoutKernels: MoEKernels
    let threads: Int
    let x, topk, weights, staging, rbase, rtotal, recv, part, out: DeviceBuffer
    let ncount, ring, cring, ctr, sig: DeviceBuffer
    var tokens: Int { plan.routings[rank].tokens }
    let channelBarrier: () throws -> Void
    let session: NVSHMEMSession
    /// Rows the notify kernel's receive-side buffers are sized for: every source's tokens.
    let maxRows: Int

    /// Symmetric bytes one shape needs on each PE at `channels` channels, with room for alignment.
    static func symmetricBytes(_ s: MoEShape, ranks: Int, channels: Int, config: NormalConfig) -> Int {
        let f = NormalRowFormat(hidden: s.hidden, dtype: s.dtype, topK: s.topK)
        let parts = [max(1, s.routings) * ranks * channels * 4, channels * ranks * config.ringTokens * f.stride, channels * ranks * config.ringTokens * s.hidden * 2,
                     6 * channels * ranks * 8, ranks * 8]
        return parts.reduce(0) { $0 + $1 + (1 << 20) }
    }

    init(shape: MoEShape, routings reference: RoutingSet, rank: Int, channels: Int, config: NormalConfig, device: Device, stream: GPU.Stream,
         kernels: NormalKernels, layoutKernels: MoEKernels, session: NVSHMEMSession, barrier: @escaping () throws -> Void) throws {
        self.shape = shape; self.rank = rank; ranks = reference.plans[0].ranks; self.channels = channels; self.config = config
        self.device = device; self.stream = stream; self.kernels = kernels; self.layoutKernels = layoutKernels
        self.session = session
        channelBarrier = barrier
        plans = reference.plans.map { NormalPlan($0, channels: channels) }
        format = NormalRowFormat(hidden: shape.hidden, dtype: shape.dtype, topK: shape.topK)
        threads = NormalKernels.threads(ranks: ranks)
        let r = reference.plans[0].routings[rank]
        let t = r.tokens, k = shape.topK, h = shape.hidden, nr = reference.count
        maxRows = ranks * shape.tokens
        func local(_ n: Int) throws -> DeviceBuffer { try DeviceBuffer(device: device, bytes: n) }
        x = try local(t * h * 2)
        topk = try local(nr * t * k * 4)
        weights = try local(nr * t * k * 4)
        staging = try local(t * format.message.stride)
        rbase = try local(nr * ranks * channels * 4)
        rtotal = try local(nr * 4)
        recv = try local(maxRows * format.stride)
        part = try local(maxRows * h * 2)
        out = try local(t * h * 2)
        // Symmetric, in the same order on every PE (nvshmem_malloc is collective).
        ncount = try session.allocate(bytes: nr * ranks * channels * 4)
        ring = try session.allocate(bytes: channels * ranks * config.ringTokens * format.stride)
        cring = try session.allocate(bytes: channels * ranks * config.ringTokens * h * 2)
        ctr = try session.allocate(bytes: 6 * channels * ranks * 8)
        sig = try session.allocate(bytes: ranks * 8)
        try ctr.fill(byte: 0, on: stream)
        try sig.fill(byte: 0, on: stream)
        if t > 0 {
            let all = reference.plans.map { $0.routings[rank] }
            try topk.copyFromHost(all.flatMap(\.experts).rawBytes)
            try weights.copyFromHost(all.flatMap(\.weights).flatMap { v in withUnsafeBytes(of: v) { Array($0) } })
            try layoutKernels.fill.launch(grid: max(1, min(4 * device.multiprocessors, (t * h + 255) / 256)), block: 256, stream: stream,
                                          args: [UInt64(x.address), Int32(t), Int32(h), Int32(rank)])
        }
        // The uploads (pageable memory) and the zeroed counters land before any PE's kernel reads them.
        try device.synchronize()
        try barrier()
        for routing in 0..<nr {
            try enqueueNotify(routing: routing)
            try stream.synchronize()
            try barrier()
        }
    }

    /// The per-iteration barrier on the device (NVSHMEM's barrier_all_on_stream): no host wait.
    func enqueueIterationBarrier() throws -> Bool {
        session.barrier(on: stream)
        return true
    }

    /// Where routing r's top-k ids, weights and notify results are.
    func topk(_ r: Int) -> DeviceAddress { topk.address + r * tokens * shape.topK * 4 }
    func weights(_ r: Int) -> DeviceAddress { weights.address + r * tokens * shape.topK * 4 }
    func ncount(_ r: Int) -> DeviceAddress { ncount.address + r * ranks * channels * 4 }
    func rbase(_ r: Int) -> DeviceAddress { rbase.address + r * ranks * channels * 4 }
    func rtotal(_ r: Int) -> DeviceAddress { rtotal.address + r * 4 }

    func enqueueNotify(routing r: Int) throws {
        try kernels.notify.launch(grid: 1, block: 256, stream: stream,
                                  args: [UInt64(topk(r)), Int32(tokens), Int32(shape.topK), Int32(plan.localExperts), Int32(channels),
                                         UInt64(ncount(r)), UInt64(rbase(r)), UInt64(rtotal(r)), UInt64(sig.address)])
    }

    /// Routing r's notify results read back, against the host: wrong ncount, rbase and total.
    func notifyWrong(routing r: Int) throws -> Int64 {
        try stream.synchronize()
        let cells = ranks * channels
        let n = try ncount.ints(cells, offset: r * cells * 4), b = try rbase.ints(cells, offset: r * cells * 4), total = try rtotal.ints(1, offset: r * 4)
        let p = plans[r]
        let wantN = p.ncount(dest: rank), wantB = p.rbase(dest: rank)
        var wrong = zip(n, wantN).filter { $0 != $1 }.count + zip(b, wantB).filter { $0 != $1 }.count
        if total.first != Int32(p.received(dest: rank)) { wrong += 1 }
        return Int64(wrong)
    }
}

/// The normal style's notify as a workload (its "layout" row): rows per (source, channel) and the
/// row bases, checked against the host.
final class NormalNotifyWorkload: Workload {
    let state: NormalState
    var cycle: RoutingCycle
    init(_ s: NormalState) { state = s; cycle = RoutingCycle(count: s.routingCount) }
    var streams: [GPU.Stream] { [state.stream] }
    func enqueueIterationBarrier() throws -> Bool { try state.enqueueIterationBarrier() }
    func fill() throws {
        try state.ncount.fill(byte: 0x7F, on: state.stream)
        try state.rbase.fill(byte: 0x7F, on: state.stream)
        try state.rtotal.fill(byte: 0x7F, on: state.stream)
    }
    func enqueue() throws { try state.enqueueNotify(routing: cycle.advance()) }
    func countWrong() throws -> Int64 { try state.notifyWrong(routing: cycle.last ?? 0) }

    /// Every routing's notify again (the check poisoned the others), so dispatch finds them all.
    func finish() throws {
        for r in 0..<state.routingCount { try state.enqueueNotify(routing: r) }
        try state.stream.synchronize()
        try state.channelBarrier()
    }
}

/// One normal-mode dispatch: every token once to each rank holding its experts, through the
/// channels' rings; every received row checked (message, expert ids, weights).
final class NormalDispatchWorkload: Workload {
    let state: NormalState
    /// Per routing.
    let arguments: [KernelArguments]
    var cycle: RoutingCycle

    init(_ s: NormalState) {
        state = s
        cycle = RoutingCycle(count: s.routingCount)
        arguments = (0..<s.routingCount).map { r in
            KernelArguments([UInt64(s.x.address), UInt64(s.topk(r)), UInt64(s.weights(r)), UInt64(s.staging.address),
                             UInt64(s.ring.address), UInt64(s.recv.address), UInt64(s.ncount(r)), UInt64(s.rbase(r)),
                             UInt64(s.ctr.address), Int32(s.tokens), Int32(s.shape.topK), Int32(s.shape.hidden),
                             Int32(s.shape.dtype == .fp8 ? 1 : 0), Int32(s.plan.localExperts), Int32(s.config.ringTokens),
                             Int32(s.config.chunkTokens), UInt64(s.format.message.stride), UInt64(s.format.stride)])
        }
    }

    var streams: [GPU.Stream] { [state.stream] }
    func enqueueIterationBarrier() throws -> Bool { try state.enqueueIterationBarrier() }
    func fill() throws { try state.recv.fill(byte: 0x7F, on: state.stream) }
    /// With one routing the notify ran in setup (the layout is reused); with several, each dispatch
    /// notifies its routing first, inside the time, as a real layer would.
    func enqueue() throws {
        let r = cycle.advance()
        if state.routingCount > 1 { try state.enqueueNotify(routing: r) }
        try state.kernels.dispatch.launch(grid: 2 * state.channels, block: state.threads, stream: state.stream, arguments: arguments[r])
    }
    func countWrong() throws -> Int64 {
        let s = state
        try s.stream.synchronize()
        let p = s.plans[cycle.last ?? 0]
        let n = p.received(dest: s.rank)
        return Int64(NormalCheck.rows(try s.recv.bytes(n * s.format.stride), plan: p, dest: s.rank, format: s.format))
    }
}

/// One normal-mode combine: each received row's partial sum (the fake expert over the rank's
/// experts of that token, weighted) back to its owner, summed there over ranks. `prepare`
/// dispatches once and runs the expert.
final class NormalCombineWorkload: Workload {
    let state: NormalState
    let dispatch: NormalDispatchWorkload
    let arguments: KernelArguments

    init(_ s: NormalState, dispatch: NormalDispatchWorkload) {
        state = s
        self.dispatch = dispatch
        // Combine returns routing 0's dispatch (prepare dispatches it), as the other styles do.
        arguments = KernelArguments([UInt64(s.part.address), UInt64(s.cring.address), UInt64(s.ncount(0)), UInt64(s.rbase(0)),
                                     UInt64(s.topk(0)), UInt64(s.out.address), UInt64(s.ctr.address), Int32(s.tokens), Int32(s.shape.topK),
                                     Int32(s.shape.hidden), Int32(s.plan.localExperts), Int32(s.config.ringTokens), Int32(s.config.chunkTokens)])
    }

    var streams: [GPU.Stream] { [state.stream] }
    func enqueueIterationBarrier() throws -> Bool { try state.enqueueIterationBarrier() }

    func prepare() throws {
        let s = state
        dispatch.cycle.restart()
        try dispatch.enqueue()
        let rows = s.maxRows
        try s.kernels.expert.launch(grid: max(1, min(4 * s.device.multiprocessors, (rows * 32 + 255) / 256)), block: 256, stream: s.stream,
                                    args: [UInt64(s.recv.address), UInt64(s.rtotal(0)), UInt64(s.part.address), Int32(s.shape.topK),
                                           Int32(s.shape.hidden), Int32(s.shape.dtype == .fp8 ? 1 : 0), UInt64(s.format.message.stride),
                                           UInt64(s.format.stride), UInt64(rows)])
        try s.stream.synchronize()
        try s.channelBarrier()
    }

    func fill() throws { try state.out.fill(byte: 0x7F, on: state.stream) }
    func enqueue() throws {
        try state.kernels.combine.launch(grid: 2 * state.channels, block: state.threads, stream: state.stream, arguments: arguments)
    }
    func countWrong() throws -> Int64 {
        let s = state
        try s.stream.synchronize()
        let out = try s.out.bytes(s.tokens * s.shape.hidden * 2)
        return Int64(NormalCheck.combine(out, routing: s.plan.routings[s.rank], rank: s.rank, hidden: s.shape.hidden, dtype: s.shape.dtype))
    }
}
