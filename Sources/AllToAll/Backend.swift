import Driver
import Collectives
import GPU
import Kernels

/// The ways gpucomm runs one all-to-all: libraries and styles, each over the job's GPUs (one per process).
public enum BackendKind: String, CaseIterable, Sendable {
    case nccl
    case ncclReg = "nccl-reg"
    case ncclSymm = "nccl-symm"
    case ncclDevice = "nccl-device"
    case nvshmemLib = "nvshmem-lib"
    case nvshmemPut = "nvshmem-put"
    case nvshmemSignal = "nvshmem-signal"
    case nvshmemDirect = "nvshmem-direct"
    case nvshmemTMA = "nvshmem-tma"
    case nvshmemHost = "nvshmem-host"
    case nvshmemHostGraph = "nvshmem-host-graph"
    case nvshmemCE = "nvshmem-ce"
    case cudaCE = "cuda-ce"
    case cudaCE1P = "cuda-ce-1p"

    /// What it is, in one line (the --help list and docs/alltoall.md).
    public var summary: String {
        switch self {
        case .nccl: return "ncclAlltoAll on plain cuMemAlloc buffers"
        case .ncclReg: return "ncclAlltoAll on ncclCommRegister'ed buffers"
        case .ncclSymm: return "ncclAlltoAll on ncclMemAlloc buffers in symmetric windows (ncclCommWindowRegister)"
        case .ncclDevice: return "NCCL device API (LSA) all-to-all kernel"
        case .nvshmemLib: return "NVSHMEM's device-side team all-to-all (nvshmemx_alltoallmem_block) in a one-block cooperative kernel"
        case .nvshmemPut: return "gpucomm kernel: blocking block-scope puts to every peer, quiet, grid sync, device barrier"
        case .nvshmemSignal: return "gpucomm kernel: non-blocking puts in --chunk pieces, each with a signal; receivers wait for their signals"
        case .nvshmemDirect: return "gpucomm kernel: 16-byte stores straight into peers through nvshmem_ptr, one signal per block"
        case .nvshmemTMA: return "gpucomm kernel: bulk async copies (TMA, sm_90+) through a shared-memory ring into peers via nvshmem_ptr, one signal per block"
        case .nvshmemHost: return "host-initiated nvshmemx_alltoallmem_on_stream"
        case .nvshmemHostGraph: return "nvshmemx_alltoallmem_on_stream captured once in a CUDA graph, replayed each iteration"
        case .nvshmemCE: return "copy engines: one cuMemcpyDtoDAsync per peer (--copy-split pieces) between this PE's buffer and the peer's in NVSHMEM's heap (nvshmem_ptr; --copy-mode push writes into the peer's receive buffer, pull reads the peer's send buffer), each on its own stream, then nvshmemx_barrier_all_on_stream"
        case .cudaCE: return "copy engines over CUDA IPC, no library: cuMemAlloc buffers mapped with cuIpcOpenMemHandle, one cuMemcpyDtoDAsync per peer (--copy-split pieces, --copy-mode push or pull) on its own stream, then a flag barrier kernel"
        case .cudaCE1P: return "copy engines, every copy issued by rank 0's process for all GPUs (one host): rank 0 allocates every rank's send/receive buffers on that rank's GPU (the other ranks map theirs by CUDA IPC to fill and check), enables peer access, and enqueues one cuMemcpyDtoDAsync per (source, destination) pair (--copy-split pieces) on streams of the source GPU (--copy-mode push) or the destination's (pull); by default rank 0's stream starts every GPU's copies and waits for each GPU's end by events (--copy-sync)"
        }
    }

    /// When its per-iteration work ends, what is true (the same for all: every receiver holds every byte).
    public var completion: String {
        switch self {
        case .nccl, .ncclReg, .ncclSymm: return "ncclAlltoAll's kernel ends after this rank has received every block"
        case .ncclDevice: return "the kernel's closing LSA barrier: every peer has written its block"
        case .nvshmemLib: return "NVSHMEM's all-to-all returns after its closing team barrier"
        case .nvshmemPut: return "block 0's nvshmemx_barrier_all_block after every thread's nvshmem_quiet and a grid sync"
        case .nvshmemSignal: return "each PE's kernel waits for ceil(bytes per peer / chunk) signals from every PE"
        case .nvshmemDirect: return "each PE's kernel waits for one signal per sending block from every PE"
        case .nvshmemTMA: return "each PE's kernel waits for one signal per sending block from every PE, sent after the block's bulk stores completed"
        case .nvshmemHost, .nvshmemHostGraph: return "nvshmemx_alltoallmem_on_stream's work on the stream includes its closing barrier"
        case .nvshmemCE: return "the stream joins every copy, then nvshmemx_barrier_all_on_stream: every PE's copies have completed"
        case .cudaCE: return "the stream joins every copy, then gc_ipc_barrier_next: every PE has released its flag after its copies"
        case .cudaCE1P: return "rank 0's stream passes the event join (--copy-sync relay, events) or the closing barrier (flags) only when every copy on every GPU has completed; the other ranks enqueue nothing, and timing takes rank 0's clock"
        }
    }

    /// The results file's `backend` field (snake_case, as the other gpucomm rows).
    public var resultsName: String { rawValue.replacingOccurrences(of: "-", with: "_") }
    public var usesNCCL: Bool { rawValue.hasPrefix("nccl") }
    /// The results row's `initiator` label: `nccl`, `host` (the host enqueues the transfers: library
    /// calls or copies) or `device` (a kernel moves the data).
    public var initiator: String {
        if usesNCCL { return "nccl" }
        return [.nvshmemHost, .nvshmemHostGraph, .nvshmemCE, .cudaCE, .cudaCE1P].contains(self) ? "host" : "device"
    }
    public var usesNVSHMEM: Bool { rawValue.hasPrefix("nvshmem") }
    /// gpucomm's own kernels, which take --blocks and --threads.
    public var ownKernel: Bool { [.nvshmemPut, .nvshmemSignal, .nvshmemDirect, .nvshmemTMA].contains(self) }

    /// Parses `all` or a comma-separated list of names; throws a message naming the bad one.
    public static func parseList(_ text: String) throws(BackendListError) -> [BackendKind] {
        if text == "all" { return allCases }
        var out: [BackendKind] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let k = BackendKind(rawValue: name) else { throw BackendListError(name: name) }
            if !out.contains(k) { out.append(k) }
        }
        return out
    }
}

/// An unknown backend name.
public struct BackendListError: Error, CustomStringConvertible, Sendable {
    public var name: String
    public var description: String {
        "unknown backend '\(name)': use all or a comma-separated list of \(BackendKind.allCases.map(\.rawValue).joined(separator: ", "))"
    }
}

/// Which side's copy engines move a block in the copy-engine backends (`--copy-mode`).
///
/// Measured on 4×H200 (bench/results/2026-11-21-4xH200-session4/, calls 5 and 6): one process
/// with native allocations and peer access (cuda-ce-1p), push 208–226 GB/s busbw at 32 MiB–1 GiB
/// per rank, pull 347 at 256 MiB and 380 at 1 GiB; over CUDA IPC (cuda-ce) or NVSHMEM's heap
/// (nvshmem-ce) with one process per GPU, 190–225 either way.
public enum CopyMode: String, Sendable, CaseIterable {
    /// The copy runs on a stream of the sending GPU: it reads locally and writes over NVLink.
    case push
    /// The copy runs on a stream of the receiving GPU: it reads over NVLink and writes locally.
    case pull
}

/// How cuda-ce-1p orders its copies across the GPUs (`--copy-sync`).
///
/// Measured on 4×H200, pulling (bench/results/2026-11-21-4xH200-session5/, calls 1–8; busbw at
/// 256 MiB / 1 GiB per rank, time at 4 KiB per peer): flags 356.4–358.8 / 382.3–383.2 GB/s,
/// 106–146 µs; relay 355.0–356.4 / 381.5–382.3, 75–84 µs; events 346.3–347.1 / 379.4–379.6,
/// 106 µs; events-graph 208–227 / 210–226 with parallel rounds but 352–354 / 381 with
/// `--copy-rounds serial`, 42–54 µs. Three more were measured and dropped (docs/alltoall.md):
/// the flags barriers as stream memory operations, relay by stream memory operations, and the
/// flags all-to-all captured per GPU.
public enum CopySync: String, Sendable, CaseIterable {
    /// Cross-device events through rank 0's stream: every copy stream waits for an event recorded
    /// there, and rank 0's stream waits for every copy (two cross-device hops per all-to-all).
    case events
    /// `events`, captured once per size into one CUDA graph that spans the GPUs, replayed: the
    /// fastest at small sizes; its copies run at ~220 GB/s unless `--copy-rounds serial`.
    case eventsGraph = "events-graph"
    /// Each GPU forks and joins its own copies on a head stream of its own (rank 0's: the
    /// caller's stream; events of one device only), between two flag barriers across the GPUs
    /// (gc_ipc_barrier_next): the fastest from 64 MiB per rank up, by 0.5% over `relay`. A GPU
    /// whose barrier never starts (an enqueue failing half-way) leaves the others spinning.
    case flags
    /// Rank 0 relays instead of two barriers: its stream signals every other GPU's head stream to
    /// start (after its earlier work), each GPU joins its own copies, and rank 0's stream waits
    /// for every GPU's end, each signal a cross-device event. The default: within 0.5% of `flags`
    /// from 64 MiB up, 75–84 µs instead of 106–146 at 4 KiB per peer, and no kernel that can spin.
    case relay

    /// Every GPU has a head stream.
    var usesHeads: Bool { self == .flags || self == .relay }
}

/// Whether a GPU's copies from (or to) its peers in the copy-engine backends run all at once or
/// one round after another (`--copy-rounds`, `CopyPlan`).
public enum CopyRounds: String, Sendable, CaseIterable {
    /// One stream per peer block: every round at once.
    case parallel
    /// The peers' blocks one after another on one stream (round k: from peer g − k pulling, to
    /// peer g + k pushing), the local block on a stream of its own beside them.
    case serial
}

/// Where cuda-ce-1p copies a GPU's own block (`--copy-local`).
public enum CopyLocal: String, Sendable, CaseIterable {
    /// A copy engine, like the other blocks.
    case ce
    /// An SM kernel (gc_copy16), leaving the copy engines to the peers' blocks.
    case sm
}

/// Knobs of gpucomm's own kernels.
public struct KernelOptions: Sendable, Equatable {
    /// Total blocks, split evenly across peers (rounded down to a multiple of the PE count);
    /// 0 = by size: one block per 64 KiB per peer, at most one per multiprocessor.
    public var blocks = 0
    public var threads = 512
    /// Piece size of the signal kernel (bytes, multiple of 16).
    public var chunk = 256 << 10
    /// nvshmem-direct, nvshmem-tma: when a block's even slice of a peer's block is larger than
    /// this, the blocks take pieces of this size round-robin instead (bytes, multiple of 16;
    /// 0 = one contiguous slice per block). Measured on 4×H200 at 64 MiB–1 GiB per rank
    /// (bench/results/2026-11-21-4xH200-session4/call8-interleave): 256 KiB lifts nvshmem-tma from
    /// 245–285 to 290–320 GB/s busbw and nvshmem-direct from 301–312 to 305–319.
    public var interleave = 256 << 10
    /// nvshmem-ce, cuda-ce, cuda-ce-1p: pieces (and streams) per peer block.
    public var copySplit = 1
    /// nvshmem-ce, cuda-ce, cuda-ce-1p: who moves each block (push: the sender's copy engines
    /// write into the receiver; pull: the receiver's read from the sender). Pull by default: it
    /// is what makes cuda-ce-1p fast, and the same as push for the other two (measured, CopyMode).
    public var copyMode = CopyMode.pull
    /// cuda-ce-1p: how the copies are ordered across GPUs.
    public var copySync = CopySync.relay
    /// nvshmem-ce, cuda-ce, cuda-ce-1p: the peers' blocks all at once or one after another.
    public var copyRounds = CopyRounds.parallel
    /// cuda-ce-1p: who copies a GPU's own block.
    public var copyLocal = CopyLocal.ce
    /// cuda-ce-1p: percent of every peer's block an SM kernel moves (the same direction as
    /// `copyMode`: pulling, the receiver's SMs load over NVLink) beside the copy engines; 0 = none.
    public var copySMPercent = 0
    /// The shared-memory ring of the TMA kernel (nvshmem-tma).
    public var tma = TMAStaging()
    public init() {}

    /// Blocks per peer for `bytesPerPeer` on a GPU with `sms` multiprocessors and `pes` PEs, capped by `resident` blocks.
    public func blocksPerPeer(bytesPerPeer: Int, pes: Int, sms: Int, resident: Int) -> Int {
        let limit = max(1, min(sms, resident) / pes)
        if blocks > 0 { return max(1, min(blocks / pes, limit)) }
        return max(1, min(bytesPerPeer / (64 << 10), limit))
    }
}

/// One way to run an all-to-all over symmetric send and receive buffers of `maxBytesPerRank` bytes.
///
/// Layout: the send buffer holds one block of `bytesPerRank / n` bytes per peer, in rank order;
/// block p goes to peer p and lands at block r of its receive buffer (nccl-tests' alltoall).
public protocol AlltoallBackend: AnyObject {
    var kind: BackendKind { get }
    var send: DeviceBuffer { get }
    var recv: DeviceBuffer { get }
    /// Readies a size (graph capture, argument marshalling); every rank calls it, before `enqueue`.
    func prepare(bytesPerRank: Int) throws
    /// Enqueues one complete all-to-all on `stream`: when that work ends, every receiver has every byte.
    func enqueue(bytesPerRank: Int, stream: Stream) throws
    /// Labels for the results row (blocks, chunk, ...) at this size.
    func labels(bytesPerRank: Int) -> [String: String]
    /// Why this size is not run (a measured hang in a library), or nil; the same on every rank.
    func skipReason(bytesPerRank: Int) -> String?
    /// True when one rank (rank 0) enqueues every rank's work and the others' `enqueue` does nothing
    /// (cuda-ce-1p): host timing then takes rank 0's clock instead of the average over ranks.
    var issuedByOneRank: Bool { get }
}

extension AlltoallBackend {
    public func prepare(bytesPerRank: Int) throws {}
    public func labels(bytesPerRank: Int) -> [String: String] { [:] }
    public func skipReason(bytesPerRank: Int) -> String? { nil }
    public var issuedByOneRank: Bool { false }
}

/// What backends are built from: this process's GPU, and the libraries the job started.
public struct BackendContext {
    public var device: Device
    public var stream: Stream
    public var compiler: RuntimeCompiler
    /// This rank and the number of ranks (PEs).
    public var rank: Int
    public var ranks: Int
    public var maxBytesPerRank: Int
    public var comm: Communicator?
    public var session: NVSHMEMSession?
    public var kernel: KernelOptions
    /// The job's control channel (cuda-ce and cuda-ce-1p exchange IPC handles over it).
    public var channel: JobChannel?

    public init(device: Device, stream: Stream, compiler: RuntimeCompiler, rank: Int, ranks: Int, maxBytesPerRank: Int,
                comm: Communicator?, session: NVSHMEMSession?, kernel: KernelOptions, channel: JobChannel? = nil) {
        self.device = device; self.stream = stream; self.compiler = compiler; self.rank = rank; self.ranks = ranks
        self.maxBytesPerRank = maxBytesPerRank; self.comm = comm; self.session = session; self.kernel = kernel; self.channel = channel
    }
}

/// Every backend is one benchmark of the all-to-all family, keyed by its results name.
extension BackendKind: BenchmarkDescriptor {
    public var key: String { resultsName }
    public var family: BenchmarkFamily { .alltoall }
    public var timings: [TimingStrategy] { [.hostLoop, .events] }
    /// nccl-tests' alltoall accounting, the same for every backend (from the collective's descriptor).
    public func accounting(bytes: Int, ranks: Int) -> Accounting { AlltoallLayout.accounting(bytesPerRank: bytes, ranks: ranks) }
    public func applicability(_ shape: JobShape) -> Applicability {
        if shape.gpusPerProcess != 1 { return .waived("runs one GPU per process") }
        if self == .nvshmemTMA && shape.computeCapabilityMajor < 9 { return .waived("needs sm_90 (TMA)") }
        return shape.requires(ranks: 2, nccl: usesNCCL, nvshmem: usesNVSHMEM)
    }
}
