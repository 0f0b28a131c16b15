import AllToAll
import ArgumentParser
import Foundation
import GPU
import Results

/// `gpucomm nvshmem barrier` (the lead registers it under NVSHMEMCommand's subcommands).
struct NVSHMEMBarrierCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "barrier",
        abstract: "NVSHMEM barrier latency: device-side barriers in one cooperative kernel, and on-stream barriers.",
        discussion: """
        One process (PE) per GPU: --np N or any launcher. Methods: device-thread \
        (nvshmem_barrier_all from one thread), device-block (nvshmemx_barrier_all_block from a \
        256-thread block) — -n barriers back to back inside one cooperative kernel — and on-stream \
        (-n nvshmemx_barrier_all_on_stream calls on one stream). Time per barrier = CUDA-event time \
        of the -n barriers / n, the slowest PE's, after -w warm-up barriers.

        Example: gpucomm nvshmem barrier --np 4 -n 10000
        """)

    @Option(name: [.customShort("n"), .customLong("iters")], help: "Barriers timed per method.")
    var iters = 10000
    @Option(name: [.customShort("w"), .customLong("warmup_iters")], help: "Warm-up barriers per method.")
    var warmup = 100
    @Option(name: .long, help: "all, or a comma-separated list of device-thread, device-block, on-stream.")
    var methods = "all"
    @Option(name: .long, help: "Append every row to this JSON Lines results file.")
    var results = "gpucomm-results.jsonl"
    @Flag(name: .long, help: "Write no results file.")
    var noResults = false
    @OptionGroup var launch: LaunchOptions

    static func parseMethods(_ text: String) throws -> [BarrierLatency.Method] {
        if text == "all" { return BarrierLatency.Method.allCases }
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { s in
            guard let m = BarrierLatency.Method(rawValue: String(s)) else {
                throw ValidationError("--methods: unknown method '\(s)': use all or a comma-separated list of device-thread, device-block, on-stream")
            }
            return m
        }
    }

    func validate() throws {
        _ = try Self.parseMethods(methods)
        guard iters >= 1 else { throw ValidationError("-n must be at least 1 (got \(iters))") }
        guard warmup >= 0 else { throw ValidationError("-w must be at least 0 (got \(warmup))") }
        guard iters <= Int(Int32.max), warmup <= Int(Int32.max) else { throw ValidationError("-n and -w must fit in 32 bits") }
        if let g = launch.gpusPerProcess, g != 1 { throw ValidationError("NVSHMEM runs one GPU per process: -g must be 1") }
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        if try launch.np == nil && env["GPUCOMM_RANK"] == nil && !RankEnvironment.present(env) {
            throw Failure(.usage, "NVSHMEM needs one process per GPU: add --np N (or start it with mpirun/srun/torchrun)")
        }
        if let status = try Job.spawnIfAsked(launch) { throw Failure(ExitStatus(rawValue: status) ?? .failure, "") }
        let list = try Self.parseMethods(methods)
        let job = try Job(launch, needsNCCL: false) { world, _ in
            if world < 2 { throw Failure(.usage, "barrier needs at least 2 PEs (got \(world))") }
        }
        defer { job.close() }
        let compiler = try RuntimeCompiler()
        let session = try job.startNVSHMEM(heapBytes: 64 << 20)
        try withExtendedLifetime(session) {
            let shared = try NVSHMEMAlltoallShared(session: session, compiler: compiler, maxBytesPerRank: 1 << 16)
            let bench = try BarrierLatency(shared: shared, stream: try Stream(device: session.device), channel: job.channel)
            var run = Provenance.runInfo(inventory: job.inventory, launcher: job.launcher)
            run.nvshmem = session.lib.version
            let writer = job.reports && !noResults ? try ResultsWriter(path: results) : nil
            try writer?.write(.run(run))
            if job.reports {
                print("# gpucomm \(GPUCommVersion.version)  nvshmem \(session.lib.version)  barrier latency  \(session.pes) PEs  -n \(iters)")
                print("#       method   time per barrier (us)")
            }
            for m in list {
                let us = try bench.measure(m, iterations: iters, warmup: warmup)
                guard job.reports else { continue }
                print(String(format: "%14@  %10.3f", m.rawValue, us))
                var row = ResultRow(run: run.run, benchmark: "barrier", backend: m == .onStream ? "nvshmem_host" : "nvshmem_device", ranks: session.pes)
                row.variant = m.rawValue
                row.timing = "events"
                row.iterations = iters
                row.timeUs = us
                try writer?.write(.result(row))
            }
        }
    }
}
