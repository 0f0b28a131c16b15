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

    @Option(name: [.customShort("b"), .customLong("minbytes")], help: "Smallest size per rank.")
    var minBytes = "1M"
    @Option(name: [.customShort("e"), .customLong("maxbytes")], help: "Largest size per rank.")
    var maxBytes = "256M"
    @Option(name: [.customShort("f"), .customLong("stepfactor")], help: "Multiply the size by this each step.")
    var stepFactor = 2
    @Option(name: [.customShort("n"), .customLong("iters")], help: "Timed launches per measurement.")
    var iters = 20
    @Option(name: [.customShort("w"), .customLong("warmup_iters")], help: "Warm-up launches per measurement.")
    var warmup = 5
    @Option(name: [.customShort("D"), .customLong("device-api")], help: "Kernels, comma-separated: 1 basic, 2 optimized.")
    var deviceAPI = "2"
    @Option(name: .long, help: "Grid sizes (blocks of 512 threads), comma-separated; 0 = the default: 16 per rank, 32 from 32 MiB per rank (measured best on 4×H200).")
    var blocks = "0"
    @Option(name: [.customShort("c"), .customLong("check")], help: "Check the data (1) or not (0).")
    var check = 1
    @Option(name: .long, help: "Append every row to this JSON Lines results file.")
    var results = "gpucomm-results.jsonl"
    @Flag(name: .long, help: "Write no results file.")
    var noResults = false
    @OptionGroup var launch: LaunchOptions

    struct Plan {
        var sizes: [Int]
        var kernels: [NCCLDeviceAlltoallKernel]
        var blocks: [Int]
    }

    func plan() throws -> Plan {
        let sizes = try sweepSizes(minBytes: minBytes, maxBytes: maxBytes, factor: stepFactor)
        let ks = deviceAPI.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)).flatMap(NCCLDeviceAlltoallKernel.init(rawValue:)) }
        guard !ks.isEmpty, ks.allSatisfy({ $0 != nil }) else { throw ValidationError("-D/--device-api must be 1, 2 or 1,2 (got '\(deviceAPI)')") }
        let bs = blocks.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !bs.isEmpty, bs.allSatisfy({ $0 != nil && $0! >= 0 && $0! <= 1024 }) else {
            throw ValidationError("--blocks must be comma-separated counts in 0...1024 (0 = 16 per rank, 32 from 32 MiB per rank; got '\(blocks)')")
        }
        return Plan(sizes: sizes, kernels: ks.map { $0! }, blocks: bs.map { $0! })
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
        if let status = try Job.spawnIfAsked(launch) { throw Failure(ExitStatus(rawValue: status) ?? .failure, "") }
        let p = try plan()
        let job = try Job(launch) { world, devices in
            if devices.count != 1 { throw Failure(.usage, "one GPU per process: -g must be 1") }
            if let bad = p.sizes.first(where: { $0 % world != 0 }) {
                throw Failure(.usage, "size \(bad) B does not divide among \(world) ranks (sizes must be multiples of \(world) B)")
            }
        }
        defer { job.close() }
        let nccl: NCCL
        do { nccl = try NCCL() } catch { throw Failure(.unavailable, "NCCL: \(error)") }
        let compiler = try RuntimeCompiler()
        let comm = try job.communicators(nccl)[0]
        let a2a: NCCLDeviceAlltoall
        do {
            a2a = try NCCLDeviceAlltoall(comm: comm, compiler: compiler, maxBytesPerRank: p.sizes.last!, maxBlocks: p.blocks.map { $0 == 0 ? NCCLDeviceAlltoall.largestDefaultBlocks(ranks: job.worldSize) : $0 }.max()!)
        } catch let e as NCCLDeviceUnavailable {
            throw Failure(.unavailable, "NCCL device API unavailable: \(e.reason)")
        }
        let bench = try DeviceAlltoallBench(a2a: a2a, job: job, compiler: compiler, iters: iters, warmup: warmup, check: check == 1)
        // 0 = the default for each size (NCCLDeviceAlltoall.defaultBlocks).
        if let b = p.blocks.first(where: { $0 > a2a.maxBlocks }) {
            throw Failure(.usage, "--blocks \(b): at most \(a2a.maxBlocks) blocks of \(NCCLDeviceAlltoall.threadsPerBlock) threads are resident at once on \(comm.device.name)")
        }
        var run = Provenance.runInfo(inventory: job.inventory, launcher: job.launcher)
        run.nccl = nccl.version
        let writer = job.reports && !noResults ? try ResultsWriter(path: results) : nil
        try writer?.write(.run(run))
        if job.reports {
            print("# gpucomm \(GPUCommVersion.version)  nccl \(nccl.version) device API (LSA)  alltoall  \(job.worldSize) ranks  \(NCCLDeviceAlltoall.threadsPerBlock) threads/block")
            print("#       size  kernel     blocks   time (us)  algbw (GB/s)  busbw (GB/s)  #wrong")
        }
        let watchdog = Watchdog(seconds: launch.timeout, rank: job.globalRanks[0])
        var wrongTotal: Int64 = 0
        for k in p.kernels {
            for requested in p.blocks {
                for (i, s) in p.sizes.enumerated() {
                    let b = requested == 0 ? a2a.defaultBlocks(bytesPerRank: s) : requested
                    if job.reports && p.sizes.count > 4 {
                        FileHandle.standardError.write(Data("[gpucomm] \(k.name) \(b) blocks \(ByteSize.format(s)) (\(i + 1)/\(p.sizes.count))\n".utf8))
                    }
                    watchdog.arm("nccl-device alltoall \(k.name) \(b) blocks \(s) B")
                    let m = try bench.measure(bytesPerRank: s, kernel: k, blocks: b)
                    watchdog.disarm()
                    wrongTotal += m.wrong ?? 0
                    guard job.reports else { continue }
                    let busbw = m.algbw * BusFactor.nMinus1OverN.factor(ranks: job.worldSize)
                    print(String(format: "%12d  %-9@  %6d  %10.2f  %12.2f  %12.2f  %6@", s, k.name, b, m.timeUs, m.algbw, busbw, m.wrong.map(String.init) ?? "N/A"))
                    fflush(nil)
                    var row = ResultRow(run: run.run, benchmark: "alltoall", backend: "nccl_device", ranks: job.worldSize)
                    row.variant = k.name
                    row.dtype = NCCLDataType.uint8.name
                    row.sizeBytes = Int64(s)
                    row.count = Int64(s)
                    row.buffer = "symmetric"
                    row.timing = "host"
                    row.iterations = iters
                    row.timeUs = m.timeUs
                    row.algbwGBps = m.algbw
                    row.busbwGBps = busbw
                    row.wrong = m.wrong
                    row.labels = ["kernel": k.name, "device_api": String(k.rawValue), "blocks": String(b),
                                  "threads_per_block": String(NCCLDeviceAlltoall.threadsPerBlock)]
                    try writer?.write(.result(row))
                }
            }
        }
        if wrongTotal > 0 { throw Failure(.wrongResults, "\(wrongTotal) wrong bytes (see #wrong)") }
    }
}

/// Checks and times the device-API all-to-all on one rank of a job.
final class DeviceAlltoallBench {
    let a2a: NCCLDeviceAlltoall
    let job: Job
    let stream: GPU.Stream
    let data: DataCheckKernels
    let iters: Int, warmup: Int, check: Bool
    let seed: UInt32 = 0xa2a

    init(a2a: NCCLDeviceAlltoall, job: Job, compiler: RuntimeCompiler, iters: Int, warmup: Int, check: Bool) throws {
        self.a2a = a2a; self.job = job; self.iters = iters; self.warmup = warmup; self.check = check
        stream = try GPU.Stream(device: a2a.comm.device)
        data = try DataCheckKernels(device: a2a.comm.device, compiler: compiler)
    }

    /// Every rank must call it with the same arguments. Time is the slowest rank's average (µs).
    func measure(bytesPerRank s: Int, kernel: NCCLDeviceAlltoallKernel, blocks: Int) throws -> (timeUs: Double, algbw: Double, wrong: Int64?) {
        let n = job.worldSize, rank = job.globalRanks[0]
        let u8 = NCCLDataType.uint8, mode = DataCheckKernels.valueMode(u8, op: nil)
        let args = a2a.arguments(bytesPerRank: s)
        let segments = AlltoallLayout.expected(bytesPerRank: s, ranks: n, rank: rank)
        func countWrong() throws -> Int64 {
            try data.countWrong(a2a.recv.address, segments: segments, type: u8, ranks: n, op: nil, scalar: 0, seed: seed, mode: mode, stream: stream)
        }
        var wrong: Int64?
        if check {
            try data.fill(a2a.send.address, len: s, type: u8, rank: rank, srcOffset: 0, seed: seed, mode: mode, stream: stream)
            try a2a.recv.fill(byte: 0xFF, on: stream)  // no value of the fill is 0xFF: unwritten bytes count as wrong
            try stream.synchronize()
            try job.channel.barrier()
            try a2a.enqueue(args, bytesPerRank: s, stream: stream, kernel: kernel, blocks: blocks)
            try stream.synchronize()
            wrong = try countWrong()
        }
        for _ in 0..<warmup { try a2a.enqueue(args, bytesPerRank: s, stream: stream, kernel: kernel, blocks: blocks) }
        try stream.synchronize()
        try job.channel.barrier()
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iters { try a2a.enqueue(args, bytesPerRank: s, stream: stream, kernel: kernel, blocks: blocks) }
        try stream.synchronize()
        let us = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3 / Double(iters)
        // Back-to-back launches must leave the same data (catches a barrier that lets a kernel overtake).
        if check { wrong! += try countWrong() }
        let times = try job.channel.allGatherDoubles([us, Double(wrong ?? 0)])
        let slowest = times.map { $0[0] }.max() ?? us
        let wrongAll: Int64? = check ? times.reduce(Int64(0)) { $0 + Int64($1[1]) } : nil
        return (slowest, Bandwidth.gbps(bytes: s, microseconds: slowest), wrongAll)
    }
}
