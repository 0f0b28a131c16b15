import Collectives
import Driver
import Foundation
import GPU
import Measure
import Results

/// One `gpucomm alltoall` job: the libraries, the backends that can run here, the table and the results rows.
public final class AlltoallRun {
    let job: Job
    let settings: Settings
    let sizes: [Int]
    let options: AlltoallBench.Options
    let driver: BenchmarkDriver
    var nccl: NCCL?
    var comm: Communicator?
    var session: NVSHMEMSession?
    var shared: NVSHMEMAlltoallShared?
    var bench: AlltoallBench!
    var backends: [AlltoallBackend] = []
    var unavailable: [(BackendKind, String)] = []
    var sink: ResultsSink!
    var wrong: [BackendKind: Int64] = [:]
    /// Backends and why some of their sizes were not run (`AlltoallBackend.skipReason`).
    var skipped: [BackendKind: String] = [:]
    var context: BackendContext!

    /// What `gpucomm alltoall` asked for, once validated.
    public struct Settings: Sendable {
        public var bench: AlltoallBench.Options
        public var kernel: KernelOptions
        /// -T: the watchdog's bound on each measurement.
        public var timeout: Int
        /// nil: no results file.
        public var resultsPath: String?
        public init(bench: AlltoallBench.Options, kernel: KernelOptions, timeout: Int, resultsPath: String?) {
            self.bench = bench; self.kernel = kernel; self.timeout = timeout; self.resultsPath = resultsPath
        }
    }

    public init(job: Job, settings: Settings, sizes: [Int]) {
        self.job = job
        self.settings = settings
        self.sizes = sizes
        options = settings.bench
        driver = BenchmarkDriver(channel: job.channel, watchdog: Watchdog(seconds: settings.timeout, rank: job.globalRanks[0]), rank: job.globalRanks[0])
    }

    var rank: Int { job.globalRanks[0] }
    var ranks: Int { job.worldSize }

    /// Loads what the requested backends need and builds them; what cannot run is listed, not fatal.
    /// Every rank decides the same (a backend runs only where every rank could build it).
    public func start(_ requested: [BackendKind]) throws {
        let device = job.devices[0]
        try device.makeCurrent()
        let compiler = try RuntimeCompiler()
        let stream = try Stream(device: device)
        let maxBytes = sizes.last!
        var ncclProblem: String?
        if requested.contains(where: \.usesNCCL) {
            do {
                let lib = try NCCL()
                nccl = lib
                comm = try job.communicators(lib).first
            } catch { ncclProblem = "NCCL: \(error)" }
        }
        var nvshmemProblem: String?
        if requested.contains(where: \.usesNVSHMEM) {
            do {
                let s = try job.startNVSHMEM(heapBytes: 2 * maxBytes + (64 << 20))
                session = s
                shared = try NVSHMEMAlltoallShared(session: s, compiler: compiler, maxBytesPerRank: maxBytes)
            } catch { nvshmemProblem = "NVSHMEM: \(error)" }
        }
        context = BackendContext(device: device, stream: stream, compiler: compiler, rank: rank, ranks: ranks, maxBytesPerRank: maxBytes,
                                 comm: comm, session: session, kernel: settings.kernel, channel: job.channel)
        bench = try AlltoallBench(device: device, stream: stream, compiler: compiler, rank: rank, ranks: ranks, driver: driver)
        for k in requested {
            var made: AlltoallBackend?
            var why: String?
            do {
                if k.usesNCCL, let p = ncclProblem { why = p } else if k.usesNVSHMEM, let p = nvshmemProblem { why = p } else {
                    made = try build(k)
                }
            } catch let u as BackendUnavailable { why = u.reason } catch { why = "\(error)" }
            // Agree over ranks: run only what every rank built.
            let votes = try job.channel.allGather(Array((why ?? "").utf8))
            if let bad = votes.first(where: { !$0.isEmpty }) {
                unavailable.append((k, String(decoding: bad, as: UTF8.self)))
            } else if let made {
                backends.append(made)
            }
        }
        var info = Provenance.runInfo(inventory: job.inventory, launcher: job.launcher)
        info.nccl = nccl?.version
        info.nvshmem = session?.lib.version
        sink = try ResultsSink(path: settings.resultsPath, run: info, reports: job.reports)
        if job.reports {
            print("# gpucomm \(GPUCommVersion.version) alltoall  \(ranks) ranks  nccl \(nccl?.version ?? "-")  nvshmem \(session?.lib.version ?? "-")  timing \(options.timing.rawValue)  -n \(options.iterations) -w \(options.warmup)  check \(options.check ? 1 : 0)")
            for (k, why) in unavailable { print("# unavailable: \(k.rawValue): \(why)") }
        }
    }

    func build(_ k: BackendKind) throws -> AlltoallBackend {
        try AlltoallBackends.make(k, context: context, shared: shared)
    }

    func measure(_ b: AlltoallBackend, _ size: Int) throws -> AlltoallMeasurement {
        if job.reports { FileHandle.standardError.write(Data("[gpucomm] alltoall \(ByteSize.format(size)) \(b.kind.rawValue)\n".utf8)) }
        let m = try bench.measure(b, bytesPerRank: size, options)
        if let w = m.wrong, w > 0 { wrong[b.kind, default: 0] += w }
        return m
    }

    func record(_ b: AlltoallBackend, _ m: AlltoallMeasurement, chunk: Int? = nil) throws {
        guard job.reports else { return }
        var r = sink.row(benchmark: "alltoall", backend: b.kind.resultsName, ranks: ranks)
        r.variant = "out_of_place"
        r.dtype = "uint8"
        r.sizeBytes = Int64(m.bytesPerRank)
        r.count = Int64(m.bytesPerRank)
        r.chunkBytes = chunk.map(Int64.init)
        let labels = b.labels(bytesPerRank: m.bytesPerRank)
        r.buffer = labels["buffer"]
        r.timing = options.timing.rawValue
        r.iterations = options.iterations
        r.timeUs = m.timeUs
        r.stats = m.stats.map(TimeStats.init)
        r.algbwGBps = m.algbw
        r.busbwGBps = m.busbw
        r.wrong = m.wrong
        var l = labels.filter { $0.key != "buffer" && $0.key != "chunk" }
        l["initiator"] = b.kind.initiator
        r.labels = l
        try sink.write(r)
    }

    static func cell(_ m: AlltoallMeasurement) -> String {
        let mark = (m.wrong ?? 0) > 0 ? "!" : " "
        return String(format: "%9.2f %7.2f%@", m.timeUs, m.busbw, mark)
    }

    /// Every size × every backend, one row per size: time (µs) and busbw (GB/s) per backend.
    public func table() throws {
        if job.reports {
            print("# per backend: time (us) and busbw (GB/s); ! = wrong bytes (listed below)")
            print("#" + pad("size (B)", 11) + pad("per peer", 10) + backends.map { pad($0.kind.rawValue, 18) }.joined())
        }
        for s in sizes {
            var cells: [String] = []
            for b in backends {
                if let why = b.skipReason(bytesPerRank: s) {
                    skipped[b.kind] = why
                    cells.append(pad("skipped", 17) + " ")
                    continue
                }
                let m = try measure(b, s)
                try record(b, m)
                cells.append(Self.cell(m))
            }
            if job.reports { print(" " + pad(String(s), 11) + pad(String(s / ranks), 10) + cells.map { pad($0, 18) }.joined()); fflush(nil) }
        }
    }

    /// nvshmem-signal at every size and chunk: one row per size, busbw per chunk.
    public func chunkSweep(_ chunks: [Int]) throws {
        guard let sh = shared, backends.contains(where: { $0.kind == .nvshmemSignal }) else { return }
        if job.reports {
            print("# chunk-size sweep of nvshmem-signal: busbw (GB/s) per chunk; ! = wrong bytes")
            print("#" + pad("size (B)", 11) + pad("per peer", 10) + chunks.map { pad(ByteSize.format($0), 10) }.joined())
        }
        let variants = try chunks.map { c -> AlltoallBackend in
            var k = context.kernel
            k.chunk = c
            var c = context!
            c.kernel = k
            return try AlltoallBackends.make(.nvshmemSignal, context: c, shared: sh)
        }
        for s in sizes {
            var cells: [String] = []
            for (c, b) in zip(chunks, variants) {
                let m = try measure(b, s)
                try record(b, m, chunk: c)
                cells.append(String(format: "%9.2f%@", m.busbw, (m.wrong ?? 0) > 0 ? "!" : " "))
            }
            if job.reports { print(" " + pad(String(s), 11) + pad(String(s / ranks), 10) + cells.map { pad($0, 10) }.joined()); fflush(nil) }
        }
    }

    func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }

    /// Releases backends in the same order on every rank (window deregistration is collective), then reports wrong bytes.
    public func finish() throws {
        try job.channel.barrier()
        backends.removeAll()
        shared = nil
        session = nil
        let total = wrong.values.reduce(0, +)
        if job.reports {
            for (k, why) in skipped.sorted(by: { $0.key.rawValue < $1.key.rawValue }) { print("# skipped: \(k.rawValue): \(why)") }
            for (k, w) in wrong.sorted(by: { $0.key.rawValue < $1.key.rawValue }) { print("# wrong bytes: \(k.rawValue): \(w)") }
            print("# Out of bounds values : \(total) \(total == 0 ? "OK" : "FAILED")")
            if let line = sink.closingLine() { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        if total > 0 { throw Failure(.wrongResults, "\(total) wrong bytes") }
    }
}
