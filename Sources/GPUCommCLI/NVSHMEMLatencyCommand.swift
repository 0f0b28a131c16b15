import Driver
import ArgumentParser
import Foundation
import Measure
import NVSHMEMBench

/// Options shared by `nvshmem latency` and `nvshmem signal`.
struct P2PLatencyOptions: ParsableArguments {
    enum SweepWords: SweepDefaults {
        static let minBytes = "8", minHelp = "Smallest message (put/get/signal payload)."
        static let maxBytes = "64K", maxHelp = "Largest message (at most 1M)."
        static let stepFactor = 2
    }
    @OptionGroup var sweep: SweepOptions<SweepWords>
    @Option(name: [.customShort("n"), .customLong("iters")], parsing: .unconditional, help: "Timed operations (round trips) inside one kernel launch.")
    var iters = 1000
    @Option(name: [.customShort("w"), .customLong("warmup_iters")], parsing: .unconditional, help: "Untimed operations before them in the same launch.")
    var warmup = 100
    @Option(name: .long, parsing: .unconditional, help: "Kernel launches per size; the figure is the median over them.")
    var repeats = 10
    @Option(name: .long, help: "Who issues each put/get: thread (default), warp or block.")
    var scope: Choice<P2PScope> = "thread"
    @Option(name: .long, parsing: .unconditional, help: "Threads of the block at --scope block (a multiple of 32 up to 1024).")
    var threads = 256
    @Option(name: .long, parsing: .unconditional, help: "The two PEs A,B: A initiates, B answers (signal) or is the target.")
    var pair: Typed<PEPairReading> = "0,1"
    @Option(name: [.customShort("c"), .customLong("check")], parsing: .unconditional, help: "Check the data (1) or not (0).")
    var check = 1
    @OptionGroup var output: ResultsOptions
    @OptionGroup var launch: LaunchOptions

    func validate() throws {
        let hi = try sweep.sizes().last ?? 0
        if hi > 1 << 20 { throw ValidationError("-e must be at most 1M for latency (got \(hi)); use nvshmem put/get for bandwidth") }
        guard let sc = scope.parsed else { throw ValidationError("--scope must be thread, warp or block (got '\(scope)')") }
        guard P2PScope.latencyScopes.contains(sc) else {
            throw ValidationError("--scope \(scope) is for bandwidth only (nvshmem put/get --scope \(scope)): latency and signal take thread, warp or block")
        }
        guard validBlockThreads(threads) else { throw ValidationError("--threads must be a multiple of 32 from 32 to 1024 (got \(threads))") }
        guard iters >= 1, repeats >= 1 else { throw ValidationError("-n and --repeats must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("-w must be at least 0 (got \(warmup))") }
        guard check == 0 || check == 1 else { throw ValidationError("-c must be 0 or 1 (got \(check))") }
        try validatePair(pair, launch)
        if let g = launch.gpusPerProcess, g != 1 { throw ValidationError("NVSHMEM runs one GPU per process: -g must be 1") }
    }

    var benchOptions: P2PLatency.Options {
        var o = P2PLatency.Options()
        o.pair = pair.value
        o.scope = scope.value
        o.threads = threads; o.iterations = iters; o.warmup = warmup; o.repeats = repeats; o.check = check == 1
        return o
    }
    var sizes: [Int] { (try? sweep.sizes()) ?? [] }

    /// Starts the NVSHMEM job (heap for the largest size) and runs `body` with the sweep; returns its wrong bytes.
    func withSweep(_ body: (P2PLatencySweep, NVSHMEMRun) throws -> Int64) throws -> Int64 {
        let sweep = P2PLatencySweep(options: benchOptions, sizes: sizes)
        var wrong: Int64 = 0
        try nvshmemJob(launch, pair: benchOptions.pair, heapBytes: sweep.heapBytes, output: output) { ctx in wrong = try body(sweep, ctx) }
        return wrong
    }
}

struct NVSHMEMLatencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Small-message latency of nvshmem p, g, put and get from PE A to PE B, one operation at a time.",
        discussion: """
        PE A issues --iters operations back to back in one kernel, each completed before the next: \
        p = nvshmem_longlong_p of one 8-byte word + nvshmem_quiet; g = nvshmem_longlong_g (the next \
        address depends on the value, so each g waits for the last); put = nvshmem[x]_putmem[_warp|_block] \
        + nvshmem_quiet (as NVSHMEM's perftest shmem_put_latency); get = blocking getmem. The kernel \
        reads the GPU clock (%globaltimer) around them, after --warmup_iters untimed ones, so launch \
        cost is excluded; time per op = interval / iters, median over --repeats launches. p and g \
        are 8 B; put and get sweep -b..-e. Data is checked (the target's bytes for p/put, A's for g/get).

        Examples:
          gpucomm nvshmem latency --np 2
          gpucomm nvshmem latency --np 2 --ops put,get --scope warp -b 8 -e 64K
        """)
    @Option(name: .long, help: "Operations, comma-separated: p, g, put, get (default all).")
    var ops: ListOption<ChoiceReading<P2PLatency.Op>> = "p,g,put,get"
    @OptionGroup var options: P2PLatencyOptions

    func validate() throws {
        guard ops.parsed != nil else {
            throw ValidationError("--ops must list p, g, put or get (got '\(ops)')")
        }
    }

    func run() throws {
        let wrongTotal = try options.withSweep { sweep, ctx in try sweep.latency(ops.value, ctx) }
        if wrongTotal > 0 { throw Failure(.wrongResults, "\(wrongTotal) wrong bytes") }
    }
}

struct NVSHMEMSignalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal",
        abstract: "Signal ping-pong between PE A and PE B: put + signal answered by signal_wait_until, one-way latency.",
        discussion: """
        Round trip i: A puts the payload into B's buffer (nvshmem[x]_putmem[_warp|_block]), then \
        nvshmem_fence and nvshmemx_signal_op setting B's signal word to i (NVSHMEM_SIGNAL_SET), what \
        putmem_signal does on NVLink, then waits with nvshmem_signal_wait_until(NVSHMEM_CMP_GE, i); \
        B waits for i and answers the same way. Both kernels are launched \
        cooperatively (they wait on another PE). A reads the GPU clock around --iters round trips \
        after --warmup_iters untimed ones; one-way latency = round trip / 2, median over --repeats \
        launches. Payloads sweep -b..-e; both PEs check the payload they received.

        Examples:
          gpucomm nvshmem signal --np 2
          gpucomm nvshmem signal --np 4 --pair 0,3 --scope block --threads 512 -b 4K -e 64K
        """)
    @OptionGroup var options: P2PLatencyOptions

    func run() throws {
        let wrongTotal = try options.withSweep { sweep, ctx in try sweep.pingpong(ctx) }
        if wrongTotal > 0 { throw Failure(.wrongResults, "\(wrongTotal) wrong bytes") }
    }
}
