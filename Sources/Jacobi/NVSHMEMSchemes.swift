import CGPU
import GPU
import Kernels

/// The NVSHMEM kernels (cuda/jacobi_nvshmem.cu) loaded into the running NVSHMEM session (collective: every PE).
public final class NVSHMEMStencil: @unchecked Sendable {
    let session: NVSHMEMSession
    let perElement: Kernel
    let block: Kernel
    let signalled: Kernel
    let sum: NVSHMEMFloatSum

    public init(session: NVSHMEMSession, compiler: RuntimeCompiler) throws {
        self.session = session
        let req = try compiler.nvshmemRequest(name: "jacobi_nvshmem", source: KernelSources.jacobiNVSHMEM,
                                              arch: session.device.arch, nvshmem: session.lib)
        let m = try session.load(image: try compiler.cubin(for: req))
        perElement = try m.function("gc_jacobi_shmem_p")
        block = try m.function("gc_jacobi_shmem_block")
        signalled = try m.function("gc_jacobi_shmem_opt")
        sum = try NVSHMEMFloatSum(session.lib)
    }
}

/// nvshmem (per-element puts), nvshmem_block (block puts) — each iteration ends with
/// nvshmemx_barrier_all_on_stream — and nvshmem_opt (block puts and signals, neighbour-only sync).
final class NVSHMEMScheme: HaloScheme {
    enum Kind { case perElement, block, signalled }

    let c: RankContext
    let k: NVSHMEMStencil
    let kind: Kind
    let buffers: [DeviceBuffer]
    /// nvshmem_opt: sig[0] from the top neighbour, sig[1] from the bottom one (symmetric u64 × 2).
    let signals: DeviceBuffer
    /// Iterations enqueued so far by this scheme (warm-up included): the signal count to wait for.
    private var done = 0
    private let args = ArgumentCache()

    init(_ c: RankContext, stencil: NVSHMEMStencil, kind: Kind) throws {
        self.c = c; self.k = stencil; self.kind = kind
        buffers = try (0..<2).map { _ in try stencil.session.allocate(bytes: c.bufferBytes) }
        signals = try stencil.session.allocate(bytes: 16)
        try signals.fill(byte: 0, on: c.compute)
        try c.compute.synchronize()
        stencil.session.barrier()
    }

    func makeNorm() throws -> (local: DeviceBuffer, global: DeviceBuffer) {
        (try k.session.allocate(bytes: 4), try k.session.allocate(bytes: 4))
    }

    func reduceNorm(local: DeviceBuffer, global: DeviceBuffer) throws {
        try k.sum(dest: global, source: local, on: c.compute)
    }

    func step(_ j: Int, norm: DeviceBuffer?) throws {
        let a = buffers[j % 2], aNew = buffers[(j + 1) % 2], rows = c.interior, nx = c.nx
        let tail: [any KernelArgument] = [Int32(c.top), Int32(c.topHaloRow), Int32(c.bottom), Int32(0)]
        let grid = StencilKernels.grid(nx: nx, rows: rows.count)
        switch kind {
        case .perElement, .block:
            let args = args.get(ArgumentCache.key(kind == .block ? 1 : 0, j % 2, norm)) {
                StencilKernels.head(aNew: aNew, a: a, norm: norm, rows: rows, nx: nx) + tail
            }
            try (kind == .block ? k.block : k.perElement).launch(grid: grid, block: StencilKernels.blockX, stream: c.compute, arguments: args)
            k.session.lib.barrierAllOnStream(c.compute.raw)
        case .signalled:
            // The wait count changes every iteration: marshalled here (a few hundred ns).
            let wait = UInt64(done) * UInt64(StencilKernels.blocksX(nx: nx))
            let args = KernelArguments(StencilKernels.head(aNew: aNew, a: a, norm: norm, rows: rows, nx: nx) + tail
                                       + [UInt64(signals.address), wait])
            try k.signalled.launch(grid: grid, block: StencilKernels.blockX, stream: c.compute, arguments: args)
        }
        done += 1
    }

    /// Every PE's puts of the run have landed and been read before anyone goes on.
    func finishRun() throws {
        if kind == .signalled { k.session.lib.barrierAllOnStream(c.compute.raw) }
    }

    func quiesce() throws { k.session.barrier() }
}
