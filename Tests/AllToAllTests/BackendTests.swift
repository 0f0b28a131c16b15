import Testing
@testable import AllToAll

@Suite struct BackendListTests {
    @Test func allNamesEveryBackendOnce() throws {
        #expect(try BackendKind.parseList("all") == BackendKind.allCases)
        #expect(BackendKind.allCases.count == 11)
    }

    @Test func tmaIsAnOwnNVSHMEMKernel() throws {
        #expect(try BackendKind.parseList("nvshmem-tma,nccl") == [.nvshmemTMA, .nccl])
        let k = BackendKind.nvshmemTMA
        #expect(k.ownKernel && k.usesNVSHMEM && !k.usesNCCL)
        #expect(k.resultsName == "nvshmem_tma")
        #expect(KernelOptions().tma.sharedBytes == 131_104)
        #expect(BackendKind.allCases.filter(\.ownKernel) == [.nvshmemPut, .nvshmemSignal, .nvshmemDirect, .nvshmemTMA])
    }

    @Test func listKeepsOrderAndDropsRepeats() throws {
        #expect(try BackendKind.parseList("nvshmem-signal,nccl, nccl,nccl-device") == [.nvshmemSignal, .nccl, .ncclDevice])
    }

    @Test(arguments: ["", "nccl,", "nvshmem", "NCCL", "nccl-sym"])
    func badNamesAreNamed(_ text: String) {
        #expect(throws: BackendListError.self) { try BackendKind.parseList(text) }
    }

    @Test func resultsNamesAreSnakeCase() {
        #expect(BackendKind.nvshmemHostGraph.resultsName == "nvshmem_host_graph")
        #expect(BackendKind.nccl.resultsName == "nccl")
        for k in BackendKind.allCases { #expect(!k.resultsName.contains("-")) }
    }
}
