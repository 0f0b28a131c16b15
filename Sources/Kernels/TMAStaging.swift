/// The host's mirror of the TMA kernels' shared-memory ring (cuda/nvshmem_tma.cu): `stages`
/// buffers of `stageBytes`, each with an 8-byte mbarrier, in dynamic shared memory.
public struct TMAStaging: Sendable, Equatable, CustomStringConvertible {
    /// Bytes one bulk copy moves (a multiple of 16).
    public var stageBytes: Int
    /// Buffers in the ring.
    public var stages: Int
    public init(stageBytes: Int = 32 << 10, stages: Int = 4) { self.stageBytes = stageBytes; self.stages = stages }

    /// Ring depths the kernels take (2 to GC_TMA_MAX_STAGES, `KernelConstants.tmaMaxStages`).
    public static let stageCounts = 2...KernelConstants.tmaMaxStages
    /// Dynamic shared memory one block may opt into on sm_90 (227 KiB); the device's own limit is checked at run time.
    public static let sm90SharedBytes = 227 << 10

    /// Dynamic shared memory per block: the ring plus one mbarrier per stage (gc_tma_shared_bytes).
    public var sharedBytes: Int { stageBytes * stages + 8 * stages }

    /// Why this ring cannot run (naming the flags), or nil.
    public var problem: String? {
        if stageBytes < 16 || stageBytes % 16 != 0 { return "--tma-stage must be a multiple of 16 bytes (got \(stageBytes))" }
        if !Self.stageCounts.contains(stages) { return "--tma-stages must be from \(Self.stageCounts.lowerBound) to \(Self.stageCounts.upperBound) (got \(stages))" }
        if sharedBytes > Self.sm90SharedBytes {
            return "--tma-stage \(stageBytes) × --tma-stages \(stages) needs \(sharedBytes) B of shared memory per block; at most \(Self.sm90SharedBytes) B (227 KiB) on sm_90"
        }
        return nil
    }

    /// Why a GPU cannot run this ring; the callers word each case for their own flags.
    public enum Unavailable: Equatable, Sendable {
        /// Compute capability below 9: no bulk asynchronous copies.
        case architecture
        /// The ring itself (`problem`'s text).
        case ring(String)
        /// The ring needs more dynamic shared memory per block than the device's opt-in `limit`.
        case sharedMemory(limit: Int)
    }

    /// The first of those reasons, in that order, or nil. Takes the device's figures rather than
    /// the device (this module does not see GPU); `sharedLimit` is asked only for a valid ring on sm_90+.
    public func unavailable(computeCapabilityMajor major: Int, sharedLimit: () throws -> Int) rethrows -> Unavailable? {
        if major < 9 { return .architecture }
        if let why = problem { return .ring(why) }
        let limit = try sharedLimit()
        return sharedBytes > limit ? .sharedMemory(limit: limit) : nil
    }

    public var description: String { "stage \(stageBytes) x\(stages)" }
}
