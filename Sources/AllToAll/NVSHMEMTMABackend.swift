import GPU
import Kernels

/// `nvshmem-tma`: gc_a2a_tma (cuda/nvshmem_tma.cu). The layout, grid and signals of
/// `nvshmem-direct`, but each block moves its slice with bulk asynchronous copies (TMA) through a
/// ring of `KernelOptions.tma` in dynamic shared memory, one thread issuing them; the block signals
/// its peer after its bulk stores completed and were fenced at system scope.
final class NVSHMEMTMAAlltoall: AlltoallBackend {
    let kind = BackendKind.nvshmemTMA
    let shared: NVSHMEMAlltoallShared
    let options: KernelOptions
    let kernel: Kernel
    /// Blocks that fit on the whole GPU at once with the ring's shared memory.
    let resident: Int
    var send: DeviceBuffer { shared.send }
    var recv: DeviceBuffer { shared.recv }
    var pes: Int { shared.session.pes }

    /// Why gc_a2a_tma cannot run here (the same answer on every PE of one GPU model and topology), or nil.
    static func unavailableReason(_ shared: NVSHMEMAlltoallShared, _ options: KernelOptions) throws -> String? {
        let d = shared.session.device
        let gpu = try options.tma.unavailable(computeCapabilityMajor: d.computeCapability.major, sharedLimit: d.maxSharedBytesPerBlockOptIn)
        if gpu == .architecture { return "needs bulk asynchronous copies (sm_90 or newer); \(d.name) is \(d.arch)" }
        if let why = shared.directProblem { return why }
        switch gpu {
        case .ring(let why)?: return why
        case .sharedMemory(let limit)?: return "its ring needs \(options.tma.sharedBytes) B of shared memory per block; \(d.name) allows \(limit)"
        case .architecture?, nil: return nil
        }
    }

    /// The last size prepared and its kernel's arguments.
    var arguments: (bytes: Int, args: KernelArguments)?

    /// Compiles and loads cuda/nvshmem_tma.cu (every PE, as the other backends are built).
    init(shared: NVSHMEMAlltoallShared, compiler: RuntimeCompiler, options: KernelOptions) throws {
        if let why = try Self.unavailableReason(shared, options) { throw BackendUnavailable(kind: .nvshmemTMA, reason: why) }
        self.shared = shared
        self.options = options
        let d = shared.session.device
        let k = KernelSources.nvshmemTMA
        let request = try compiler.nvshmemRequest(name: k.name, source: k.source, arch: d.arch, nvshmem: shared.session.lib).with(headers: k.headers)
        kernel = try shared.session.load(image: try compiler.cubin(for: request)).function("gc_a2a_tma")
        try kernel.allowDynamicSharedBytes(options.tma.sharedBytes)
        resident = try kernel.maxActiveBlocksPerSM(block: options.threads, sharedBytes: options.tma.sharedBytes) * d.multiprocessors
        if resident < shared.session.pes {
            throw BackendUnavailable(kind: .nvshmemTMA, reason: "only \(resident) blocks of \(options.threads) threads and \(options.tma.sharedBytes) B of shared memory fit on the GPU; need \(shared.session.pes)")
        }
    }

    func perPeer(_ bytesPerRank: Int) -> Int {
        options.blocksPerPeer(bytesPerPeer: bytesPerRank / pes, pes: pes, sms: shared.session.device.multiprocessors, resident: resident)
    }

    /// Marshals the kernel's arguments for this size (they depend on nothing else), outside the timed loop.
    func prepare(bytesPerRank: Int) throws {
        let bpp = UInt64(bytesPerRank / pes)
        arguments = (bytesPerRank, KernelArguments([UInt64(recv.address), UInt64(send.address), bpp, UInt64(options.interleave),
                                                    UInt64(shared.signals.address), UInt32(options.tma.stageBytes), Int32(options.tma.stages)]))
    }

    func enqueue(bytesPerRank: Int, stream: Stream) throws {
        if arguments?.bytes != bytesPerRank { try prepare(bytesPerRank: bytesPerRank) }
        try kernel.launch(grid: pes * perPeer(bytesPerRank), block: options.threads, sharedBytes: options.tma.sharedBytes, stream: stream,
                          arguments: arguments!.args)
    }

    func labels(bytesPerRank: Int) -> [String: String] {
        var l = ["blocks": String(pes * perPeer(bytesPerRank)), "threads": String(options.threads),
                 "tma_stage": String(options.tma.stageBytes), "tma_stages": String(options.tma.stages)]
        if options.interleave > 0 { l["interleave"] = String(options.interleave) }
        return l
    }
}
