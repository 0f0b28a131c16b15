/// The gpucomm results schema: JSON Lines, one object per line, each tagged by `"type"`.
///
/// A results file is a sequence of `run` lines (provenance, once per run) and `result` lines
/// (one measured row each) that name their run by `run`. Files are append-only: several runs
/// may follow one another. docs/results-format.md documents every field; bump
/// `ResultsSchema.version` for any change that a reader of the older version would misread.
public enum ResultsSchema {
    /// Schema version written by this build.
    public static let version = 1
    /// Versions this build can read.
    public static let readable: ClosedRange<Int> = 1...1
}

/// Provenance of one run: what ran, where, with which libraries.
public struct RunInfo: Codable, Sendable, Equatable {
    /// Unique id of the run; result rows refer to it.
    public var run: String
    /// Schema version the line was written with.
    public var schema: Int
    /// Tool that produced the numbers: `gpucomm`, `nccl-tests`, `nvshmem-perftest`,
    /// `mgpm-jacobi`, `aws-efa-p5-study`.
    public var tool: String
    public var toolVersion: String?
    public var gitRevision: String?
    public var command: [String]?
    public var host: String?
    /// ISO 8601 UTC start time.
    public var time: String?
    public var gpus: [GPUInfo]?
    public var driver: String?
    public var cuda: String?
    public var nccl: String?
    public var nvshmem: String?
    public var topology: Topology?
    /// NCCL_* and NVSHMEM_* (and a few launcher) variables at start.
    public var environment: [String: String]?
    /// How ranks were launched: `single-process`, `local`, `mpirun`, `srun`, `torchrun`, `kubernetes`.
    public var launcher: String?
    /// For imported results: the file and the importer that read it.
    public var source: String?
    public var importer: String?
    /// Free text: attribution, quirks of the input, warnings.
    public var notes: [String]?
    /// True when several ranks shared one GPU (GPUCOMM_SHARE_GPUS=1 and more ranks on a host than
    /// GPUs): the run checks correctness only and its timings are not results. Absent otherwise,
    /// and in files written before the field existed.
    public var sharedGPUs: Bool?

    public init(run: String, tool: String) {
        self.run = run
        self.schema = ResultsSchema.version
        self.tool = tool
    }

    enum CodingKeys: String, CodingKey {
        case run, schema, tool, toolVersion = "tool_version", gitRevision = "git_revision", command, host, time
        case gpus, driver, cuda, nccl, nvshmem, topology, environment, launcher, source, importer, notes
        case sharedGPUs = "shared_gpus"
    }
}

/// One GPU as seen by the run.
public struct GPUInfo: Codable, Sendable, Equatable {
    public var index: Int
    public var name: String
    /// PCI bus id as NVML/CUDA print it, e.g. `0000:00:06.0`.
    public var pciBusId: String?
    public var uuid: String?
    public var memoryBytes: Int64?
    /// Compute capability, e.g. `9.0`.
    public var computeCapability: String?
    /// Active NVLink links.
    public var nvlinks: Int?
    /// Host the GPU belongs to (multi-process runs).
    public var host: String?

    public init(index: Int, name: String) {
        self.index = index
        self.name = name
    }

    enum CodingKeys: String, CodingKey {
        case index, name, pciBusId = "pci_bus_id", uuid, memoryBytes = "memory_bytes"
        case computeCapability = "compute_capability", nvlinks, host
    }
}

/// Interconnect facts a reader needs to judge a bandwidth figure.
public struct Topology: Codable, Sendable, Equatable {
    /// Active NVLink links per GPU (18 on H100/H200 SXM).
    public var nvlinksPerGPU: Int?
    /// Unidirectional data rate of one link in GB/s (25 for NVLink4: 450 GB/s over 18 links).
    public var nvlinkGBpsPerLink: Double?
    /// Peak unidirectional NVLink bandwidth per GPU in GB/s (450 for NVLink4 × 18).
    public var nvlinkPeakGBps: Double?
    /// NIC line rate per GPU in GB/s, when known or given.
    public var nicGBpsPerGPU: Double?
    /// GPU-pair link matrix as `nvidia-smi topo -m` labels it (`X`, `NV18`, `SYS`, ...).
    public var matrix: [[String]]?
    public var nodes: Int?
    public var gpusPerNode: Int?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case nvlinksPerGPU = "nvlinks_per_gpu", nvlinkGBpsPerLink = "nvlink_gbps_per_link"
        case nvlinkPeakGBps = "nvlink_peak_gbps", nicGBpsPerGPU = "nic_gbps_per_gpu", matrix, nodes
        case gpusPerNode = "gpus_per_node"
    }
}

/// Time statistics over timed iterations, in microseconds.
public struct TimeStats: Codable, Sendable, Equatable {
    public var min: Double
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var max: Double
    public var mean: Double
    /// Coefficient of variation: standard deviation / mean.
    public var cv: Double
    public var samples: Int

    public init(min: Double, p50: Double, p95: Double, p99: Double, max: Double, mean: Double, cv: Double, samples: Int) {
        self.min = min; self.p50 = p50; self.p95 = p95; self.p99 = p99
        self.max = max; self.mean = mean; self.cv = cv; self.samples = samples
    }
}

/// One measured row: a benchmark at one size (or one grid, one chunk size) on one set of GPUs.
public struct ResultRow: Codable, Sendable, Equatable {
    /// The `run` line this row belongs to.
    public var run: String
    /// Stable snake_case key: `all_reduce`, `alltoall`, `put_bw`, `jacobi`, ...
    public var benchmark: String
    /// Library or method: `nccl`, `nccl_device`, `nvshmem_device`, `nvshmem_host`, `torch`, `copy_engine`, ...
    public var backend: String
    /// `out_of_place` / `in_place` for collectives; the variant name for Jacobi; free otherwise.
    public var variant: String?
    public var dtype: String?
    public var op: String?
    public var root: Int?
    /// Message size as nccl-tests' `size` column counts it (bytes).
    public var sizeBytes: Int64?
    /// Elements, as nccl-tests' `count` column.
    public var count: Int64?
    /// Participating GPUs (PEs, ranks).
    public var ranks: Int
    public var nodes: Int?
    /// Chunk (packet) size for chunked transfers.
    public var chunkBytes: Int64?
    /// Buffer mode: `none`, `registered`, `symmetric`.
    public var buffer: String?
    /// Timing method: `host`, `events`, `graph`.
    public var timing: String?
    public var iterations: Int?
    /// Headline time per iteration in microseconds (averaged across ranks as nccl-tests does).
    public var timeUs: Double?
    public var stats: TimeStats?
    public var algbwGBps: Double?
    public var busbwGBps: Double?
    /// Wrong elements found by the check; nil when the input did not check.
    public var wrong: Int64?
    /// Other numbers: `speedup`, `efficiency`, `baseline_s`, `time_s`, `time_min_us`, `time_max_us`, ...
    public var metrics: [String: Double]?
    /// Other labels: `grid` = `16384x16384`, `scope` = `warp`, ...
    public var labels: [String: String]?

    public init(run: String, benchmark: String, backend: String, ranks: Int) {
        self.run = run
        self.benchmark = benchmark
        self.backend = backend
        self.ranks = ranks
    }

    enum CodingKeys: String, CodingKey {
        case run, benchmark, backend, variant, dtype, op, root, sizeBytes = "size_bytes", count, ranks, nodes
        case chunkBytes = "chunk_bytes", buffer, timing, iterations, timeUs = "time_us", stats
        case algbwGBps = "algbw_gbps", busbwGBps = "busbw_gbps", wrong, metrics, labels
    }
}

/// One line of a results file.
public enum ResultsLine: Sendable, Equatable {
    case run(RunInfo)
    case result(ResultRow)
}
