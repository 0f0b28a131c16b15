import AllToAll
import Benchmarks
import Collectives
import Copy
import Driver
import Jacobi
import Measure
import MoE
import NVSHMEMBench

/// What `gpucomm suite` runs on a machine: from the registry, every benchmark that applies to a
/// job over the visible GPUs. The NCCL collectives run in the suite's own process (every GPU,
/// one process); the families that need one process per GPU run as gpucomm's own commands in
/// child processes, each appending to the suite's results file.
struct SuitePlan {
    /// A child command and the registry keys whose rows it writes.
    struct Step {
        var title: String
        var arguments: [String]
        var covers: [String]
    }

    /// The collectives the suite sweeps in process (float, sum), in this order.
    static let collectives = ["all_reduce", "all_gather", "reduce_scatter", "broadcast", "reduce", "alltoall", "sendrecv"]

    var collectives: [CollectiveDescriptor] = []
    var steps: [Step] = []
    var waived: [(key: String, reason: String)] = []

    /// `shape.ranks` visible GPUs; sizes up to `maxBytes`, `iters` timed iterations; children bounded by `timeout`.
    init(shape: JobShape, maxBytes: Int, iters: Int, timeout: Int) {
        let n = shape.ranks
        var applies: [BenchmarkFamily: [any BenchmarkDescriptor]] = [:]
        for (d, a) in Benchmarks.plan(for: shape) {
            // The suite's collective sweep is the standard list; alltoallv and hypercube are for `gpucomm nccl`.
            if d.family == .collective && !Self.collectives.contains(d.key) { continue }
            if let r = a.reason { waived.append((d.qualifiedKey, r)) } else { applies[d.family, default: []].append(d) }
        }
        collectives = Self.collectives.compactMap { k in (applies[.collective] ?? []).first { $0.key == k } as? CollectiveDescriptor }
        let e = ByteSize.format(maxBytes)
        let common = ["-n", String(iters), "-T", String(timeout)]
        func step(_ title: String, _ args: [String], _ covers: [any BenchmarkDescriptor]) {
            steps.append(Step(title: title, arguments: args, covers: covers.map(\.qualifiedKey)))
        }

        // Copies: host↔device both ways (CE and SM, pinned), the local copy ceiling and latency on
        // every machine; the GPU pair matrices at the largest size when there are 2 or more GPUs.
        let copies = (applies[.copy] ?? []).compactMap { $0 as? CopyBenchmark }
        let near = copies.filter { $0.pattern.usesHost || $0.pattern == .deviceLocal || $0.pattern.isLatency }
        let top = max(16, maxBytes / 16 * 16)  // copies move whole 16-byte words
        if !near.isEmpty {
            step("copies: host↔device, local, latency", ["copy"] + near.map(\.key) + ["-b", String(min(64 << 10, top)), "-e", String(top), "-f", "16"] + common, near)
        }
        let peer = copies.filter { !near.contains($0) }
        if !peer.isEmpty {
            step("copies: GPU pair matrices", ["copy"] + peer.map(\.key) + ["-b", String(top), "-e", String(top)] + common, peer)
        }

        let backends = (applies[.alltoall] ?? []).compactMap { $0 as? BackendKind }
        if !backends.isEmpty {
            step("all-to-all, \(backends.count) backends", ["alltoall", "--np", String(n), "--backends", backends.map(\.rawValue).joined(separator: ","),
                                                              "-b", "64K", "-e", e, "-f", "16"] + common, backends)
        }
        let kernels = (applies[.ncclDevice] ?? []).compactMap { $0 as? NCCLDeviceAlltoallKernel }
        if !kernels.isEmpty {
            step("NCCL device API all-to-all", ["nccl-device", "alltoall", "--np", String(n), "-D", kernels.map { String($0.rawValue) }.joined(separator: ","),
                                                "-b", "1M", "-e", e, "-f", "16"] + common, kernels)
        }
        let nvshmem = applies[.nvshmem] ?? []
        for op in nvshmem.compactMap({ $0 as? P2POp }) {
            step("NVSHMEM \(op.rawValue) bandwidth, PE 0 and 1", ["nvshmem", op.rawValue, "--np", "2", "-b", "1M", "-e", e, "-f", "16"] + common, [op])
        }
        let latency = nvshmem.compactMap { $0 as? P2PLatency.Op }
        if !latency.isEmpty {
            step("NVSHMEM latency", ["nvshmem", "latency", "--np", "2", "--ops", latency.map(\.rawValue).joined(separator: ","), "-b", "8", "-e", "64K", "-f", "8",
                                     "-T", String(timeout)], latency)
        }
        if let s = nvshmem.first(where: { $0 is SignalPingPong }) {
            step("NVSHMEM signal ping-pong", ["nvshmem", "signal", "--np", "2", "-b", "8", "-e", "64K", "-f", "8", "-T", String(timeout)], [s])
        }
        let methods = nvshmem.compactMap { $0 as? BarrierLatency.Method }
        if !methods.isEmpty {
            step("NVSHMEM barrier", ["nvshmem", "barrier", "--np", String(n), "--methods", methods.map(\.rawValue).joined(separator: ","), "-n", "1000",
                                     "-T", String(timeout)], methods)
        }
        let variants = (applies[.jacobi] ?? []).compactMap { $0 as? JacobiVariant }
        if !variants.isEmpty {
            let counts = Array(Set([1, 2, 4, 8, n].filter { $0 <= n })).sorted()
            step("Jacobi on \(counts.map(String.init).joined(separator: ", ")) GPU(s)",
                 ["jacobi", "--variants", variants.map(\.rawValue).joined(separator: ","), "--gpus", counts.map(String.init).joined(separator: ","),
                  "--nx", "8192", "--ny", "8192", "-n", "200", "-T", String(timeout)], variants)
        }
        let moe = applies[.moe] ?? []
        let moeStyles = moe.compactMap { $0 as? MoEStyle }
        if n >= 2 && !moeStyles.isEmpty {
            step("MoE dispatch and combine, DeepEP low-latency shape", ["moe", "--np", String(n), "--styles", moeStyles.map(\.rawValue).joined(separator: ","),
                                                                        "--preset", "deepep-ll"] + common, moeStyles)
            let kernels = moe.compactMap { $0 as? MoEKernel }
            if !kernels.isEmpty { step("MoE layout kernel and FP8 cast, one GPU", ["moe", "--kernels", "--preset", "deepep-ll"] + common, kernels) }
        }
    }
}
