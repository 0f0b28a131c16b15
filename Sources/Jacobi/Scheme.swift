import GPU

/// This rank's place in the run and what every variant shares: device, streams, kernels.
public final class RankContext: @unchecked Sendable {
    public let device: Device
    public let problem: JacobiProblem
    public let rank: Int
    public let ranks: Int
    /// Interior rows this rank owns (local rows 1 ... rows).
    public let slab: JacobiProblem.Slab
    /// Rows of each buffer (equal on every rank).
    public let bufferRows: Int
    /// The top neighbour's bottom halo row (its rows + 1), where our first row goes; stored, as
    /// the one-kernel variants pass it at every launch.
    let topHaloRow: Int
    let kernels: StencilKernels
    let compute: Stream
    /// Second stream for the overlap variants' boundary rows and exchange.
    let push: Stream

    init(device: Device, problem: JacobiProblem, rank: Int, ranks: Int, kernels: StencilKernels) throws {
        self.device = device; self.problem = problem; self.rank = rank; self.ranks = ranks; self.kernels = kernels
        let slabs = problem.slabs(ranks: ranks)
        slab = slabs[rank]
        topHaloRow = slabs[(rank + ranks - 1) % ranks].rows + 1
        bufferRows = problem.bufferRows(ranks: ranks)
        compute = try Stream(device: device)
        push = try Stream(device: device)
    }

    var nx: Int { problem.nx }
    var bufferBytes: Int { Int(problem.bufferBytes(ranks: ranks)) }
    /// Local rows computed: 1 ..< rows + 1.
    var interior: Range<Int> { 1..<(slab.rows + 1) }
    var top: Int { (rank + ranks - 1) % ranks }
    var bottom: Int { (rank + 1) % ranks }
}

/// What every variant's way of running has: its two grid buffers and the host-side quiesce.
///
/// A variant owns its two grid buffers (plain, registered, window or symmetric memory). Iteration
/// j reads `buffers[j % 2]` and writes `buffers[(j + 1) % 2]`. Adding a variant is one more
/// conforming class (`HaloScheme` or `DeviceNormScheme`) and one line in `JacobiRunner.run`.
protocol JacobiScheme: AnyObject {
    var buffers: [DeviceBuffer] { get }
    /// Host side, after the compute stream is idle: every rank's transfers have completed, and
    /// no rank goes on (e.g. into a re-initialisation of a grid a neighbour writes into) before
    /// every rank got here.
    func quiesce() throws
}

/// A variant whose norm is summed over ranks by a host-enqueued operation after the stencil
/// (ncclAllReduce, nvshmemx_float_sum_reduce_on_stream), and the host waits for each check.
protocol HaloScheme: JacobiScheme {
    /// A norm accumulator and the buffer its sum over ranks lands in (4 bytes each).
    func makeNorm() throws -> (local: DeviceBuffer, global: DeviceBuffer)
    /// Enqueues iteration `j` on the context's compute stream (adding to `norm` when given).
    func step(_ j: Int, norm: DeviceBuffer?) throws
    /// Enqueues the sum over ranks of `local` into `global` on the compute stream.
    func reduceNorm(local: DeviceBuffer, global: DeviceBuffer) throws
}

/// Iteration-invariant kernel arguments, marshalled once per (kind, parity, norm slot) so the
/// host adds no allocation to the timed loop.
final class ArgumentCache {
    private var cache: [Int: KernelArguments] = [:]
    func get(_ key: Int, _ make: () -> [any KernelArgument]) -> KernelArguments {
        if let a = cache[key] { return a }
        let a = KernelArguments(make())
        cache[key] = a
        return a
    }
    /// Key for (site, parity, norm address).
    static func key(_ site: Int, _ parity: Int, _ norm: DeviceBuffer?) -> Int {
        var h = Hasher()
        h.combine(site); h.combine(parity); h.combine(norm?.address ?? .null)
        return h.finalize()
    }
}

/// The single-GPU baseline: the whole grid on one device, periodic halos by two device copies.
final class SingleGPUScheme: HaloScheme {
    let c: RankContext
    let buffers: [DeviceBuffer]
    let args = ArgumentCache()

    init(_ c: RankContext) throws {
        precondition(c.ranks == 1)
        self.c = c
        buffers = try (0..<2).map { _ in try DeviceBuffer(device: c.device, bytes: c.bufferBytes) }
    }

    func makeNorm() throws -> (local: DeviceBuffer, global: DeviceBuffer) {
        let b = try DeviceBuffer(device: c.device, bytes: 4)
        return (b, b)
    }

    func step(_ j: Int, norm: DeviceBuffer?) throws {
        let a = buffers[j % 2], aNew = buffers[(j + 1) % 2]
        let rows = c.interior, nx = c.nx
        let k = args.get(ArgumentCache.key(0, j % 2, norm)) { StencilKernels.head(aNew: aNew, a: a, norm: norm, rows: rows, nx: nx) }
        try c.kernels.launch(k, rows: rows, nx: nx, on: c.compute)
        // Periodic: row 0 takes the last computed row, row rows+1 the first.
        let rowBytes = nx * 4
        try c.compute.copy(from: aNew.pointer(offset: (rows.upperBound - 1) * rowBytes), to: aNew.pointer(offset: 0), bytes: rowBytes)
        try c.compute.copy(from: aNew.pointer(offset: rows.lowerBound * rowBytes), to: aNew.pointer(offset: rows.upperBound * rowBytes), bytes: rowBytes)
    }

    func reduceNorm(local: DeviceBuffer, global: DeviceBuffer) throws {}
    func quiesce() throws {}
}
