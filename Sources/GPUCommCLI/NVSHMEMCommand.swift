import ArgumentParser
import Foundation
import GPU
import Kernels
import Measure
import NVSHMEMBench
import Results

struct NVSHMEMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nvshmem",
        abstract: "Benchmark NVSHMEM one-sided operations between two GPUs, checked.",
        discussion: """
        put/get: bandwidth (device- or host-initiated); latency: p, g, put, get one at a time; \
        signal: putmem_signal ping-pong. One process (PE) per GPU: add --np N or start under \
        mpirun/srun/torchrun. See docs/nvshmem.md.
        """,
        subcommands: [NVSHMEMPutCommand.self, NVSHMEMGetCommand.self, NVSHMEMLatencyCommand.self, NVSHMEMSignalCommand.self, NVSHMEMBarrierCommand.self])
}

/// Options of `nvshmem put` and `nvshmem get`.
struct P2PBandwidthOptions: ParsableArguments {
    enum SweepWords: SweepDefaults {
        static let minBytes = "1M", minHelp = "Smallest size."
        static let maxBytes = "256M", maxHelp = "Largest size."
        static let stepFactor = 2
    }
    @OptionGroup var sweep: SweepOptions<SweepWords>
    @Option(name: [.customShort("n"), .customLong("iters")], parsing: .unconditional, help: "Timed samples per size and shape.")
    var iters = 20
    @Option(name: [.customShort("w"), .customLong("warmup_iters")], parsing: .unconditional, help: "Warmup operations per size and shape.")
    var warmup = 5
    @Option(name: .long, parsing: .unconditional, help: "Operations per timed sample (one kernel launch); 0 = enough for about 1 GiB per sample, at most 100.")
    var inner = 0
    @Option(name: .long, help: "Who issues the operations in the kernel: block, warp or thread (default block); tma: bulk asynchronous copies (TMA, sm_90+) through the peer's mapped memory.")
    var scope: Choice<P2PScope>?
    @Flag(name: .long, help: "Blocking calls (default: non-blocking _nbi calls, completed by nvshmem_quiet).")
    var blocking = false
    @Flag(name: .long, help: "Both PEs of the pair initiate at once; each direction is reported.")
    var bidirectional = false
    @Flag(name: .long, help: "Host-initiated: nvshmemx_{put,get}mem[_nbi]_on_stream + nvshmemx_quiet_on_stream (copy engines on NVLink).")
    var host = false
    @Option(name: .long, parsing: .unconditional, help: "--host: spread each sample's operations round-robin over this many streams (1 to 8; default 1), so consecutive copies overlap; each operation is still one whole put/get.")
    var streams: Int?
    @Option(name: .long, help: "--host: nvshmem (NVSHMEM's on-stream call; default) or cuda (cuMemcpyDtoDAsync on the peer's heap address from nvshmem_ptr: the same copy engine, without the library call).")
    var hostCopy: Choice<HostCopy>?
    @Option(name: .long, parsing: .unconditional, help: "The two PEs A,B: A initiates (a put moves A -> B, a get B -> A).")
    var pair: Typed<PEPairReading> = "0,1"
    @Option(name: .long, parsing: .unconditional, help: "Grid sizes, comma-separated: Nx = N blocks per multiprocessor, or a block count (default 2x).")
    var blocks: ListOption<GridSizeReading>?
    @Option(name: .long, parsing: .unconditional, help: "Threads per block, comma-separated multiples of 32 up to 1024 (default 1024).")
    var threads: ListOption<BlockThreadsReading>?
    @Option(name: .long, parsing: .unconditional, help: "Bytes per call, comma-separated: auto (default) = 256K pieces round-robin when one equal piece per block/warp/thread would be larger, else equal pieces; 0 = always one equal piece per unit; else a multiple of 16.")
    var chunk: ListOption<P2PChunkReading>?
    @Option(name: .long, parsing: .unconditional, help: "--scope tma: bytes per bulk copy (one ring stage), comma-separated multiples of 16 (default 32K).")
    var tmaStage: ListOption<ByteSizeReading>?
    @Option(name: .long, parsing: .unconditional, help: "--scope tma: stages in each block's shared-memory ring, comma-separated, 2 to 8 (default 4).")
    var tmaStages: ListOption<IntReading>?
    @Option(name: [.customShort("c"), .customLong("check")], parsing: .unconditional, help: "Check the data (1) or not (0).")
    var check = 1
    @OptionGroup var output: ResultsOptions
    @OptionGroup var launch: LaunchOptions

    var isTMA: Bool { scope?.parsed == .tma }

    /// The TMA rings asked for (`--tma-stage` × `--tma-stages`); the default ring when neither is given.
    var stagings: [TMAStaging] {
        let d = TMAStaging()
        let bytes = tmaStage.map { $0.parsed ?? [] } ?? [d.stageBytes]
        let counts = tmaStages.map { $0.parsed ?? [] } ?? [d.stages]
        return bytes.flatMap { b in counts.map { TMAStaging(stageBytes: b, stages: $0) } }
    }

    var shapes: [P2PBandwidth.Config] {
        let d = isTMA ? P2PBandwidth.Config.tmaDefault : P2PBandwidth.Config()
        let grids = blocks?.value ?? [d.grid]
        let ts = threads?.value ?? [d.threads]
        let cs: [Int?] = chunk?.value ?? [nil]
        let rings = isTMA ? stagings : [d.staging]
        return grids.flatMap { g in ts.flatMap { t in cs.flatMap { c in rings.map { P2PBandwidth.Config(grid: g, threads: t, chunk: c, staging: $0) } } } }
    }

    func validate() throws {
        _ = try sweep.sizes()
        if let scope, scope.parsed == nil { throw ValidationError("--scope must be block, warp, thread or tma (got '\(scope)')") }
        try validateTMA()
        guard iters >= 1 else { throw ValidationError("-n must be at least 1 (got \(iters))") }
        guard warmup >= 0, inner >= 0 else { throw ValidationError("-w and --inner must be at least 0") }
        guard check == 0 || check == 1 else { throw ValidationError("-c must be 0 or 1 (got \(check))") }
        try validatePair(pair, launch)
        if let blocks, blocks.parsed == nil {
            throw ValidationError("--blocks must list Nx (blocks per multiprocessor) or block counts, e.g. 1x,2x,264 (got '\(blocks)')")
        }
        if let threads, threads.parsed == nil {
            throw ValidationError("--threads must list multiples of 32 from 32 to 1024 (got '\(threads)')")
        }
        if let chunk, chunk.parsed == nil {
            throw ValidationError("--chunk must list auto, 0 or sizes that are multiples of 16 bytes (got '\(chunk)')")
        }
        if host && (scope != nil || blocks != nil || threads != nil || chunk != nil) {
            throw ValidationError("--host runs no kernel: drop --scope, --blocks, --threads and --chunk")
        }
        if let streams {
            guard host else { throw ValidationError("--streams applies to --host only (a kernel issues device-initiated operations)") }
            guard (1...8).contains(streams) else { throw ValidationError("--streams must be 1 to 8 (got \(streams))") }
        }
        if let hostCopy {
            guard host else { throw ValidationError("--host-copy applies to --host only") }
            guard hostCopy.parsed != nil else { throw ValidationError("--host-copy must be nvshmem or cuda (got '\(hostCopy)')") }
        }
        if let g = launch.gpusPerProcess, g != 1 { throw ValidationError("NVSHMEM runs one GPU per process: -g must be 1") }
    }
}

extension P2PBandwidthOptions {
    /// `--scope tma` and its ring flags: no blocking form, the ring flags only with it, every ring within sm_90's shared memory.
    func validateTMA() throws {
        guard isTMA else {
            if tmaStage != nil || tmaStages != nil { throw ValidationError("--tma-stage and --tma-stages apply to --scope tma only") }
            return
        }
        if blocking { throw ValidationError("--scope tma has no blocking form (its bulk copies complete at the end of the kernel): drop --blocking") }
        if let tmaStage, tmaStage.parsed == nil {
            throw ValidationError("--tma-stage must list sizes that are multiples of 16 bytes, e.g. 16K,32K (got '\(tmaStage)')")
        }
        if let tmaStages, tmaStages.parsed == nil {
            throw ValidationError("--tma-stages must list ring depths from 2 to 8, e.g. 2,4 (got '\(tmaStages)')")
        }
        if let why = stagings.lazy.compactMap(\.problem).first { throw ValidationError(why) }
    }
}

/// `--pair A,B`: two different PEs, inside `--np` when it is given.
func validatePair(_ pair: Typed<PEPairReading>, _ launch: LaunchOptions) throws {
    guard let p = pair.parsed else {
        throw ValidationError("--pair must be two different PE numbers A,B (got '\(pair)')")
    }
    if let np = launch.np {
        if np < 2 { throw ValidationError("NVSHMEM point-to-point needs 2 PEs: --np must be at least 2 (got \(np))") }
        if max(p.a, p.b) >= np { throw ValidationError("--pair \(p) needs PE \(max(p.a, p.b)) but --np \(np) starts PEs 0...\(np - 1)") }
    }
}

struct NVSHMEMPutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Put bandwidth from PE A to PE B (--pair A,B), device- or host-initiated, checked.",
        discussion: P2PBandwidthRun.discussion(.put))
    @OptionGroup var options: P2PBandwidthOptions
    func run() throws { try P2PBandwidthRun(op: .put, options: options).run() }
}

struct NVSHMEMGetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Get bandwidth: PE A reads PE B's memory (--pair A,B), device- or host-initiated, checked.",
        discussion: P2PBandwidthRun.discussion(.get))
    @OptionGroup var options: P2PBandwidthOptions
    func run() throws { try P2PBandwidthRun(op: .get, options: options).run() }
}

/// `--pair A,B`: two different non-negative PE numbers (`PEPair.parse`).
enum PEPairReading: OptionReading {
    static func read(_ text: String) throws -> PEPair {
        guard let p = PEPair.parse(text) else { throw UnreadText(text: text) }
        return p
    }
}

/// A `--blocks` item: `Nx` (blocks per multiprocessor) or a block count (`GridSize.parse`).
enum GridSizeReading: OptionReading {
    static func read(_ text: String) throws -> GridSize {
        guard let g = GridSize.parse(text) else { throw UnreadText(text: text) }
        return g
    }
}

/// A `--threads` item: a multiple of 32 from 32 to 1024.
enum BlockThreadsReading: OptionReading {
    static func read(_ text: String) throws -> Int {
        guard let n = Int(text), validBlockThreads(n) else { throw UnreadText(text: text) }
        return n
    }
}

/// A `--chunk` item: `auto` (nil), or a size that is a multiple of 16 bytes (0 = one equal piece per unit).
enum P2PChunkReading: OptionReading {
    static func read(_ text: String) throws -> Int? {
        if text == "auto" { return nil }
        guard let v = ByteSize.parse(text), v % 16 == 0 else { throw UnreadText(text: text) }
        return v
    }
}
