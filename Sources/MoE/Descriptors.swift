import Driver

/// The ways gpucomm runs MoE dispatch and combine: each a backend of the `moe` benchmark, every
/// one moving the same rows into the same expert-major layout (`ReceivePlan`) and checked the same way.
public enum MoEStyle: String, Sendable, CaseIterable {
    /// pplx-kernels' internode design: NVSHMEM put-with-signal per (token, expert) message, per-source
    /// counts as one more put-with-signal; runs over NVLink and NVSHMEM's proxy transports (IBRC, libfabric).
    case nvshmemPut = "nvshmem-put"
    /// DeepEP's low-latency design over NVLink: warps store each message straight into the owner's
    /// buffer through nvshmem_ptr peer pointers, then one flag (signal) per block and rank.
    case nvlinkLL = "nvlink-ll"
    /// DeepEP's normal (high-throughput) design over NVLink: each token once per rank holding its
    /// experts (top-k ids rewritten for that rank), streamed by C channels of a sender and a receiver
    /// block through bounded per-(channel, source) rings in chunks; the combine sums each rank's
    /// partial row at the token's owner. SM-budgeted: 2C blocks whatever the token count.
    case nvlinkNormal = "nvlink-normal"
    /// The NCCL baseline: layout exchange (ncclAllGather of per-expert counts, read by the host),
    /// then grouped ncclSend/ncclRecv, one per non-empty (expert, source) window.
    case nccl

    public var summary: String {
        switch self {
        case .nvshmemPut: return "NVSHMEM put-with-signal per (token, expert) message and a signalled count put per rank (pplx-kernels style); NVLink and proxy transports"
        case .nvlinkLL: return "16-byte stores straight into the expert owner's buffer through nvshmem_ptr, one signal per block and rank (DeepEP low-latency style); NVLink only"
        case .nccl: return "layout exchange (ncclAllGather of per-expert counts, read by the host), then grouped ncclSend/ncclRecv per non-empty (expert, source) window"
        case .nvlinkNormal: return "each token once per destination rank through per-channel ring buffers (2 blocks per channel, chunked tail/head flow control), partial sums combined at the owner (DeepEP normal style); NVLink only"
        }
    }

    /// The kernels' style argument (cuda/moe_nvshmem.cu), nil for NCCL.
    var kernelStyle: Int32? {
        switch self {
        case .nvshmemPut: return 0
        case .nvlinkLL: return 1
        case .nccl, .nvlinkNormal: return nil
        }
    }

    public var usesNVSHMEM: Bool { self != .nccl }

    /// Whether the style's kernels store into other PEs through `nvshmem_ptr`, which is NULL for a
    /// PE with no load/store path (the kernel would fault on it): `MoEBench.loadStoreProblem`.
    public var needsLoadStore: Bool { self == .nvlinkLL || self == .nvlinkNormal }

    /// Parses `all` or a comma-separated list; the error names the bad one and the choices.
    public static func parseList(_ text: String) -> Result<[MoEStyle], MoEUsageError> {
        if text == "all" { return .success(allCases) }
        var out: [MoEStyle] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let s = MoEStyle(rawValue: String(part)) else {
                return .failure(MoEUsageError("unknown style '\(part)': use all or a comma-separated list of \(allCases.map(\.rawValue).joined(separator: ", "))"))
            }
            if !out.contains(s) { out.append(s) }
        }
        return .success(out)
    }
}

/// One line of bad input, before any GPU work.
public struct MoEUsageError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Each style is one benchmark of the `moe` family (its rows: benchmark moe_dispatch / moe_combine, backend = key).
extension MoEStyle: BenchmarkDescriptor {
    public var key: String { rawValue.replacingOccurrences(of: "-", with: "_") }
    public var family: BenchmarkFamily { .moe }
    public var timings: [TimingStrategy] { [.events, .hostLoop] }
    /// `bytes` is the per-rank byte count of the chosen convention (`ByteConvention`), already
    /// one direction's: algbw = bytes / time, no bus factor.
    public func accounting(bytes: Int, ranks: Int) -> Accounting { .bandwidth(bytes: bytes, algbwFactor: 1, busFactor: 1) }
    public func applicability(_ shape: JobShape) -> Applicability {
        if shape.gpusPerProcess != 1 { return .waived("runs one GPU per process") }
        if self == .nvlinkNormal && shape.ranks > NormalConfig.maxRanks { return .waived("runs on at most \(NormalConfig.maxRanks) ranks (one warp per peer)") }
        return shape.requires(ranks: 1, nccl: self == .nccl, nvshmem: usesNVSHMEM)
    }
}

/// The one-GPU kernels of the MoE path, measured on their own (`gpucomm moe --kernels`).
public enum MoEKernel: String, Sendable, CaseIterable {
    /// gc_moe_layout: per-expert counts and slots from the top-k ids, checked against the host.
    case layout
    /// gc_moe_cast_fp8: BF16 rows to e4m3 with per-128 fp32 scales, beside a device copy of the same bytes (the memory ceiling).
    case fp8Cast = "fp8-cast"
}

extension MoEKernel: BenchmarkDescriptor {
    public var key: String { rawValue.replacingOccurrences(of: "-", with: "_") }
    public var summary: String {
        switch self {
        case .layout: return "the dispatch layout kernel (per-expert counts and each selection's slot), checked against the host reference"
        case .fp8Cast: return "BF16 → FP8 e4m3 cast with per-128-element fp32 scales, bytes read + written per second beside a device-to-device copy"
        }
    }
    public var family: BenchmarkFamily { .moe }
    public var timings: [TimingStrategy] { [.events] }
    public func accounting(bytes: Int, ranks: Int) -> Accounting {
        self == .layout ? .latency : .bandwidth(bytes: bytes, algbwFactor: 1, busFactor: 1)
    }
    public func applicability(_ shape: JobShape) -> Applicability {
        shape.gpusPerProcess != 1 ? .waived("runs one GPU per process") : .applies
    }
}
