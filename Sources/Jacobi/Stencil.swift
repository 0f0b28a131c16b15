#if canImport(Glibc)
import Glibc
#endif
import GPU
import Kernels

/// The plain Jacobi kernels (cuda/jacobi.cu) loaded on one device, with their launch geometry.
final class StencilKernels: @unchecked Sendable {
    static let blockX = KernelConstants.jacobiBlockX   // JBX in jacobi.cuh
    /// Block size of gc_jacobi_count_wrong (GC_COUNT_WRONG_THREADS in jacobi.cu).
    static let countWrongThreads = KernelConstants.jacobiCountWrongThreads
    /// Block height when the grid fits in one wave (the host's choice; the kernels split whatever rows the grid gives them).
    static let rowsPerBlock = 16
    let initialise: Kernel
    let step: Kernel
    let countWrong: Kernel

    init(device: Device, compiler: RuntimeCompiler) throws {
        let k = KernelSources.jacobi
        let req = CompileRequest(name: k.name, source: k.source, arch: device.arch).with(headers: k.headers)
        let module = try Module(device: device, image: try compiler.cubin(for: req))
        initialise = try module.function("gc_jacobi_init")
        step = try module.function("gc_jacobi")
        countWrong = try module.function("gc_jacobi_count_wrong")
    }

    /// Blocks of `kernel` (blockX threads) resident on `device` at once.
    static func wave(_ kernel: Kernel, device: Device) throws -> Int {
        try kernel.maxActiveBlocksPerSM(block: blockX) * device.multiprocessors
    }

    /// Columns each thread updates: 4 (16-byte loads and stores) when a row is a whole number of
    /// 16-byte words, else 1 (jacobi_vec in jacobi.cuh).
    static func columnsPerThread(nx: Int) -> Int { nx % 4 == 0 ? 4 : 1 }
    /// Block columns: ceil(nx / (4 × blockX)) with 4 columns per thread (from column 0), else
    /// ceil((nx − 2) / blockX) (from column 1).
    static func blocksX(nx: Int, threads: Int = blockX) -> Int {
        columnsPerThread(nx: nx) == 4 ? (nx + 4 * threads - 1) / (4 * threads) : (nx - 2 + threads - 1) / threads
    }
    /// Blocks for `rows` rows: block rows of rowsPerBlock, unless that needs more than one wave of
    /// `wave` resident blocks: then exactly one wave (nbx × ⌊wave / nbx⌋ blocks), each block taking
    /// more rows (the kernels split the rows over the grid's block rows). wave 0 = no cap.
    /// Measured on 4×H200 at 16384² (bench/results/2026-11-21-4xH200-session3): one wave makes
    /// the kernel alone 1-2% slower (87.9% vs 90.1% of the copy ceiling on one GPU), so gc_jacobi
    /// keeps 16-row blocks; the one-kernel-per-iteration variants (nvshmem_opt, nccl_lsa), whose
    /// boundary blocks wait for their neighbours, ran 4.7 µs per iteration faster with one wave.
    static func grid(nx: Int, rows: Int, wave: Int) -> Int {
        let nbx = blocksX(nx: nx)
        var nby = (rows + rowsPerBlock - 1) / rowsPerBlock
        if wave >= nbx, nbx * nby > wave { nby = wave / nbx }
        return nbx * max(1, nby)
    }

    /// The grid of the one-kernel-per-iteration kernels (nvshmem_opt, nccl_lsa): the service block
    /// (cuda/jacobi_fused.cuh) plus either one wave of stencil blocks leaving room for it
    /// (`oneWave`) or 16-row blocks, boundary rows first. Measured at 16384² on 4 H200s
    /// (bench/results/2026-11-21-4xH200-session3/call8-jacobi-ab): nvshmem_opt 149.3–150.1 µs per
    /// iteration with one wave, 151.1–151.2 with 16-row blocks; nccl_lsa 153.3–155.1 with one
    /// wave, 150.2–150.3 with 16-row blocks (its boundary blocks wait for all of the neighbour's
    /// flags, which 16-row blocks send in the first wave). `GPUCOMM_JACOBI_FUSED_GRID=wave|rows`
    /// overrides the choice for both, for measuring.
    static func gridWithService(nx: Int, rows: Int, wave: Int, oneWave: Bool) -> Int {
        grid(nx: nx, rows: rows, wave: (fusedGridOverride ?? oneWave) ? wave - 1 : 0) + 1
    }
    static let fusedGridOverride: Bool? = getenv("GPUCOMM_JACOBI_FUSED_GRID").flatMap {
        switch String(cString: $0) { case "wave": return true; case "rows": return false; default: return nil }
    }

    /// Arguments of gc_jacobi and the NVSHMEM kernels' common head:
    /// (a_new, a, norm, iy_start, iy_end, nx, nbx, calc_norm).
    static func head(aNew: DeviceBuffer, a: DeviceBuffer, norm: DeviceBuffer?, rows: Range<Int>, nx: Int,
                     threads: Int = blockX) -> [any KernelArgument] {
        [UInt64(aNew.address), UInt64(a.address), UInt64(norm?.address ?? .null), Int32(rows.lowerBound), Int32(rows.upperBound),
         Int32(nx), Int32(blocksX(nx: nx, threads: threads)), Int32(norm == nil ? 0 : 1)]
    }

    /// Launches gc_jacobi over local rows `rows` (nothing when empty).
    func launch(_ args: KernelArguments, rows: Range<Int>, nx: Int, on stream: Stream) throws {
        guard !rows.isEmpty else { return }
        try step.launch(grid: Self.grid(nx: nx, rows: rows.count, wave: 0), block: Self.blockX, stream: stream, arguments: args)
    }

    /// Zeroes both buffers and writes the fixed left/right columns for local rows 0 ..< rows,
    /// whose row 0 is global row `offset`.
    func reset(_ a: DeviceBuffer, _ aNew: DeviceBuffer, offset: Int, rows: Int, nx: Int, ny: Int, on stream: Stream) throws {
        try a.fill(byte: 0, on: stream)
        try aNew.fill(byte: 0, on: stream)
        try initialise.launch(grid: (rows + 127) / 128, block: 128, stream: stream,
                              args: [UInt64(a.address), UInt64(aNew.address), Int32(offset), Int32(nx), Int32(rows), Int32(ny)])
    }

    /// Elements of `x` (n floats) further than `tolerance` from `reference` (NaN counts).
    func wrong(_ x: UInt64, _ reference: UInt64, count n: Int, tolerance: Float, counter: DeviceBuffer, on stream: Stream) throws -> Int64 {
        try counter.fill(byte: 0, on: stream)
        let sms = stream.device.multiprocessors
        let t = Self.countWrongThreads
        try countWrong.launch(grid: max(1, min(sms * 8, (n + t - 1) / t)), block: t, stream: stream,
                              args: [x, reference, UInt64(n), tolerance, UInt64(counter.address)])
        try stream.synchronize()
        let b = try counter.copyToHost(count: 8)
        return b.withUnsafeBytes { Int64(bitPattern: $0.loadUnaligned(as: UInt64.self)) }
    }
}
