import AllToAll
import ArgumentParser
import Collectives
import Foundation
import GPU
import Kernels
import Measure
import Results

struct AlltoallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alltoall",
        abstract: "The same all-to-all over every library and style (NCCL, NCCL registered/symmetric/device API, NVSHMEM device and host, copy engines), checked, in one table.",
        discussion: """
        One process per GPU (--np N, or mpirun/srun/torchrun); every GPU of the job takes part. \
        Each rank's send buffer holds one block of size/N bytes per peer; block p goes to rank p \
        and lands at block r of its receive buffer (nccl-tests' alltoall).

        Byte accounting as nccl-tests: size = the per-rank buffer (rounded down to a multiple of \
        16 × N so every block is 16-byte aligned; the table prints the size moved); \
        algbw = size / time; busbw = algbw × (N−1)/N. Time: host clock around -n back-to-back \
        all-to-alls after -w warm-ups, averaged over ranks (--timing events: CUDA events per \
        iteration, slowest rank, mean). Every backend's work per iteration is a complete \
        all-to-all: when it ends, every receiver holds every byte (docs/alltoall.md lists how each \
        backend guarantees it).

        Every backend and size is checked before it is timed (-c 0 to skip): receive buffers \
        poisoned, send data filled, one all-to-all, wrong bytes counted on every rank (exit 3 if any).

        Backends (--backends all, or a comma-separated list):
        \(BackendKind.allCases.map { "  \($0.rawValue): \($0.summary)" }.joined(separator: "\n"))
        Backends that cannot run here are listed with a one-line reason, not an error.

        nvshmem-tma (sm_90+): one thread per block streams the block's slice through a ring of \
        --tma-stages buffers of --tma-stage bytes in shared memory with bulk asynchronous copies \
        (TMA); --threads beyond the first warp idle, so --threads 32 is enough.

        Copy-engine backends (nvshmem-ce, cuda-ce, cuda-ce-1p): --copy-mode push runs each copy on the \
        sending GPU (it writes over NVLink), pull on the receiving GPU (it reads over NVLink); \
        --copy-split cuts each block into pieces on streams of their own. cuda-ce-1p issues every copy \
        from rank 0's process for all GPUs of the host, on buffers it allocates (every GPU must be \
        visible to every process; the other ranks map theirs to fill and check); host timing takes \
        rank 0's clock. --copy-sync orders its copies across GPUs (relay, flags, events, \
        events-graph); --copy-rounds serial runs a GPU's peer blocks one after another; --copy-local sm \
        and --copy-sm P give its own block, or P% of every peer block, to an SM kernel. \
        GPUCOMM_COPY_TRACE=1 with --copy-sync flags adds per-part times (trace_* labels) to the rows.

        --chunks 16K,64K,... runs the chunk-size sweep instead: the nvshmem-signal backend at every \
        size and chunk, one table (size × chunk, busbw), rows with chunk_bytes.

        Examples:
          gpucomm alltoall --np 4 --backends all -b 4K -e 1G -f 4
          gpucomm alltoall --np 4 --backends nccl,nvshmem-direct -b 16K -e 16K -n 1000 -w 100
          gpucomm alltoall --np 4 -b 256M -e 256M --chunks 16K,64K,256K,1M,4M
        """)

    @Option(name: .long, help: "Backends: all, or a comma-separated list (see above).")
    var backends = "all"
    @Option(name: [.customShort("b"), .customLong("minbytes")], help: "Smallest per-rank buffer.")
    var minBytes = "16K"
    @Option(name: [.customShort("e"), .customLong("maxbytes")], help: "Largest per-rank buffer.")
    var maxBytes = "256M"
    @Option(name: [.customShort("f"), .customLong("stepfactor")], help: "Multiply the size by this each step.")
    var stepFactor = 4
    @Option(name: [.customShort("n"), .customLong("iters")], help: "Timed iterations per size and backend.")
    var iters = 20
    @Option(name: [.customShort("w"), .customLong("warmup_iters")], help: "Warm-up iterations per size and backend.")
    var warmup = 5
    @Option(name: .long, help: "host (nccl-tests' host clock around the loop) or events (CUDA events per iteration).")
    var timing = "host"
    @Option(name: .long, help: "gpucomm kernels: total blocks, split evenly across peers; 0 = one per 64 KiB per peer, at most one per SM.")
    var blocks = 0
    @Option(name: .long, help: "gpucomm kernels: threads per block (multiple of 32, at most 1024).")
    var threads = 512
    @Option(name: .long, help: "nvshmem-signal: bytes per put+signal piece (multiple of 16).")
    var chunk = "256K"
    @Option(name: .long, help: "nvshmem-direct, nvshmem-tma: blocks take pieces of this size round-robin when their equal slice of a peer's block is larger (multiple of 16); 0 = one contiguous slice per block.")
    var interleave = "256K"
    @Option(name: .long, help: "nvshmem-ce, cuda-ce, cuda-ce-1p: pieces per peer block, each copied on its own stream (1 to 16).")
    var copySplit = 1
    @Option(name: .long, help: "nvshmem-ce, cuda-ce, cuda-ce-1p: pull (the receiver's copy engines read from the sender; default) or push (the sender's write into the receiver).")
    var copyMode = "pull"
    @Option(name: .long, help: "cuda-ce-1p: how copies are ordered across GPUs: relay (default: rank 0's stream starts every GPU's copies and waits for each one's end, by events), flags (each GPU forks and joins its own copies between two flag barrier kernels: 0.5% faster from 64 MiB up, slower at small sizes), events (every copy forked from and joined into rank 0's stream by events), events-graph (events captured into one CUDA graph per size and replayed: the fastest at small sizes; add --copy-rounds serial for large ones).")
    var copySync = "relay"
    @Option(name: .long, help: "nvshmem-ce, cuda-ce, cuda-ce-1p: parallel (every peer's block on its own stream at once) or serial (the peers' blocks one after another on one stream, the local block beside).")
    var copyRounds = "parallel"
    @Option(name: .long, help: "cuda-ce-1p: who copies each GPU's own block: ce (a copy engine) or sm (a kernel, leaving the copy engines to the peers' blocks).")
    var copyLocal = "ce"
    @Option(name: .long, help: "cuda-ce-1p: percent of every peer's block an SM kernel moves beside the copy engines, in the --copy-mode direction (0 to 90; 0 = copy engines only).")
    var copySm = 0
    @Option(name: .long, help: "nvshmem-tma: bytes per bulk copy (one stage of each block's shared-memory ring; multiple of 16).")
    var tmaStage = "32K"
    @Option(name: .long, help: "nvshmem-tma: stages in each block's ring (2 to 8); shared memory per block = stage × stages + 8 × stages.")
    var tmaStages = 4
    @Option(name: .long, help: "Chunk-size sweep of nvshmem-signal: comma-separated chunk sizes.")
    var chunks: String?
    @Option(name: [.customShort("c"), .customLong("check")], help: "Check the data (1) or not (0).")
    var check = 1
    @Option(name: .long, help: "Append every row to this JSON Lines results file.")
    var results = "gpucomm-results.jsonl"
    @Flag(name: .long, help: "Write no results file.")
    var noResults = false
    @OptionGroup var launch: LaunchOptions

    static func parseChunk(_ s: String, _ flag: String) throws -> Int {
        guard let v = ByteSize.parse(s), v >= 16, v % 16 == 0 else {
            throw ValidationError("\(flag) '\(s)' must be a size that is a multiple of 16 bytes (examples: 16K, 1M)")
        }
        return v
    }

    func validate() throws {
        _ = try sweepSizes(minBytes: minBytes, maxBytes: maxBytes, factor: stepFactor)
        do { _ = try BackendKind.parseList(backends) } catch { throw ValidationError("--backends: \(error)") }
        guard TimingMode(rawValue: timing) != nil else { throw ValidationError("--timing must be host or events (got '\(timing)')") }
        guard iters >= 1 else { throw ValidationError("-n must be at least 1 (got \(iters))") }
        guard warmup >= 0, blocks >= 0 else { throw ValidationError("-w and --blocks must be at least 0") }
        guard threads >= 32, threads <= 1024, threads % 32 == 0 else { throw ValidationError("--threads must be a multiple of 32 from 32 to 1024 (got \(threads))") }
        _ = try Self.parseChunk(chunk, "--chunk")
        if let chunks { for c in chunks.split(separator: ",", omittingEmptySubsequences: false) { _ = try Self.parseChunk(String(c), "--chunks") } }
        guard (1...16).contains(copySplit) else { throw ValidationError("--copy-split must be from 1 to 16 (got \(copySplit))") }
        if interleave != "0" { _ = try Self.parseChunk(interleave, "--interleave") }
        guard CopyMode(rawValue: copyMode) != nil else { throw ValidationError("--copy-mode must be push or pull (got '\(copyMode)')") }
        guard CopyRounds(rawValue: copyRounds) != nil else { throw ValidationError("--copy-rounds must be parallel or serial (got '\(copyRounds)')") }
        guard (0...90).contains(copySm) else { throw ValidationError("--copy-sm must be a percent from 0 to 90 (got \(copySm))") }
        guard CopyLocal(rawValue: copyLocal) != nil else { throw ValidationError("--copy-local must be ce or sm (got '\(copyLocal)')") }
        guard CopySync(rawValue: copySync) != nil else {
            throw ValidationError("--copy-sync must be one of \(CopySync.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(copySync)')")
        }
        guard let stage = ByteSize.parse(tmaStage) else { throw ValidationError("--tma-stage '\(tmaStage)' is not a size (examples: 16K, 32K)") }
        if let why = TMAStaging(stageBytes: stage, stages: tmaStages).problem { throw ValidationError(why) }
        guard check == 0 || check == 1 else { throw ValidationError("-c must be 0 or 1 (got \(check))") }
        if let g = launch.gpusPerProcess, g != 1 { throw ValidationError("alltoall runs one GPU per process: -g must be 1 (use --np N)") }
    }

    var kernelOptions: KernelOptions {
        var k = KernelOptions()
        k.blocks = blocks; k.threads = threads; k.chunk = ByteSize.parse(chunk)!
        k.copySplit = copySplit
        k.copyMode = CopyMode(rawValue: copyMode)!
        k.copySync = CopySync(rawValue: copySync)!
        k.copyRounds = CopyRounds(rawValue: copyRounds)!
        k.copyLocal = CopyLocal(rawValue: copyLocal)!
        k.copySMPercent = copySm
        k.interleave = interleave == "0" ? 0 : ByteSize.parse(interleave)!
        k.tma = TMAStaging(stageBytes: ByteSize.parse(tmaStage)!, stages: tmaStages)
        return k
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        if try launch.np == nil && env["GPUCOMM_RANK"] == nil && !RankEnvironment.present(env) {
            throw Failure(.usage, "alltoall needs one process per GPU: add --np N (or start it with mpirun/srun/torchrun)")
        }
        if let status = try Job.spawnIfAsked(launch) { throw Failure(ExitStatus(rawValue: status) ?? .failure, "") }
        let requested = try BackendKind.parseList(chunks == nil ? backends : "nvshmem-signal")
        let swept = try sweepSizes(minBytes: minBytes, maxBytes: maxBytes, factor: stepFactor)
        let lo = swept[0]
        let job = try Job(launch, needsNCCL: false) { world, _ in
            if world < 2 { throw Failure(.usage, "alltoall needs at least 2 ranks (got \(world))") }
            if lo < 16 * world { throw Failure(.usage, "-b \(lo) is below 16 bytes per peer × \(world) ranks = \(16 * world)") }
        }
        defer { job.close() }
        let n = job.worldSize
        let sizes = Array(Set(swept.map { AlltoallLayout.effectiveBytes($0, ranks: n) })).sorted()
        let run = AlltoallRun(job: job, command: self, sizes: sizes)
        try run.start(requested)
        if let chunks {
            try run.chunkSweep(chunks.split(separator: ",").map { ByteSize.parse(String($0))! })
        } else {
            try run.table()
        }
        try run.finish()
    }
}
