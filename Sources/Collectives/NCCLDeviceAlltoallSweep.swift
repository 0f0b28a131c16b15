import Driver
import Foundation
import GPU
import Measure
import Results

/// `gpucomm nccl-device alltoall` on a started job (one GPU per process): the communicator, the
/// device-API kernels, every kernel × grid × size checked and timed through the driver, the
/// table on stdout (rank 0) and the rows in the results file.
public struct NCCLDeviceAlltoallSweep: Sendable {
    public var sizes: [Int]
    public var kernels: [NCCLDeviceAlltoallKernel]
    /// Grid sizes; 0 = the default for each size (`NCCLDeviceAlltoall.defaultBlocks`).
    public var blocks: [Int]
    public var iterations: Int
    public var warmup: Int
    public var check: Bool
    /// -T: the watchdog's bound on each measurement.
    public var timeout: Int
    /// nil: no results file.
    public var resultsPath: String?

    public init(sizes: [Int], kernels: [NCCLDeviceAlltoallKernel], blocks: [Int], iterations: Int, warmup: Int, check: Bool, timeout: Int, resultsPath: String?) {
        self.sizes = sizes; self.kernels = kernels; self.blocks = blocks; self.iterations = iterations; self.warmup = warmup
        self.check = check; self.timeout = timeout; self.resultsPath = resultsPath
    }

    public func run(_ job: Job) throws {
        let nccl: NCCL
        do { nccl = try NCCL() } catch { throw Failure(.unavailable, "NCCL: \(error)") }
        let compiler = try RuntimeCompiler()
        let comm = try job.communicators(nccl)[0]
        let a2a: NCCLDeviceAlltoall
        do {
            a2a = try NCCLDeviceAlltoall(comm: comm, compiler: compiler, maxBytesPerRank: sizes.last!, maxBlocks: blocks.map { $0 == 0 ? NCCLDeviceAlltoall.largestDefaultBlocks(ranks: job.worldSize) : $0 }.max()!)
        } catch let e as NCCLDeviceUnavailable {
            throw Failure(.unavailable, "NCCL device API unavailable: \(e.reason)")
        }
        let driver = BenchmarkDriver(channel: job.channel, watchdog: Watchdog(seconds: timeout, rank: job.globalRanks[0]), rank: job.globalRanks[0])
        let bench = try NCCLDeviceAlltoallBench(a2a: a2a, driver: driver, compiler: compiler, rank: job.globalRanks[0], ranks: job.worldSize,
                                                iters: iterations, warmup: warmup, check: check)
        // 0 = the default for each size (NCCLDeviceAlltoall.defaultBlocks).
        if let b = blocks.first(where: { $0 > a2a.maxBlocks }) {
            throw Failure(.usage, "--blocks \(b): at most \(a2a.maxBlocks) blocks of \(NCCLDeviceAlltoall.threadsPerBlock) threads are resident at once on \(comm.device.name)")
        }
        var run = Provenance.runInfo(inventory: job.inventory, launcher: job.launcher)
        run.nccl = nccl.version
        let sink = try ResultsSink(path: resultsPath, run: run, reports: job.reports)
        if job.reports {
            print("# gpucomm \(GPUCommVersion.version)  nccl \(nccl.version) device API (LSA)  alltoall  \(job.worldSize) ranks  \(NCCLDeviceAlltoall.threadsPerBlock) threads/block")
            print("#       size  kernel     blocks   time (us)  algbw (GB/s)  busbw (GB/s)  #wrong")
        }
        for k in kernels {
            for requested in blocks {
                for (i, s) in sizes.enumerated() {
                    let b = requested == 0 ? a2a.defaultBlocks(bytesPerRank: s) : requested
                    if job.reports && sizes.count > 4 {
                        FileHandle.standardError.write(Data("[gpucomm] \(k.name) \(b) blocks \(ByteSize.format(s)) (\(i + 1)/\(sizes.count))\n".utf8))
                    }
                    let m = try bench.measure(bytesPerRank: s, kernel: k, blocks: b)
                    driver.tally(m.wrong)
                    guard job.reports else { continue }
                    let busbw = m.busbw
                    print(String(format: "%12d  %-9@  %6d  %10.2f  %12.2f  %12.2f  %6@", s, k.name, b, m.timeUs, m.algbw, busbw, m.wrong.map(String.init) ?? "N/A"))
                    fflush(nil)
                    var row = sink.row(benchmark: "alltoall", backend: "nccl_device", ranks: job.worldSize)
                    row.variant = k.name
                    row.dtype = NCCLDataType.uint8.name
                    row.sizeBytes = Int64(s)
                    row.count = Int64(s)
                    row.buffer = "symmetric"
                    row.timing = "host"
                    row.iterations = iterations
                    row.timeUs = m.timeUs
                    row.algbwGBps = m.algbw
                    row.busbwGBps = busbw
                    row.wrong = m.wrong
                    row.labels = ["kernel": k.name, "device_api": String(k.rawValue), "blocks": String(b),
                                  "threads_per_block": String(NCCLDeviceAlltoall.threadsPerBlock)]
                    try sink.write(row)
                }
            }
        }
        if let f = driver.failureIfWrong("bytes", detail: " (see #wrong)") { throw f }
    }
}
