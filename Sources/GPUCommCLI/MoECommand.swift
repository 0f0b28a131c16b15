import ArgumentParser
import Driver
import Foundation
import MoE

struct MoECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moe",
        abstract: "MoE expert-parallel dispatch and combine in several styles (NVSHMEM put-with-signal, NVLink stores, NCCL), checked, every byte convention side by side.",
        discussion: """
        One process per GPU (--np N, or mpirun/srun/torchrun). Every rank routes --tokens tokens \
        to its top-k of --experts experts (seeded: scores |randn| + 1, DeepEP's generator idea; \
        --skew S multiplies the hot experts' scores, the first experts/16; --masked M sets M \
        selections per rank to -1; --zero-ranks Z gives the last Z ranks no tokens; --groups G \
        --group-topk M limits each token to the experts of its M best of G groups). Rank d holds \
        experts d·E/N ..< (d+1)·E/N. --routings R > 1 draws R routings per rank and gives every \
        iteration the next one, so each dispatch rebuilds its layout inside its time; combine \
        sends back the rows of one dispatch (routing 0).

        Per style and shape three operations are checked, then timed (-w warm-ups, -n timed):
        - layout: the GPU layout kernel, per-expert counts and each selection's slot, checked \
        against the host's.
        - dispatch: each (token, expert) row into the expert owner's receive buffer, expert-major, \
        one window of --tokens slots per source rank; FP8 rows are cast in the kernel (e4m3, one \
        fp32 scale per 128 elements). Every row carries its source rank and token index (exact in \
        BF16) and is checked element by element.
        - combine: a fake expert f(x) = 1.5x (untimed), then the rows back to their owners and the \
        weighted sum Σ w_k f(x) there, checked against the host (BF16: 2^-8 relative; FP8: the \
        cast's error too; docs/moe.md).
        Wrong elements make the exit status 3.
        --split adds, for nvshmem-put and nvlink-ll, each half of dispatch and combine timed \
        alone (DeepEP's receive hook, pplx-kernels' do_send/do_recv): dispatch_send and \
        combine_send, the send half with its receive pending; dispatch_recv and combine_recv, the \
        receive half with every row already sent. Each is checked as send then receive.

        Styles (--styles all, or a comma-separated list):
        \(MoEStyle.allCases.map { "  \($0.rawValue): \($0.summary)" }.joined(separator: "\n"))

        Byte conventions, each printed and written (bytes per rank and operation, mean over \
        ranks; GB/s = 10^9 B/s at the mean time; docs/moe.md has the arithmetic):
        \(ByteConvention.allCases.map { "  \($0.rawValue): \($0.label)" }.joined(separator: "\n"))

        Presets (--preset; --tokens, --hidden, ... then override their fields):
        \(MoEPreset.allCases.map { "  \($0.rawValue): \($0.summary)" }.joined(separator: "\n"))

        --dump FILE --ranks N writes the routing and the bytes of every convention without a GPU \
        (what bench/torch_moe.py runs with PyTorch's all_to_all_single, and the arithmetic in docs/moe.md).

        --kernels measures, on one GPU and without --np, the layout kernel and the FP8 cast beside \
        a device-to-device copy of the same BF16 bytes (the memory ceiling).

        With GPUCOMM_SHARE_GPUS=1 under CUDA MPS several ranks share a GPU (NVSHMEM styles only; \
        NCCL refuses it): correctness only, those timings are not results.

        --virtual-ranks N --styles nccl runs the nccl style's N ranks in one process on one GPU \
        (no --np): each rank its own buffers, the same routing, layout exchange and kernels, the \
        NCCL sends and receives replaced by device copies of the same pairs. Correctness only: \
        the timings are not results (rows labelled virtual_ranks; the report leaves them out).

        Examples:
          gpucomm moe --np 8 --preset deepep-ll
          gpucomm moe --np 4 --styles nvlink-ll,nccl --tokens 512 --experts 64 --topk 6 --hidden 2048 --dtype bf16
          gpucomm moe --np 8 --preset pplx --styles nvshmem-put
          gpucomm moe --np 8 --preset deepep-ll --styles nvshmem-put,nvlink-ll --split
          gpucomm moe --np 8 --preset deepep-normal --styles nvlink-normal --channels 12
          gpucomm moe --kernels --preset deepep-normal
          gpucomm moe --virtual-ranks 8 --styles nccl --dtype fp8 --zero-ranks 1
        """)

    @Option(name: .long, help: "Styles: all, or a comma-separated list (see above).")
    var styles = "all"
    @Option(name: .long, help: "Preset shapes, one or a comma-separated list: deepep-normal, deepep-ll, pplx, nccl-ep (default: one free shape, 128 tokens, hidden 7168, top-8, 256 experts, bf16).")
    var preset: String?
    @Option(name: .long, parsing: .unconditional, help: "Tokens per rank (0 to 65536).")
    var tokens: Int?
    @Option(name: .long, parsing: .unconditional, help: "Hidden size (a multiple of 8; of 128 with --dtype fp8).")
    var hidden: Int?
    @Option(name: .long, parsing: .unconditional, help: "Experts per token (at most --experts).")
    var topk: Int?
    @Option(name: .long, parsing: .unconditional, help: "Experts in all (divisible by the rank count).")
    var experts: Int?
    @Option(name: .long, help: "Dispatch type: bf16, or fp8 (e4m3 with per-128-element fp32 scales, cast in the dispatch kernel). Combine is bf16.")
    var dtype: String?
    @Option(name: .long, parsing: .unconditional, help: "Selections per rank masked to -1.")
    var masked: Int?
    @Option(name: .long, parsing: .unconditional, help: "Score multiplier of the hot experts (the first experts/16); 1 = uniform.")
    var skew: Double?
    @Option(name: .customLong("zero-ranks"), parsing: .unconditional, help: "The last this-many ranks dispatch no tokens.")
    var zeroRanks: Int?
    @Option(name: .long, parsing: .unconditional, help: "Routing seed.")
    var seed: UInt64 = 1
    @Option(name: .long, parsing: .unconditional, help: "Group-limited routing: split the experts into G contiguous groups; each token takes its top-k among the --group-topk groups with the best experts (DeepEP's node-limited test). 1 = off. Without --group-topk a token keeps min(G, 4) groups (DeepEP's test), more if top-k needs them.")
    var groups: Int?
    @Option(name: .customLong("group-topk"), parsing: .unconditional, help: "Groups each token keeps (1 to --groups). Alone (without --groups): one group per rank.")
    var groupTopK: Int?
    @Option(name: .long, parsing: .unconditional, help: "Routings per rank the iterations cycle through (1 to 64): 1 = one layout, built once and reused; R > 1 = iteration i uses routing i mod R and every dispatch rebuilds the layout (and NCCL's counts exchange) inside its time.")
    var routings: Int?
    @Option(name: [.customShort("n"), .customLong("iters")], parsing: .unconditional, help: "Timed iterations per operation.")
    var iters = 20
    @Option(name: [.customShort("w"), .customLong("warmup_iters")], parsing: .unconditional, help: "Warm-up iterations per operation (the first samples dropped).")
    var warmup = 5
    @Option(name: .long, help: "events (CUDA events per iteration, slowest rank; default) or host (host clock around the loop, mean over ranks).")
    var timing = "events"
    @Option(name: .long, parsing: .unconditional, help: "Blocks of the dispatch and combine kernels (256 threads each; 0 = every multiprocessor this process may use, at least one per rank).")
    var blocks = 0
    @Option(name: .long, parsing: .unconditional, help: "nvlink-normal: channels, each a sender and a receiver block (0 = min(10, this process's multiprocessors / 2), DeepEP's 20 SMs).")
    var channels = 0
    @Option(name: .customLong("ring-tokens"), parsing: .unconditional, help: "nvlink-normal: rows each (channel, source) ring holds on the receiver.")
    var ringTokens = 256
    @Option(name: .customLong("chunk-tokens"), parsing: .unconditional, help: "nvlink-normal: rows a sender writes between two tail updates (at most --ring-tokens).")
    var chunkTokens = 6
    @Flag(name: .long, help: "Measure the layout kernel and the FP8 cast against a device copy on one GPU instead (no --np).")
    var kernels = false
    @Option(name: .customLong("cast-tokens"), parsing: .unconditional, help: "--kernels: rows of the FP8 cast and the copy.")
    var castTokens = 4096
    @Option(name: .customLong("virtual-ranks"), parsing: .unconditional, help: "Run the nccl style's N ranks (2 to \(MoECommand.maxVirtualRanks)) in this one process on one GPU, device copies for NCCL's sends and receives (no --np; --styles nccl): correctness only, the timings are not results.")
    var virtualRanks: Int?
    @Option(name: .long, help: "No GPU work: write each shape's routing (every rank's top-k ids and weights) and every convention's bytes to this JSON Lines file, print the bytes, and exit (bench/torch_moe.py reads it). Needs --ranks or --np.")
    var dump: String?
    @Option(name: .long, parsing: .unconditional, help: "--dump: the rank count to route for.")
    var ranks: Int?
    @Flag(name: .customLong("deepep-lines"), help: "Also print each style's figures as DeepEP's low-latency test does ('[rank r] Dispatch bandwidth: X GB/s, avg_t=Y us | Combine bandwidth: ...', one line per rank at its own mean time, by its convention), for pasting beside theirs.")
    var deepepLines = false
    @Flag(name: .customLong("pplx-lines"), help: "Also print each style's figures as pplx-kernels' tests/bench_all_to_all.py does (its EP/DP line, header and tab-separated rows by its convention, rank 0's time), for pasting beside theirs.")
    var pplxLines = false
    @Flag(name: .customLong("no-iteration-barrier"), help: "--timing events: do not synchronise and meet every rank before each timed iteration (the default does, as DeepEP's and pplx's benchmarks do).")
    var noIterationBarrier = false
    @Flag(name: .customLong("flush-l2"), help: "--timing events: overwrite a buffer of twice the L2 (at least 64 MiB) before each timed iteration, outside the timed region.")
    var flushL2 = false
    @Flag(name: .long, help: "Also time each half of the nvshmem-put and nvlink-ll dispatch and combine alone: rows dispatch_send, dispatch_recv, combine_send, combine_recv (docs/moe.md, \"Send/receive split\").")
    var split = false
    @Flag(name: .customLong("per-rank"), help: "Print every rank's mean, p50, min and max under each operation (the slowest and fastest are always printed).")
    var perRank = false
    @Option(name: [.customShort("c"), .customLong("check")], parsing: .unconditional, help: "Check the data (1) or not (0).")
    var check = 1
    @Option(name: .long, help: "Append every row to this JSON Lines results file.")
    var results = "gpucomm-results.jsonl"
    @Flag(name: .long, help: "Write no results file.")
    var noResults = false
    @OptionGroup var launch: LaunchOptions

    /// The shapes to run: the preset's (or the default one) with the given fields replaced.
    var shapes: [MoEShape] {
        let presets = (preset ?? "").split(separator: ",").compactMap { MoEPreset(rawValue: String($0)) }
        let base = presets.isEmpty ? [MoEShape(tokens: 128, hidden: 7168, topK: 8, experts: 256)] : presets.flatMap(\.shapes)
        var seen: [MoEShape] = []
        for b in base {
            var s = b
            if let tokens { s.tokens = tokens }
            if let hidden { s.hidden = hidden }
            if let topk { s.topK = topk }
            if let experts { s.experts = experts }
            if let dtype, let d = MoEDType(rawValue: dtype) { s.dtype = d }
            if let masked { s.masked = masked }
            if let skew { s.skew = skew }
            if let zeroRanks { s.zeroTokenRanks = zeroRanks }
            s.seed = seed
            if let groups { s.groups = groups } else if groupTopK != nil { s.groups = 0 }  // --group-topk alone: one group per rank
            if let groupTopK { s.groupTopK = groupTopK }
            if let routings { s.routings = routings }
            if !seen.contains(s) { seen.append(s) }  // a field set for all can make a preset's shapes equal
        }
        return seen
    }

    var requestedStyles: [MoEStyle] { (try? MoEStyle.parseList(styles).get()) ?? [] }

    /// The most `--virtual-ranks`.
    static let maxVirtualRanks = 32

    func validate() throws {
        if case .failure(let e) = MoEStyle.parseList(styles) { throw ValidationError("--styles: \(e)") }
        if let why = virtualProblem { throw ValidationError(why) }
        for p in (preset ?? "").split(separator: ",", omittingEmptySubsequences: false) where preset != nil && MoEPreset(rawValue: String(p)) == nil {
            throw ValidationError("--preset must be one or a comma-separated list of \(MoEPreset.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(p)')")
        }
        if let dtype, MoEDType(rawValue: dtype) == nil { throw ValidationError("--dtype must be bf16 or fp8 (got '\(dtype)')") }
        guard TimingMode(rawValue: timing) != nil else { throw ValidationError("--timing must be events or host (got '\(timing)')") }
        if flushL2 && timing == "host" { throw ValidationError("--flush-l2 needs --timing events (the host clock would time the flush)") }
        guard iters >= 1 else { throw ValidationError("-n must be at least 1 (got \(iters))") }
        guard warmup >= 1 else { throw ValidationError("-w must be at least 1 (the first sample is dropped; got \(warmup))") }
        if let why = normal.problem(ranks: nil, topK: 0) { throw ValidationError(why) }
        guard blocks >= 0, blocks <= 4096 else { throw ValidationError("--blocks must be from 0 to 4096 (got \(blocks))") }
        guard castTokens >= 1, castTokens <= 1 << 20 else { throw ValidationError("--cast-tokens must be from 1 to 1048576 (got \(castTokens))") }
        guard check == 0 || check == 1 else { throw ValidationError("-c must be 0 or 1 (got \(check))") }
        if let g = launch.gpusPerProcess, g != 1 { throw ValidationError("moe runs one GPU per process: -g must be 1 (use --np N)") }
        if dump != nil && (ranks ?? launch.np) == nil { throw ValidationError("--dump needs --ranks N (or --np N)") }
        if let r = ranks, r < 1 { throw ValidationError("--ranks must be at least 1 (got \(r))") }
        if let g = groups, g < 1 { throw ValidationError("--groups must be at least 1 (got \(g))") }
        if let m = groupTopK, m < 1 { throw ValidationError("--group-topk must be at least 1 (got \(m))") }
        if split {
            if kernels { throw ValidationError("--split times the halves of dispatch and combine across ranks: not with --kernels") }
            if dump != nil { throw ValidationError("--split times the halves of dispatch and combine on GPUs: not with --dump") }
            if !requestedStyles.contains(where: \.hasHalves) {
                throw ValidationError("--split splits the nvshmem-put and nvlink-ll kernels: --styles \(styles) has neither")
            }
        }
        if dump != nil, let r = routings, r > 1 {
            throw ValidationError("--dump writes one routing per rank: --routings must be 1 (bench/torch_moe.py reuses its layout; got \(r))")
        }
        let ranks = kernels ? 1 : virtualRanks ?? self.ranks ?? launch.np
        for s in shapes {
            if let why = s.problem(ranks: ranks) { throw ValidationError(why) }
            if styles != "all" && requestedStyles.contains(.nvlinkNormal), let why = normal.problem(ranks: ranks, topK: s.topK) { throw ValidationError(why) }
            if kernels && s.hidden % 128 != 0 { throw ValidationError("--hidden must be a multiple of 128 for --kernels (the FP8 cast; got \(s.hidden))") }
        }
    }

    /// `--virtual-ranks` with what it cannot go with, in one line; nil without it or when it fits.
    var virtualProblem: String? {
        guard let n = virtualRanks else { return nil }
        let why = "--virtual-ranks runs N ranks of the nccl style in one process on one GPU"
        if n < 2 || n > Self.maxVirtualRanks { return "--virtual-ranks must be from 2 to \(Self.maxVirtualRanks) (got \(n))" }
        if requestedStyles != [.nccl] {
            return "\(why): add --styles nccl (got '\(styles)'; the NVSHMEM styles run several ranks on one GPU with GPUCOMM_SHARE_GPUS=1 under CUDA MPS)"
        }
        if launch.np != nil { return "\(why): leave out --np" }
        if kernels { return "\(why): --kernels is another run (leave out one of them)" }
        if dump != nil || ranks != nil { return "\(why): --dump and --ranks are another run (leave them out)" }
        if check != 1 { return "\(why) to check them: -c must be 1 (its timings are not results)" }
        if deepepLines || pplxLines || perRank { return "\(why): its timings are not results, so --deepep-lines, --pplx-lines and --per-rank are refused" }
        return nil
    }

    /// The validated options as the MoE run takes them.
    var settings: MoERun.Settings {
        var s = MoERun.Settings(shapes: shapes, styles: requestedStyles, launch: launch.spec, blocks: blocks,
                                resultsPath: noResults ? nil : results, plan: timingPlan, deepepLines: deepepLines, castTokens: castTokens,
                                normal: normal)
        s.perRankLines = perRank
        s.pplxLines = pplxLines
        s.split = split
        return s
    }

    var normal: NormalConfig { NormalConfig(channels: channels, ringTokens: ringTokens, chunkTokens: chunkTokens) }

    var timingPlan: TimingPlan {
        var p = TimingPlan()
        p.iterations = iters
        p.warmup = warmup
        p.strategy = timing == "host" ? .hostLoop : .events
        p.check = check == 1
        p.barrierEachIteration = p.strategy == .events && !noIterationBarrier && !kernels  // --kernels: one GPU, no one to meet
        p.flushL2 = flushL2
        return p
    }

    func run() throws {
        if let dump { return try MoEDump.write(shapes: shapes, ranks: ranks ?? launch.np!, path: dump) }
        if kernels { return try MoERun.kernels(settings) }
        if let n = virtualRanks { return try MoERun.virtual(settings, ranks: n) }
        let env = ProcessInfo.processInfo.environment
        if try launch.np == nil && env["GPUCOMM_RANK"] == nil && !RankEnvironment.present(env) {
            throw Failure(.usage, "moe needs one process per GPU: add --np N (or start it with mpirun/srun/torchrun; --kernels for one GPU)")
        }
        if let status = try Job.spawnIfAsked(launch.spec) { throw Failure(ExitStatus(rawValue: status) ?? .failure, "") }
        try MoERun(settings).run()
    }
}
