import Foundation
import Testing
@testable import GPU

/// The NCCL device API's host side that needs no GPU: PTX constants, layouts, requirements,
/// header discovery and the stand-in headers.
@Suite struct NCCLDeviceTests {
    /// PTX NVRTC 13.0 wrote for the layout probe against NCCL 2.28.9's headers (zero-initialised
    /// values come without an initialiser).
    static let ptx2289 = """
    .version 9.0
    .target sm_90
    .address_size 64
    .global .align 8 .u64 gc_layout_devcomm_size = 200;
    .global .align 8 .u64 gc_layout_requirements_size = 56;
    .global .align 8 .u64 gc_layout_lsa_barrier_count = 24;
    .global .align 8 .u64 gc_layout_rank;
    .global .align 8 .u64 gc_layout_n_ranks = 4;
    .global .align 8 .u64 gc_layout_lsa_rank = 12;
    .global .align 8 .u64 gc_layout_lsa_size = 16;
    .global .align 8 .b8 gc_layout_requirements_init[56];
    """

    @Test func ptxGlobalsReadScalarsAndByteArrays() {
        let g = PTXGlobals.parse("""
        .global .align 8 .u64 a = 40;
        .global .align 8 .u64 z;
        .global .align 8 .b8 s[12] = {40, 0, 0, 0, 16, 50, 84, 118};
        .global .align 8 .b8 zero[4];
        .visible .global .align 4 .b8 v[2] = {1, 2};
        .reg .b64 notme;
        """)
        #expect(g["a"] == [40, 0, 0, 0, 0, 0, 0, 0])
        #expect(g["z"] == [UInt8](repeating: 0, count: 8))
        #expect(g["s"] == [40, 0, 0, 0, 16, 50, 84, 118, 0, 0, 0, 0])
        #expect(g["zero"] == [0, 0, 0, 0])
        #expect(g["v"] == [1, 2])
        #expect(g["notme"] == nil)
    }

    @Test func layoutOfNCCL2289() throws {
        let l = try NCCLDeviceLayout(ptx: Self.ptx2289)
        #expect(l.devCommSize == 200 && l.requirementsSize == 56 && l.lsaBarrierCountOffset == 24)
        #expect(l.rankOffset == 0 && l.nRanksOffset == 4 && l.lsaRankOffset == 12 && l.lsaSizeOffset == 16)
        #expect(l.requirementsInitializer == [UInt8](repeating: 0, count: 56))
    }

    @Test func layoutMissingAFieldIsUnavailable() {
        let ptx = Self.ptx2289.replacingOccurrences(of: ".global .align 8 .u64 gc_layout_lsa_size = 16;", with: "")
        #expect(throws: NCCLDeviceUnavailable.self) { try NCCLDeviceLayout(ptx: ptx) }
        let short = Self.ptx2289.replacingOccurrences(of: "gc_layout_requirements_init[56]", with: "gc_layout_requirements_init[48]")
        #expect(throws: NCCLDeviceUnavailable.self) { try NCCLDeviceLayout(ptx: short) }
    }

    /// 2.29-style initialiser (size, magic, version first): kept, with only lsaBarrierCount changed.
    @Test func requirementsKeepTheInitializer() throws {
        var init_ = [UInt8](repeating: 0, count: 64)
        init_[0] = 64; init_[8] = 0xef; init_[9] = 0xbe; init_[12] = 0x81
        let l = NCCLDeviceLayout(devCommSize: 256, requirementsSize: 64, lsaBarrierCountOffset: 40, rankOffset: 0, nRanksOffset: 4,
                                 lsaRankOffset: 12, lsaSizeOffset: 16, requirementsInitializer: init_)
        let r = l.requirements(lsaBarriers: 0x0102_0304)
        var expected = init_
        expected[40] = 4; expected[41] = 3; expected[42] = 2; expected[43] = 1
        #expect(r == expected)
        var dc = [UInt8](repeating: 0, count: 256)
        dc[12] = 3; dc[16] = 4; dc[4] = 0xff; dc[5] = 0xff; dc[6] = 0xff; dc[7] = 0xff
        #expect(l.int32(dc, at: 12) == 3 && l.int32(dc, at: 16) == 4 && l.int32(dc, at: 4) == -1)
    }

    @Test func headerVersionCode() {
        #expect(NCCLDeviceHeaders.headerVersionCode("#define NCCL_MINOR 28\n#define NCCL_VERSION_CODE 22809\n") == 22809)
        #expect(NCCLDeviceHeaders.headerVersionCode("#define NCCL_MINOR 28\n") == nil)
    }

    func makeNCCL(_ root: String, version: Int, device: Bool = true) throws {
        try FileManager.default.createDirectory(atPath: "\(root)/lib", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(root)/include", withIntermediateDirectories: true)
        try "#define NCCL_VERSION_CODE \(version)\n".write(toFile: "\(root)/include/nccl.h", atomically: true, encoding: .utf8)
        if device { try "".write(toFile: "\(root)/include/nccl_device.h", atomically: true, encoding: .utf8) }
    }

    @Test func includeDirBesideTheLibrary() throws {
        let t = try LibrarySearchTests.TempDir()
        try makeNCCL("\(t.path)/nccl", version: 22809)
        let dir = try NCCLDeviceHeaders.includeDir(libraryPath: "\(t.path)/nccl/lib/libnccl.so.2", versionCode: 22809, environment: [:])
        #expect(dir == "\(t.path)/nccl/include")
    }

    @Test func includeDirSkipsOtherVersionsAndTakesTheOverride() throws {
        let t = try LibrarySearchTests.TempDir()
        try makeNCCL("\(t.path)/old", version: 22807)
        #expect {
            try NCCLDeviceHeaders.includeDir(libraryPath: "\(t.path)/old/lib/libnccl.so.2", versionCode: 22809, environment: [:])
        } throws: { e in
            let s = "\(e)"
            return s.contains("22809") && s.contains("\(t.path)/old/include (22807)") && s.contains("GPUCOMM_NCCL_INCLUDE")
        }
        try makeNCCL("\(t.path)/right", version: 22809)
        let dir = try NCCLDeviceHeaders.includeDir(libraryPath: "\(t.path)/old/lib/libnccl.so.2", versionCode: 22809,
                                                   environment: ["GPUCOMM_NCCL_INCLUDE": "\(t.path)/right/include"])
        #expect(dir == "\(t.path)/right/include")
    }

    @Test func includeDirNeedsTheDeviceHeader() throws {
        let t = try LibrarySearchTests.TempDir()
        try makeNCCL("\(t.path)/nccl", version: 22809, device: false)
        #expect(throws: NCCLDeviceUnavailable.self) {
            try NCCLDeviceHeaders.includeDir(libraryPath: "\(t.path)/nccl/lib/libnccl.so.2", versionCode: 22809, environment: ["NCCL_HOME": "/nonexistent"])
        }
    }

    /// Every stand-in the NCCL headers include is there, and the prelude declares loadConst before the NCCL headers.
    @Test func standIns() {
        let names = NCCLDeviceHeaders.standIns.map(\.name)
        #expect(Set(names) == ["gc_nccl_device.h", "stdint.h", "stdbool.h", "limits.h", "stdlib.h"])
        let p = NCCLDeviceHeaders.prelude
        let load = p.range(of: "loadConst(char* const* p)")!.lowerBound, nccl = p.range(of: "#include <nccl_device")!.lowerBound
        #expect(load < nccl && p.contains("#define __host__") && !p.contains("gin"))
    }

    @Test func requestKeyCoversHeaders() {
        var a = CompileRequest(name: "k", source: "x", arch: "sm_90")
        a.headers = [InMemoryHeader(name: "h.h", source: "1")]
        var b = a
        b.headers = [InMemoryHeader(name: "h.h", source: "2")]
        #expect(RuntimeCompiler.cacheKey(a, nvrtcVersion: "13.0") != RuntimeCompiler.cacheKey(b, nvrtcVersion: "13.0"))
        #expect(RuntimeCompiler.cacheKey(a, nvrtcVersion: "13.0") == RuntimeCompiler.cacheKey(a, nvrtcVersion: "13.0"))
    }
}
