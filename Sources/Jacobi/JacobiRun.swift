import Driver
import Foundation
import GPU
import Results

/// One rank of a `gpucomm jacobi` job: the baseline (single_gpu) on its own GPU, then every chosen
/// variant, each checked against the baseline element by element and timed as a whole run inside
/// the driver's watchdog; the table and -csv lines on stdout (rank 0), rows in the results file.
public struct JacobiRun: Sendable {
    public var variants: [JacobiVariant]
    public var problem: JacobiProblem
    public var tolerance: Float
    /// Also print multi-gpu-programming-models' -csv lines.
    public var csv: Bool
    /// -T: the watchdog's bound on each variant's run.
    public var timeout: Int
    /// nil: no results file.
    public var resultsPath: String?
    /// Print single_gpu's row (the first job of a series only).
    public var printBaseline: Bool

    public init(variants: [JacobiVariant], problem: JacobiProblem, tolerance: Float, csv: Bool, timeout: Int, resultsPath: String?, printBaseline: Bool) {
        self.variants = variants; self.problem = problem; self.tolerance = tolerance; self.csv = csv; self.timeout = timeout
        self.resultsPath = resultsPath; self.printBaseline = printBaseline
    }

    public func run(_ spec: LaunchSpec) throws {
        let chosen = variants
        let built = chosen.filter { $0.isBuilt && $0 != .singleGPU }
        let needsNCCL = built.contains { $0.usesNCCL }
        let job = try Job(spec, needsNCCL: needsNCCL) { world, devices in
            if let p = problem.problem(ranks: [world]) { throw Failure(.usage, p) }
            let free = try devices[0].memoryInfo().free
            if let m = problem.memoryProblem(ranks: world, freeBytes: free) { throw Failure(.usage, m) }
        }
        defer { job.close() }
        let n = job.worldSize
        let compiler = try RuntimeCompiler()
        let runner = try JacobiRunner(device: job.devices[0], compiler: compiler, problem: problem, rank: job.channel.processRank,
                                      ranks: n, channel: job.channel, tolerance: tolerance)
        let base = try runner.runBaseline()
        let serial = try job.channel.allGatherDoubles([base.seconds])[0][0]
        var comm: Communicator?
        if needsNCCL {
            let nccl: NCCL
            do { nccl = try NCCL() } catch { throw Failure(.unavailable, "NCCL: \(error)") }
            comm = try job.communicators(nccl)[0]
        }
        // nccl_lsa: the device-API kernels, or why they cannot run here (the variant is skipped).
        var lsa: NCCLLSAStencil?
        var lsaUnavailable: String?
        if let comm, built.contains(.ncclLSA) {
            do { lsa = try NCCLLSAStencil(comm: comm, compiler: compiler) } catch let e as NCCLDeviceUnavailable { lsaUnavailable = e.reason }
        }
        var session: NVSHMEMSession?
        var stencil: NVSHMEMStencil?
        if built.contains(where: { $0.usesNVSHMEM }) {
            session = try job.startNVSHMEM(heapBytes: Int(JacobiProblem.heapBytes(slabBytes: problem.bufferBytes(ranks: n))))
            stencil = try NVSHMEMStencil(session: session!, compiler: compiler)
        }
        var run = Provenance.runInfo(inventory: job.inventory, launcher: job.launcher)
        run.nvshmem = session?.lib.version ?? run.nvshmem
        let sink = try ResultsSink(path: resultsPath, run: run, reports: job.reports)
        let driver = BenchmarkDriver(channel: job.channel, watchdog: Watchdog(seconds: timeout, rank: job.globalRanks[0]), rank: job.globalRanks[0])
        let table = JacobiTable(problem: problem, serial: serial, csv: csv)
        if job.reports {
            print(table.header(ranks: n, device: job.devices[0].name, baseline: base))
            if printBaseline && chosen.contains(.singleGPU) {
                let out = JacobiOutcome(variant: .singleGPU, ranks: 1, seconds: serial, wrong: nil, norm: base.norm)
                print(table.row(out))
                if csv { print(table.csvLine(out)) }
                try sink.write(table.record(out, run: run.run, baseline: base))
            }
        }
        var wrong: Int64 = 0
        try withExtendedLifetime(session) {
            for v in chosen where v != .singleGPU {
                guard v.isBuilt else {
                    if job.reports { print(table.notBuilt(v, ranks: n)) }
                    continue
                }
                if v == .ncclLSA, let reason = lsaUnavailable {
                    if job.reports { print(table.skipped(v, ranks: n, reason: reason)) }
                    continue
                }
                let out: JacobiOutcome
                do {
                    out = try driver.armed("jacobi \(v.rawValue) at \(n) GPU(s)") { try runner.run(v, comm: comm, nvshmem: stencil, lsa: lsa) }
                } catch {
                    guard let e = BenchmarkError.cause(error, as: NCCLDeviceUnavailable.self) else { throw error }
                    if job.reports { print(table.skipped(v, ranks: n, reason: e.reason)) }
                    continue
                }
                wrong += out.wrong ?? 0
                guard job.reports else { continue }
                print(table.row(out))
                if csv { print(table.csvLine(out)) }
                try sink.write(table.record(out, run: run.run, baseline: nil))
            }
            stencil = nil
        }
        if wrong > 0 { throw Failure(.wrongResults, "jacobi: \(wrong) wrong elements at \(n) GPU(s)") }
    }
}
