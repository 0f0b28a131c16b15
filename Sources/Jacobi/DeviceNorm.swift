import GPU

/// A variant whose norm never leaves the GPUs' own kernels (nvshmem_opt, nccl_lsa): each
/// iteration is one kernel launch; the kernel's last block publishes the rank's sum to every
/// rank, and the last block of a kernel two iterations later sums the ranks' values of that check
/// and writes the result to page-locked host memory (cuda/jacobi_fused.cu). No host collective, no
/// memset, no copy; the host reads each check after the kernel that assembled it has ended,
/// while the next kernel is already queued.
protocol DeviceNormScheme: JacobiScheme {
    /// Enqueues iteration `j` as one kernel on the compute stream.
    func step(_ j: Int, norm: DeviceNormStep) throws
    /// Enqueues what follows the last iteration of a run: assembling `norm.assemble` (when not
    /// 0), then whatever orders the run's last transfers before anyone goes on. Called once per
    /// check left to assemble (at least once).
    func finishRun(norm: DeviceNormStep) throws
}

/// One kernel's part in the device-side norm: tags of checks (1, 2, 3, … over the life of the
/// variant; 0 = none) and where the assembled sums go.
struct DeviceNormStep: Equatable {
    /// The check this kernel computes and publishes.
    var publish: UInt32 = 0
    /// The check (published by an earlier kernel) this kernel's last block sums over ranks.
    var assemble: UInt32 = 0
    /// Device address of the `DeviceNormLayout.depth` page-locked host words the sums are written to (word tag % depth).
    var out: UInt64 = 0
}

/// A rank's norm area (cuda/jacobi_fused.cu): the accumulator and block ticket (local use
/// only) and the slots every rank publishes its sum into, `slot[tag % depth][source]`.
struct DeviceNormLayout: Equatable {
    static let accOffset = 0
    static let ticketOffset = 4
    /// GC_NORM_SLOTS in cuda/jacobi_fused.cu.
    static let slotsOffset = 16
    /// GC_NORM_DEPTH: slots per source rank, and page-locked host words.
    static let depth = 4
    /// Iterations between publishing a check and assembling it (DeviceNormPlan); depth ≥ 2 × lag.
    static let lag = 2
    let ranks: Int

    var bytes: Int { Self.slotsOffset + Self.depth * 8 * ranks }
    /// Byte offset of the 64-bit slot rank `source` writes check `tag` into.
    func slot(tag: UInt32, source: Int) -> Int { Self.slotsOffset + 8 * (Int(tag % UInt32(Self.depth)) * ranks + source) }
    /// The word the host reads for check `tag` among the page-locked words.
    static func hostWord(tag: UInt32) -> Int { Int(tag % UInt32(depth)) }
    /// What a device writes for check `tag` with sum `value` (tag in the high half).
    static func word(tag: UInt32, value: Float) -> UInt64 { UInt64(tag) << 32 | UInt64(value.bitPattern) }
    /// The tag a broken protocol writes (a rank's slot held another check).
    static let brokenTag: UInt32 = 0xffff_ffff
}

/// Which kernel of a run publishes, assembles and which step's host read takes each check.
///
/// Check tags continue from `firstTag` (warm-up and timed run of one variant share the slots,
/// so tags are never reused). Iteration j publishes when `problem.computesNorm(j)`; the first
/// kernel at least `DeviceNormLayout.lag` iterations later assembles it (one check per kernel,
/// oldest first); the finish kernels after the last iteration assemble what is left. The host
/// reads a check after enqueueing the first later iteration that computes a norm (so at least
/// one kernel is always queued while it waits), or after the run when none follows.
///
/// What makes `depth` device slots and host words enough (checked by the tests): a kernel
/// assembles check t no later than it publishes t + depth / 2 (assembling first), and the host
/// has read check t before the kernel that writes host word t % depth again is enqueued.
struct DeviceNormPlan: Equatable {
    struct Step: Equatable {
        var publish: UInt32 = 0
        var assemble: UInt32 = 0
        /// After enqueueing this iteration (and its event), the host waits for and reads this check.
        var read: UInt32?
    }
    var steps: [Step]
    /// Checks assembled by the finish kernels, in order (one finish kernel each).
    var finishAssemble: [UInt32] = []
    /// Checks the host reads after the run has synchronised, in order.
    var readAtEnd: [UInt32] = []
    /// The first tag of the next run of the same variant.
    var nextTag: UInt32

    init(problem: JacobiProblem, iterations: Int, firstTag: UInt32) {
        precondition(firstTag > 0, "tag 0 means no check")
        steps = Array(repeating: Step(), count: iterations)
        var tag = firstTag
        var pending: [(tag: UInt32, at: Int)] = []  // published, not yet assembled
        var unread: [UInt32] = []  // assembled, not yet read
        for j in 0..<iterations {
            if let p = pending.first, j - p.at >= DeviceNormLayout.lag { steps[j].assemble = p.tag; pending.removeFirst() }
            if problem.computesNorm(j) {
                steps[j].publish = tag
                pending.append((tag, j))
                tag += 1
                // Checks assembled by an earlier kernel are complete once that kernel is.
                if let t = unread.first { steps[j].read = t; unread.removeFirst() }
            }
            if steps[j].assemble != 0 { unread.append(steps[j].assemble) }
        }
        finishAssemble = pending.map(\.tag)
        readAtEnd = unread + finishAssemble
        nextTag = tag
    }
}
