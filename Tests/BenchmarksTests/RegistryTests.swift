import AllToAll
import Collectives
import Driver
import Jacobi
import NVSHMEMBench
import Testing
@testable import Benchmarks

@Suite struct RegistryTests {
    @Test func keysAreUniqueAndSnakeCase() {
        let keys = Benchmarks.registry.map(\.qualifiedKey)
        #expect(Set(keys).count == keys.count, "duplicate keys: \(keys)")
        for d in Benchmarks.registry {
            #expect(d.key.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(d.qualifiedKey) is not snake_case")
            #expect(!d.summary.isEmpty, "\(d.qualifiedKey) has no summary")
            #expect(!d.timings.isEmpty, "\(d.qualifiedKey) has no timing strategy")
        }
    }

    @Test func everyFamilyIsListed() {
        for f in BenchmarkFamily.allCases { #expect(!Benchmarks.family(f).isEmpty, "\(f) has no benchmark") }
        #expect(Benchmarks.family(.collective).count == Collectives.all.count + 1)  // + alltoallv
        #expect(Benchmarks.family(.alltoall).count == BackendKind.allCases.count)
        #expect(Benchmarks.family(.jacobi).count == JacobiVariant.allCases.count)
    }

    @Test func oneGPUWaivesWhatNeedsTwoAndRunsWhatDoesNot() {
        let plan = Benchmarks.plan(for: JobShape(ranks: 1))
        let applies = plan.filter { $0.applicability == .applies }.map(\.descriptor.qualifiedKey)
        #expect(applies.contains("jacobi/single_gpu"))
        #expect(applies.contains("nccl/all_reduce"))
        #expect(!applies.contains { $0.hasPrefix("alltoall/") || $0.hasPrefix("nvshmem/") || $0.hasPrefix("nccl-device/") })
        for (d, a) in plan where a != .applies { #expect(a.reason?.isEmpty == false, "\(d.qualifiedKey) waived without a reason") }
    }

    @Test func hypercubeNeedsAPowerOfTwo() {
        let h = Collectives.named("hypercube")!
        #expect(h.applicability(JobShape(ranks: 3)) == .waived("needs a power-of-two number of ranks"))
        #expect(h.applicability(JobShape(ranks: 4)) == .applies)
    }

    @Test func tmaNeedsHopper() {
        #expect(BackendKind.nvshmemTMA.applicability(JobShape(ranks: 2, computeCapabilityMajor: 8)) == .waived("needs sm_90 (TMA)"))
        #expect(BackendKind.nvshmemTMA.applicability(JobShape(ranks: 2, computeCapabilityMajor: 9)) == .applies)
    }

    /// The all-to-all is counted once: every backend and the device-API kernels take the collective's accounting.
    @Test(arguments: [2, 4, 8])
    func allToAllIsCountedOnce(_ n: Int) {
        let reference = Collectives.named("alltoall")!.accounting(bytes: 1 << 20, ranks: n)
        for b in BackendKind.allCases { #expect(b.accounting(bytes: 1 << 20, ranks: n) == reference) }
        for k in NCCLDeviceAlltoallKernel.allCases { #expect(k.accounting(bytes: 1 << 20, ranks: n) == reference) }
        #expect(reference == .bandwidth(bytes: 1 << 20, algbwFactor: 1, busFactor: Double(n - 1) / Double(n)))
    }

    @Test func latencyBenchmarksCountNoBytes() {
        for d in Benchmarks.registry where d.timings.contains(.deviceClock) { #expect(d.accounting(bytes: 8, ranks: 2) == .latency) }
        for v in JacobiVariant.allCases { #expect(v.accounting(bytes: 0, ranks: 4) == .timeToSolution) }
    }
}

@Suite struct SharedGPUTests {
    /// Several ranks on one GPU: NCCL's benchmarks are waived with NCCL's own reason, NVSHMEM's still run.
    @Test func ncclIsWaivedWhenRanksShareAGPU() {
        let shape = JobShape(ranks: 4, sharesGPUs: true)
        for (d, a) in Benchmarks.plan(for: shape) {
            let usesNCCL = d.applicability(JobShape(ranks: 4, hasNCCL: false)) != .applies && d.applicability(JobShape(ranks: 4)) == .applies
            if usesNCCL { #expect(a == .waived("NCCL refuses two ranks on one GPU"), "\(d.qualifiedKey): \(a)") }
        }
        #expect(P2POp.put.applicability(shape) == .applies)
        #expect(BackendKind.nccl.applicability(shape) == .waived("NCCL refuses two ranks on one GPU"))
        #expect(Collectives.named("all_reduce")!.applicability(JobShape(ranks: 1, sharesGPUs: true)) == .applies)  // one rank shares nothing
    }
}
