import Driver
import AllToAll
import ArgumentParser
import Collectives
import Foundation
import GPU
import Measure
import Results

struct NCCLDeviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nccl-device",
        abstract: "Benchmark collectives written with NCCL's device API (LSA load/store), checked.",
        subcommands: [NCCLDeviceAlltoallCommand.self])
}

struct NCCLDeviceAlltoallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alltoall",
        abstract: "All-to-all by a kernel storing into peers' symmetric windows (like nccl-tests -D 1 / -D 2).",
        discussion: """
        One process per GPU: start it with --np N or any launcher. The kernels are compiled at run \
        time against the headers of the NCCL that was loaded (2.28 or newer; docs/nccl-device.md). \
        Each rank's send buffer holds N blocks of size/N bytes; block j lands in rank j's receive \
        buffer at position rank, as with ncclAlltoAll. --device-api 1 (basic: all blocks on one peer \
        at a time) or 2 (optimized: blocks split across peers, 16-byte words, unrolled), like \
        nccl-tests' -D. Each (size, kernel, blocks) is checked first (#wrong counts wrong bytes over \
        all ranks; any makes the exit status 3), then timed on the host like nccl-tests: -w warm-up \
        launches, then -n launches back to back, time = the slowest rank's average. \
        algbw = size / time, busbw = algbw × (N-1)/N. Rows go to --results with backend nccl_device.

        Examples:
          gpucomm nccl-device alltoall --np 4 -b 1M -e 1G
          gpucomm nccl-device alltoall --np 4 -e 256M --device-api 1,2 --blocks 16,32,64,128
        """)

    enum SweepWords: SweepDefaults {
        static let minBytes = "1M", minHelp = "Smallest size per rank."
        static let maxBytes = "256M", maxHelp = "Largest size per rank."
        static let stepFactor = 2
    }
    @OptionGroup var sweep: SweepOptions<SweepWords>
    @Option(name: [.customShort("n"), .customLong("iters")], parsing: .unconditional, help: "Timed launches per measurement.")
    var iters = 20
    @Option(name: [.customShort("w"), .customLong("warmup_iters")], parsing: .unconditional, help: "Warm-up launches per measurement.")
    var warmup = 5
    @Option(name: [.customShort("D"), .customLong("device-api")], parsing: .unconditional, help: "Kernels, comma-separated: 1 basic, 2 optimized.")
    var deviceAPI: Typed<DeviceAPIListReading> = "2"
    @Option(name: .long, parsing: .unconditional, help: "Grid sizes (blocks of 512 threads), comma-separated; 0 = the default: 16 per rank, 32 from 32 MiB per rank (measured best on 4×H200).")
    var blocks: Typed<DeviceBlocksReading> = "0"
    @Option(name: [.customShort("c"), .customLong("check")], parsing: .unconditional, help: "Check the data (1) or not (0).")
    var check = 1
    @OptionGroup var output: ResultsOptions
    @OptionGroup var launch: LaunchOptions

    struct Plan {
        var sizes: [Int]
        var kernels: [NCCLDeviceAlltoallKernel]
        var blocks: [Int]
    }

    func plan() throws -> Plan {
        let sizes = try sweep.sizes()
        guard let ks = deviceAPI.parsed else { throw ValidationError("-D/--device-api must be 1, 2 or 1,2 (got '\(deviceAPI)')") }
        guard let bs = blocks.parsed else {
            throw ValidationError("--blocks must be comma-separated counts in 0...1024 (0 = 16 per rank, 32 from 32 MiB per rank; got '\(blocks)')")
        }
        return Plan(sizes: sizes, kernels: ks, blocks: bs)
    }

    func validate() throws {
        _ = try plan()
        guard iters >= 1, warmup >= 0 else { throw ValidationError("-n must be ≥ 1 and -w ≥ 0") }
        guard check == 0 || check == 1 else { throw ValidationError("-c must be 0 or 1") }
        if let g = launch.gpusPerProcess, g != 1 { throw ValidationError("the NCCL device API benchmark runs one GPU per process: -g must be 1") }
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        if try launch.np == nil && env["GPUCOMM_RANK"] == nil && !RankEnvironment.present(env) {
            throw Failure(.usage, "nccl-device runs one process per GPU: add --np 4 (or start it with mpirun/srun/torchrun)")
        }
        if let status = try Job.spawnIfAsked(launch.spec) { throw Failure(ExitStatus(rawValue: status) ?? .failure, "") }
        let p = try plan()
        let job = try Job(launch.spec) { world, devices in
            if devices.count != 1 { throw Failure(.usage, "one GPU per process: -g must be 1") }
            if let bad = p.sizes.first(where: { $0 % world != 0 }) {
                throw Failure(.usage, "size \(bad) B does not divide among \(world) ranks (sizes must be multiples of \(world) B)")
            }
        }
        defer { job.close() }
        let sweep = NCCLDeviceAlltoallSweep(sizes: p.sizes, kernels: p.kernels, blocks: p.blocks, iterations: iters, warmup: warmup, check: check == 1,
                                            timeout: launch.timeout, resultsPath: output.noResults ? nil : output.results)
        try sweep.run(job)
    }
}

/// `-D/--device-api`: kernels 1 and/or 2, comma-separated (empty items skipped, at least one).
enum DeviceAPIListReading: OptionReading {
    static func read(_ text: String) throws -> [NCCLDeviceAlltoallKernel] {
        let ks = try text.split(separator: ",").map { s in
            guard let k = Int(s.trimmingCharacters(in: .whitespaces)).flatMap(NCCLDeviceAlltoallKernel.init(rawValue:)) else { throw UnreadText(text: String(s)) }
            return k
        }
        if ks.isEmpty { throw UnreadText(text: text) }
        return ks
    }
}

/// `--blocks`: grid sizes in 0...1024, comma-separated (empty items skipped, at least one; 0 = the default per size).
enum DeviceBlocksReading: OptionReading {
    static func read(_ text: String) throws -> [Int] {
        let bs = try text.split(separator: ",").map { s in
            guard let b = Int(s.trimmingCharacters(in: .whitespaces)), b >= 0, b <= 1024 else { throw UnreadText(text: String(s)) }
            return b
        }
        if bs.isEmpty { throw UnreadText(text: text) }
        return bs
    }
}
