import Driver
import GPU
import Measure

extension NCCLDeviceAlltoallKernel: BenchmarkDescriptor {
    public var key: String { name }
    public var summary: String {
        self == .basic ? "NCCL device API (LSA) all-to-all: all blocks on one peer at a time (nccl-tests -D 1)"
            : "NCCL device API (LSA) all-to-all: blocks split across peers, 16-byte words, unrolled (nccl-tests -D 2)"
    }
    public var family: BenchmarkFamily { .ncclDevice }
    public var timings: [TimingStrategy] { [.hostLoop] }
    /// The all-to-all's accounting (nccl-tests' alltoall), from its collective descriptor.
    public func accounting(bytes: Int, ranks: Int) -> Accounting { Collectives.alltoall.accounting(bytes: bytes, ranks: ranks) }
    public func applicability(_ shape: JobShape) -> Applicability {
        if shape.gpusPerProcess != 1 { return .waived("runs one GPU per process") }
        return shape.requires(ranks: 2, nccl: true)
    }
}

/// Checks and times the device-API all-to-all on one rank of a job, through the driver.
public final class NCCLDeviceAlltoallBench {
    let a2a: NCCLDeviceAlltoall
    let driver: BenchmarkDriver
    let stream: GPU.Stream
    let data: DataCheckKernels
    let rank: Int, ranks: Int
    let plan: TimingPlan
    let seed: UInt32 = 0xa2a

    public init(a2a: NCCLDeviceAlltoall, driver: BenchmarkDriver, compiler: RuntimeCompiler, rank: Int, ranks: Int, iters: Int, warmup: Int, check: Bool) throws {
        self.a2a = a2a; self.driver = driver; self.rank = rank; self.ranks = ranks
        stream = try GPU.Stream(device: a2a.comm.device)
        data = try DataCheckKernels(device: a2a.comm.device, compiler: compiler)
        var p = TimingPlan()
        p.iterations = iters; p.warmup = warmup; p.check = check
        p.strategy = .hostLoop
        p.aggregation = .maximum           // the slowest rank's average
        p.barrierAroundCheck = true        // kernels store straight into the peers' windows
        p.recheckAfterTiming = true        // back-to-back launches must leave the same data (a barrier that lets a kernel overtake)
        plan = p
    }

    /// Every rank must call it with the same arguments. Time is the slowest rank's average (µs).
    public func measure(bytesPerRank s: Int, kernel: NCCLDeviceAlltoallKernel, blocks: Int) throws -> (timeUs: Double, algbw: Double, busbw: Double, wrong: Int64?) {
        let w = Work(bench: self, bytes: s, kernel: kernel, blocks: blocks)
        let m = try driver.measure(w, plan, label: "nccl-device alltoall \(kernel.name) \(blocks) blocks \(s) B")
        let bw = kernel.accounting(bytes: s, ranks: ranks).bandwidth(microseconds: m.timeUs)!
        return (m.timeUs, bw.algbw, bw.busbw, m.wrong)
    }

    final class Work: Workload {
        let bench: NCCLDeviceAlltoallBench
        let bytes: Int
        let kernel: NCCLDeviceAlltoallKernel
        let blocks: Int
        let args: KernelArguments

        init(bench: NCCLDeviceAlltoallBench, bytes: Int, kernel: NCCLDeviceAlltoallKernel, blocks: Int) {
            self.bench = bench; self.bytes = bytes; self.kernel = kernel; self.blocks = blocks
            args = bench.a2a.arguments(bytesPerRank: bytes)
        }

        var streams: [GPU.Stream] { [bench.stream] }
        var mode: Int32 { DataCheckKernels.valueMode(.uint8, op: nil) }

        func fill() throws {
            try bench.data.fill(bench.a2a.send.address, len: bytes, type: .uint8, rank: bench.rank, srcOffset: 0, seed: bench.seed, mode: mode, stream: bench.stream)
            try bench.a2a.recv.fill(byte: 0xFF, on: bench.stream)  // no value of the fill is 0xFF: unwritten bytes count as wrong
        }

        func enqueue() throws { try bench.a2a.enqueue(args, bytesPerRank: bytes, stream: bench.stream, kernel: kernel, blocks: blocks) }

        func countWrong() throws -> Int64 {
            let segments = Collectives.alltoall.expected(Collectives.alltoall.layout(sizeBytes: bytes, typeSize: 1, ranks: bench.ranks, rank: bench.rank),
                                                         ranks: bench.ranks, rank: bench.rank, root: 0)
            return try bench.data.countWrong(bench.a2a.recv.address, segments: segments, type: .uint8, ranks: bench.ranks, op: nil, scalar: 0,
                                             seed: bench.seed, mode: mode, stream: bench.stream)
        }
    }
}
