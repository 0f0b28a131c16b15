import ArgumentParser
import Collectives
import Foundation
import GPU
import Measure
import NVSHMEMBench
import Results

struct NVSHMEMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nvshmem",
        abstract: "Benchmark NVSHMEM one-sided operations (device-initiated puts), checked.",
        subcommands: [NVSHMEMPutCommand.self])
}

struct NVSHMEMPutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Put bandwidth from PE 0 to PE 1, issued by blocks, warps or threads inside a kernel.",
        discussion: """
        NVSHMEM runs one process (PE) per GPU: start it with --np 2 or any launcher (mpirun, srun, \
        torchrun). PE 0 puts `size` bytes into PE 1's symmetric buffer (both ways with \
        --bidirectional); every size is checked on the receiver first. Time per put is the median \
        of per-iteration CUDA-event times on the sender; algbw = size / time. On one host gpucomm sets \
        NVSHMEM_BOOTSTRAP_UID_SOCK_IFNAME=lo and NVSHMEM_REMOTE_TRANSPORT=none unless they are set, \
        and sizes the symmetric heap (NVSHMEM_SYMMETRIC_SIZE) from -e.
        """)

    @Option(name: [.customShort("b"), .customLong("minbytes")], help: "Smallest size.")
    var minBytes = "1M"
    @Option(name: [.customShort("e"), .customLong("maxbytes")], help: "Largest size.")
    var maxBytes = "256M"
    @Option(name: [.customShort("f"), .customLong("stepfactor")], help: "Multiply the size by this each step.")
    var stepFactor = 2
    @Option(name: [.customShort("n"), .customLong("iters")], help: "Timed iterations per size.")
    var iters = 20
    @Option(name: [.customShort("w"), .customLong("warmup_iters")], help: "Warmup puts per size.")
    var warmup = 5
    @Option(name: .long, help: "Who issues the puts: block, warp or thread.")
    var scope = "block"
    @Flag(name: .long, help: "Blocking puts (default: non-blocking _nbi puts, completed by nvshmem_quiet).")
    var blocking = false
    @Flag(name: .long, help: "PE 0 and PE 1 put to each other at the same time.")
    var bidirectional = false
    @Option(name: .long, help: "Blocks in the kernel's grid (256 threads each); default: one per multiprocessor.")
    var blocks = 0
    @Option(name: [.customShort("c"), .customLong("check")], help: "Check the data (1) or not (0).")
    var check = 1
    @Option(name: .long, help: "Append every row to this JSON Lines results file.")
    var results = "gpucomm-results.jsonl"
    @Flag(name: .long, help: "Write no results file.")
    var noResults = false
    @OptionGroup var launch: LaunchOptions

    func validate() throws {
        guard let lo = ByteSize.parse(minBytes), let hi = ByteSize.parse(maxBytes) else {
            throw ValidationError("-b/-e must be sizes (examples: 1M, 256M)")
        }
        do { _ = try Sweep(minBytes: lo, maxBytes: hi, factor: stepFactor) } catch { throw ValidationError("\(error)") }
        guard PutScope(rawValue: scope) != nil else { throw ValidationError("--scope must be block, warp or thread (got '\(scope)')") }
        guard iters >= 1, warmup >= 0, blocks >= 0 else { throw ValidationError("-n must be ≥ 1, -w and --blocks ≥ 0") }
        guard check == 0 || check == 1 else { throw ValidationError("-c must be 0 or 1") }
        if let g = launch.gpusPerProcess, g != 1 { throw ValidationError("NVSHMEM runs one GPU per process: -g must be 1") }
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        if launch.np == nil && env["GPUCOMM_RANK"] == nil && !RankEnvironment.present(env) {
            throw Failure(.usage, "NVSHMEM needs one process per GPU: add --np 2 (or start it with mpirun/srun/torchrun)")
        }
        if let status = try Job.spawnIfAsked(launch) { throw Failure(ExitStatus(rawValue: status) ?? .failure, "") }
        let sizes = try Sweep(minBytes: ByteSize.parse(minBytes)!, maxBytes: ByteSize.parse(maxBytes)!, factor: stepFactor).sizes
        var o = PutBandwidth.Options()
        o.scope = PutScope(rawValue: scope)!
        o.blocking = blocking; o.bidirectional = bidirectional; o.blocks = blocks
        o.iterations = iters; o.warmup = warmup; o.check = check == 1
        let job = try Job(launch, needsNCCL: false) { world, _ in
            if world < 2 { throw Failure(.usage, "put needs 2 PEs (got \(world))") }
        }
        defer { job.close() }
        let compiler = try RuntimeCompiler()
        let session = try job.startNVSHMEM(heapBytes: 2 * sizes.last! + (256 << 20))
        let nv = session.lib
        var wrongTotal: Int64 = 0
        try withExtendedLifetime(session) {
            let bench = try PutBandwidth(session: session, compiler: compiler, maxBytes: sizes.last!, sumOverPEs: job.sumOverRanks)
            var run = Provenance.runInfo(inventory: job.inventory, launcher: job.launcher)
            run.nvshmem = nv.version
            let writer = job.reports && !noResults ? try ResultsWriter(path: results) : nil
            try writer?.write(.run(run))
            if job.reports {
                print("# gpucomm \(GPUCommVersion.version)  nvshmem \(nv.version)  put \(o.scope.rawValue) \(blocking ? "blocking" : "nbi") \(bidirectional ? "bidirectional" : "PE 0 -> PE 1")  \(session.pes) PEs")
                print("#       size    time p50      min      p95   algbw  #wrong")
                print("#        (B)        (us)     (us)     (us)  (GB/s)")
            }
            for s in sizes {
                let r = try bench.measure(bytes: s, o)
                wrongTotal += r.wrong ?? 0
                guard job.reports else { continue }
                print(String(format: "%12d  %10.2f  %7.2f  %7.2f  %6.2f  %6@", s, r.timeUs, r.stats.min, r.stats.p95, r.algbwGBps, r.wrong.map(String.init) ?? "N/A"))
                var row = ResultRow(run: run.run, benchmark: "put_bw", backend: "nvshmem_device", ranks: 2)
                row.variant = "\(o.scope.rawValue)\(blocking ? "" : "_nbi")\(bidirectional ? "_bidir" : "")"
                row.sizeBytes = Int64(s)
                row.timing = "events"
                row.iterations = iters
                row.timeUs = r.timeUs
                row.stats = TimeStats(min: r.stats.min, p50: r.stats.p50, p95: r.stats.p95, p99: r.stats.p99, max: r.stats.max,
                                      mean: r.stats.mean, cv: r.stats.cv, samples: r.stats.count)
                row.algbwGBps = r.algbwGBps
                row.wrong = r.wrong
                row.labels = ["scope": o.scope.rawValue, "blocking": blocking ? "1" : "0", "direction": bidirectional ? "bi" : "uni"]
                try writer?.write(.result(row))
            }
        }
        if wrongTotal > 0 { throw Failure(.wrongResults, "\(wrongTotal) wrong bytes") }
    }
}
