import ArgumentParser
import Copy
import Foundation
import Measure

/// `gpucomm copy`: nvbandwidth's copy tests as gpucomm benchmarks, checked, with their limits.
struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Host↔device and GPU↔GPU copy bandwidth and latency (nvbandwidth's tests), checked, beside the link's limit.",
        discussion: """
        Every visible GPU in this one process. A test is a pattern moved by the copy engines (ce: \
        cuMemcpyAsync) or by an SM kernel (sm: 16-byte loads and stores, 4 in flight per thread): \
        host_to_device, device_to_host, host_device_bidirectional (both at once, figure per \
        direction), device_local_copy (the device's own copy ceiling), device_to_device read/write \
        and bidirectional for every GPU pair, one_to_all, all_to_one, all_to_host, host_to_all; and \
        pointer-chase latency (one GPU thread, one dependent 8-byte load after another through host \
        memory or a GPU's memory). `gpucomm copy --list` lists the keys (nvbandwidth's testcase names).
        Every copy is checked: the destination is poisoned, the source filled with a pattern, one \
        copy runs, wrong 4-byte words are counted (a chase must end where the host predicts). Then \
        -w untimed and -n timed copies (host clock, or CUDA events with --timing events).
        Each size prints a line with algbw (bytes of one copy / time; summed over the GPUs or peers \
        of all_to_host, host_to_all, one_to_all, all_to_one), busbw (both directions of a \
        bidirectional copy; read + write of a local copy) and the fraction of the limit: the PCIe \
        link's rate from NVML's generation and width for host copies, the NVLink rate for peers, \
        the CE local copy for the SM one. After each test its matrix at the largest size, in \
        nvbandwidth's layout. Host memory: pinned (cuMemHostAlloc), pageable (copy engines only), \
        numa-local / numa-remote (pinned pages bound to the GPU's NUMA node or another; waived on \
        one node). Peer tests need 2 GPUs (waived otherwise). Rows go to the results file.
        Exit status 0, 3 when any byte is wrong, 2 for bad options, 5 without a GPU.

        Examples:
          gpucomm copy                                       # every test that applies, 512 MiB
          gpucomm copy host --host-memory pinned,pageable -b 4K -e 1G
          gpucomm copy host_to_device_memcpy_ce device_to_host_memcpy_sm -b 64M -e 64M --timing events
          gpucomm copy latency
          gpucomm copy peer -b 256M -e 256M                  # the GPU pair matrices
        """)

    @Argument(help: "Tests: keys (gpucomm copy --list) or groups: host, local, peer, latency, all.")
    var tests: [String] = ["all"]

    @Option(name: .long, help: "Engines, comma-separated: ce, sm.")
    var engine = "ce,sm"

    @Option(name: .customLong("host-memory"), help: "Host memory, comma-separated: pinned, pageable, numa-local, numa-remote.")
    var hostMemory = "pinned"

    enum SweepWords: SweepDefaults {
        static let minBytes = "512M", minHelp = "Smallest copy (a multiple of 16 bytes).", maxBytes = "512M"
        static let maxHelp = "Largest copy (a multiple of 16 bytes).", stepFactor = 2
    }
    @OptionGroup var sweep: SweepOptions<SweepWords>

    @Option(name: [.customShort("n"), .customLong("iters")], parsing: .unconditional, help: "Timed copies per size.")
    var iters = 20

    @Option(name: [.customShort("w"), .customLong("warmup_iters")], parsing: .unconditional, help: "Untimed copies before them.")
    var warmup = 5

    @Option(name: .long, help: "host (host clock around the -n copies) or events (CUDA events around each; latency always uses events).")
    var timing = "host"

    @Option(name: [.customShort("c"), .customLong("check")], parsing: .unconditional, help: "Check the data (1) or not (0).")
    var check = 1

    @Option(name: .customLong("latency-bytes"), parsing: .unconditional, help: "Memory the pointer chase runs through (a multiple of 256 bytes, at least 512).")
    var latencyBytes = ByteSizeOption(argument: "256M")

    @Option(name: .long, parsing: .unconditional, help: "Dependent loads per chase (one kernel launch); the latency is its time / hops.")
    var hops = 10_000

    @OptionGroup var output: ResultsOptions

    @Option(name: [.customShort("T"), .customLong("timeout")], parsing: .unconditional, help: "Seconds one measurement may take before gpucomm gives up (exit 6, docs/errors.md).")
    var timeout = 120

    @Flag(name: .long, help: "List the tests (key and what it measures) and exit.")
    var list = false

    func validate() throws {
        _ = try selection()
        _ = try memories()
        let s = try sweep.sizes()
        if let bad = s.first(where: { $0 < 16 || $0 % 16 != 0 }) {
            throw ValidationError("copy sizes must be multiples of 16 bytes (got \(bad) from -b \(sweep.minBytes) -e \(sweep.maxBytes) -f \(sweep.stepFactor))")
        }
        guard let lb = latencyBytes.parsed, lb >= 512, lb % 256 == 0 else {
            throw ValidationError("--latency-bytes must be a size that is a multiple of 256 bytes, at least 512 (got '\(latencyBytes)')")
        }
        guard (1...10_000_000).contains(hops) else { throw ValidationError("--hops must be from 1 to 10000000 (got \(hops))") }
        guard iters >= 1 else { throw ValidationError("-n must be at least 1 (got \(iters))") }
        guard warmup >= 0 else { throw ValidationError("-w must be at least 0 (got \(warmup))") }
        guard ["host", "events"].contains(timing) else { throw ValidationError("--timing must be host or events (got '\(timing)')") }
        guard check == 0 || check == 1 else { throw ValidationError("-c must be 0 or 1 (got \(check))") }
        guard timeout >= 1 else { throw ValidationError("-T must be at least 1 second (got \(timeout))") }
    }

    /// The tests asked for, in registry order.
    func selection() throws -> [CopyBenchmark] {
        guard !engine.split(separator: ",").isEmpty else { throw ValidationError("--engine must list ce or sm (got nothing)") }
        let engines = try engine.split(separator: ",").map { e -> CopyEngine in
            guard let x = CopyEngine(rawValue: String(e)) else { throw ValidationError("--engine must list ce or sm (got '\(e)')") }
            return x
        }
        switch CopyBenchmark.select(tests, engines: engines) {
        case let .failure(w):
            throw ValidationError("unknown copy test '\(w.reason)': use a key from `gpucomm copy --list` or host, local, peer, latency, all")
        case let .success(list):
            return list
        }
    }

    func memories() throws -> [HostMemoryChoice] {
        guard !hostMemory.split(separator: ",").isEmpty else { throw ValidationError("--host-memory must list pinned, pageable, numa-local or numa-remote (got nothing)") }
        return try hostMemory.split(separator: ",").map { m in
            guard let x = HostMemoryChoice(rawValue: String(m)) else {
                throw ValidationError("--host-memory must list pinned, pageable, numa-local or numa-remote (got '\(m)')")
            }
            return x
        }
    }

    func run() throws {
        if list {
            for b in CopyBenchmark.all { print(b.key.padding(toLength: 48, withPad: " ", startingAt: 0) + b.summary) }
            return
        }
        try CopyRun(.init(benchmarks: try selection(), memories: try memories(), sizes: try sweep.sizes(), timeout: timeout,
                          latencyBytes: latencyBytes.value, hops: hops, iters: iters, warmup: warmup, check: check == 1, timing: timing,
                          resultsPath: output.noResults ? nil : output.results)).run()
    }
}
