import Testing
@testable import AllToAll

@Suite struct BackendListTests {
    @Test func allNamesEveryBackendOnce() throws {
        #expect(try BackendKind.parseList("all") == BackendKind.allCases)
        #expect(BackendKind.allCases.count == 14)
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

@Suite struct CopyEnginePieceTests {
    @Test(arguments: [(16, 1), (4096, 3), (64 << 20, 4), (48, 4), (1 << 20, 16), (160, 7)])
    func piecesTileTheBlockOnSixteenByteOffsets(_ bytes: Int, _ n: Int) {
        var next = 0
        for i in 0..<n {
            let r = CopyFanout.piece(i, of: n, bytes: bytes)
            #expect(r.lowerBound == next)
            #expect(r.isEmpty || r.lowerBound % 16 == 0)
            next = r.upperBound
        }
        #expect(next == bytes)
    }

    @Test func splitOneIsTheWholeBlock() {
        #expect(CopyFanout.piece(0, of: 1, bytes: 12345 * 16) == 0..<(12345 * 16))
    }

    @Test func ceIsHostInitiatedAndListed() throws {
        #expect(try BackendKind.parseList("nvshmem-ce") == [.nvshmemCE])
        #expect(BackendKind.nvshmemCE.usesNVSHMEM && !BackendKind.nvshmemCE.ownKernel)
    }
}

@Suite struct CopyEngineKindTests {
    @Test func cudaCENeedsNoLibrary() throws {
        #expect(try BackendKind.parseList("cuda-ce,nvshmem-ce") == [.cudaCE, .nvshmemCE])
        #expect(!BackendKind.cudaCE.usesNCCL && !BackendKind.cudaCE.usesNVSHMEM && !BackendKind.cudaCE.ownKernel)
        #expect(BackendKind.cudaCE.resultsName == "cuda_ce")
    }
}
