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
    @Option(name: [.customShort("b"), .customLong("minbytes")], help: "Smallest size.")
    var minBytes = "1M"
    @Option(name: [.customShort("e"), .customLong("maxbytes")], help: "Largest size.")
    var maxBytes = "256M"
    @Option(name: [.customShort("f"), .customLong("stepfactor")], help: "Multiply the size by this each step.")
    var stepFactor = 2
    @Option(name: [.customShort("n"), .customLong("iters")], help: "Timed samples per size and shape.")
    var iters = 20
    @Option(name: [.customShort("w"), .customLong("warmup_iters")], help: "Warmup operations per size and shape.")
    var warmup = 5
    @Option(name: .long, help: "Operations per timed sample (one kernel launch); 0 = enough for about 1 GiB per sample, at most 100.")
    var inner = 0
    @Option(name: .long, help: "Who issues the operations in the kernel: block, warp or thread (default block); tma: bulk asynchronous copies (TMA, sm_90+) through the peer's mapped memory.")
    var scope: String?
    @Flag(name: .long, help: "Blocking calls (default: non-blocking _nbi calls, completed by nvshmem_quiet).")
    var blocking = false
    @Flag(name: .long, help: "Both PEs of the pair initiate at once; each direction is reported.")
    var bidirectional = false
    @Flag(name: .long, help: "Host-initiated: nvshmemx_{put,get}mem[_nbi]_on_stream + nvshmemx_quiet_on_stream (copy engines on NVLink).")
    var host = false
    @Option(name: .long, help: "--host: spread each sample's operations round-robin over this many streams (1 to 8; default 1), so consecutive copies overlap; each operation is still one whole put/get.")
    var streams: Int?
    @Option(name: .long, help: "--host: nvshmem (NVSHMEM's on-stream call; default) or cuda (cuMemcpyDtoDAsync on the peer's heap address from nvshmem_ptr: the same copy engine, without the library call).")
    var hostCopy: String?
    @Option(name: .long, help: "The two PEs A,B: A initiates (a put moves A -> B, a get B -> A).")
    var pair = "0,1"
    @Option(name: .long, help: "Grid sizes, comma-separated: Nx = N blocks per multiprocessor, or a block count (default 2x).")
    var blocks: String?
    @Option(name: .long, help: "Threads per block, comma-separated multiples of 32 up to 1024 (default 1024).")
    var threads: String?
    @Option(name: .long, help: "Bytes per call, comma-separated: auto (default) = 256K pieces round-robin when one equal piece per block/warp/thread would be larger, else equal pieces; 0 = always one equal piece per unit; else a multiple of 16.")
    var chunk: String?
    @Option(name: .long, help: "--scope tma: bytes per bulk copy (one ring stage), comma-separated multiples of 16 (default 32K).")
    var tmaStage: String?
    @Option(name: .long, help: "--scope tma: stages in each block's shared-memory ring, comma-separated, 2 to 8 (default 4).")
    var tmaStages: String?
    @Option(name: [.customShort("c"), .customLong("check")], help: "Check the data (1) or not (0).")
    var check = 1
    @Option(name: .long, help: "Append every row to this JSON Lines results file.")
    var results = "gpucomm-results.jsonl"
    @Flag(name: .long, help: "Write no results file.")
    var noResults = false
    @OptionGroup var launch: LaunchOptions

    var isTMA: Bool { scope == P2PScope.tma.rawValue }

    /// The TMA rings asked for (`--tma-stage` × `--tma-stages`); the default ring when neither is given.
    var stagings: [TMAStaging] {
        let d = TMAStaging()
        let bytes = parseList(tmaStage ?? String(d.stageBytes)) { ByteSize.parse($0) } ?? []
        let counts = parseList(tmaStages ?? String(d.stages)) { Int($0) } ?? []
        return bytes.flatMap { b in counts.map { TMAStaging(stageBytes: b, stages: $0) } }
    }

    var shapes: [P2PBandwidth.Config] {
        let d = isTMA ? P2PBandwidth.Config.tmaDefault : P2PBandwidth.Config()
        let grids = parseList(blocks ?? d.grid.description, GridSize.parse)!
        let ts = parseList(threads ?? String(d.threads)) { Int($0) }!
        let cs: [Int?] = parseList(chunk ?? "auto") { $0 == "auto" ? .some(nil) : ByteSize.parse($0).map { .some($0) } }!
        let rings = isTMA ? stagings : [d.staging]
        return grids.flatMap { g in ts.flatMap { t in cs.flatMap { c in rings.map { P2PBandwidth.Config(grid: g, threads: t, chunk: c, staging: $0) } } } }
    }

    func validate() throws {
        _ = try sweepSizes(minBytes: minBytes, maxBytes: maxBytes, factor: stepFactor)
        if let scope, P2PScope(rawValue: scope) == nil { throw ValidationError("--scope must be block, warp, thread or tma (got '\(scope)')") }
        try validateTMA()
        guard iters >= 1 else { throw ValidationError("-n must be at least 1 (got \(iters))") }
        guard warmup >= 0, inner >= 0 else { throw ValidationError("-w and --inner must be at least 0") }
        guard check == 0 || check == 1 else { throw ValidationError("-c must be 0 or 1 (got \(check))") }
        try validatePair(pair, launch)
        if let blocks, parseList(blocks, GridSize.parse) == nil {
            throw ValidationError("--blocks must list Nx (blocks per multiprocessor) or block counts, e.g. 1x,2x,264 (got '\(blocks)')")
        }
        if let threads, parseList(threads, { Int($0).flatMap { validBlockThreads($0) ? $0 : nil } }) == nil {
            throw ValidationError("--threads must list multiples of 32 from 32 to 1024 (got '\(threads)')")
        }
        if let chunk, parseList(chunk, { $0 == "auto" ? 0 : ByteSize.parse($0).flatMap { $0 % 16 == 0 ? $0 : nil } }) == nil {
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
            guard HostCopy(rawValue: hostCopy) != nil else { throw ValidationError("--host-copy must be nvshmem or cuda (got '\(hostCopy)')") }
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
        if let tmaStage, parseList(tmaStage, { ByteSize.parse($0) }) == nil {
            throw ValidationError("--tma-stage must list sizes that are multiples of 16 bytes, e.g. 16K,32K (got '\(tmaStage)')")
        }
        if let tmaStages, parseList(tmaStages, { Int($0) }) == nil {
            throw ValidationError("--tma-stages must list ring depths from 2 to 8, e.g. 2,4 (got '\(tmaStages)')")
        }
        if let why = stagings.lazy.compactMap(\.problem).first { throw ValidationError(why) }
    }
}

/// `--pair A,B`: two different PEs, inside `--np` when it is given.
func validatePair(_ text: String, _ launch: LaunchOptions) throws {
    guard let p = PEPair.parse(text) else {
        throw ValidationError("--pair must be two different PE numbers A,B (got '\(text)')")
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
