import Testing
@testable import MoE

/// The load/store styles store into other PEs through `nvshmem_ptr`; a PE it cannot reach (NULL)
/// must make them unavailable before any kernel runs, not fault the kernel.
@Suite struct LoadStoreTests {
    @Test func onlyTheNVLinkStylesNeedALoadStorePath() {
        #expect(MoEStyle.allCases.filter(\.needsLoadStore) == [.nvlinkLL, .nvlinkNormal])
    }

    @Test func theProblemNamesTheFirstRankWithoutAPath() {
        #expect(MoEBench.loadStoreProblem([nil, nil, nil, nil]) == nil)
        #expect(MoEBench.loadStoreProblem([]) == nil)
        let line = MoEBench.loadStoreProblem([nil, 2, 0, nil])
        #expect(line?.hasPrefix("rank 1 has no load/store path to PE 2 (nvshmem_ptr is NULL)") == true)
        #expect(MoEBench.loadStoreProblem([0]) != nil)
    }
}
