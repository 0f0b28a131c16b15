import Driver
import ArgumentParser
import Collectives
import Foundation
import GPU
import Measure

struct NCCLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nccl",
        abstract: "Benchmark NCCL collectives with nccl-tests' flags and table, every result checked.",
        discussion: """
        Examples:
          gpucomm nccl all_reduce -b 8 -e 1G -f 2         (one process, every GPU)
          gpucomm nccl all -b 1M -e 64M -d all -o all     (every collective/type/op)
          gpucomm nccl alltoall --np 4 -b 1M -e 256M      (4 processes, 1 GPU each)
          mpirun -np 16 gpucomm nccl alltoall -e 1G       (or srun, torchrun, k8s)
          gpucomm nccl alltoallv --skew 1.2 -e 64M        (imbalanced, MoE-like)

        Sizes are per-rank buffers as nccl-tests' size column counts them; algbw = size / time, \
        busbw = algbw × the collective's factor (docs/method.md). all_gather, reduce_scatter, \
        alltoall(v), gather, scatter and hypercube need sizes that are multiples of ranks × element \
        size. Every row is checked (#wrong) unless -c 0; any wrong element makes the exit status 3 \
        (in-place alltoall, which NCCL does not support, is reported but does not fail). Rows are \
        appended to --results as they complete.
        """)

    @Argument(help: "Collectives: all_reduce all_gather reduce_scatter broadcast reduce alltoall alltoallv gather scatter sendrecv hypercube, or all.")
    var collectives: [String] = ["all_reduce"]

    @OptionGroup var options: NCCLOptions
    @OptionGroup var launch: LaunchOptions

    func validate() throws {
        _ = try options.plan()
        _ = try resolveCollectives(collectives, matrix: TrafficMatrix(skew: 0))
    }

    func run() throws {
        if let status = try Job.spawnIfAsked(launch.spec) {
            throw Failure(ExitStatus(rawValue: status) ?? .failure, "")
        }
        let plan = try options.plan()
        let colls = try resolveCollectives(collectives, matrix: plan.matrix)
        var types = plan.types
        let job = try Job(launch.spec) { world, devices in
            let n = try subSize(world: world, mask: options.splitMask)
            if plan.typesFromAll {
                types = types.filter { typeSupported($0, devices) }
            } else if let t = types.first(where: { !typeSupported($0, devices) }) {
                throw Failure(.usage, "\(t.name) needs compute capability \(t == .bfloat16 ? "8.0" : "8.9") or newer; \(devices[0].name) is \(devices[0].computeCapability.major).\(devices[0].computeCapability.minor)")
            }
            try checkSizes(colls, types: types, sizes: plan.sizes, ranks: n, roots: plan.roots, matrix: plan.matrix)
        }
        let output: CollectiveRun.Output = options.json ? .json : options.csv ? .csv : .table
        let run = try CollectiveRun(job: job, splitMask: options.splitMask, resultsPath: options.output.noResults ? nil : options.output.results,
                                    output: output, timeout: launch.timeout)
        defer { run.finish() }
        try run.execute(CollectiveSweep(collectives: colls, types: types, ops: plan.ops, roots: plan.roots, sizes: plan.sizes,
                                        options: plan.options, cycles: options.cycles))
        if run.wrongTotal > 0 {
            throw Failure(.wrongResults, "\(run.wrongTotal) wrong elements in \(run.rowsWithWrong) measurements (see #wrong)")
        }
    }
}

/// bf16 needs sm_80, fp8 sm_89 (NCCL's own requirements).
func typeSupported(_ t: NCCLDataType, _ devices: [Device]) -> Bool {
    switch t {
    case .bfloat16: return devices.allSatisfy(\.supportsBF16)
    case .float8e4m3, .float8e5m2: return devices.allSatisfy(\.supportsFP8)
    default: return true
    }
}

/// Ranks in each sub-communicator when splitting by color = rank & mask; all must be equal.
func subSize(world: Int, mask: Int) throws -> Int {
    guard mask != 0 else { return world }
    var counts: [Int: Int] = [:]
    for r in 0..<world { counts[r & mask, default: 0] += 1 }
    let sizes = Set(counts.values)
    guard sizes.count == 1, let s = sizes.first else {
        throw Failure(.usage, "--split-mask \(mask) splits \(world) ranks into groups of different sizes \(counts.values.sorted())")
    }
    return s
}

/// Every size must divide among the ranks; roots must exist; hypercube needs a power of two.
func checkSizes(_ colls: [CollectiveDescriptor], types: [NCCLDataType], sizes: [Int], ranks n: Int, roots: [Int]?, matrix: TrafficMatrix) throws {
    if let r = roots?.first, r >= n, colls.contains(where: \.usesRoot) {
        throw Failure(.usage, "root \(r) (-r) does not exist: the job has \(n) ranks (0..<\(n))")
    }
    for c in colls {
        if c.needsPowerOfTwo && n & (n - 1) != 0 { throw Failure(.usage, "\(c.key) needs a power-of-two number of ranks (got \(n))") }
        if c.key == "alltoallv", let m = matrix.fixedRanks, m != n {
            throw Failure(.usage, "--matrix is \(m)×\(m) but the job has \(n) ranks")
        }
        for t in types {
            let g = c.granularity(typeSize: t.size, ranks: n)
            if let bad = sizes.first(where: { $0 % g != 0 }) {
                throw Failure(.usage, "\(c.key): size \(bad) B does not divide among \(n) ranks of \(t.size)-byte \(t.name) elements (sizes must be multiples of \(g) B; e.g. -b \(max(g, (bad / g) * g)))")
            }
        }
    }
}
