import Driver
import GPU

// Routings (docs/moe.md, "What is measured"): with `shape.routings` R > 1 the layout and dispatch
// workloads cycle through the R routings, one per enqueue (`RoutingCycle`), and check against the
// routing their last enqueue used; a dispatch rebuilds the layout first (and, for NCCL, exchanges
// it), inside the timed operation. Combine always sends back the routing of the dispatch before
// it: its prepare restarts the dispatch's cycle and dispatches once, so that is routing 0.

/// The layout kernel as a workload: counts and slots checked against the host reference.
final class LayoutWorkload: Workload {
    let state: MoEState
    private(set) var cycle: RoutingCycle
    init(_ s: MoEState) { state = s; cycle = RoutingCycle(count: s.routings.count) }
    var streams: [GPU.Stream] { [state.stream] }
    func enqueueIterationBarrier() throws -> Bool { try state.enqueueIterationBarrier() }
    func fill() throws { try state.counts.fill(byte: 0x7F, on: state.stream) }
    func enqueue() throws { try state.enqueueLayout(routing: cycle.advance()) }
    func countWrong() throws -> Int64 { try state.layoutWrong(routing: cycle.last ?? 0) }
}

/// One dispatch: every rank's tokens into the experts' receive windows; checked row by row.
final class DispatchWorkload: Workload {
    let state: MoEState
    let style: MoEStyle
    /// Per routing: the dispatch kernel's arguments (its top-k ids and receive counts); none for NCCL.
    let arguments: [KernelArguments]
    /// NVSHMEM styles, per routing: the arguments of the send and of the receive half alone (`--split`).
    let sendArguments: [KernelArguments], receiveArguments: [KernelArguments]
    /// Which routing each enqueue dispatches.
    private(set) var cycle: RoutingCycle

    init(_ s: MoEState, style: MoEStyle) {
        state = s
        self.style = style
        cycle = RoutingCycle(count: s.routings.count)
        if let k = style.kernelStyle {
            let all = 0..<s.routings.count
            func launch(_ r: Int, _ phase: MoEPhase) -> KernelArguments {
                KernelArguments(MoEKernelArguments.dispatch(
                    buffers: [UInt64(s.x.address), s.topkAddress(r), UInt64(s.slots.address), UInt64(s.counts.address), UInt64(s.staging.address),
                              UInt64(s.recv.address), UInt64(s.recvCount.address + s.recvCountOffset(r)), UInt64(s.sig.address)],
                    tokens: s.tokens, topK: s.shape.topK, hidden: s.shape.hidden, fp8: s.shape.dtype == .fp8, localExperts: s.localExperts,
                    window: s.window, stride: s.format.stride, style: k, phase: phase))
            }
            arguments = all.map { launch($0, .both) }
            sendArguments = all.map { launch($0, .send) }
            receiveArguments = all.map { launch($0, .receive) }
        } else {
            arguments = []; sendArguments = []; receiveArguments = []
        }
    }

    var streams: [GPU.Stream] { [state.stream] }
    func enqueueIterationBarrier() throws -> Bool { try state.enqueueIterationBarrier() }

    /// The routing the last enqueue dispatched (combine sends back that one).
    var routing: Int { cycle.last ?? 0 }

    /// Starts the cycle again at routing 0.
    func restart() { cycle.restart() }

    /// The routing the next dispatch uses (the cycle advanced): virtual ranks take a dispatch's
    /// steps one at a time (`VirtualRanksWorkload`).
    func nextRouting() -> Int { cycle.advance() }

    func fill() throws {
        try state.recv.fill(byte: 0x7F, on: state.stream)
        // NCCL's receive counts come from the layout exchange, once with one routing; the kernels deliver them every time.
        if style != .nccl || state.routings.count > 1 { try state.recvCount.fill(byte: 0xFF, on: state.stream) }
    }

    func enqueue() throws {
        let s = state
        let r = cycle.advance()
        if s.routings.count > 1 {
            // A new routing: its layout (and NCCL's counts exchange) is part of this dispatch.
            try s.enqueueLayout(routing: r)
            if case .nccl(let comm) = s.transport { try s.exchangeLayout(comm, routing: r) }
        }
        switch s.transport {
        case .local: preconditionFailure("dispatch needs NVSHMEM or NCCL")
        case .nvshmem:
            try s.kernels.dispatch!.launch(grid: s.blocks, block: s.threads, stream: s.stream, arguments: arguments[r])
        case .nccl(let comm):
            try s.enqueuePack(routing: r)
            try comm.post(s.exchangePlan.dispatch(rank: s.rank, stride: s.format.stride), from: s.staging, into: s.recv, stream: s.stream,
                          "ncclGroupEnd (moe dispatch)")
        case .virtual: preconditionFailure("virtual ranks dispatch together (VirtualRanksWorkload)")
        }
    }

    /// NVSHMEM styles: the send half of the next dispatch (with several routings its layout first,
    /// as `enqueue` does); returns its routing, which the matching receive half takes.
    func enqueueSend() throws -> Int {
        let s = state
        let r = cycle.advance()
        if s.routings.count > 1 { try s.enqueueLayout(routing: r) }
        try s.kernels.dispatch!.launch(grid: s.blocks, block: s.threads, stream: s.stream, arguments: sendArguments[r])
        return r
    }

    /// NVSHMEM styles: the receive half of a dispatch of routing `r` sent before (on every rank).
    func enqueueReceive(routing r: Int) throws {
        let s = state
        try s.kernels.dispatch!.launch(grid: s.blocks, block: s.threads, stream: s.stream, arguments: receiveArguments[r])
    }

    /// Every receive count and every row of every window, on the host, against the routing the
    /// last enqueue dispatched.
    func countWrong() throws -> Int64 {
        let s = state
        try s.stream.synchronize()
        let plan = s.routings.plans[routing]
        let got = try s.recvCount.ints(s.ranks * s.localExperts, offset: s.recvCountOffset(routing))
        var wrong = 0
        for src in 0..<s.ranks {
            for l in 0..<s.localExperts {
                let expected = plan.tokens(dest: s.rank, local: l, source: src)
                if got[src * s.localExperts + l] != Int32(expected.count) { wrong += 1 }
                let rows = try s.recv.bytes(expected.count * s.format.stride, offset: plan.row(local: l, source: src, slot: 0) * s.format.stride)
                wrong += MoECheck.window(rows, expected: expected, source: src, format: s.format)
            }
        }
        return Int64(wrong)
    }
}

/// One combine: the fake expert's rows back to their tokens' owners and the weighted sum there;
/// checked against Σ w_k · f(x) on the host. `prepare` dispatches once (routing 0: it restarts
/// the dispatch's cycle) and runs the expert; every combine then uses that dispatch's routing.
final class CombineWorkload: Workload {
    let state: MoEState
    let style: MoEStyle
    let dispatch: DispatchWorkload
    /// Per routing: the combine kernel's arguments (its receive counts); none for NCCL.
    let arguments: [KernelArguments]
    /// NVSHMEM styles, per routing: the arguments of the send and of the receive half alone (`--split`).
    let sendArguments: [KernelArguments], receiveArguments: [KernelArguments]
    /// Per routing: the reduce kernel's (its top-k ids and weights).
    let reduceArguments: [KernelArguments]

    init(_ s: MoEState, style: MoEStyle, dispatch: DispatchWorkload) {
        state = s
        self.style = style
        self.dispatch = dispatch
        let all = 0..<s.routings.count
        if let k = style.kernelStyle {
            func launch(_ r: Int, _ phase: MoEPhase) -> KernelArguments {
                KernelArguments(MoEKernelArguments.combine(
                    buffers: [UInt64(s.y.address), UInt64(s.recvCount.address + s.recvCountOffset(r)), UInt64(s.counts.address), UInt64(s.combRecv.address),
                              UInt64(s.sig.address)],
                    hidden: s.shape.hidden, localExperts: s.localExperts, window: s.window, style: k, phase: phase))
            }
            arguments = all.map { launch($0, .both) }
            sendArguments = all.map { launch($0, .send) }
            receiveArguments = all.map { launch($0, .receive) }
        } else {
            arguments = []; sendArguments = []; receiveArguments = []
        }
        reduceArguments = all.map { r in
            KernelArguments([UInt64(s.combRecv.address), s.topkAddress(r), s.weightsAddress(r), UInt64(s.slots.address),
                             UInt64(s.out.address), Int32(s.tokens), Int32(s.shape.topK), Int32(s.shape.hidden), Int32(s.window)])
        }
    }

    var streams: [GPU.Stream] { [state.stream] }
    func enqueueIterationBarrier() throws -> Bool { try state.enqueueIterationBarrier() }

    /// The routing every combine sends back: the one of the dispatch before it.
    var routing: Int { dispatch.routing }

    func prepare() throws {
        let s = state
        dispatch.restart()
        try dispatch.enqueue()
        try enqueueExpert()
        try s.stream.synchronize()
        try s.channelBarrier()
    }

    /// The fake expert (gc_moe_expert) on every row the dispatch before delivered.
    func enqueueExpert() throws {
        let s = state
        try s.kernels.expert.launch(grid: s.gridFor(s.localExperts * s.ranks * s.window * 32), block: 256, stream: s.stream,
                                    args: [UInt64(s.recv.address), UInt64(s.recvCount.address + s.recvCountOffset(routing)), UInt64(s.y.address), Int32(s.ranks),
                                           Int32(s.localExperts), Int32(s.window), Int32(s.shape.hidden), Int32(s.shape.dtype == .fp8 ? 1 : 0),
                                           UInt64(s.format.stride)])
    }

    func fill() throws {
        try state.combRecv.fill(byte: 0x7F, on: state.stream)
        try state.out.fill(byte: 0x7F, on: state.stream)
    }

    func enqueue() throws {
        let s = state
        let rowBytes = s.shape.hidden * 2
        switch s.transport {
        case .local: preconditionFailure("combine needs NVSHMEM or NCCL")
        case .nvshmem:
            try s.kernels.combine!.launch(grid: s.blocks, block: s.threads, stream: s.stream, arguments: arguments[routing])
        case .nccl(let comm):
            // `exchanged` is the last exchange's: the dispatch before this combine.
            try comm.post(s.exchangePlan.combine(rank: s.rank, rowBytes: rowBytes), from: s.y, into: s.combRecv, stream: s.stream,
                          "ncclGroupEnd (moe combine)")
        case .virtual: preconditionFailure("virtual ranks combine together (VirtualRanksWorkload)")
        }
        try enqueueReduce()
    }

    /// The weighted sum at the tokens' owner (gc_moe_reduce) of the routing sent back.
    func enqueueReduce() throws {
        let s = state
        try s.kernels.reduce.launch(grid: s.gridFor(s.tokens * s.shape.hidden / 8), block: 256, stream: s.stream, arguments: reduceArguments[routing])
    }

    /// NVSHMEM styles: the send half of a combine of the dispatch before it; returns that routing.
    func enqueueSend() throws -> Int {
        let s = state
        try s.kernels.combine!.launch(grid: s.blocks, block: s.threads, stream: s.stream, arguments: sendArguments[routing])
        return routing
    }

    /// NVSHMEM styles: the receive half of a combine of routing `r` sent before (on every rank),
    /// then the weighted sum.
    func enqueueReceive(routing r: Int) throws {
        let s = state
        try s.kernels.combine!.launch(grid: s.blocks, block: s.threads, stream: s.stream, arguments: receiveArguments[r])
        try s.kernels.reduce.launch(grid: s.gridFor(s.tokens * s.shape.hidden / 8), block: 256, stream: s.stream, arguments: reduceArguments[r])
    }

    func countWrong() throws -> Int64 {
        let s = state
        try s.stream.synchronize()
        let out = try s.out.bytes(s.tokens * s.shape.hidden * 2)
        return Int64(MoECheck.combine(out, routing: s.routings.plans[routing].routings[s.rank], rank: s.rank, hidden: s.shape.hidden, dtype: s.shape.dtype))
    }
}
