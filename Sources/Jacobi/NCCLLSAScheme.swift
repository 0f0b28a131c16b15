import GPU
import Kernels

/// The nccl_lsa kernels (cuda/jacobi_nccl_lsa.cu) compiled against the loaded NCCL's device
/// headers and loaded on the communicator's device. Throws `NCCLDeviceUnavailable` (one line)
/// when NCCL has no device API, its headers are missing or do not compile.
public final class NCCLLSAStencil: @unchecked Sendable {
    let comm: Communicator
    let api: NCCLDevice
    let step: Kernel
    let finish: Kernel

    public init(comm: Communicator, compiler: RuntimeCompiler) throws {
        self.comm = comm
        api = try NCCLDevice(nccl: comm.nccl, compiler: compiler, arch: comm.device.arch)
        let k = KernelSources.jacobiNCCLLSA
        let module = try api.module(name: k.name, source: k.source, headers: k.headers.map { InMemoryHeader($0) }, device: comm.device)
        step = try module.function("gc_jacobi_lsa")
        finish = try module.function("gc_jacobi_lsa_finish")
    }
}

/// Where everything of nccl_lsa lives in its symmetric window (the same on every rank): both
/// grid buffers, the norm area (DeviceNormLayout) and the halo flags `u32 flag[2][blocksX]`
/// (flag[0][bx] from the top neighbour's last-row block bx, flag[1][bx] from the bottom
/// neighbour's first-row block bx).
struct LSAWindowLayout: Equatable {
    /// Regions start on this boundary (16-byte stores need 16; pages keep views tidy).
    static let alignment = 4096
    let bufferBytes: Int
    let blocksX: Int
    let norm: DeviceNormLayout
    /// Offsets of buffers[0] and buffers[1].
    let grid: [Int]
    let normOffset: Int
    let flagOffset: Int
    /// Window size: a multiple of 4096 (what ncclCommWindowRegister takes).
    let bytes: Int

    /// `norm`: the norm area (room for a sum per stencil block of the kernel's grid).
    init(bufferBytes: Int, blocksX: Int, norm: DeviceNormLayout) {
        precondition(bufferBytes > 0 && blocksX > 0)
        func up(_ n: Int) -> Int { (n + Self.alignment - 1) / Self.alignment * Self.alignment }
        self.bufferBytes = bufferBytes
        self.blocksX = blocksX
        self.norm = norm
        grid = [0, up(bufferBytes)]
        normOffset = grid[1] + up(bufferBytes)
        flagOffset = normOffset + up(norm.bytes)
        bytes = flagOffset + up(2 * 4 * blocksX)
    }

    /// Where the control words start and how many bytes they take (zeroed once at creation).
    var control: (offset: Int, bytes: Int) { (normOffset, bytes - normOffset) }

    /// Byte offset of the flag block `block` of the neighbour on `side` stores into.
    enum Side: Int { case top = 0, bottom = 1 }
    func flag(from side: Side, block: Int) -> Int { flagOffset + 4 * (side.rawValue * blocksX + block) }

    /// The epoch the kernel of iteration `count` (0-based over the window's life) stores; it
    /// waits until the flags reach the one before (`epoch - 1`; the kernel compares wrap-safe,
    /// `(int)(flag - want) >= 0`, and zeroed flags let the first iteration go).
    static func epoch(iteration count: Int) -> UInt32 { UInt32(truncatingIfNeeded: count + 1) }
}

/// nccl_lsa: NCCL device API (LSA). One kernel per iteration: boundary blocks wait for the
/// neighbour's flags of the previous iteration, store their boundary row straight into the
/// neighbour's halo row of a_new through the window, then release a flag; the device-side norm.
final class NCCLLSAScheme: DeviceNormScheme {
    let c: RankContext
    let k: NCCLLSAStencil
    let layout: LSAWindowLayout
    let window: NCCLDeviceWindow
    /// Views of the window that keep it alive (the runner checks a grid after the scheme's last use).
    let buffers: [DeviceBuffer]
    let norm: DeviceBuffer
    /// Iterations enqueued so far (warm-up included): the epoch of the next one is done + 1.
    private var done = 0

    /// gc_jacobi_lsa's grid (StencilKernels.gridWithService: 16-row blocks and the service block).
    let grid: Int
    /// gc_jacobi_lsa's arguments for iterations of each parity, marshalled once; `step` patches
    /// those that change every iteration (positions in `Slot`).
    private let args: [KernelArguments]
    private enum Slot {
        static func of(_ parameter: String) -> Int { KernelSources.jacobiNCCLLSA.slot(parameter, of: "gc_jacobi_lsa") }
        static let publish = of("publish"), epoch = of("epoch"), send = of("send"), assemble = of("assemble"), out = of("out")
    }

    init(_ c: RankContext, stencil: NCCLLSAStencil) throws {
        self.c = c; self.k = stencil
        grid = StencilKernels.gridWithService(nx: c.nx, rows: c.interior.count,
                                              wave: try StencilKernels.wave(stencil.step, device: c.device), oneWave: false)
        layout = LSAWindowLayout(bufferBytes: c.bufferBytes, blocksX: StencilKernels.blocksX(nx: c.nx),
                                 norm: DeviceNormLayout(problem: c.problem, ranks: c.ranks, grid: grid))
        window = try NCCLDeviceWindow(api: stencil.api, comm: stencil.comm, bytes: layout.bytes, lsaBarriers: 1)
        guard window.lsaSize == c.ranks else {
            throw NCCLDeviceUnavailable(reason: "NCCL's load/store team has \(window.lsaSize) of \(c.ranks) ranks: nccl_lsa needs every rank reachable by NVLink/P2P")
        }
        guard window.rank == c.rank, window.ranks == c.ranks else {
            throw JacobiRunError("internal: the communicator's rank \(window.rank) of \(window.ranks) is not the job's \(c.rank) of \(c.ranks)")
        }
        let w = window, l = layout
        let buffers = l.grid.map { w.view(offset: $0, bytes: c.bufferBytes) }, norm = w.view(offset: l.normOffset, bytes: l.norm.bytes)
        self.buffers = buffers; self.norm = norm
        let rows = c.interior, nx = c.nx
        args = (0..<2).map { p in
            KernelArguments([UInt64(buffers[1 - p].address), UInt64(buffers[p].address), UInt64(norm.address), Int32(rows.lowerBound),
                             Int32(rows.upperBound), Int32(nx), Int32(l.blocksX), UInt32(0) /* publish */,
                             w.window, UInt64(l.grid[1 - p]), Int32(c.rank), Int32(c.ranks),
                             Int32(c.top), Int32(c.topHaloRow), Int32(c.bottom), UInt64(l.flagOffset),
                             UInt32(0) /* epoch */, UInt64(l.normOffset), UInt32(0) /* send */, UInt32(0) /* assemble */, UInt64(0) /* out */])
        }
        try w.view(offset: l.control.offset, bytes: l.control.bytes).fill(byte: 0, on: c.compute)
        try quiesce()  // nobody stores into our flags before they are zeroed
    }

    func step(_ j: Int, norm n: DeviceNormStep) throws {
        let args = args[j % 2]
        args.set(Slot.publish, n.publish)
        args.set(Slot.epoch, LSAWindowLayout.epoch(iteration: done))
        args.set(Slot.send, n.send)
        args.set(Slot.assemble, n.assemble)
        args.set(Slot.out, n.out)
        try k.step.launch(grid: grid, block: StencilKernels.blockX,
                          stream: c.compute, arguments: args)
        done += 1
    }

    /// The last check is assembled, then an LSA barrier: every rank's stores of the run have landed.
    func finishRun(norm n: DeviceNormStep) throws {
        try k.finish.launch(grid: 1, block: 32, stream: c.compute,
                            args: [window.devCommArgument, window.window, UInt64(norm.address), UInt64(layout.normOffset), n.send, n.assemble, n.out])
    }

    /// An LSA barrier kernel, waited for: every rank's earlier work (a re-initialisation of the
    /// grid included) is done before any rank's next kernel stores into it.
    func quiesce() throws {
        try finishRun(norm: DeviceNormStep())
        try c.compute.synchronize()
        try k.comm.checkAsync()
    }
}
