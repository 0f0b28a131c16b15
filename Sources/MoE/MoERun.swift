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

        public init(shapes: [MoEShape], styles: [MoEStyle], launch: LaunchSpec, blocks: Int, resultsPath: String?, plan: TimingPlan,
                    deepepLines: Bool, castTokens: Int) {
            self.shapes = shapes; self.styles = styles; self.launch = launch; self.blocks = blocks; self.resultsPath = resultsPath
            self.plan = plan; self.deepepLines = deepepLines; self.castTokens = castTokens
        }
    }

    let command: Settings
    public init(_ settings: Settings) { command = settings }

    public func run() throws {
        let shapes = command.shapes
        let styles = command.styles
        let job = try Job(command.launch, needsNCCL: styles.contains(.nccl)) { world, devices in
            for s in shapes { if let why = s.problem(ranks: world) { throw Failure(.usage, why) } }
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
        if styles.contains(where: \.usesNVSHMEM) { session = try job.startNVSHMEM(heapBytes: MoEBench.heapBytes(shapes, ranks: ranks)) }
        if styles.contains(.nccl) {
            do { nccl = try NCCL() } catch { throw Failure(.unavailable, "NCCL: \(error)") }
            comm = try job.communicators(nccl!).first
        }
        let driver = BenchmarkDriver(channel: job.channel, watchdog: Watchdog(seconds: command.launch.timeout, rank: rank), rank: rank)
        let bench = try driver.armed("moe kernels (compile and load)") {
            try MoEBench(driver: driver, channel: job.channel, device: device, stream: stream, compiler: compiler, rank: rank, ranks: ranks, session: session)
        }
        let blocks = try bench.blocks(requested: command.blocks)
        var info = Provenance.runInfo(inventory: job.inventory, launcher: job.launcher)
        info.nccl = nccl?.version
        info.nvshmem = session?.lib.version
        let sink = try ResultsSink(path: command.resultsPath, run: info, reports: job.reports)
        let table = MoETable(reports: job.reports, ranks: ranks)
        let plan = command.plan
        table.header("moe  \(ranks) ranks  nccl \(nccl?.version ?? "-")  nvshmem \(session?.lib.version ?? "-")  timing \(plan.strategy.rawValue)  -n \(plan.iterations) -w \(plan.warmup)  check \(plan.check ? 1 : 0)  blocks \(blocks) x 256")
        for shape in shapes {
            table.shape(shape)
            for style in styles {
                let transport: MoETransport = style == .nccl ? .nccl(comm!) : .nvshmem(session!)
                let rows = try bench.run(style: style, shape: shape, transport: transport, plan: plan, blocks: blocks)
                for r in rows {
                    table.row(style.rawValue, r)
                    try sink.write(MoETable.record(r, sink: sink, ranks: ranks, timing: plan.strategy.rawValue))
                }
                if command.deepepLines { table.deepep(style.rawValue, rows) }
            }
        }
        try job.channel.barrier()
        comm = nil
        session = nil
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
        let table = MoETable(reports: job.reports, ranks: 1)
        let plan = command.plan
        table.header("moe --kernels  \(device.name)  \(device.multiprocessors) SMs  timing \(plan.strategy.rawValue)  -n \(plan.iterations) -w \(plan.warmup)")
        var hiddens: [Int] = []
        for shape in command.shapes {
            table.shape(shape)
            let r = try bench.layout(shape: shape, plan: plan)
            table.row("layout", r)
            try sink.write(MoETable.record(r, sink: sink, ranks: 1, timing: plan.strategy.rawValue))
            if !hiddens.contains(shape.hidden) { hiddens.append(shape.hidden) }
        }
        for h in hiddens {
            let rows = try bench.castAndCopy(tokens: command.castTokens, hidden: h, plan: plan)
            table.cast(rows, tokens: command.castTokens, hidden: h)
            for r in rows { try sink.write(MoETable.record(r, sink: sink, ranks: 1, timing: plan.strategy.rawValue)) }
        }
        table.footer(driver)
        if let f = driver.failureIfWrong("elements") { throw f }
    }
}

/// The `moe` table: one line per operation, every byte convention's GB/s side by side.
struct MoETable {
    let reports: Bool
    let ranks: Int

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
        say("#" + pad("style", 12) + pad("op", 10) + pad("mean_us", 10) + pad("p50_us", 10) + pad("min_us", 10) + pad("max_us", 10)
            + ByteConvention.allCases.map { pad($0.rawValue, 14) }.joined() + pad("wrong", 8))
    }

    func row(_ style: String, _ r: MoEResult) {
        let m = r.measurement
        let st = m.stats
        let times = [m.timeUs, st?.p50, st?.min, st?.max].map { $0.map { String(format: "%.2f", $0) } ?? "-" }
        let gb = ByteConvention.allCases.map { c in r.bytes[c].map { String(format: "%.2f", r.gbps($0)) } ?? "-" }
        say(" " + pad(style, 12) + pad(r.op, 10) + times.map { pad($0, 10) }.joined() + gb.map { pad($0, 14) }.joined() + pad(m.wrong.map(String.init) ?? "N/A", 8))
        if r.op == "dispatch" || r.op == "combine" {
            let list = ByteConvention.allCases.map { "\($0.rawValue) \(Self.mb(r.bytes[$0] ?? 0))" }.joined(separator: ", ")
            say("#" + pad("", 12) + " bytes/rank \(r.op): " + list)
        }
    }

    /// Decimal megabytes, as the papers print them (7.59 MB).
    static func mb(_ b: Double) -> String { String(format: "%.2f MB", b / 1e6) }

    /// DeepEP low-latency test's line (tests/test_low_latency.py) by its own convention, at gpucomm's
    /// mean time over ranks (DeepEP's rank prints its own kernel time).
    func deepep(_ style: String, _ rows: [MoEResult]) {
        guard let d = rows.first(where: { $0.op == "dispatch" }), let c = rows.first(where: { $0.op == "combine" }) else { return }
        let f = { (r: MoEResult) in String(format: "%.2f GB/s, avg_t=%.2f us", r.gbps(r.bytes[.deepepLL] ?? 0), r.measurement.timeUs) }
        say("# DeepEP's format (\(style), DeepEP LL bytes, mean time over ranks):")
        say("[rank 0] Dispatch bandwidth: \(f(d)) | Combine bandwidth: \(f(c))")
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
    static func record(_ r: MoEResult, sink: ResultsSink, ranks: Int, timing: String) -> ResultRow {
        var row = sink.row(benchmark: "moe_\(r.op)", backend: r.backend, ranks: ranks)
        let s = r.shape
        row.dtype = r.op == "combine" ? "bf16" : s.dtype.rawValue
        row.count = Int64(s.tokens)
        row.timing = timing
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
        row.metrics = metrics.isEmpty ? nil : metrics
        var labels = r.labels
        labels["tokens"] = String(s.tokens); labels["hidden"] = String(s.hidden); labels["topk"] = String(s.topK)
        labels["experts"] = String(s.experts); labels["masked"] = String(s.masked); labels["skew"] = String(s.skew)
        labels["zero_ranks"] = String(s.zeroTokenRanks); labels["seed"] = String(s.seed)
        labels.merge(s.routingLabels(ranks: ranks)) { _, routing in routing }  // groups, group_topk, routings
        row.labels = labels
        return row
    }
}
