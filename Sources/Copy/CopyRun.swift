import Driver
import Foundation
import GPU
import Measure
import Results

/// One `gpucomm copy` run: the GPUs of this process, their limits, every chosen test at every
/// size; a line per cell and size on stdout, the matrix at the largest size, a row per cell and
/// size in the results file.
public struct CopyRun {
    /// What `gpucomm copy` asked for, once validated.
    public struct Settings: Sendable {
        public var benchmarks: [CopyBenchmark]
        public var memories: [HostMemoryChoice]
        public var sizes: [Int]
        /// -T: the watchdog's bound on each measurement.
        public var timeout: Int
        /// Memory the pointer chase runs through.
        public var latencyBytes: Int
        /// Dependent loads per chase.
        public var hops: Int
        public var iters: Int
        public var warmup: Int
        public var check: Bool
        /// host or events.
        public var timing: String
        /// nil: no results file.
        public var resultsPath: String?

        public init(benchmarks: [CopyBenchmark], memories: [HostMemoryChoice], sizes: [Int], timeout: Int, latencyBytes: Int, hops: Int,
                    iters: Int, warmup: Int, check: Bool, timing: String, resultsPath: String?) {
            self.benchmarks = benchmarks; self.memories = memories; self.sizes = sizes; self.timeout = timeout; self.latencyBytes = latencyBytes
            self.hops = hops; self.iters = iters; self.warmup = warmup; self.check = check; self.timing = timing; self.resultsPath = resultsPath
        }
    }

    let c: Settings

    public init(_ settings: Settings) { c = settings }

    public func run() throws {
        let benchmarks = c.benchmarks
        let memories = c.memories
        let sizes = c.sizes
        let job = try Job(LaunchSpec(timeout: c.timeout), needsNCCL: false) { _, _ in }
        let chain = PointerChain(bytes: c.latencyBytes)
        defer { job.close() }
        let compiler = try RuntimeCompiler()
        let devices = try job.devices.map { try CopyDevice(device: $0, compiler: compiler) }
        let calls = try HostCopyCalls(cuda: job.cuda)
        let (topology, links) = Self.topology(job)
        let run = Provenance.runInfo(inventory: job.inventory, launcher: job.launcher)
        let sink = try ResultsSink(path: c.resultsPath, run: run, reports: job.reports)
        let driver = BenchmarkDriver(channel: job.channel, watchdog: Watchdog(seconds: c.timeout, rank: 0), rank: 0)
        var plan = TimingPlan()
        plan.iterations = c.iters
        plan.warmup = c.warmup
        plan.check = c.check
        plan.strategy = c.timing == "events" ? .events : .hostLoop
        let runner = CopyRunner(devices: devices, calls: calls, driver: driver, plan: plan, topology: topology,
                                maxBytes: sizes.last!, numaNodes: NUMATopology.onlineNodes())

        print("# gpucomm \(GPUCommVersion.version)  copy  \(devices.count) GPU(s): \(job.devices.first?.name ?? "?")  timing \(c.timing)  -n \(c.iters) -w \(c.warmup)  \(c.check ? "checked" : "not checked")")
        let nodes = NUMATopology.onlineNodes()
        for (i, l) in links.enumerated() {
            let node = NUMATopology.node(ofPCIDevice: job.devices[i].pciBusId).map(String.init) ?? "unknown"
            print("#   GPU \(i) \(job.devices[i].pciBusId): \(l); NUMA node \(node) of \(nodes.map(String.init).joined(separator: ","))")
        }
        print("#  test                                             memory       copies              size     time(us)  algbw(GB/s)  busbw(GB/s)  of limit  #wrong")
        let shape = JobShape(ranks: devices.count, computeCapabilityMajor: job.devices[0].computeCapability.major, hasNCCL: false, hasNVSHMEM: false)
        var localCE: [String: Double] = [:]  // "gpu size" → CE local copy algbw, the SM local copy's limit
        // Host memory outermost: each choice's buffers are allocated once and serve every test.
        for (mi, m) in memories.enumerated() {
            for b in benchmarks where mi == 0 || b.pattern.usesHost {
                if let why = b.applicability(shape).reason {
                    if mi == 0 { print("   \(b.key.padding(toLength: 48, withPad: " ", startingAt: 0)) waived: \(why)") }
                    continue
                }
                let layout = CopyLayout(b, gpus: devices.count)
                var matrix = CopyMatrix(b, layout)
                if b.pattern.usesHost { matrix.title += ", \(m.rawValue) host memory" }
                try runner.run(b, memory: m, sizes: sizes, chain: chain, hops: c.hops) { r0 in
                    var r = r0
                    if b.pattern == .deviceLocal, let bw = r.bandwidth?.algbw {
                        let k = "\(r.cell.column) \(r.bytes)"
                        if b.engine == .ce { localCE[k] = bw } else if let ce = localCE[k] { r.limit = CopyLimit(name: "device_local_copy_ce", gbps: ce) }
                    }
                    print(Self.line(r))
                    if r.bytes == (b.pattern.isLatency ? chain.bytes : sizes.last!) { matrix[r.cell.row, r.cell.column] = r.matrixValue }
                    if r.measurement != nil { try sink.write(Self.row(r, sink: sink, timing: b.pattern.isLatency ? "events" : c.timing)) }
                }
                print("")
                print(matrix.formatted())
            }
        }
        if let line = sink.closingLine() { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        if let f = driver.failureIfWrong("4-byte words", detail: " (see the #wrong column)") { throw f }
    }

    /// Limits from NVML and the inventory, and one line per GPU saying what its PCIe link is.
    static func topology(_ job: Job) -> (CopyTopology, [String]) {
        let nvml = try? NVML()
        let pcie = nvml.map { NVMLPCIe(nvml: $0) }
        var limits: [CopyLimit?] = []
        var lines: [String] = []
        for d in job.devices {
            let s = pcie?.link(pciBusId: d.pciBusId)
            let l = CopyLimit.pcie(maxGeneration: s?.maxGeneration, currentGeneration: s?.currentGeneration, currentWidth: s?.currentWidth, maxWidth: s?.maxWidth)
            limits.append(l)
            let now = "now Gen\(s?.currentGeneration.map(String.init) ?? "?") x\(s?.currentWidth.map(String.init) ?? "?"), at most Gen\(s?.maxGeneration.map(String.init) ?? "?") x\(s?.maxWidth.map(String.init) ?? "?")"
            lines.append(l.map { "PCIe limit \($0.name) = \(String(format: "%.1f", $0.gbps)) GB/s per direction (NVML: \(now))" }
                         ?? "PCIe link unknown (NVML \(nvml == nil ? "not loaded" : "did not say")): host copies have no limit beside them")
        }
        let inv = job.inventory
        let cc = job.devices.first.map { "\($0.computeCapability.major).\($0.computeCapability.minor)" } ?? ""
        let t = CopyTopology(pcie: limits, links: inv.linkMatrix, nvlinkGBpsPerLink: Inventory.nvlinkGBpsPerLink(computeCapability: cc),
                             nvlinksPerGPU: job.devices.map { d in inv.gpus.first { $0.pciBusId == d.pciBusId }?.nvlinks })
        return (t, lines)
    }

    static func cellText(_ r: CopyResult) -> String {
        r.cell.legs.map { "\($0.source)->\($0.destination)" }.joined(separator: ",")
    }

    /// One stdout line for a result.
    public static func line(_ r: CopyResult) -> String {
        var s = "   " + r.benchmark.key.padding(toLength: 48, withPad: " ", startingAt: 0)
        s += (r.memory?.rawValue ?? "-").padding(toLength: 13, withPad: " ", startingAt: 0)
        let cell = cellText(r)
        s += (cell.count > 18 ? "\(r.cell.legs.count) copies" : cell).padding(toLength: 18, withPad: " ", startingAt: 0)
        s += ByteSize.format(r.bytes).leftPadded(7)
        if let w = r.waiver { return s + "  waived: \(w)" }
        guard let m = r.measurement, let t = r.timeUs else { return s }
        if r.benchmark.pattern.isLatency {
            s += String(format: "%13.3f", t) + "            -            -         -"
        } else {
            let bw = r.bandwidth ?? (0, 0)
            s += String(format: "%13.2f %12.2f %12.2f", t, bw.algbw, bw.busbw)
            s += (r.limit.map { String(format: "%8.1f%%", 100 * $0.fraction(bw.algbw)) } ?? "        -").leftPadded(10)
        }
        s += (m.wrong.map(String.init) ?? "N/A").leftPadded(8)
        if let l = r.limit, !r.benchmark.pattern.isLatency { s += "  (\(l.name), \(String(format: "%.1f", l.gbps)) GB/s)" }
        return s
    }

    /// The results row of a measured result.
    public static func row(_ r: CopyResult, sink: ResultsSink, timing: String) -> ResultRow {
        var row = sink.row(benchmark: r.benchmark.key, backend: r.benchmark.engine.backend, ranks: r.cell.devices.count)
        row.variant = r.memory?.variant
        row.sizeBytes = Int64(r.bytes)
        row.timing = timing
        row.iterations = r.measurement?.iterations
        row.timeUs = r.timeUs
        row.wrong = r.measurement?.wrong
        if let bw = r.bandwidth, !r.benchmark.pattern.isLatency { row.algbwGBps = bw.algbw; row.busbwGBps = bw.busbw }
        if let s = r.measurement?.stats {
            let k = Double(r.hops ?? 1)
            row.stats = TimeStats(min: s.min / k, p50: s.p50 / k, p95: s.p95 / k, p99: s.p99 / k, max: s.max / k, mean: s.mean / k, cv: s.cv, samples: s.count)
        }
        var labels = ["copies": cellText(r), "row": String(r.cell.row), "column": String(r.cell.column), "engine": r.benchmark.engine.rawValue]
        var metrics: [String: Double] = [:]
        if let l = r.limit, let bw = r.bandwidth {
            labels["limit"] = l.name
            metrics["limit_gbps"] = l.gbps
            metrics["fraction_of_limit"] = l.fraction(bw.algbw)
        }
        if let h = r.hops { metrics["hops"] = Double(h); metrics["chain_bytes"] = Double(r.bytes) }
        row.labels = labels
        row.metrics = metrics.isEmpty ? nil : metrics
        return row
    }
}

extension String {
    func leftPadded(_ w: Int) -> String { String(repeating: " ", count: max(0, w - count)) + self }
}
