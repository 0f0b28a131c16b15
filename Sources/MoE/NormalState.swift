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
/// reference (`NormalPlan`) built, and the notify run once (rows per channel and source, row bases).
final class NormalState {
    let shape: MoEShape, plan: NormalPlan, format: NormalRowFormat
    let rank: Int, ranks: Int, channels: Int, config: NormalConfig
    let device: Device, stream: GPU.Stream
    let kernels: NormalKernels, layoutKernels: MoEKernels
    let threads: Int
    let x, topk, weights, staging, rbase, rtotal, recv, part, out: DeviceBuffer
    let ncount, ring, cring, ctr, sig: DeviceBuffer
    var tokens: Int { plan.routings[rank].tokens }
    let channelBarrier: () throws -> Void
    /// Rows the notify kernel's receive-side buffers are sized for: every source's tokens.
    let maxRows: Int

    /// Symmetric bytes one shape needs on each PE at `channels` channels, with room for alignment.
    static func symmetricBytes(_ s: MoEShape, ranks: Int, channels: Int, config: NormalConfig) -> Int {
        let f = NormalRowFormat(hidden: s.hidden, dtype: s.dtype, topK: s.topK)
        let parts = [ranks * channels * 4, channels * ranks * config.ringTokens * f.stride, channels * ranks * config.ringTokens * s.hidden * 2,
                     6 * channels * ranks * 8, ranks * 8]
        return parts.reduce(0) { $0 + $1 + (1 << 20) }
    }

    init(shape: MoEShape, reference: ReceivePlan, rank: Int, channels: Int, config: NormalConfig, device: Device, stream: GPU.Stream,
         kernels: NormalKernels, layoutKernels: MoEKernels, session: NVSHMEMSession, barrier: @escaping () throws -> Void) throws {
        self.shape = shape; self.rank = rank; ranks = reference.ranks; self.channels = channels; self.config = config
        self.device = device; self.stream = stream; self.kernels = kernels; self.layoutKernels = layoutKernels
        channelBarrier = barrier
        plan = NormalPlan(reference, channels: channels)
        format = NormalRowFormat(hidden: shape.hidden, dtype: shape.dtype, topK: shape.topK)
        threads = NormalKernels.threads(ranks: ranks)
        let r = reference.routings[rank]
        let t = r.tokens, k = shape.topK, h = shape.hidden
        maxRows = ranks * shape.tokens
        func local(_ n: Int) throws -> DeviceBuffer { try DeviceBuffer(device: device, bytes: n) }
        x = try local(t * h * 2)
        topk = try local(t * k * 4)
        weights = try local(t * k * 4)
        staging = try local(t * format.message.stride)
        rbase = try local(ranks * channels * 4)
        rtotal = try local(4)
        recv = try local(maxRows * format.stride)
        part = try local(maxRows * h * 2)
        out = try local(t * h * 2)
        // Symmetric, in the same order on every PE (nvshmem_malloc is collective).
        ncount = try session.allocate(bytes: ranks * channels * 4)
        ring = try session.allocate(bytes: channels * ranks * config.ringTokens * format.stride)
        cring = try session.allocate(bytes: channels * ranks * config.ringTokens * h * 2)
        ctr = try session.allocate(bytes: 6 * channels * ranks * 8)
        sig = try session.allocate(bytes: ranks * 8)
        try ctr.fill(byte: 0, on: stream)
        try sig.fill(byte: 0, on: stream)
        if t > 0 {
            try topk.copyFromHost(r.experts.rawBytes)
            try weights.copyFromHost(r.weights.flatMap { v in withUnsafeBytes(of: v) { Array($0) } })
            try layoutKernels.fill.launch(grid: max(1, min(4 * device.multiprocessors, (t * h + 255) / 256)), block: 256, stream: stream,
                                          args: [UInt64(x.address), Int32(t), Int32(h), Int32(rank)])
        }
        // The uploads (pageable memory) and the zeroed counters land before any PE's kernel reads them.
        try device.synchronize()
        try barrier()
        try enqueueNotify()
        try stream.synchronize()
        try barrier()
    }

    func enqueueNotify() throws {
        try kernels.notify.launch(grid: 1, block: 256, stream: stream,
                                  args: [UInt64(topk.address), Int32(tokens), Int32(shape.topK), Int32(plan.localExperts), Int32(channels),
                                         UInt64(ncount.address), UInt64(rbase.address), UInt64(rtotal.address), UInt64(sig.address)])
    }

    /// This rank's notify results read back, against the host: wrong ncount, rbase and total.
    func notifyWrong() throws -> Int64 {
        try stream.synchronize()
        let n = try ncount.ints(ranks * channels), b = try rbase.ints(ranks * channels), total = try rtotal.ints(1)
        let wantN = plan.ncount(dest: rank), wantB = plan.rbase(dest: rank)
        var wrong = zip(n, wantN).filter { $0 != $1 }.count + zip(b, wantB).filter { $0 != $1 }.count
        if total.first != Int32(plan.received(dest: rank)) { wrong += 1 }
        return Int64(wrong)
    }
}

/// The normal style's notify as a workload (its "layout" row): rows per (source, channel) and the
/// row bases, checked against the host.
final class NormalNotifyWorkload: Workload {
    let state: NormalState
    init(_ s: NormalState) { state = s }
    var streams: [GPU.Stream] { [state.stream] }
    func fill() throws {
        try state.ncount.fill(byte: 0x7F, on: state.stream)
        try state.rbase.fill(byte: 0x7F, on: state.stream)
        try state.rtotal.fill(byte: 0x7F, on: state.stream)
    }
    func enqueue() throws { try state.enqueueNotify() }
    func countWrong() throws -> Int64 { try state.notifyWrong() }
}

/// One normal-mode dispatch: every token once to each rank holding its experts, through the
/// channels' rings; every received row checked (message, expert ids, weights).
final class NormalDispatchWorkload: Workload {
    let state: NormalState
    let arguments: KernelArguments

    init(_ s: NormalState) {
        state = s
        arguments = KernelArguments([UInt64(s.x.address), UInt64(s.topk.address), UInt64(s.weights.address), UInt64(s.staging.address),
                                     UInt64(s.ring.address), UInt64(s.recv.address), UInt64(s.ncount.address), UInt64(s.rbase.address),
                                     UInt64(s.ctr.address), Int32(s.tokens), Int32(s.shape.topK), Int32(s.shape.hidden),
                                     Int32(s.shape.dtype == .fp8 ? 1 : 0), Int32(s.plan.localExperts), Int32(s.config.ringTokens),
                                     Int32(s.config.chunkTokens), UInt64(s.format.message.stride), UInt64(s.format.stride)])
    }

    var streams: [GPU.Stream] { [state.stream] }
    func fill() throws { try state.recv.fill(byte: 0x7F, on: state.stream) }
    func enqueue() throws {
        try state.kernels.dispatch.launch(grid: 2 * state.channels, block: state.threads, stream: state.stream, arguments: arguments)
    }
    func countWrong() throws -> Int64 {
        let s = state
        try s.stream.synchronize()
        let n = s.plan.received(dest: s.rank)
        return Int64(NormalCheck.rows(try s.recv.bytes(n * s.format.stride), plan: s.plan, dest: s.rank, format: s.format))
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
        arguments = KernelArguments([UInt64(s.part.address), UInt64(s.cring.address), UInt64(s.ncount.address), UInt64(s.rbase.address),
                                     UInt64(s.topk.address), UInt64(s.out.address), UInt64(s.ctr.address), Int32(s.tokens), Int32(s.shape.topK),
                                     Int32(s.shape.hidden), Int32(s.plan.localExperts), Int32(s.config.ringTokens), Int32(s.config.chunkTokens)])
    }

    var streams: [GPU.Stream] { [state.stream] }

    func prepare() throws {
        let s = state
        try dispatch.enqueue()
        let rows = s.maxRows
        try s.kernels.expert.launch(grid: max(1, min(4 * s.device.multiprocessors, (rows * 32 + 255) / 256)), block: 256, stream: s.stream,
                                    args: [UInt64(s.recv.address), UInt64(s.rtotal.address), UInt64(s.part.address), Int32(s.shape.topK),
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
