import Driver
import Foundation

/// The programming-model variants `gpucomm jacobi` compares, named as the issue and the
/// multi-gpu-programming-models folders name them.
public enum JacobiVariant: String, CaseIterable, Sendable {
    case singleGPU = "single_gpu"
    case nccl
    case ncclOverlap = "nccl_overlap"
    case ncclGraphs = "nccl_graphs"
    case ncclUB = "nccl_ub"
    case ncclSymm = "nccl_symm"
    case nvshmem
    case nvshmemBlock = "nvshmem_block"
    case nvshmemOpt = "nvshmem_opt"
    case ncclLSA = "nccl_lsa"

    /// What the variant does, one line.
    public var summary: String {
        switch self {
        case .singleGPU: return "one GPU, periodic halos by two device copies (the serial time and the reference result)"
        case .nccl: return "stencil, then ncclSend/ncclRecv of both halo rows in one group; norm by ncclAllReduce"
        case .ncclOverlap: return "boundary rows first on a second stream, their exchange overlapped with the interior"
        case .ncclGraphs: return "nccl_overlap captured once into CUDA graphs and replayed"
        case .ncclUB: return "nccl_graphs on ncclMemAlloc buffers registered with ncclCommRegister"
        case .ncclSymm: return "nccl_graphs on ncclMemAlloc buffers registered as a symmetric window (ncclCommWindowRegister)"
        case .nvshmem: return "one nvshmem_float_p per boundary element inside the stencil, nvshmemx_barrier_all_on_stream"
        case .nvshmemBlock: return "one non-blocking block put per boundary row segment, nvshmemx_barrier_all_on_stream"
        case .nvshmemOpt: return "block puts + signals: each PE waits only for its two neighbours; device-side norm, one kernel per iteration"
        case .ncclLSA: return "NCCL device API (LSA): boundary rows stored into the neighbours' windows, neighbour flags; device-side norm"
        }
    }

    public var usesNCCL: Bool { [.nccl, .ncclOverlap, .ncclGraphs, .ncclUB, .ncclSymm, .ncclLSA].contains(self) }
    public var usesNVSHMEM: Bool { [.nvshmem, .nvshmemBlock, .nvshmemOpt].contains(self) }
    /// `nccl`, `nvshmem` or `cuda` for the results' backend column.
    public var backend: String { usesNVSHMEM ? "nvshmem" : usesNCCL ? "nccl" : "cuda" }
    /// Built in this binary (every variant now; a variant added before its kernels is listed as not built).
    public var isBuilt: Bool { true }
    /// The norm is summed over ranks inside the stencil kernels (device-side, docs/jacobi.md) and
    /// the host reads each check while a later kernel is queued, instead of a collective and a
    /// host wait every check.
    public var overlapsNorm: Bool { self == .nvshmemOpt || self == .ncclLSA }

    /// Parses a comma-separated list (`all` = every variant); throws one line naming a bad name.
    public static func parseList(_ text: String) throws -> [JacobiVariant] {
        var out: [JacobiVariant] = []
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if name == "all" { for v in allCases where !out.contains(v) { out.append(v) }; continue }
            guard let v = JacobiVariant(rawValue: name) else {
                throw JacobiInputError("unknown variant '\(name)'; known: all, \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !out.contains(v) { out.append(v) }
        }
        return out
    }
}

/// Bad input, in one line.
public struct JacobiInputError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Every variant is one benchmark of the Jacobi family: time to solution, checked against single_gpu.
extension JacobiVariant: BenchmarkDescriptor {
    public var key: String { rawValue }
    public var family: BenchmarkFamily { .jacobi }
    public var timings: [TimingStrategy] { [.timeToSolution] }
    /// The figure is the solver's time; the bare stencil's bytes (2 × 4 × (nx−2)(ny−2) per
    /// iteration) are counted by JacobiProblem for the copy-ceiling comparison, not per variant.
    public func accounting(bytes: Int, ranks: Int) -> Accounting { .timeToSolution }
    public func applicability(_ shape: JobShape) -> Applicability {
        if shape.gpusPerProcess != 1 { return .waived("runs one GPU per process") }
        if self == .singleGPU { return .applies }
        return shape.requires(ranks: 1, nccl: usesNCCL, nvshmem: usesNVSHMEM)
    }
}
