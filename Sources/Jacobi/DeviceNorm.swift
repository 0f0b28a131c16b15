import GPU
import Kernels

/// A variant whose norm never leaves the GPUs' own kernels (nvshmem_opt, nccl_lsa): each
/// iteration is one kernel launch whose stencil blocks add up the rank's sum; the extra service
/// block of the next kernel sends it to every rank, and the service block of a kernel two later
/// sums the ranks' values of that check and writes the result to page-locked host memory
/// (cuda/jacobi_fused.cuh). No host collective, no
/// memset, no copy; the host reads each check after the kernel that assembled it has ended,
/// while the next kernel is already queued.
protocol DeviceNormScheme: JacobiScheme {
    /// Enqueues iteration `j` as one kernel on the compute stream.
    func step(_ j: Int, norm: DeviceNormStep) throws
    /// Enqueues what follows the last iteration of a run: one service kernel (`norm.send` and
    /// `norm.assemble`, either may be 0), then whatever orders the run's last transfers before
    /// anyone goes on. Called once per `DeviceNormPlan.finish` entry (at least once).
    func finishRun(norm: DeviceNormStep) throws
}

/// One kernel's part in the device-side norm: tags of checks (1, 2, 3, … over the life of the
/// variant; 0 = none) and where the assembled sums go.
struct DeviceNormStep: Equatable {
    /// The check this kernel computes (each stencil warp stores its sum in partial[publish % 2][warp]).
    var publish: UInt32 = 0
    /// The check the kernel before computed, which this kernel's service block sends to every rank.
    var send: UInt32 = 0
    /// The check (sent by an earlier kernel) this kernel's service block sums over ranks.
    var assemble: UInt32 = 0
    /// Device address of the `DeviceNormLayout.depth` page-locked host words the sums are written to (word tag % depth).
    var out: UInt64 = 0
}

/// A rank's norm area (cuda/jacobi_fused.cuh): the stencil-warp counts `parts[tag % 2]` (at 0), the
/// per-warp sums `partial[tag % 2][warp]` (local use only), and the slots every rank sends its
/// sum into, `slot[tag % depth][source]`.
struct DeviceNormLayout: Equatable {
    /// GC_NORM_SLOTS in cuda/jacobi_fused.cuh (KernelConstants: one definition for both sides).
    static let slotsOffset = KernelConstants.normSlotsOffset
    /// GC_NORM_DEPTH: slots per source rank, and page-locked host words.
    static let depth = KernelConstants.normDepth
    /// Kernels between sending a check and assembling it (DeviceNormPlan); depth ≥ 2 × lag.
    static let lag = 2
    let ranks: Int
    /// Stencil blocks of the grid (each warp of each writes its own two floats).
    let blocks: Int
    /// Warps per stencil block (JBX / 32 in cuda/jacobi.cuh).
    static let warpsPerBlock = StencilKernels.blockX / 32

    init(ranks: Int, blocks: Int) {
        precondition(ranks > 0 && blocks > 0)
        self.ranks = ranks; self.blocks = blocks
    }

    /// Room for any rank's grid of `problem` over `ranks` ranks: 16-row blocks over the largest
    /// slab, which no one-wave or smaller slab's grid exceeds. The same on every rank and GPU,
    /// so the symmetric norm areas (nvshmem_malloc, the NCCL window) match.
    init(problem: JacobiProblem, ranks: Int) {
        self.init(ranks: ranks, blocks: StencilKernels.grid(nx: problem.nx, rows: problem.bufferRows(ranks: ranks) - 2, wave: 0))
    }

    /// The same, for a kernel launched with `grid` blocks (its stencil blocks and the service block).
    init(problem: JacobiProblem, ranks: Int, grid: Int) {
        self.init(problem: problem, ranks: ranks)
        precondition(grid - 1 <= blocks, "the norm area has room for every stencil block")
    }

    var partialOffset: Int { Self.slotsOffset + Self.depth * 8 * ranks }
    var bytes: Int { partialOffset + 8 * Self.warpsPerBlock * blocks }
    /// Byte offset of stencil warp `warp`'s sum of check `tag` (warp = block × warpsPerBlock + warp
    /// in block) when the kernel has `warps` stencil warps (at most warpsPerBlock × blocks).
    func partial(tag: UInt32, warp: Int, warps: Int) -> Int { partialOffset + 4 * (Int(tag % 2) * warps + warp) }
    /// Byte offset of the 64-bit slot rank `source` writes check `tag` into.
    func slot(tag: UInt32, source: Int) -> Int { Self.slotsOffset + 8 * (Int(tag % UInt32(Self.depth)) * ranks + source) }
    /// The word the host reads for check `tag` among the page-locked words.
    static func hostWord(tag: UInt32) -> Int { Int(tag % UInt32(depth)) }
    /// What a device writes for check `tag` with sum `value` (tag in the high half).
    static func word(tag: UInt32, value: Float) -> UInt64 { UInt64(tag) << 32 | UInt64(value.bitPattern) }
    /// The tag a broken protocol writes (a rank's slot held another check).
    static let brokenTag = KernelConstants.normBrokenTag
}

/// Which kernel of a run computes, sends and assembles each check, and which step's host read
/// takes it.
///
/// Check tags continue from `firstTag` (warm-up and timed run of one variant share the slots,
/// so tags are never reused). Iteration j computes (publishes) a check when
/// `problem.computesNorm(j)`; kernel j + 1 sends it; the first kernel at least
/// `DeviceNormLayout.lag` kernels after that assembles it (one check per kernel, oldest first).
/// After the last iteration, `finish` service kernels send and assemble what is left. The host
/// reads a check after enqueueing the first later iteration that computes a norm (so at least
/// one kernel is always queued while it waits), or after the run when none follows.
///
/// What makes `depth` device slots and host words enough (checked by the tests): a kernel
/// assembles check t no later than it sends t + depth / 2 (assembling first), and the host has
/// read check t before the kernel that writes host word t % depth again is enqueued.
struct DeviceNormPlan: Equatable {
    struct Step: Equatable {
        var publish: UInt32 = 0
        var send: UInt32 = 0
        var assemble: UInt32 = 0
        /// After enqueueing this iteration (and its event), the host waits for and reads this check.
        var read: UInt32?
    }
    /// One service kernel after the run.
    struct Finish: Equatable {
        var send: UInt32 = 0
        var assemble: UInt32 = 0
    }
    var steps: [Step]
    /// Service kernels after the last iteration, in order (at least one).
    var finish: [Finish] = []
    /// Checks the host reads after the run has synchronised, in order.
    var readAtEnd: [UInt32] = []
    /// The first tag of the next run of the same variant.
    var nextTag: UInt32

    init(problem: JacobiProblem, iterations: Int, firstTag: UInt32) {
        precondition(firstTag > 0, "tag 0 means no check")
        steps = Array(repeating: Step(), count: iterations)
        var tag = firstTag
        var computed: UInt32 = 0  // computed by the kernel before, to send
        var sent: [(tag: UInt32, at: Int)] = []  // sent, not yet assembled
        var unread: [UInt32] = []  // assembled, not yet read
        for j in 0..<iterations {
            if let p = sent.first, j - p.at >= DeviceNormLayout.lag { steps[j].assemble = p.tag; sent.removeFirst() }
            steps[j].send = computed
            if computed != 0 { sent.append((computed, j)) }
            computed = 0
            if problem.computesNorm(j) {
                steps[j].publish = tag
                computed = tag
                tag += 1
                // Checks assembled by an earlier kernel are complete once that kernel is.
                if let t = unread.first { steps[j].read = t; unread.removeFirst() }
            }
            if steps[j].assemble != 0 { unread.append(steps[j].assemble) }
        }
        repeat {
            var f = Finish()
            if let p = sent.first { f.assemble = p.tag; sent.removeFirst(); unread.append(p.tag) }
            f.send = computed
            if computed != 0 { sent.append((computed, iterations + finish.count)) }
            computed = 0
            finish.append(f)
        } while !sent.isEmpty
        readAtEnd = unread
        nextTag = tag
    }
}
