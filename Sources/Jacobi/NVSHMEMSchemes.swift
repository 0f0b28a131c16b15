import GPU
import Kernels

/// The NVSHMEM kernels (cuda/jacobi_nvshmem.cu) loaded into the running NVSHMEM session (collective: every PE).
public final class NVSHMEMStencil: @unchecked Sendable {
    let session: NVSHMEMSession
    let perElement: Kernel
    let block: Kernel
    let signalled: Kernel
    let normFinish: Kernel
    let sum: NVSHMEMFloatSum

    public init(session: NVSHMEMSession, compiler: RuntimeCompiler) throws {
        self.session = session
        let k = KernelSources.jacobiNVSHMEM
        let req = try compiler.nvshmemRequest(name: k.name, source: k.source, arch: session.device.arch, nvshmem: session.lib).with(headers: k.headers)
        let m = try session.load(image: try compiler.cubin(for: req))
        perElement = try m.function("gc_jacobi_shmem_p")
        block = try m.function("gc_jacobi_shmem_block")
        signalled = try m.function("gc_jacobi_shmem_opt")
        normFinish = try m.function("gc_jacobi_shmem_norm_finish")
        sum = try NVSHMEMFloatSum(session)
    }
}

/// nvshmem (per-element puts) and nvshmem_block (block puts): each iteration ends with
/// nvshmemx_barrier_all_on_stream; the norm by nvshmemx_float_sum_reduce_on_stream.
final class NVSHMEMScheme: HaloScheme {
    enum Kind { case perElement, block }

    let c: RankContext
    let k: NVSHMEMStencil
    let kind: Kind
    let buffers: [DeviceBuffer]
    private let args = ArgumentCache()

    init(_ c: RankContext, stencil: NVSHMEMStencil, kind: Kind) throws {
        self.c = c; self.k = stencil; self.kind = kind
        buffers = try (0..<2).map { _ in try stencil.session.allocate(bytes: c.bufferBytes) }
    }

    func makeNorm() throws -> (local: DeviceBuffer, global: DeviceBuffer) {
        (try k.session.allocate(bytes: 4), try k.session.allocate(bytes: 4))
    }

    func reduceNorm(local: DeviceBuffer, global: DeviceBuffer) throws {
        try k.sum(dest: global, source: local, on: c.compute)
    }

    func step(_ j: Int, norm: DeviceBuffer?) throws {
        let a = buffers[j % 2], aNew = buffers[(j + 1) % 2], rows = c.interior, nx = c.nx
        let args = args.get(ArgumentCache.key(kind == .block ? 1 : 0, j % 2, norm)) {
            StencilKernels.head(aNew: aNew, a: a, norm: norm, rows: rows, nx: nx)
                + [Int32(c.top), Int32(c.topHaloRow), Int32(c.bottom)]
        }
        try (kind == .block ? k.block : k.perElement).launch(grid: StencilKernels.grid(nx: nx, rows: rows.count, wave: 0),
                                                             block: StencilKernels.blockX, stream: c.compute, arguments: args)
        k.session.barrier(on: c.compute)
    }

    func quiesce() throws { k.session.barrier() }
}

/// nvshmem_opt: block puts and signals, each PE waits only for its two neighbours, and the
/// device-side norm (cuda/jacobi_fused.cuh): one kernel per iteration, nothing else on the stream.
final class NVSHMEMOptScheme: DeviceNormScheme {
    let c: RankContext
    let k: NVSHMEMStencil
    let buffers: [DeviceBuffer]
    /// sig[0] from the top neighbour, sig[1] from the bottom one (symmetric u64 × 2).
    let signals: DeviceBuffer
    /// The norm area (symmetric, DeviceNormLayout).
    let norm: DeviceBuffer
    /// Iterations enqueued so far by this scheme (warm-up included): the signal count to wait for.
    private var done = 0

    /// gc_jacobi_shmem_opt's grid: one wave of resident stencil blocks plus the service block.
    let grid: Int
    /// gc_jacobi_shmem_opt's arguments for iterations of each parity, marshalled once; `step`
    /// patches those that change every iteration (positions in `Slot`).
    private let args: [KernelArguments]
    private enum Slot {
        static func of(_ parameter: String) -> Int { KernelSources.jacobiNVSHMEM.slot(parameter, of: "gc_jacobi_shmem_opt") }
        static let publish = of("publish"), wait = of("wait"), send = of("send"), assemble = of("assemble"), out = of("out")
    }

    init(_ c: RankContext, stencil: NVSHMEMStencil) throws {
        self.c = c; self.k = stencil
        grid = StencilKernels.gridWithService(nx: c.nx, rows: c.interior.count,
                                              wave: try StencilKernels.wave(stencil.signalled, device: c.device), oneWave: true)
        let buffers = try (0..<2).map { _ in try stencil.session.allocate(bytes: c.bufferBytes) }
        let signals = try stencil.session.allocate(bytes: 16)
        let norm = try stencil.session.allocate(bytes: DeviceNormLayout(problem: c.problem, ranks: c.ranks, grid: grid).bytes)
        self.buffers = buffers; self.signals = signals; self.norm = norm
        let rows = c.interior, nx = c.nx
        args = (0..<2).map { p in
            KernelArguments([UInt64(buffers[1 - p].address), UInt64(buffers[p].address), UInt64(norm.address), Int32(rows.lowerBound),
                             Int32(rows.upperBound), Int32(nx), Int32(StencilKernels.blocksX(nx: nx)), UInt32(0) /* publish */,
                             Int32(c.top), Int32(c.topHaloRow), Int32(c.bottom),
                             UInt64(signals.address), UInt64(0) /* wait */, UInt32(0) /* send */, UInt32(0) /* assemble */, UInt64(0) /* out */])
        }
        try signals.fill(byte: 0, on: c.compute)
        try norm.fill(byte: 0, on: c.compute)
        try c.compute.synchronize()
        stencil.session.barrier()
    }

    func step(_ j: Int, norm n: DeviceNormStep) throws {
        let args = args[j % 2]
        args.set(Slot.publish, n.publish)
        args.set(Slot.wait, UInt64(done) * UInt64(StencilKernels.blocksX(nx: c.nx)))
        args.set(Slot.send, n.send)
        args.set(Slot.assemble, n.assemble)
        args.set(Slot.out, n.out)
        try k.signalled.launch(grid: grid, block: StencilKernels.blockX,
                               stream: c.compute, arguments: args)
        done += 1
    }

    /// The last check is assembled, then every PE's puts of the run have landed and been read before anyone goes on.
    func finishRun(norm n: DeviceNormStep) throws {
        if n.send != 0 || n.assemble != 0 {
            try k.normFinish.launch(grid: 1, block: 32, stream: c.compute, args: [UInt64(norm.address), n.send, n.assemble, n.out])
        }
        k.session.barrier(on: c.compute)
    }

    func quiesce() throws { k.session.barrier() }
}
