import Driver
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

    enum SweepWords: SweepDefaults {
        static let minBytes = "16K", minHelp = "Smallest per-rank buffer."
        static let maxBytes = "256M", maxHelp = "Largest per-rank buffer."
        static let stepFactor = 4
    }

    @Option(name: .long, help: "Backends: all, or a comma-separated list (see above).")
    var backends: Typed<BackendListReading> = "all"
    @OptionGroup var sweep: SweepOptions<SweepWords>
    @Option(name: [.customShort("n"), .customLong("iters")], parsing: .unconditional, help: "Timed iterations per size and backend.")
    var iters = 20
    @Option(name: [.customShort("w"), .customLong("warmup_iters")], parsing: .unconditional, help: "Warm-up iterations per size and backend.")
    var warmup = 5
    @Option(name: .long, help: "host (nccl-tests' host clock around the loop) or events (CUDA events per iteration).")
    var timing: Choice<TimingMode> = "host"
    @Option(name: .long, parsing: .unconditional, help: "gpucomm kernels: total blocks, split evenly across peers; 0 = one per 64 KiB per peer, at most one per SM.")
    var blocks = 0
    @Option(name: .long, parsing: .unconditional, help: "gpucomm kernels: threads per block (multiple of 32, at most 1024).")
    var threads = 512
    @Option(name: .long, parsing: .unconditional, help: "nvshmem-signal: bytes per put+signal piece (multiple of 16).")
    var chunk: Typed<ChunkReading> = "256K"
    @Option(name: .long, parsing: .unconditional, help: "nvshmem-direct, nvshmem-tma: blocks take pieces of this size round-robin when their equal slice of a peer's block is larger (multiple of 16); 0 = one contiguous slice per block.")
    var interleave: Typed<InterleaveReading> = "256K"
    @Option(name: .long, parsing: .unconditional, help: "nvshmem-ce, cuda-ce, cuda-ce-1p: pieces per peer block, each copied on its own stream (1 to 16).")
    var copySplit = 1
    @Option(name: .long, help: "nvshmem-ce, cuda-ce, cuda-ce-1p: pull (the receiver's copy engines read from the sender; default) or push (the sender's write into the receiver).")
    var copyMode: Choice<CopyMode> = "pull"
    @Option(name: .long, help: "cuda-ce-1p: how copies are ordered across GPUs: relay (default: rank 0's stream starts every GPU's copies and waits for each one's end, by events), flags (each GPU forks and joins its own copies between two flag barrier kernels: 0.5% faster from 64 MiB up, slower at small sizes), events (every copy forked from and joined into rank 0's stream by events), events-graph (events captured into one CUDA graph per size and replayed: the fastest at small sizes; add --copy-rounds serial for large ones).")
    var copySync: Choice<CopySync> = "relay"
    @Option(name: .long, help: "nvshmem-ce, cuda-ce, cuda-ce-1p: parallel (every peer's block on its own stream at once) or serial (the peers' blocks one after another on one stream, the local block beside).")
    var copyRounds: Choice<CopyRounds> = "parallel"
    @Option(name: .long, help: "cuda-ce-1p: who copies each GPU's own block: ce (a copy engine) or sm (a kernel, leaving the copy engines to the peers' blocks).")
    var copyLocal: Choice<CopyLocal> = "ce"
    @Option(name: .long, parsing: .unconditional, help: "cuda-ce-1p: percent of every peer's block an SM kernel moves beside the copy engines, in the --copy-mode direction (0 to 90; 0 = copy engines only).")
    var copySm = 0
    @Option(name: .long, parsing: .unconditional, help: "nvshmem-tma: bytes per bulk copy (one stage of each block's shared-memory ring; multiple of 16).")
    var tmaStage: ByteSizeOption = "32K"
    @Option(name: .long, parsing: .unconditional, help: "nvshmem-tma: stages in each block's ring (2 to 8); shared memory per block = stage × stages + 8 × stages.")
    var tmaStages = 4
    @Option(name: .long, parsing: .unconditional, help: "Chunk-size sweep of nvshmem-signal: comma-separated chunk sizes.")
    var chunks: Typed<ChunkListReading>?
    @Option(name: [.customShort("c"), .customLong("check")], parsing: .unconditional, help: "Check the data (1) or not (0).")
    var check = 1
    @OptionGroup var output: ResultsOptions
    @OptionGroup var launch: LaunchOptions

    /// `--chunk`/`--chunks`/`--interleave`: a size that is a multiple of 16 bytes, or the one line naming the flag.
    static func chunkProblem(_ s: String, _ flag: String) -> ValidationError {
        ValidationError("\(flag) '\(s)' must be a size that is a multiple of 16 bytes (examples: 16K, 1M)")
    }

    func validate() throws {
        _ = try sweep.sizes()
        if let e = backends.problem { throw ValidationError("--backends: \(e)") }
        guard timing.parsed != nil else { throw ValidationError("--timing must be host or events (got '\(timing)')") }
        guard iters >= 1 else { throw ValidationError("-n must be at least 1 (got \(iters))") }
        guard warmup >= 0, blocks >= 0 else { throw ValidationError("-w and --blocks must be at least 0") }
        guard threads >= 32, threads <= 1024, threads % 32 == 0 else { throw ValidationError("--threads must be a multiple of 32 from 32 to 1024 (got \(threads))") }
        if let bad = chunk.unread { throw Self.chunkProblem(bad, "--chunk") }
        if let bad = chunks?.unread { throw Self.chunkProblem(bad, "--chunks") }
        guard (1...16).contains(copySplit) else { throw ValidationError("--copy-split must be from 1 to 16 (got \(copySplit))") }
        if let bad = interleave.unread { throw Self.chunkProblem(bad, "--interleave") }
        guard copyMode.parsed != nil else { throw ValidationError("--copy-mode must be push or pull (got '\(copyMode)')") }
        guard copyRounds.parsed != nil else { throw ValidationError("--copy-rounds must be parallel or serial (got '\(copyRounds)')") }
        guard (0...90).contains(copySm) else { throw ValidationError("--copy-sm must be a percent from 0 to 90 (got \(copySm))") }
        guard copyLocal.parsed != nil else { throw ValidationError("--copy-local must be ce or sm (got '\(copyLocal)')") }
        guard copySync.parsed != nil else {
            throw ValidationError("--copy-sync must be one of \(CopySync.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(copySync)')")
        }
        guard let stage = tmaStage.parsed else { throw ValidationError("--tma-stage '\(tmaStage)' is not a size (examples: 16K, 32K)") }
        if let why = TMAStaging(stageBytes: stage, stages: tmaStages).problem { throw ValidationError(why) }
        guard check == 0 || check == 1 else { throw ValidationError("-c must be 0 or 1 (got \(check))") }
        if let g = launch.gpusPerProcess, g != 1 { throw ValidationError("alltoall runs one GPU per process: -g must be 1 (use --np N)") }
    }

    var kernelOptions: KernelOptions {
        var k = KernelOptions()
        k.blocks = blocks; k.threads = threads; k.chunk = chunk.value
        k.copySplit = copySplit
        k.copyMode = copyMode.value
        k.copySync = copySync.value
        k.copyRounds = copyRounds.value
        k.copyLocal = copyLocal.value
        k.copySMPercent = copySm
        k.interleave = interleave.value
        k.tma = TMAStaging(stageBytes: tmaStage.value, stages: tmaStages)
        return k
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        if try launch.np == nil && env["GPUCOMM_RANK"] == nil && !RankEnvironment.present(env) {
            throw Failure(.usage, "alltoall needs one process per GPU: add --np N (or start it with mpirun/srun/torchrun)")
        }
        if let status = try Job.spawnIfAsked(launch.spec) { throw Failure(ExitStatus(rawValue: status) ?? .failure, "") }
        let requested = chunks == nil ? backends.value : [.nvshmemSignal]
        let swept = try sweep.sizes()
        let lo = swept[0]
        let job = try Job(launch.spec, needsNCCL: false) { world, _ in
            if world < 2 { throw Failure(.usage, "alltoall needs at least 2 ranks (got \(world))") }
            if lo < 16 * world { throw Failure(.usage, "-b \(lo) is below 16 bytes per peer × \(world) ranks = \(16 * world)") }
        }
        defer { job.close() }
        let n = job.worldSize
        let sizes = Array(Set(swept.map { AlltoallLayout.effectiveBytes($0, ranks: n) })).sorted()
        var bench = AlltoallBench.Options()
        bench.iterations = iters; bench.warmup = warmup; bench.check = check == 1; bench.timing = timing.value
        let run = AlltoallRun(job: job, settings: .init(bench: bench, kernel: kernelOptions, timeout: launch.timeout,
                                                        resultsPath: output.noResults ? nil : output.results), sizes: sizes)
        try run.start(requested)
        if let chunks {
            try run.chunkSweep(chunks.value)
        } else {
            try run.table()
        }
        try run.finish()
    }
}

/// `--backends`: `all` or a comma-separated list of backend names (`BackendKind.parseList`).
enum BackendListReading: OptionReading {
    static func read(_ text: String) throws -> [BackendKind] { try BackendKind.parseList(text) }
}

/// `--chunk`: a size that is a multiple of 16 bytes, at least 16.
enum ChunkReading: OptionReading {
    static func read(_ text: String) throws -> Int {
        guard let v = ByteSize.parse(text), v >= 16, v % 16 == 0 else { throw UnreadText(text: text) }
        return v
    }
}

/// `--chunks`: comma-separated `--chunk` sizes (no empty item); the first bad one is named.
enum ChunkListReading: OptionReading {
    static func read(_ text: String) throws -> [Int] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { try ChunkReading.read(String($0)) }
    }
}

/// `--interleave`: exactly `0` (one contiguous slice per block), or a `--chunk` size.
enum InterleaveReading: OptionReading {
    static func read(_ text: String) throws -> Int { text == "0" ? 0 : try ChunkReading.read(text) }
}
