import ArgumentParser
import Driver
import Testing
@testable import GPUCommCLI

/// The command lines `selftest` and `suite` build from the registry: every one parses and
/// validates (no GPU needed), and every benchmark that applies is covered.
@Suite struct RegistryPlanTests {
    static let shapes: [JobShape] = [
        JobShape(ranks: 2), JobShape(ranks: 4), JobShape(ranks: 8),
        JobShape(ranks: 2, computeCapabilityMajor: 8), JobShape(ranks: 4, hasNVSHMEM: false), JobShape(ranks: 2, hasNCCL: false),
    ]

    @Test(arguments: shapes)
    func selftestCasesParseAndCoverEveryApplicableBenchmark(_ shape: JobShape) throws {
        let stage = SelftestStage(shape: shape, timeout: 20)
        #expect(stage.uncovered.isEmpty, "no selftest case for \(stage.uncovered)")
        #expect(!stage.cases.isEmpty || (!shape.hasNVSHMEM && !shape.hasNCCL))
        for c in stage.cases {
            _ = try GPUComm.parseAsRoot(c.arguments)  // parses and runs validate(): throws on any bad argument
        }
    }

    @Test func withoutNVSHMEMItsBenchmarksAreWaivedWithTheReason() {
        let stage = SelftestStage(shape: JobShape(ranks: 4, hasNVSHMEM: false), timeout: 20)
        #expect(stage.waived.contains { $0.key == "nvshmem/put_bw" && $0.reason == "needs NVSHMEM" })
        #expect(stage.waived.contains { $0.key == "alltoall/nvshmem_direct" })
        #expect(!stage.cases.contains { $0.arguments.first == "nvshmem" })
    }

    @Test(arguments: [JobShape(ranks: 1), JobShape(ranks: 2), JobShape(ranks: 4), JobShape(ranks: 8, computeCapabilityMajor: 8)])
    func suiteStepsParse(_ shape: JobShape) throws {
        let plan = SuitePlan(shape: shape, maxBytes: 64 << 20, iters: 10, timeout: 60)
        #expect(plan.collectives.map(\.key) == SuitePlan.collectives)
        for s in plan.steps { _ = try GPUComm.parseAsRoot(s.arguments + ["--results", "/tmp/x.jsonl"]) }
        if shape.ranks == 1 {
            #expect(plan.steps.map(\.arguments.first) == ["copy", "jacobi"])  // everything else needs 2 GPUs
            #expect(plan.steps[0].covers.contains("copy/host_to_device_memcpy_ce") && plan.steps[0].covers.contains("copy/device_local_copy_sm"))
            #expect(plan.waived.contains { $0.key == "copy/device_to_device_memcpy_read_ce" && $0.reason == "needs 2 GPUs" })
            #expect(plan.waived.contains { $0.key == "alltoall/nccl" && $0.reason == "needs 2 GPUs" })
        } else {
            #expect(Set(plan.steps.compactMap(\.arguments.first)) == ["copy", "alltoall", "nccl-device", "nvshmem", "jacobi", "moe"])
            #expect(plan.steps.contains { $0.title == "copies: GPU pair matrices" && $0.covers.contains("copy/device_to_device_memcpy_read_ce") })
        }
    }
}

/// Bad input to the commands this session added or changed: one line, exit 2, before any GPU work.
@Suite struct SessionSixBadInputTests {
    @Test(arguments: [
        (["suite", "-e", "4611686018427387904"], "more than 1T"),
        (["suite", "-e", "0"], "-e must be at least 8 bytes"),
        (["moe", "--np", "2", "--tokens", "-1"], "--tokens must be at least 0"),
        (["moe", "--np", "2", "-n", "-3"], "-n must be at least 1"),
        (["nccl", "all_reduce", "--rendezvous", "bogus"], "--rendezvous: "),
    ])
    func refusedInOneLine(_ args: [String], _ words: String) throws {
        let r = try CLI.run(args)
        #expect(r.status == Driver.ExitStatus.usage.rawValue, "\(r.summary)")
        #expect(r.stderr.contains(words), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
}
