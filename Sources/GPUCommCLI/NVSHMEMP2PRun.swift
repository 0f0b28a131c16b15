import Foundation
import GPU
import Measure
import NVSHMEMBench
import Results

/// The job, NVSHMEM session and results writer of one point-to-point command.
struct P2PJobContext {
    let job: Job
    let session: NVSHMEMSession
    let compiler: RuntimeCompiler
    let run: RunInfo
    let writer: ResultsWriter?
    var reports: Bool { job.reports }

    /// Spawns under --np (returns nil in the launcher), checks the PE count and the pair before
    /// any GPU work, starts NVSHMEM, and writes the run record on the reporting rank.
    static func start(_ launch: LaunchOptions, pair: PEPair, heapBytes: Int, results: String, noResults: Bool,
                      body: (P2PJobContext) throws -> Void) throws {
        let env = ProcessInfo.processInfo.environment
        if try launch.np == nil && env["GPUCOMM_RANK"] == nil && !RankEnvironment.present(env) {
            throw Failure(.usage, "NVSHMEM needs one process per GPU: add --np 2 (or start it with mpirun/srun/torchrun)")
        }
        if let status = try Job.spawnIfAsked(launch) {
            throw Failure(ExitStatus(rawValue: status) ?? .failure, "")
        }
        let job = try Job(launch, needsNCCL: false) { world, _ in
            if world < 2 { throw Failure(.usage, "NVSHMEM point-to-point needs 2 PEs (got \(world))") }
            if max(pair.a, pair.b) >= world {
                throw Failure(.usage, "--pair \(pair) needs PE \(max(pair.a, pair.b)) but the job has PEs 0...\(world - 1)")
            }
        }
        defer { job.close() }
        let compiler = try RuntimeCompiler()
        let session = try job.startNVSHMEM(heapBytes: heapBytes)
        try withExtendedLifetime(session) {
            var run = Provenance.runInfo(inventory: job.inventory, launcher: job.launcher)
            run.nvshmem = session.lib.version
            let writer = job.reports && !noResults ? try ResultsWriter(path: results) : nil
            try writer?.write(.run(run))
            try body(P2PJobContext(job: job, session: session, compiler: compiler, run: run, writer: writer))
        }
    }

    /// A result row with the pair's labels.
    func row(benchmark: String, backend: String, variant: String, bytes: Int, stats: Summary, timing: String,
             iterations: Int, wrong: Int64?, labels: [String: String]) -> ResultRow {
        var row = ResultRow(run: run.run, benchmark: benchmark, backend: backend, ranks: 2)
        row.variant = variant
        row.sizeBytes = Int64(bytes)
        row.timing = timing
        row.iterations = iterations
        row.timeUs = stats.p50
        row.stats = TimeStats(stats)
        row.wrong = wrong
        row.labels = labels
        return row
    }
}

/// stderr progress line for long sweeps (rank 0 only).
func progress(_ s: String) { FileHandle.standardError.write(Data("[gpucomm] \(s)\n".utf8)) }

/// `nvshmem put` and `nvshmem get`.
struct P2PBandwidthRun {
    let op: P2POp
    let options: P2PBandwidthOptions

    static func discussion(_ op: P2POp) -> String {
        let flow = op == .put ? "PE A writes `size` bytes of its buffer into PE B's" : "PE A reads `size` bytes of PE B's buffer into its own"
        return """
        \(flow) (symmetric memory, nvshmem_malloc); the job may have more PEs, which stay idle. \
        Device-initiated (default): one kernel on A, the bytes cut into one piece per block \
        (--scope block), warp or thread, or pieces of --chunk bytes handed out round-robin (default \
        auto: 256 KiB pieces when an equal piece would be larger; equal pieces spread every block over \
        the whole buffer, which slows stores into the peer above 64 MiB), each moved with \
        nvshmemx_\(op.rawValue)mem_nbi_<scope> (--blocking: without _nbi), then nvshmem_quiet. \
        --host: nvshmemx_\(op.rawValue)mem[_nbi]_on_stream from the CPU (on NVLink a copy-engine copy); \
        --streams N spreads a sample's operations round-robin over N streams, so one copy's start \
        overlaps the previous one's end (each operation still moves the whole size). \
        --scope tma (sm_90+): one thread per block streams its pieces through a shared-memory ring with \
        bulk asynchronous copies (TMA: cp.async.bulk global -> shared -> global) into the peer's memory \
        as nvshmem_ptr maps it; --tma-stage and --tma-stages size the ring (defaults for tma: \
        --blocks 1x --threads 32 --tma-stage 32K --tma-stages 4).

        Checked first: the receiver counts wrong bytes (exit 3 if any). Timing: a sample is one \
        launch doing --inner operations back to back between CUDA events on A; time = median of \
        -n samples / inner. algbw = size / time, one way; --bidirectional (B initiates towards A \
        too) reports each direction on its own row, never the sum.

        Tuning: --blocks, --threads and --chunk take comma lists and every combination is run \
        per size, then the best is printed: \
        `gpucomm nvshmem \(op.rawValue) --np 2 -b 64M -e 1G -f 4 --blocks 1x,2x,4x --threads 256,512,1024`.

        Examples:
          gpucomm nvshmem \(op.rawValue) --np 2                        GPU 0 and 1, 1M..256M
          gpucomm nvshmem \(op.rawValue) --np 4 --pair 0,3 -b 1G -e 1G GPU 0 and 3 of 4
          gpucomm nvshmem \(op.rawValue) --np 2 --host --bidirectional on-stream, both ways
          gpucomm nvshmem \(op.rawValue) --np 2 --host --streams 2 -b 64M -e 1G -f 4   copies overlapped on 2 streams
          gpucomm nvshmem \(op.rawValue) --np 2 --host --host-copy cuda -b 64M -e 1G -f 4   the same copy without NVSHMEM's call
          gpucomm nvshmem \(op.rawValue) --np 2 --scope tma -b 64M -e 1G -f 4 --tma-stage 16K,32K --tma-stages 2,4
        On one host gpucomm sets NVSHMEM_BOOTSTRAP_UID_SOCK_IFNAME=lo and NVSHMEM_REMOTE_TRANSPORT=none \
        unless set, and sizes NVSHMEM_SYMMETRIC_SIZE from -e.
        """
    }

    func run() throws {
        let o = options
        let pair = PEPair.parse(o.pair)!
        let sizes = try sweepSizes(minBytes: o.minBytes, maxBytes: o.maxBytes, factor: o.stepFactor)
        var b = P2PBandwidth.Options()
        b.op = op; b.scope = o.scope.flatMap(P2PScope.init(rawValue:)) ?? .block
        b.blocking = o.blocking; b.bidirectional = o.bidirectional; b.host = o.host; b.hostStreams = o.streams ?? 1; b.hostCopy = o.hostCopy.flatMap(HostCopy.init) ?? .nvshmem; b.pair = pair
        b.iterations = o.iters; b.warmup = o.warmup; b.inner = o.inner; b.check = o.check == 1
        let shapes = o.host ? [P2PBandwidth.Config()] : o.shapes
        var wrongTotal: Int64 = 0
        do {
            try measure(sizes: sizes, shapes: shapes, b, pair: pair, wrongTotal: &wrongTotal)
        } catch let e as P2PError where e.unavailable {
            throw Failure(.unavailable, e.description)  // e.g. --scope tma on a GPU older than sm_90
        }
        if wrongTotal > 0 { throw Failure(.wrongResults, "\(wrongTotal) wrong bytes") }
    }

    func measure(sizes: [Int], shapes: [P2PBandwidth.Config], _ b: P2PBandwidth.Options, pair: PEPair, wrongTotal: inout Int64) throws {
        let o = options
        let tma = !o.host && b.scope == .tma
        try P2PJobContext.start(o.launch, pair: pair, heapBytes: 2 * sizes.last! + (256 << 20), results: o.results, noResults: o.noResults) { ctx in
            let bench = try P2PBandwidth(session: ctx.session, compiler: ctx.compiler, maxBytes: sizes.last!, channel: ctx.job.channel)
            let initiator = o.host ? "host" : "device"
            let how = !o.host ? b.scope.rawValue : b.hostCopy == .cuda ? "host cuMemcpyDtoDAsync (nvshmem_ptr)" : "host on-stream"
            let variant = "\(o.host ? "host" : b.scope.rawValue)\(o.blocking ? "" : "_nbi")\(o.bidirectional ? "_bidir" : "")"
            if ctx.reports {
                print("# gpucomm \(GPUCommVersion.version)  nvshmem \(ctx.session.lib.version)  \(op.rawValue) \(how) \(o.blocking ? "blocking" : "nbi")  pair \(pair)\(o.bidirectional ? " bidirectional" : "")  \(ctx.session.pes) PEs  \(ctx.session.device.name)")
                print("#       size  blocks thrds    chunk\(tma ? "     ring" : "")  inner  dir    time p50      min      p95   algbw  #wrong")
                print("#        (B)                    (B)\(tma ? "         " : "")                   (us)     (us)     (us)  (GB/s)")
            }
            var best: [Int: (Double, String)] = [:]
            let total = sizes.count * shapes.count
            var done = 0
            for s in sizes {
                for c in shapes {
                    done += 1
                    if ctx.reports && total > 1 { progress("\(op.rawValue) \(done)/\(total): \(s) B, \(o.host ? "host" : c.description(scope: b.scope))") }
                    let r = try bench.measure(bytes: s, config: c, b)
                    wrongTotal += r.wrong ?? 0
                    guard ctx.reports else { continue }
                    for d in r.directions {
                        let ring = tma ? String(format: " %8@", "\(ByteSize.format(c.staging.stageBytes))x\(c.staging.stages)") : ""
                        print(String(format: "%12d  %6@ %5@ %8@%@ %6d  %d->%d  %10.2f  %7.2f  %7.2f  %6.2f  %6@", s,
                                     o.host ? "-" : String(r.blocks), o.host ? "-" : String(c.threads),
                                     o.host ? "-" : (r.chunk == 0 ? "even" : String(r.chunk)), ring, r.inner, d.from, d.to,
                                     d.timeUs, d.stats.min, d.stats.p95, d.algbwGBps, r.wrong.map(String.init) ?? "N/A"))
                        var labels = ["scope": o.host ? "host" : b.scope.rawValue, "blocking": o.blocking ? "1" : "0",
                                      "direction": o.bidirectional ? "bi" : "uni", "initiator": initiator, "pair": pair.description,
                                      "from_pe": String(d.from), "to_pe": String(d.to), "inner": String(r.inner)]
                        if o.host { labels["streams"] = String(b.hostStreams); labels["host_copy"] = b.hostCopy.rawValue }
                        if !o.host {
                            labels["blocks"] = String(r.blocks); labels["threads"] = String(c.threads)
                            labels["chunk"] = String(r.chunk); labels["grid"] = c.grid.description
                            labels["resident_blocks_per_sm"] = String(r.residentBlocksPerSM)
                        }
                        if tma {
                            labels["tma_stage"] = String(c.staging.stageBytes); labels["tma_stages"] = String(c.staging.stages)
                            labels["shared_bytes"] = String(c.staging.sharedBytes)
                        }
                        var row = ctx.row(benchmark: "\(op.rawValue)_bw", backend: o.host ? "nvshmem_host" : "nvshmem_device",
                                          variant: variant, bytes: s, stats: d.stats, timing: "events", iterations: o.iters,
                                          wrong: r.wrong, labels: labels)
                        row.algbwGBps = d.algbwGBps
                        try ctx.writer?.write(.result(row))
                    }
                    let worst = r.directions.map(\.algbwGBps).min() ?? 0
                    if worst > (best[s]?.0 ?? -1) { best[s] = (worst, o.host ? "host" : c.description(scope: b.scope)) }
                }
            }
            if ctx.reports && shapes.count > 1 {
                for s in sizes { if let (g, c) = best[s] { print(String(format: "# best at %@: %.2f GB/s with %@", ByteSize.format(s), g, c)) } }
            }
        }
    }
}
