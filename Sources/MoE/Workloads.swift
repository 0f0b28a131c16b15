import Driver
import GPU

/// The layout kernel as a workload: counts and slots checked against the host reference.
final class LayoutWorkload: Workload {
    let state: MoEState
    init(_ s: MoEState) { state = s }
    var streams: [GPU.Stream] { [state.stream] }
    func fill() throws { try state.counts.fill(byte: 0x7F, on: state.stream) }
    func enqueue() throws { try state.enqueueLayout() }
    func countWrong() throws -> Int64 { try state.layoutWrong() }
}

/// One dispatch: every rank's tokens into the experts' receive windows; checked row by row.
final class DispatchWorkload: Workload {
    let state: MoEState
    let style: MoEStyle
    let arguments: KernelArguments?

    init(_ s: MoEState, style: MoEStyle) {
        state = s
        self.style = style
        if let k = style.kernelStyle {
            arguments = KernelArguments([UInt64(s.x.address), UInt64(s.topk.address), UInt64(s.slots.address), UInt64(s.counts.address),
                                         UInt64(s.staging.address), UInt64(s.recv.address), UInt64(s.recvCount.address), UInt64(s.sig.address),
                                         Int32(s.tokens), Int32(s.shape.topK), Int32(s.shape.hidden), Int32(s.shape.dtype == .fp8 ? 1 : 0),
                                         Int32(s.localExperts), Int32(s.window), UInt64(s.format.stride), k])
        } else {
            arguments = nil
        }
    }

    var streams: [GPU.Stream] { [state.stream] }

    func fill() throws {
        try state.recv.fill(byte: 0x7F, on: state.stream)
        // NCCL's receive counts come from the layout exchange, once; the kernels deliver them every time.
        if style != .nccl { try state.recvCount.fill(byte: 0xFF, on: state.stream) }
    }

    func enqueue() throws {
        let s = state
        switch s.transport {
        case .local: preconditionFailure("dispatch needs NVSHMEM or NCCL")
        case .nvshmem:
            try s.kernels.dispatch!.launch(grid: s.blocks, block: s.threads, stream: s.stream, arguments: arguments!)
        case .nccl(let comm):
            let st = s.format.stride, l = s.localExperts
            try s.kernels.packNCCL.launch(grid: s.gridFor(s.tokens * 32), block: 256, stream: s.stream,
                                          args: [UInt64(s.x.address), UInt64(s.topk.address), UInt64(s.slots.address), UInt64(s.offsets!.address),
                                                 UInt64(s.staging.address), Int32(s.tokens), Int32(s.shape.topK), Int32(s.shape.hidden),
                                                 Int32(s.shape.dtype == .fp8 ? 1 : 0), Int32(s.rank), UInt64(st)])
            let mine = s.exchanged[s.rank]
            var off = 0
            try comm.groupStart()
            for (e, c) in mine.enumerated() {
                if c > 0 { try comm.send(UnsafeRawPointer(s.staging.pointer(offset: off * st)), count: Int(c) * st, type: .uint8, peer: e / l, stream: s.stream) }
                off += Int(c)
            }
            for src in 0..<s.ranks {
                for j in 0..<l {
                    let n = Int(s.exchanged[src][s.rank * l + j])
                    if n > 0 { try comm.recv(s.recv.pointer(offset: s.plan.row(local: j, source: src, slot: 0) * st), count: n * st, type: .uint8, peer: src, stream: s.stream) }
                }
            }
            try comm.groupEnd("ncclGroupEnd (moe dispatch)")
        }
    }

    /// Every receive count and every row of every window, on the host.
    func countWrong() throws -> Int64 {
        let s = state
        try s.stream.synchronize()
        let got = try s.recvCount.ints(s.ranks * s.localExperts)
        var wrong = 0
        for src in 0..<s.ranks {
            for l in 0..<s.localExperts {
                let expected = s.plan.tokens(dest: s.rank, local: l, source: src)
                if got[src * s.localExperts + l] != Int32(expected.count) { wrong += 1 }
                let rows = try s.recv.bytes(expected.count * s.format.stride, offset: s.plan.row(local: l, source: src, slot: 0) * s.format.stride)
                wrong += MoECheck.window(rows, expected: expected, source: src, format: s.format)
            }
        }
        return Int64(wrong)
    }
}

/// One combine: the fake expert's rows back to their tokens' owners and the weighted sum there;
/// checked against Σ w_k · f(x) on the host. `prepare` dispatches once and runs the expert.
final class CombineWorkload: Workload {
    let state: MoEState
    let style: MoEStyle
    let dispatch: DispatchWorkload
    let arguments: KernelArguments?
    let reduceArguments: KernelArguments

    init(_ s: MoEState, style: MoEStyle, dispatch: DispatchWorkload) {
        state = s
        self.style = style
        self.dispatch = dispatch
        if let k = style.kernelStyle {
            arguments = KernelArguments([UInt64(s.y.address), UInt64(s.recvCount.address), UInt64(s.counts.address), UInt64(s.combRecv.address),
                                         UInt64(s.sig.address), Int32(s.shape.hidden), Int32(s.localExperts), Int32(s.window), k])
        } else {
            arguments = nil
        }
        reduceArguments = KernelArguments([UInt64(s.combRecv.address), UInt64(s.topk.address), UInt64(s.weights.address), UInt64(s.slots.address),
                                           UInt64(s.out.address), Int32(s.tokens), Int32(s.shape.topK), Int32(s.shape.hidden), Int32(s.window)])
    }

    var streams: [GPU.Stream] { [state.stream] }

    func prepare() throws {
        let s = state
        try dispatch.enqueue()
        try s.kernels.expert.launch(grid: s.gridFor(s.localExperts * s.ranks * s.window * 32), block: 256, stream: s.stream,
                                    args: [UInt64(s.recv.address), UInt64(s.recvCount.address), UInt64(s.y.address), Int32(s.ranks),
                                           Int32(s.localExperts), Int32(s.window), Int32(s.shape.hidden), Int32(s.shape.dtype == .fp8 ? 1 : 0),
                                           UInt64(s.format.stride)])
        try s.stream.synchronize()
        try s.channelBarrier()
    }

    func fill() throws {
        try state.combRecv.fill(byte: 0x7F, on: state.stream)
        try state.out.fill(byte: 0x7F, on: state.stream)
    }

    func enqueue() throws {
        let s = state
        let rowBytes = s.shape.hidden * 2, l = s.localExperts
        switch s.transport {
        case .local: preconditionFailure("combine needs NVSHMEM or NCCL")
        case .nvshmem:
            try s.kernels.combine!.launch(grid: s.blocks, block: s.threads, stream: s.stream, arguments: arguments!)
        case .nccl(let comm):
            try comm.groupStart()
            for src in 0..<s.ranks {
                for j in 0..<l {
                    let n = Int(s.exchanged[src][s.rank * l + j])
                    if n > 0 { try comm.send(UnsafeRawPointer(s.y.pointer(offset: s.plan.row(local: j, source: src, slot: 0) * rowBytes)), count: n * rowBytes, type: .uint8, peer: src, stream: s.stream) }
                }
            }
            for (e, c) in s.exchanged[s.rank].enumerated() where c > 0 {
                try comm.recv(s.combRecv.pointer(offset: e * s.window * rowBytes), count: Int(c) * rowBytes, type: .uint8, peer: e / l, stream: s.stream)
            }
            try comm.groupEnd("ncclGroupEnd (moe combine)")
        }
        try s.kernels.reduce.launch(grid: s.gridFor(s.tokens * s.shape.hidden / 8), block: 256, stream: s.stream, arguments: reduceArguments)
    }

    func countWrong() throws -> Int64 {
        let s = state
        try s.stream.synchronize()
        let out = try s.out.bytes(s.tokens * s.shape.hidden * 2)
        return Int64(MoECheck.combine(out, routing: s.plan.routings[s.rank], rank: s.rank, hidden: s.shape.hidden, dtype: s.shape.dtype))
    }
}
