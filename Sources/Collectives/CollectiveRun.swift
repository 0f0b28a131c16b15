import Driver
import Foundation
import GPU
import Measure
import Results

/// Runs a plan of collectives on a job: table or JSON/CSV on stdout (rank 0), rows appended to the
/// results file as they complete, progress on stderr.
public final class CollectiveRun {
    public let job: Job
    public let nccl: NCCL
    public let bench: CollectiveBench
    public let sink: ResultsSink
    public let driver: BenchmarkDriver
    public var run: RunInfo { sink.run }
    var output: Output
    public var wrongTotal: Int64 = 0
    /// Known NCCL defects (id → summary) that explain some of the wrong rows (still counted as wrong).
    var knownDefects: [String: String] = [:]
    var csvHeaderPrinted = false
    /// Wrong elements in variants the library does not support (reported, not failing).
    var knownWrong: [String: Int64] = [:]
    public var rowsWithWrong = 0
    /// Every row this process reported, in order (rank 0 only).
    public var rows: [ResultRow] { sink.rows }
    var busbwSum = 0.0
    var busbwCount = 0

    /// What rank 0 prints on stdout: nccl-tests' table, JSON Lines, CSV, or nothing (suite, selftest).
    public enum Output: Sendable { case table, json, csv, none }

    /// Loads NCCL, creates communicators (split by `splitMask` when non-zero) and check kernels on every local GPU.
    public init(job: Job, splitMask: Int, resultsPath: String?, output: Output, timeout: Int) throws {
        self.job = job
        driver = BenchmarkDriver(channel: job.channel, watchdog: Watchdog(seconds: timeout, rank: job.globalRanks.first ?? 0), rank: job.globalRanks.first ?? 0)
        self.output = output
        nccl = try NCCL()
        let compiler = try RuntimeCompiler()
        var comms = try job.communicators(nccl)
        if splitMask != 0 {
            let split = try nccl.split(comms, color: { $0.rank & splitMask }, key: { $0.rank })
            comms = try split.enumerated().map { i, c in
                guard let c else { throw Failure(.failure, "ncclCommSplit returned no communicator for rank \(comms[i].rank)") }
                return c
            }
        }
        let ranks = try zip(job.devices, comms).map { try LocalRank(device: $0, comm: $1, compiler: compiler) }
        bench = CollectiveBench(ranks: ranks, channel: job.channel)
        sink = try ResultsSink(path: resultsPath, run: Provenance.runInfo(inventory: job.inventory, launcher: job.launcher), reports: job.reports)
    }

    public var ranks: Int { bench.worldSize }

    func header(_ c: CollectiveDescriptor, sizes: [Int], options o: BenchOptions) {
        guard job.reports else { return }
        if output == .csv && !csvHeaderPrinted { print(csvHeader); csvHeaderPrinted = true }
        guard output == .table else { return }
        print("# gpucomm \(GPUCommVersion.version)  nccl \(nccl.version)  cuda-driver \(job.inventory.cudaDriverAPI ?? "?")")
        print("# Collective test starting: \(c.key)")
        print("# nThread 1 nGpus \(job.devices.count) minBytes \(sizes.first!) maxBytes \(sizes.last!) step: \(stepText(sizes)) warmup iters: \(o.warmup) iters: \(o.iterations) agg iters: \(o.aggregate) validation: \(o.check ? 1 : 0) graph: \(o.graphLaunches)")
        print("#\n# Using devices")
        for (d, r) in zip(job.devices, job.globalRanks) {
            let host = String(ProcessInfo.processInfo.hostName.prefix(12))
            print("#  Rank \(pad(r, 2)) Group  0 Pid \(pad(Int(getpid()), 6)) on \(String(repeating: " ", count: max(0, 10 - host.count)))\(host) device \(pad(d.ordinal, 2)) [\(d.pciBusId.prefix(10))] \(d.name)")
        }
        print("#")
        print(NcclTestsTable.header)
    }

    /// nccl-tests' `step:` field: `F(factor)` for geometric sweeps, `B(bytes)` for linear ones.
    func stepText(_ s: [Int]) -> String {
        guard s.count > 1 else { return "1(factor)" }
        let linear = s.count > 2 ? s[2] - s[1] == s[1] - s[0] : s[1] % s[0] != 0
        return linear ? "\(s[1] - s[0])(bytes)" : "\(s[1] / s[0])(factor)"
    }

    func pad(_ v: Int, _ w: Int) -> String { let s = String(v); return String(repeating: " ", count: max(0, w - s.count)) + s }

    let csvHeader = "benchmark,backend,variant,dtype,op,root,size_bytes,count,ranks,buffer,timing,iterations,time_us,algbw_gbps,busbw_gbps,wrong"

    /// Measures one size out-of-place and in-place, prints the row, writes the results.
    public func measure(_ c: CollectiveDescriptor, type: NCCLDataType, op: NCCLReduceOp?, root: Int, size: Int, options o: BenchOptions) throws {
        var sides: [CollectiveMeasurement?] = []
        for inPlace in [false, true] {
            guard !inPlace || c.hasInPlace else { sides.append(nil); continue }
            let bc = BenchCase(collective: c, type: type, op: op, root: root, sizeBytes: size, inPlace: inPlace)
            let m = try bench.measure(bc, o, driver: driver,
                                      label: "\(c.key) \(type.name)\(op.map { " " + $0.rawValue } ?? "") \(size) B \(inPlace ? "in-place" : "out-of-place")")
            sides.append(m)
            try record(bc, m: m, o: o)
        }
        guard job.reports else { return }
        if output == .table {
            func side(_ m: CollectiveMeasurement?) -> NcclTestsTable.Side? {
                m.map { .init(timeUs: $0.timeUs, algbw: $0.algbw, busbw: $0.busbw, wrong: $0.wrong) }
            }
            print(NcclTestsTable.row(size: size, count: size / type.size, type: type.name, op: op?.tableName ?? "none",
                                     root: c.usesRoot ? root : -1, outOfPlace: side(sides[0]), inPlace: side(sides[1])))
            fflush(nil)
        }
    }

    func record(_ bc: BenchCase, m: CollectiveMeasurement, o: BenchOptions) throws {
        let (c, type, op, root, size, inPlace) = (bc.collective, bc.type, bc.op, bc.root, bc.sizeBytes, bc.inPlace)
        if let w = m.wrong, w > 0 {
            if inPlace, c.inPlaceUnsupported != nil { knownWrong[c.key, default: 0] += w } else { wrongTotal += w; rowsWithWrong += 1 }
        }
        busbwSum += m.busbw
        busbwCount += 1
        guard job.reports else { return }
        var r = sink.row(benchmark: c.key, backend: "nccl", ranks: ranks)
        r.variant = inPlace ? "in_place" : "out_of_place"
        r.dtype = type.name
        r.op = op?.rawValue
        r.root = c.usesRoot ? root : nil
        r.sizeBytes = Int64(size)
        r.count = Int64(size / type.size)
        r.buffer = o.buffers.rawValue
        r.timing = o.graphLaunches > 0 ? "graph" : o.timing.rawValue
        r.iterations = m.iterations
        r.timeUs = m.timeUs
        r.stats = m.stats.map(TimeStats.init)
        r.algbwGBps = m.algbw
        r.busbwGBps = m.busbw
        r.wrong = m.wrong
        var labels = c.labels
        if inPlace, let why = c.inPlaceUnsupported { labels["unsupported"] = why }
        if let w = m.wrong, w > 0, let d = KnownDefect.explaining(bc, mode: o.buffers, ranks: ranks, ncclVersion: nccl.versionCode) {
            labels["known_defect"] = d.id
            knownDefects[d.id] = d.summary
        }
        if !labels.isEmpty { r.labels = labels }
        try sink.write(r)
        switch output {
        case .json: print(try ResultsCodec.encode(.result(r)))
        case .csv:
            let f = [r.benchmark, r.backend, r.variant ?? "", r.dtype ?? "", r.op ?? "", r.root.map(String.init) ?? "",
                     String(size), String(size / type.size), String(ranks), r.buffer ?? "", r.timing ?? "", String(m.iterations),
                     String(format: "%.3f", m.timeUs), String(format: "%.4f", m.algbw), String(format: "%.4f", m.busbw),
                     m.wrong.map(String.init) ?? ""]
            print(f.joined(separator: ","))
        default: break
        }
    }

    func footer(_ c: CollectiveDescriptor) {
        guard job.reports, output == .table else { return }
        print("# Out of bounds values : \(wrongTotal) \(wrongTotal == 0 ? "OK" : "FAILED")")
        if let w = knownWrong[c.key], let why = c.inPlaceUnsupported {
            print("# Known library limitation: \(c.key) in-place had \(w) wrong elements — \(why)")
        }
        for (id, summary) in knownDefects.sorted(by: { $0.key < $1.key }) {
            print("# Known NCCL defect \(id): \(summary) (rows labelled known_defect; still counted as wrong)")
        }
        print("# Avg bus bandwidth    : \(String(format: "%.4f", busbwCount > 0 ? busbwSum / Double(busbwCount) : 0))")
        print("#")
    }

    public func progress(_ text: String) {
        guard job.reports else { return }
        FileHandle.standardError.write(Data("[gpucomm] \(text)\n".utf8))
    }

    /// Runs a whole sweep: every cycle, collective, type, op, root and size, with nccl-tests'
    /// header and footer around each collective.
    public func execute(_ sweep: CollectiveSweep) throws {
        let n = ranks
        for cycle in 0..<sweep.cycles {
            if sweep.cycles > 1 { progress("cycle \(cycle + 1)/\(sweep.cycles)") }
            for c in sweep.collectives {
                header(c, sizes: sweep.sizes, options: sweep.options)
                let reserve = sweep.types.flatMap { t in sweep.sizes.map { s in
                    bench.bytesNeeded(BenchCase(collective: c, type: t, op: nil, root: 0, sizeBytes: s, inPlace: true)) } }.max() ?? 0
                try bench.reserve(bytes: reserve, mode: sweep.options.buffers)
                for t in sweep.types {
                    for op in c.usesOp ? sweep.ops.map(Optional.some) : [nil] {
                        for root in c.usesRoot ? (sweep.roots ?? Array(0..<n)) : [0] {
                            for (k, s) in sweep.sizes.enumerated() {
                                if sweep.sizes.count > 4 { progress("\(c.key) \(t.name)\(op.map { " " + $0.rawValue } ?? "") \(ByteSize.format(s)) (\(k + 1)/\(sweep.sizes.count))") }
                                try measure(c, type: t, op: op, root: root, size: s, options: sweep.options)
                            }
                        }
                    }
                }
                footer(c)
            }
        }
    }

    public func finish() {
        bench.releaseBuffers()
        job.close()
        if let line = sink.closingLine() { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }
}

/// What `gpucomm nccl` sweeps, once validated: collectives × types × ops × roots × sizes.
public struct CollectiveSweep: Sendable {
    public var collectives: [CollectiveDescriptor]
    public var types: [NCCLDataType]
    public var ops: [NCCLReduceOp]
    /// nil: every rank.
    public var roots: [Int]?
    public var sizes: [Int]
    public var options: BenchOptions
    /// Times the whole sweep runs (nccl-tests -N).
    public var cycles: Int

    public init(collectives: [CollectiveDescriptor], types: [NCCLDataType], ops: [NCCLReduceOp], roots: [Int]?, sizes: [Int], options: BenchOptions, cycles: Int) {
        self.collectives = collectives; self.types = types; self.ops = ops; self.roots = roots; self.sizes = sizes; self.options = options; self.cycles = cycles
    }
}
