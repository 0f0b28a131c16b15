import Driver
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

    @Option(name: [.customShort("n"), .customLong("iters")], parsing: .unconditional, help: "Barriers timed per method.")
    var iters = 10000
    @Option(name: [.customShort("w"), .customLong("warmup_iters")], parsing: .unconditional, help: "Warm-up barriers per method.")
    var warmup = 100
    @Option(name: .long, help: "all, or a comma-separated list of device-thread, device-block, on-stream.")
    var methods: Typed<BarrierMethodsReading> = "all"
    @OptionGroup var output: ResultsOptions
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
        if let e = methods.problem { throw e }
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
        try NVSHMEMRun.start(launch.spec, heapBytes: 64 << 20, resultsPath: output.noResults ? nil : output.results, validate: { world in
            if world < 2 { throw Failure(.usage, "barrier needs at least 2 PEs (got \(world))") }
        }) { ctx in
            try BarrierLatency.sweep(methods.value, iterations: iters, warmup: warmup, ctx)
        }
    }
}

/// `--methods`: `all` or a comma-separated list (`NVSHMEMBarrierCommand.parseMethods`, whose error is the one line).
enum BarrierMethodsReading: OptionReading {
    static func read(_ text: String) throws -> [BarrierLatency.Method] { try NVSHMEMBarrierCommand.parseMethods(text) }
}
