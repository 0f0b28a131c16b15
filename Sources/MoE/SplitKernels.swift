import GPU

/// Which half of a dispatch or combine one launch of the NVSHMEM kernels runs: their `phase`
/// argument (cuda/moe_nvshmem.cu's launch contract; DeepEP's `return_recv_hook`, pplx-kernels'
/// `do_send` / `do_recv`).
enum MoEPhase: Int32, Sendable, CaseIterable {
    /// Packing, the puts with their signals or the stores with their arrival signals, the counts;
    /// waits for nothing (style 0 ends with `nvshmem_quiet`).
    case send = 1
    /// Waits for one send half's signals from every rank and subtracts them.
    case receive = 2
    /// Both in one launch: the whole `dispatch` and `combine` rows (its grid must be resident).
    case both = 3
}

/// The NVSHMEM kernels' arguments in the order of their declarations (cuda/moe_nvshmem.cu), built
/// from plain values so the order is unit-tested against the source.
enum MoEKernelArguments {
    /// gc_moe_dispatch: `buffers` are x, topk, slots, counts, staging, recv, recvCount, sig
    /// (device addresses), then the shape, the style (`MoEStyle.kernelStyle`) and the phase.
    static func dispatch(buffers: [UInt64], tokens: Int, topK: Int, hidden: Int, fp8: Bool, localExperts: Int, window: Int, stride: Int,
                         style: Int32, phase: MoEPhase) -> [any KernelArgument] {
        precondition(buffers.count == 8, "gc_moe_dispatch takes 8 buffers")
        let shape: [any KernelArgument] = [Int32(tokens), Int32(topK), Int32(hidden), Int32(fp8 ? 1 : 0), Int32(localExperts), Int32(window), UInt64(stride)]
        return buffers.map { $0 as any KernelArgument } + shape + [style, phase.rawValue]
    }

    /// gc_moe_combine: `buffers` are y, recvCount, counts, combRecv, sig (device addresses), then
    /// the shape, the style and the phase.
    static func combine(buffers: [UInt64], hidden: Int, localExperts: Int, window: Int, style: Int32, phase: MoEPhase) -> [any KernelArgument] {
        precondition(buffers.count == 5, "gc_moe_combine takes 5 buffers")
        let shape: [any KernelArgument] = [Int32(hidden), Int32(localExperts), Int32(window)]
        return buffers.map { $0 as any KernelArgument } + shape + [style, phase.rawValue]
    }
}
