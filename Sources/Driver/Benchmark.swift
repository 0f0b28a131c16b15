import Measure

/// Which gpucomm command runs a benchmark, and so how its job is started.
public enum BenchmarkFamily: String, Sendable, CaseIterable {
    /// `gpucomm nccl`: NCCL collectives, one process for every GPU or one per GPU.
    case collective = "nccl"
    /// `gpucomm alltoall`: one all-to-all over every library and style, one process per GPU.
    case alltoall
    /// `gpucomm nccl-device alltoall`: NCCL's device API, one process per GPU.
    case ncclDevice = "nccl-device"
    /// `gpucomm nvshmem put|get|latency|signal|barrier`: one process (PE) per GPU.
    case nvshmem
    /// `gpucomm jacobi`: time to solution, one process per GPU.
    case jacobi
    /// `gpucomm copy`: host↔device and peer copies and pointer-chase latency, one process for every GPU.
    case copy
    /// `gpucomm moe`: MoE expert-parallel dispatch and combine, one process per GPU.
    case moe
}

/// How one case's bytes are counted: the one place per benchmark where that is decided.
public enum Accounting: Sendable, Equatable {
    /// algbw = `bytes` × `algbwFactor` / time; busbw = algbw × `busFactor` (nccl-tests' convention).
    case bandwidth(bytes: Int, algbwFactor: Double, busFactor: Double)
    /// The figure is the time of one operation; no bandwidth.
    case latency
    /// The figure is the time to solve a problem (Jacobi); no bandwidth.
    case timeToSolution

    /// algbw and busbw (GB/s) for a time per operation; nil for latency and time to solution.
    public func bandwidth(microseconds us: Double) -> (algbw: Double, busbw: Double)? {
        guard case let .bandwidth(bytes, a, b) = self else { return nil }
        let alg = Bandwidth.gbps(bytes: bytes, microseconds: us) * a
        return (alg, alg * b)
    }
}

/// How a benchmark's time is taken (docs/method.md).
public enum TimingStrategy: String, Sendable, CaseIterable {
    /// Host clock around -n back-to-back operations, streams synchronised at both ends.
    case hostLoop = "host"
    /// CUDA events around every iteration; per iteration the slowest GPU's time.
    case events
    /// The iterations captured into one CUDA graph per GPU, replayed; host clock around the replays.
    case graphReplay = "graph"
    /// The kernel reads the GPU's clock (%globaltimer) around its own operations.
    case deviceClock = "device_clock"
    /// Host clock around a whole run of a solver.
    case timeToSolution = "time_to_solution"
}

/// Whether a benchmark runs on the job at hand; a waived one is listed with its reason, never a failure.
public enum Applicability: Sendable, Equatable {
    case applies
    case waived(String)

    public var reason: String? { if case let .waived(r) = self { return r }; return nil }
}

/// What a benchmark's applicability depends on: the GPUs and processes of the job, before any GPU work.
public struct JobShape: Sendable, Equatable {
    /// Ranks of the job (one GPU each).
    public var ranks: Int
    /// GPUs this process drives.
    public var gpusPerProcess: Int
    /// Compute capability major of the GPUs (e.g. 9 for H100/H200).
    public var computeCapabilityMajor: Int
    /// Which optional libraries loaded.
    public var hasNCCL: Bool
    public var hasNVSHMEM: Bool
    /// More ranks than GPUs (GPUCOMM_SHARE_GPUS=1 under MPS): NCCL refuses two ranks on one GPU.
    public var sharesGPUs: Bool

    public init(ranks: Int, gpusPerProcess: Int = 1, computeCapabilityMajor: Int = 9, hasNCCL: Bool = true, hasNVSHMEM: Bool = true,
                sharesGPUs: Bool = false) {
        self.ranks = ranks; self.gpusPerProcess = gpusPerProcess; self.computeCapabilityMajor = computeCapabilityMajor
        self.hasNCCL = hasNCCL; self.hasNVSHMEM = hasNVSHMEM; self.sharesGPUs = sharesGPUs
    }

    /// The common rules: a library that did not load, or too few ranks.
    public func requires(ranks need: Int, nccl: Bool = false, nvshmem: Bool = false) -> Applicability {
        if nccl && sharesGPUs && ranks > 1 { return .waived("NCCL refuses two ranks on one GPU") }
        if nccl && !hasNCCL { return .waived("needs NCCL") }
        if nvshmem && !hasNVSHMEM { return .waived("needs NVSHMEM") }
        if ranks < need { return .waived("needs \(need) GPUs") }
        return .applies
    }
}

/// One benchmark gpucomm runs: a stable key, what it does, how its bytes are counted, how it is
/// timed and where it applies. Every family's descriptors conform (CollectiveDescriptor,
/// AlltoallDescriptor, NCCLDeviceAlltoallDescriptor, the NVSHMEM and Jacobi descriptors);
/// `Benchmarks.registry` (target Benchmarks) lists them all for `suite`, `selftest` and the docs.
public protocol BenchmarkDescriptor: Sendable {
    /// Stable snake_case key, unique within the family; the results rows' `benchmark` or `backend`.
    var key: String { get }
    /// What it does, in one line.
    var summary: String { get }
    var family: BenchmarkFamily { get }
    /// The timing strategies it supports, its default first.
    var timings: [TimingStrategy] { get }
    /// How the bytes of one operation of `bytes` (the size the user asked for, per rank) over `ranks` ranks are counted.
    func accounting(bytes: Int, ranks: Int) -> Accounting
    /// Whether it runs on a job of this shape.
    func applicability(_ shape: JobShape) -> Applicability
}

extension BenchmarkDescriptor {
    /// `family/key`: unique over the registry.
    public var qualifiedKey: String { "\(family.rawValue)/\(key)" }
}
