import Driver
import Foundation
import GPU
import Measure
import Results

/// One `gpucomm moe` job: the libraries its styles need, every shape × style measured by
/// `MoEBench`, the table on stdout (rank 0) and one results row per operation.
public struct MoERun {
    /// What `gpucomm moe` asked for, once validated.
    public struct Settings: Sendable {
        public var shapes: [MoEShape]
        public var styles: [MoEStyle]
        public var launch: LaunchSpec
        /// Grid blocks of the NVSHMEM kernels; 0 = this process's SM share.
        public var blocks: Int
        /// nil: no results file.
        public var resultsPath: String?
        public var plan: TimingPlan
        /// Also print DeepEP's low-latency test lines.
        public var deepepLines: Bool
        /// Tokens of the FP8 cast measurement (`--kernels`).
        public var castTokens: Int
        /// The `nvlink-normal` style's channels, ring and chunk.
        public var normal = NormalConfig()
        /// Print every rank's mean, p50, min and max under each operation (`--per-rank`).
        public var perRankLines = false
        /// Also print pplx-kernels' benchmark table (`--pplx-lines`).
        public var pplxLines = false
        /// Also measure each half of the NVSHMEM styles' dispatch and combine (`--split`).
        public var split = false

        public init(shapes: [MoEShape], styles: [MoEStyle], launch: LaunchSpec, blocks: Int, resultsPath: String?, plan: TimingPlan,
                    deepepLines: Bool, castTokens: Int, normal: NormalConfig = NormalConfig()) {
            self.shapes = shapes; self.styles = styles; self.launch = launch; self.blocks = blocks; self.resultsPath = resultsPath
            self.plan = plan; self.deepepLines = deepepLines; self.castTokens = castTokens; self.normal = normal
        }
    }

    let command: Settings
    public init(_ settings: Settings) { command = settings }

    public func run() throws {
        let shapes = command.shapes
        var styles = command.styles
        var skipped: String?
        let job = try Job(command.launch, needsNCCL: styles.contains(.nccl)) { world, devices in
            for s in shapes { if let why = s.problem(ranks: world) { throw Failure(.usage, why) } }
            if styles.contains(.nvlinkNormal), let why = shapes.lazy.compactMap({ command.normal.problem(ranks: world, topK: $0.topK) }).first {
                // Named alone it is the user's mistake; within several styles it is waived.
                if styles == [.nvlinkNormal] { throw Failure(.usage, why) }
                styles.removeAll { $0 == .nvlinkNormal }
                skipped = why
            }
            if shapes.contains(where: { $0.dtype == .fp8 }) && !devices[0].supportsFP8 {
                throw Failure(.unavailable, "--dtype fp8 needs sm_89 or newer (e4m3 conversion); this GPU is \(devices[0].arch)")
            }
        }
        defer { job.close() }
        let rank = job.globalRanks[0], ranks = job.worldSize
        let device = job.devices[0]
        try device.makeCurrent()
        let stream = try Stream(device: device)
        let compiler = try RuntimeCompiler()
        var session: NVSHMEMSession?
        var comm: Communicator?
        var nccl: NCCL?
        if styles.contains(where: \.usesNVSHMEM) { session = try job.startNVSHMEM(heapBytes: MoEBench.heapBytes(shapes, ranks: ranks, styles: styles, normal: command.normal)) }
        if styles.contains(.nccl) {
            do { nccl = try NCCL() } catch { throw Failure(.unavailable, "NCCL: \(error)") }
            comm = try job.communicators(nccl!).first
        }
        let driver = BenchmarkDriver(channel: job.channel, watchdog: Watchdog(seconds: command.launch.timeout, rank: rank), rank: rank)
        let bench = try driver.armed("moe kernels (compile and load)") {
            try MoEBench(driver: driver, channel: job.channel, device: device, stream: stream, compiler: compiler, rank: rank, ranks: ranks, session: session)
        }
        // The load/store styles fault on a PE that nvshmem_ptr cannot reach: unavailable named alone, else waived.
        var unreachable: String?
        if styles.contains(where: \.needsLoadStore), let why = try bench.loadStoreProblem() {
            if styles.allSatisfy(\.needsLoadStore) { throw Failure(.unavailable, "moe: \(why)") }
            unreachable = styles.filter(\.needsLoadStore).map(\.rawValue).joined(separator: ", ") + " waived: " + why
            styles.removeAll(where: \.needsLoadStore)
        }
        let blocks = try bench.blocks(requested: command.blocks)
        let channels = styles.contains(.nvlinkNormal) ? try bench.normalChannels(command.normal) : 0
        var info = Provenance.runInfo(inventory: job.inventory, launcher: job.launcher)
        info.nccl = nccl?.version
        info.nvshmem = session?.lib.version
        let sink = try ResultsSink(path: command.resultsPath, run: info, reports: job.reports)
        let table = MoETable(reports: job.reports, ranks: ranks, perRankLines: command.perRankLines, split: command.split)
        let plan = command.plan
        table.header("moe  \(ranks) ranks  nccl \(nccl?.version ?? "-")  nvshmem \(session?.lib.version ?? "-")  \(MoETable.timingWords(plan))  check \(plan.check ? 1 : 0)  blocks \(blocks) x 256")
        table.say(MoETable.gridLine(blocks: blocks, threads: 256, multiprocessors: device.multiprocessors, share: multiprocessorShare(device)))
        if channels > 0 {
            table.say("# nvlink-normal: \(channels) channels, " + MoETable.gridLine(blocks: 2 * channels, threads: NormalKernels.threads(ranks: ranks), multiprocessors: device.multiprocessors,
                                                                                     share: multiprocessorShare(device)).dropFirst(2)
                      + "; ring \(command.normal.ringTokens) rows, tail every \(command.normal.chunkTokens)")
        }
        if let skipped { table.say("# nvlink-normal waived: \(skipped)") }
        if let unreachable { table.say("# \(unreachable)") }
        if command.split { for l in MoETable.splitLines { table.say(l) } }
        var pplx: [(style: MoEStyle, dtype: MoEDType, rows: [MoEResult])] = []
        for shape in shapes {
            table.shape(shape)
            for style in styles {
                let transport: MoETransport = style == .nccl ? .nccl(comm!) : .nvshmem(session!)
                let rows = style == .nvlinkNormal
                    ? try bench.runNormal(shape: shape, config: command.normal, channels: channels, plan: plan)
                    : try bench.run(style: style, shape: shape, transport: transport, plan: plan, blocks: blocks, split: command.split)
                for r in rows {
                    table.row(style.rawValue, r)
                    try sink.write(MoETable.record(r, sink: sink, ranks: ranks, plan: plan))
                }
                if command.deepepLines { table.deepep(style.rawValue, rows) }
                if let i = pplx.firstIndex(where: { $0.style == style && $0.dtype == shape.dtype }) { pplx[i].rows += rows } else { pplx.append((style, shape.dtype, rows)) }
            }
        }
        try job.channel.barrier()
        comm = nil
        session = nil
        if command.pplxLines { for p in pplx { table.pplx(p.style.rawValue, dtype: p.dtype, p.rows) } }
        table.footer(driver)
        if job.reports, let line = sink.closingLine() { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        if let f = driver.failureIfWrong("elements") { throw f }
    }

    /// `--virtual-ranks N`: the `nccl` style's N ranks in this one process on its first GPU, each
    /// with its own buffers, the transfers as device copies (`VirtualRanksWorkload`); layout,
    /// dispatch and combine per shape, checked. Correctness only: the table and every row say the
    /// timings are not results (label `virtual_ranks`; the report leaves such rows out).
    public static func virtual(_ command: Settings, ranks n: Int) throws {
        var spec = command.launch
        spec.np = nil
        let job = try Job(spec, needsNCCL: false) { _, devices in
            for s in command.shapes { if let why = s.problem(ranks: n) { throw Failure(.usage, why) } }
            if command.shapes.contains(where: { $0.dtype == .fp8 }) && !devices[0].supportsFP8 {
                throw Failure(.unavailable, "--dtype fp8 needs sm_89 or newer (e4m3 conversion); this GPU is \(devices[0].arch)")
            }
        }
        defer { job.close() }
        let device = job.devices[0]
        try device.makeCurrent()
        let stream = try Stream(device: device)
        let driver = BenchmarkDriver(channel: job.channel, watchdog: Watchdog(seconds: command.launch.timeout, rank: 0), rank: 0)
        let bench = try driver.armed("moe kernels (compile and load)") {
            try MoEBench(driver: driver, channel: job.channel, device: device, stream: stream, compiler: try RuntimeCompiler(), rank: 0, ranks: n, session: nil)
        }
        let blocks = try bench.blocks(requested: command.blocks)
        var info = Provenance.runInfo(inventory: job.inventory, launcher: job.launcher)
        info.notes = (info.notes ?? []) + [VirtualRankWords.note(n)]
        let sink = try ResultsSink(path: command.resultsPath, run: info, reports: job.reports)
        let table = MoETable(reports: job.reports, ranks: n, perRankLines: false)
        let plan = command.plan
        table.header("moe  \(n) virtual ranks on one GPU (\(device.name))  \(MoETable.timingWords(plan))  check \(plan.check ? 1 : 0)")
        table.say(VirtualRankWords.headerLine)
        for shape in command.shapes {
            table.shape(shape)
            for r in try bench.runVirtual(shape: shape, plan: plan, blocks: blocks) {
                table.row(MoEStyle.nccl.rawValue, r)
                try sink.write(MoETable.record(r, sink: sink, ranks: n, plan: plan))
            }
        }
        table.footer(driver)
        if job.reports, let line = sink.closingLine() { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        if let f = driver.failureIfWrong("elements") { throw f }
    }

    /// `--kernels`: the layout kernel per shape, then the FP8 cast and a copy, on this process's first GPU.
    public static func kernels(_ command: Settings) throws {
        var spec = command.launch
        spec.np = nil
        let job = try Job(spec, needsNCCL: false) { _, devices in
            if !devices[0].supportsFP8 { throw Failure(.unavailable, "the FP8 cast needs sm_89 or newer; this GPU is \(devices[0].arch)") }
        }
        defer { job.close() }
        let device = job.devices[0]
        try device.makeCurrent()
        let stream = try Stream(device: device)
        let driver = BenchmarkDriver(channel: job.channel, watchdog: Watchdog(seconds: command.launch.timeout, rank: 0), rank: 0)
        let bench = try MoEBench(driver: driver, channel: job.channel, device: device, stream: stream, compiler: try RuntimeCompiler(),
                                 rank: 0, ranks: 1, session: nil)
        let sink = try ResultsSink(path: command.resultsPath,
                                   run: Provenance.runInfo(inventory: job.inventory, launcher: job.launcher), reports: job.reports)
        let table = MoETable(reports: job.reports, ranks: 1, perRankLines: false)
        let plan = command.plan
        table.header("moe --kernels  \(device.name)  \(device.multiprocessors) SMs  \(MoETable.timingWords(plan))")
        var hiddens: [Int] = []
        for shape in command.shapes {
            table.shape(shape)
            let r = try bench.layout(shape: shape, plan: plan)
            table.row("layout", r)
            try sink.write(MoETable.record(r, sink: sink, ranks: 1, plan: plan))
            if !hiddens.contains(shape.hidden) { hiddens.append(shape.hidden) }
        }
        for h in hiddens {
            let rows = try bench.castAndCopy(tokens: command.castTokens, hidden: h, plan: plan)
            table.cast(rows, tokens: command.castTokens, hidden: h)
            for r in rows { try sink.write(MoETable.record(r, sink: sink, ranks: 1, plan: plan)) }
        }
        table.footer(driver)
        if let f = driver.failureIfWrong("elements") { throw f }
    }
}

/// The `moe` table: one line per operation, every byte convention's GB/s side by side.
struct MoETable {
    let reports: Bool
    let ranks: Int
    /// Every rank's statistics under each operation, not only the slowest and fastest.
    let perRankLines: Bool
    /// `--split`: the op column is wide enough for dispatch_send, combine_recv.
    var split = false

    func say(_ s: String) { if reports { print(s); fflush(nil) } }

    func header(_ s: String) {
        say("# gpucomm \(GPUCommVersion.version) \(s)")
        say("# GB/s = 10^9 B/s of each convention's bytes per rank (mean over ranks) at the mean time:")
        for c in ByteConvention.allCases { say("#   \(c.rawValue): \(c.label)") }
        if Job.sharesGPUs() && ranks > 1 { say("# GPUCOMM_SHARE_GPUS=1: ranks share GPUs; correctness only, these timings are not results") }
    }

    func shape(_ s: MoEShape) {
        say("")
        say("# \(s)")
        say("#" + pad("style", 12) + pad("op", opWidth) + pad("mean_us", 10) + pad("p50_us", 10) + pad("min_us", 10) + pad("max_us", 10)
            + ByteConvention.allCases.map { pad($0.rawValue, 14) }.joined() + pad("wrong", 8))
    }

    func row(_ style: String, _ r: MoEResult) {
        let m = r.measurement
        let st = m.stats
        let times = [m.timeUs, st?.p50, st?.min, st?.max].map { $0.map { String(format: "%.2f", $0) } ?? "-" }
        let gb = ByteConvention.allCases.map { c in r.bytes[c].map { String(format: "%.2f", r.gbps($0)) } ?? "-" }
        say(" " + pad(style, 12) + pad(r.op, opWidth) + times.map { pad($0, 10) }.joined() + gb.map { pad($0, 14) }.joined() + pad(m.wrong.map(String.init) ?? "N/A", 8))
        for line in Self.rankLines(m, every: perRankLines) { say("#" + pad("", 12) + " " + line) }
        if r.op == "dispatch" || r.op == "combine" {
            let list = ByteConvention.allCases.map { "\($0.rawValue) \(Self.mb(r.bytes[$0] ?? 0))" }.joined(separator: ", ")
            say("#" + pad("", 12) + " bytes/rank \(r.op): " + list)
        }
    }

    /// Width of the op column.
    var opWidth: Int { split ? 15 : 10 }

    /// The header's lines on what the split rows time (docs/moe.md, "Send/receive split").
    static let splitLines = [
        "# --split: dispatch_send/combine_send time the send half alone (pack, puts or stores, signals; no waiting), its receive pending until after the timed loop;",
        "#          dispatch_recv/combine_recv the receive half alone (wait for and consume the signals; combine: then the weighted sum), all sends made by the first warm-up;",
        "#          both checked as send then receive; the receive rows carry no bytes (time only)",
    ]

    /// Decimal megabytes, as the papers print them (7.59 MB).
    static func mb(_ b: Double) -> String { String(format: "%.2f MB", b / 1e6) }

    /// The timing words of the header: strategy, counts, and with events the per-iteration steps.
    static func timingWords(_ p: TimingPlan) -> String {
        let steps = p.strategy == .events ? "  barrier/iter \(p.barrierEachIteration ? 1 : 0)  l2-flush \(p.flushL2 ? 1 : 0)" : ""
        return "timing \(p.strategy.rawValue)  -n \(p.iterations) -w \(p.warmup)" + steps
    }

    /// The header's line on the dispatch and combine grid: blocks × threads and the multiprocessors
    /// that is of the GPU's (a block per multiprocessor first), and this process's share (MPS).
    static func gridLine(blocks: Int, threads: Int, multiprocessors: Int, share: Int) -> String {
        let used = min(blocks, multiprocessors)
        let pct = multiprocessors > 0 ? String(format: "%.0f%%", 100 * Double(used) / Double(multiprocessors)) : "-"
        let more = blocks > multiprocessors ? ", up to \((blocks + multiprocessors - 1) / multiprocessors) blocks each" : ""
        return "# dispatch/combine grid: \(blocks) blocks x \(threads) threads on \(used) of the GPU's \(multiprocessors) multiprocessors (\(pct)\(more)); this process's share \(share)"
    }

    /// Under an operation: the slowest rank (highest mean) with its mean and p50, the fastest
    /// with its mean, and the spread between them; with `every`, each rank's mean, p50, min and
    /// max. Nothing for one rank.
    static func rankLines(_ m: Driver.Measurement, every: Bool) -> [String] {
        guard let p = m.perRank, p.count > 1, let hi = m.slowestRank, let lo = m.fastestRank else { return [] }
        let f = { (x: Double) in String(format: "%.2f", x) }
        let spread = p[hi].mean - p[lo].mean
        let pct = p[lo].mean > 0 ? String(format: " (%.1f%%)", 100 * spread / p[lo].mean) : ""
        var out = ["ranks: slowest \(hi) mean \(f(p[hi].mean)) p50 \(f(p[hi].p50)) us | fastest \(lo) mean \(f(p[lo].mean)) us | spread \(f(spread)) us\(pct)"]
        if every {
            out += p.enumerated().map { r, s in "rank \(r): mean \(f(s.mean)) p50 \(f(s.p50)) min \(f(s.min)) max \(f(s.max)) us" }
        }
        return out
    }

    /// Rank `r`'s own mean time (as DeepEP's and pplx's tests print it), the measurement's when it
    /// has no per-rank figures.
    static func own(_ m: Driver.Measurement, rank r: Int) -> Summary? {
        if let p = m.perRank, r < p.count { return p[r] }
        return m.stats
    }

    func deepep(_ style: String, _ rows: [MoEResult]) {
        let lines = Self.deepepLines(rows)
        if lines.isEmpty { return }
        say("# DeepEP's format (\(style), DeepEP LL bytes (mean over ranks), each rank's own mean time):")
        for l in lines { say(l) }
    }

    /// DeepEP low-latency test's line (tests/legacy/test_low_latency.py, "Separate profiling"),
    /// one per rank as every DeepEP rank prints its own: the DeepEP LL convention's bytes (the mean
    /// over ranks: each rank's own when all have the same tokens and masked count) over the rank's
    /// own mean time.
    static func deepepLines(_ rows: [MoEResult]) -> [String] {
        guard let d = rows.first(where: { $0.op == "dispatch" }), let c = rows.first(where: { $0.op == "combine" }) else { return [] }
        let ranks = max(d.measurement.perRank?.count ?? 1, 1)
        func f(_ r: MoEResult, _ rank: Int) -> String {
            let t = own(r.measurement, rank: rank)?.mean ?? r.measurement.timeUs
            let b = r.bytes[.deepepLL] ?? 0
            return String(format: "%.2f GB/s, avg_t=%.2f us", t > 0 ? b / 1e3 / t : 0, t)
        }
        return (0..<ranks).map { "[rank \($0)] Dispatch bandwidth: \(f(d, $0)) | Combine bandwidth: \(f(c, $0))" }
    }

    func pplx(_ style: String, dtype: MoEDType, _ rows: [MoEResult]) {
        let lines = Self.pplxLines(ranks: ranks, rows: rows)
        if lines.isEmpty { return }
        say("")
        say("# pplx-kernels' format (tests/bench_all_to_all.py; \(style), --in-dtype \(dtype == .fp8 ? "float8_e4m3fn" : "bfloat16"), pplx bytes, rank 0's own mean ± sample sd of its iterations; Torch and NVSHMEM columns not measured):")
        for l in lines { say(l) }
    }

    /// pplx-kernels' benchmark table (tests/bench_all_to_all.py, `_worker_bench_all_to_all`): the
    /// `EP= DP=` line, the header, then per shape one tab-separated row: experts, top-k, tokens,
    /// hidden; dispatch and combine as `{mean:4.1f}μs ± {sd:4.1f}μs`, `{GB/s:2.3f}GB/s` and bytes
    /// by pplx's convention, at rank 0's own time (pplx's rank 0 prints its own); the Torch and
    /// NVSHMEM all-to-all columns `-`. sd is `nan` with one sample, as torch's `std` of one value.
    static func pplxLines(ranks: Int, rows: [MoEResult]) -> [String] {
        let pairs = rows.filter { $0.op == "dispatch" }.compactMap { d in
            rows.first { $0.op == "combine" && $0.shape == d.shape }.map { (d, $0) }
        }
        if pairs.isEmpty { return [] }
        let header = ["E", "E/tok", "tok", "dim", "Dispatch_lat", "Dispatch_bw", "Dispatch_bytes", "Combine_lat", "Combine_bw", "Combine_bytes",
                      "Torch_lat", "Torch_bw", "Torch_bytes", "NVSHMEM_lat", "NVSHMEM_bw", "NVSHMEM_bytes"]
        func cells(_ r: MoEResult) -> [String] {
            let s = own(r.measurement, rank: 0)
            let mean = s?.mean ?? r.measurement.timeUs
            let sd = s.map { $0.count > 1 ? $0.cv * $0.mean : .nan } ?? .nan
            let bytes = r.bytes[.pplx] ?? 0
            return [String(format: "%4.1f\u{03BC}s \u{00B1} %4.1f\u{03BC}s", mean, sd), String(format: "%2.3fGB/s", mean > 0 ? bytes / mean / 1e3 : 0),
                    String(Int(bytes.rounded()))]
        }
        let body = pairs.map { d, c in
            ([String(d.shape.experts), String(d.shape.topK), String(d.shape.tokens), String(d.shape.hidden)] + cells(d) + cells(c)
             + Array(repeating: "-", count: 6)).joined(separator: "\t")
        }
        return ["EP=\(ranks) DP=\(ranks)", header.joined(separator: "\t")] + body
    }

    func cast(_ rows: [MoEResult], tokens: Int, hidden: Int) {
        say("")
        say("# FP8 cast of \(tokens) x \(hidden) BF16 (read 2 B + write 1 B + 4/128 B per element) beside a device copy of the same BF16 bytes")
        say("#" + pad("kernel", 12) + pad("mean_us", 10) + pad("p50_us", 10) + pad("traffic_GB/s", 14) + pad("of copy", 10) + pad("wrong", 8))
        let copy = rows.first { $0.op == "copy" }
        for r in rows {
            let gbs = r.gbps(Double(r.trafficBytes ?? 0))
            let ceiling = copy.map { $0.gbps(Double($0.trafficBytes ?? 0)) } ?? 0
            say(" " + pad(r.op, 12) + pad(String(format: "%.2f", r.measurement.timeUs), 10) + pad(r.measurement.stats.map { String(format: "%.2f", $0.p50) } ?? "-", 10)
                + pad(String(format: "%.1f", gbs), 14) + pad(ceiling > 0 ? String(format: "%.0f%%", 100 * gbs / ceiling) : "-", 10) + pad(r.measurement.wrong.map(String.init) ?? "N/A", 8))
        }
    }

    func footer(_ d: BenchmarkDriver) {
        say("# wrong elements: \(d.wrongTotal) \(d.wrongTotal == 0 ? "OK" : "FAILED")")
    }

    func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(1, w - s.count)) + s }

    /// The results row of one operation: benchmark moe_<op>, backend the style or kernel; each
    /// convention's bytes and GB/s in metrics; algbw = the wire convention's GB/s.
    static func record(_ r: MoEResult, sink: ResultsSink, ranks: Int, plan: TimingPlan) -> ResultRow {
        var row = sink.row(benchmark: "moe_\(r.op)", backend: r.backend, ranks: ranks)
        let s = r.shape
        row.dtype = r.op.hasPrefix("combine") ? "bf16" : s.dtype.rawValue
        row.count = Int64(s.tokens)
        row.timing = plan.strategy.rawValue
        row.iterations = r.measurement.iterations
        row.timeUs = r.measurement.timeUs
        row.stats = r.measurement.stats.map(TimeStats.init)
        row.wrong = r.measurement.wrong
        var metrics: [String: Double] = [:]
        for (c, b) in r.bytes {
            metrics["bytes_\(c.rawValue)"] = b
            metrics["gbps_\(c.rawValue)"] = r.gbps(b)
        }
        if let t = r.trafficBytes {
            metrics["traffic_bytes"] = Double(t)
            metrics["traffic_gbps"] = r.gbps(Double(t))
            row.sizeBytes = Int64(t)
        }
        if let w = r.bytes[.wire] { row.sizeBytes = Int64(w); row.algbwGBps = r.gbps(w) }
        var labels = r.labels
        if let p = r.measurement.perRank, let hi = r.measurement.slowestRank, let lo = r.measurement.fastestRank {
            metrics["rank_mean_max_us"] = p[hi].mean
            metrics["rank_mean_min_us"] = p[lo].mean
            labels["slowest_rank"] = String(hi)
        }
        row.metrics = metrics.isEmpty ? nil : metrics
        if plan.strategy == .events {
            labels["iteration_barrier"] = plan.barrierEachIteration ? "1" : "0"
            labels["l2_flush"] = plan.flushL2 ? "1" : "0"
        }
        labels["tokens"] = String(s.tokens); labels["hidden"] = String(s.hidden); labels["topk"] = String(s.topK)
        labels["experts"] = String(s.experts); labels["masked"] = String(s.masked); labels["skew"] = String(s.skew)
        labels["zero_ranks"] = String(s.zeroTokenRanks); labels["seed"] = String(s.seed)
        labels["dispatch_dtype"] = s.dtype.rawValue  // combine rows are bf16 either way: this keeps FP8 and BF16 runs apart
        labels.merge(s.routingLabels(ranks: ranks)) { _, routing in routing }  // groups, group_topk, routings
        row.labels = labels
        return row
    }
}
