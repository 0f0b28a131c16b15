/// One Jacobi problem: grid, iteration count, norm cadence; its decomposition and byte accounting.
///
/// The grid follows NVIDIA/multi-gpu-programming-models' NCCL samples: `ny` rows of `nx` floats;
/// rows 1 … ny-2 are computed, split across ranks (each gets (ny-2)/N rows, the last
/// (ny-2) mod N ranks one more); rows 0 and ny-1 are periodic halos (rank 0's top neighbour is
/// the last rank); columns 0 and nx-1 hold sin(2π·y/(ny-1)) and never change.
public struct JacobiProblem: Sendable, Equatable {
    public var nx: Int
    public var ny: Int
    /// Timed iterations (fixed: no early exit on convergence).
    public var iterations: Int
    /// Compute the L2 norm every this many iterations; 0 = never.
    public var normEvery: Int
    /// Untimed iterations before the timed run (the grid is re-initialised after them).
    public var warmup: Int

    public init(nx: Int = 16384, ny: Int = 16384, iterations: Int = 1000, normEvery: Int = 1, warmup: Int = 10) {
        self.nx = nx; self.ny = ny; self.iterations = iterations; self.normEvery = normEvery; self.warmup = warmup
    }

    /// Largest nx or ny accepted (row offsets stay in 32-bit kernel arguments).
    public static let maxSide = 1 << 20
    /// Fewest interior rows a rank may own: its first and last rows must differ (the overlap
    /// variants compute them apart from the rest).
    public static let minRowsPerRank = 2

    /// A rank's share: global interior rows `firstRow ..< firstRow + rows`.
    public struct Slab: Sendable, Equatable {
        public var firstRow: Int
        public var rows: Int
    }

    /// The rows each of `ranks` ranks owns (as the NCCL samples split them).
    public func slabs(ranks: Int) -> [Slab] {
        let interior = ny - 2
        let low = interior / ranks
        let ranksLow = ranks * low + ranks - interior  // ranks that get `low` rows; the rest get low + 1
        var out: [Slab] = []
        var first = 1
        for r in 0..<ranks {
            let rows = r < ranksLow ? low : low + 1
            out.append(Slab(firstRow: first, rows: rows))
            first += rows
        }
        return out
    }

    /// Rows of every rank's buffer (the largest slab plus two halos), equal on all ranks so that
    /// symmetric allocations (NVSHMEM, NCCL windows) match.
    public func bufferRows(ranks: Int) -> Int { (ny - 2 + ranks - 1) / ranks + 2 }

    /// Bytes of one such buffer (bufferRows rows of nx floats).
    public func bufferBytes(ranks: Int) -> Int64 { Int64(nx) * Int64(bufferRows(ranks: ranks)) * 4 }

    /// Elements updated per iteration over the whole grid.
    public var interiorElements: Int64 { Int64(nx - 2) * Int64(ny - 2) }

    /// Bytes one iteration must move through memory at least: every updated element read once
    /// and written once (4 bytes each; the neighbours' re-reads hit in cache).
    public var bytesPerIteration: Int64 { 2 * 4 * interiorElements }

    /// Device memory one rank needs: the single-GPU reference (two full grids), the variant's two
    /// slabs, the NVSHMEM symmetric heap holding two more, and 256 MiB for libraries and kernels.
    public func bytesPerGPU(ranks: Int) -> Int64 {
        let full = Int64(nx) * Int64(ny) * 4
        let slab = bufferBytes(ranks: ranks)
        return 2 * full + 2 * slab + JacobiProblem.heapBytes(slabBytes: slab) + (256 << 20)
    }

    /// NVSHMEM symmetric heap for two slabs plus norms and signals.
    public static func heapBytes(slabBytes: Int64) -> Int64 { 2 * slabBytes + (64 << 20) }

    /// Checks the grid and counts before anything is allocated; nil when fine, else one line.
    public func problem(ranks: [Int]) -> String? {
        if nx < 3 || ny < 3 { return "--nx and --ny must be at least 3 (got \(nx) × \(ny))" }
        if nx > Self.maxSide || ny > Self.maxSide { return "--nx and --ny must be at most \(Self.maxSide) (got \(nx) × \(ny))" }
        if iterations < 1 { return "-n/--iterations must be at least 1 (got \(iterations))" }
        if warmup < 0 || warmup % 2 != 0 { return "--warmup must be an even number ≥ 0 (got \(warmup))" }
        if normEvery < 0 { return "--norm-every must be ≥ 0 (0 = never; got \(normEvery))" }
        for n in ranks where (ny - 2) / n < Self.minRowsPerRank {
            let (rows, overflow) = Self.minRowsPerRank.multipliedReportingOverflow(by: n)  // checked: n comes from --gpus
            return "grid too small for \(n) GPUs: ny = \(ny) leaves \(ny - 2) interior rows, \((ny - 2) / n) per GPU; each needs at least \(Self.minRowsPerRank) (use --ny ≥ \(overflow || rows > Self.maxSide ? "\(Self.maxSide), the largest, and fewer GPUs" : "\(rows + 2)"))"
        }
        return nil
    }

    /// One line when `ranks` ranks need more memory than `freeBytes` on a GPU, else nil.
    public func memoryProblem(ranks: Int, freeBytes: Int64) -> String? {
        let need = bytesPerGPU(ranks: ranks)
        guard need > freeBytes else { return nil }
        func gib(_ b: Int64) -> String { String(format: "%.2f GiB", Double(b) / Double(1 << 30)) }
        return "grid \(nx) × \(ny) needs \(gib(need)) per GPU at \(ranks) GPU(s) (two full grids for the single-GPU reference, two slabs, the NVSHMEM heap) but \(gib(freeBytes)) is free"
    }

    /// Whether iteration `i` (0-based) of a run computes the norm.
    public func computesNorm(_ i: Int) -> Bool { normEvery > 0 && i % normEvery == 0 }
}
