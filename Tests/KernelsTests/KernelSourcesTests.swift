import Foundation
@testable import GPU
import Testing
@testable import Kernels

/// The kernel sources as NVRTC gets them: every file embedded, every `#include` resolved from
/// memory, every shared constant defined once (KernelConstants), the shared header used instead of
/// copies. Compiling them is scripts/compile-kernels.sh's job (NVRTC from PyPI, no GPU).
@Suite struct KernelSourcesTests {
    /// Sources/Kernels/cuda on disk.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/Kernels/cuda")
    static let onDisk: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()

    /// Every file under cuda/ is in `KernelSources.files` with the same bytes, and nothing else is.
    @Test func everyFileIsEmbedded() throws {
        #expect(!Self.onDisk.isEmpty)
        #expect(Self.onDisk == KernelSources.files.keys.sorted())
        for name in Self.onDisk {
            let bytes = try [UInt8](Data(contentsOf: Self.folder.appendingPathComponent(name)))
            #expect(KernelSources.files[name] == bytes, "\(name)")
        }
    }

    /// Every .cu is one program of the catalog (which `_compile-kernels` compiles), under its own name.
    @Test func everySourceIsInTheCatalog() {
        let sources = Self.onDisk.filter { $0.hasSuffix(".cu") }.map { String($0.dropLast(3)) }
        #expect(KernelSources.catalog.map(\.name).sorted() == sources)
        #expect(Set(KernelSources.catalog.map(\.name)).count == KernelSources.catalog.count)
    }

    /// Each .cu file opens with a comment holding its launch contract; headers hold none.
    @Test func launchContractOnTop() {
        for p in KernelSources.catalog {
            let lead = p.source.split(separator: "\n").prefix { $0.hasPrefix("//") }.joined(separator: "\n")
            #expect(p.source.hasPrefix("//") && lead.contains("Launch contract"), "\(p.name)")
            for k in Self.kernels(p.source) { #expect(lead.contains(k), "\(p.name): the launch contract names \(k)") }
        }
    }

    /// Every quoted include resolves: to a header of ours (embedded or generated), or, for the
    /// libraries' device code, to the one header each kind's request supplies otherwise.
    @Test(arguments: KernelSources.catalog.map(\.name))
    func includesResolve(_ name: String) throws {
        let p = try #require(KernelSources.catalog.first { $0.name == name })
        let allowed: [KernelSources.Kind: Set<String>] = [
            .plain: [],
            .nvshmem: ["non_abi/device/pt-to-pt/nvshmemi_transfer_api.cuh"],  // NVSHMEM's include folder (the prelude's bridge)
            .ncclDevice: ["gc_nccl_device.h"],  // RuntimeCompiler.ncclDeviceRequest's stand-in
        ]
        #expect(Set(p.otherIncludes).isSubset(of: allowed[p.kind]!), "\(p.otherIncludes)")
        let names = p.headers.map(\.name)
        #expect(Set(names).count == names.count)
        for (file, text) in [(p.name + ".cu", p.source)] + p.headers.map({ ($0.name, $0.source) }) {
            for inc in KernelProgram.quotedIncludes(text) {
                #expect(names.contains(inc) || p.otherIncludes.contains(inc), "\(file) includes \(inc)")
            }
        }
        // Headers are guarded: NVRTC sees a header once however many sources include it.
        for h in p.headers { #expect(h.source.contains("#pragma once\n"), "\(h.name)") }
        #expect(names.contains("gc_common.cuh"), "every kernel file includes the shared header")
        if p.kind == .nvshmem { #expect(names.first == "nvshmem_prelude.cuh") }
    }

    /// Every constant of the table is used by some kernel, defined nowhere but in the generated
    /// header, and every program that uses one includes that header.
    @Test func constantsDefinedOnceAndUsed() {
        let table = KernelConstants.table()
        #expect(Set(table.map(\.name)).count == table.count)
        let texts = KernelSources.files.map { ($0.key, String(decoding: $0.value, as: UTF8.self)) }
        for (name, _) in table {
            #expect(texts.contains { Self.uses($0.1, name) }, "\(name) is used by a kernel")
            for (file, text) in texts { #expect(!text.contains("#define \(name) "), "\(file) defines \(name) itself") }
        }
        for p in KernelSources.catalog {
            let all = [p.source] + p.headers.filter { $0.name != KernelConstants.headerName }.map(\.source)
            let used = table.filter { c in all.contains { Self.uses($0, c.name) } }
            if !used.isEmpty { #expect(p.headers.contains { $0.name == KernelConstants.headerName }, "\(p.name) uses \(used.map(\.name))") }
            let header = p.headers.first { $0.name == KernelConstants.headerName }?.source
            for c in used { #expect(header?.contains("#define \(c.name) \(c.value)\n") == true, "\(p.name): \(c.name)") }
        }
    }

    /// The header's text is the table; other values for the stencil give another text (another cache entry).
    @Test func generatedHeader() {
        let h = KernelConstants.header()
        #expect(h.contains("#define JBX 128\n") && h.contains("#define GC_NORM_BROKEN 0xffffffffu\n") && h.contains("#define GC_TMA_MAX_STAGES 8\n"))
        #expect(h.contains("#pragma once\n"))
        let tuned = KernelSources.jacobi(blockX: 256, unroll: 2)
        let text = tuned.headers.first { $0.name == KernelConstants.headerName }?.source ?? ""
        #expect(text.contains("#define JBX 256\n") && text.contains("#define JUNROLL 2\n"))
        #expect(tuned.name == "jacobi" && tuned.source == KernelSources.jacobi.source)
        #expect(TMAStaging.stageCounts.upperBound == KernelConstants.tmaMaxStages)
        #expect(TMAStaging(stageBytes: 16, stages: 9).problem == "--tma-stages must be from 2 to 8 (got 9)")
    }

    /// The shared header holds the typedefs, the 16-byte copy and the acquire/release helpers; no
    /// kernel file keeps its own copy.
    @Test func sharedHeaderInsteadOfCopies() {
        let common = KernelSources.optionalText("gc_common.cuh") ?? ""
        for decl in ["typedef unsigned long long u64;", "typedef long long i64;", "typedef unsigned int u32;",
                     "gc_copy16_in_flight(", "st.release.sys.global.u64", "ld.acquire.sys.global.u64"] {
            #expect(common.contains(decl), "\(decl)")
            for (file, bytes) in KernelSources.files where file != "gc_common.cuh" {
                #expect(!String(decoding: bytes, as: UTF8.self).contains(decl), "\(file) has its own \(decl)")
            }
        }
    }

    /// The in-memory headers enter the request and its cache key: the same program gives the same
    /// key, any header's text changes it, and headers added to a library's request come after its own.
    @Test func headersInTheCacheKey() {
        let p = KernelSources.jacobi
        let a = CompileRequest(name: p.name, source: p.source, arch: "sm_90").with(headers: p.headers)
        #expect(a.headers.map(\.name) == p.headers.map(\.name))
        #expect(RuntimeCompiler.cacheKey(a, nvrtcVersion: "13.0") == RuntimeCompiler.cacheKey(
            CompileRequest(name: p.name, source: p.source, arch: "sm_90").with(headers: KernelSources.jacobi.headers), nvrtcVersion: "13.0"))
        let t = KernelSources.jacobi(unroll: 8)
        let b = CompileRequest(name: t.name, source: t.source, arch: "sm_90").with(headers: t.headers)
        #expect(RuntimeCompiler.cacheKey(a, nvrtcVersion: "13.0") != RuntimeCompiler.cacheKey(b, nvrtcVersion: "13.0"))
        var lib = CompileRequest(name: "x", source: "", arch: "sm_90")
        lib.headers = [InMemoryHeader(name: "gc_nccl_device.h", source: "")]
        #expect(lib.with(headers: [("h.cuh", "1")]).headers.map(\.name) == ["gc_nccl_device.h", "h.cuh"])
    }

    @Test func quotedIncludesParse() {
        let text = "#include \"a.cuh\"\n  #  include   \"b/c.h\"  // x\n#include <d.h>\n// #include \"e.cuh\"\n#define X \"f\"\n"
        #expect(KernelProgram.quotedIncludes(text) == ["a.cuh", "b/c.h"])
    }

    @Test func parametersParse() {
        let text = """
        // Launch contract
        //   gc_k(int a, int b)  (a comment naming the kernel is no declaration)
        __device__ void gc_k2(int z);
        void call() { gc_k(1, 2); }
        extern "C" __global__ void __launch_bounds__(128) gc_k(float* __restrict__ a_new, const unsigned long long* sig,
                                                              ncclWindow_t win, unsigned send) {}
        extern "C" __global__ void gc_none() {}
        """
        #expect(KernelProgram.parameters(of: "gc_k", in: text) == ["a_new", "sig", "win", "send"])
        #expect(KernelProgram.parameters(of: "gc_none", in: text) == [])
        #expect(KernelProgram.parameters(of: "gc_k2", in: text) == nil)
        #expect(KernelProgram.parameters(of: "gc_missing", in: text) == nil)
    }

    /// Every kernel the host looks up by name has a declaration in its program.
    @Test func kernelsTheHostLoads() {
        let expected: [(KernelProgram, [String])] = [
            (KernelSources.jacobi, ["gc_jacobi_init", "gc_jacobi", "gc_jacobi_count_wrong"]),
            (KernelSources.jacobiNVSHMEM, ["gc_jacobi_shmem_p", "gc_jacobi_shmem_block", "gc_jacobi_shmem_opt", "gc_jacobi_shmem_norm_finish"]),
            (KernelSources.jacobiNCCLLSA, ["gc_jacobi_lsa", "gc_jacobi_lsa_finish"]),
            (KernelSources.ipcBarrier, ["gc_ipc_barrier_next", "gc_copy16"]),
            (KernelSources.nvshmemAlltoall, ["gc_a2a_lib", "gc_a2a_put", "gc_a2a_signal", "gc_a2a_direct", "gc_barrier_thread", "gc_barrier_block"]),
            (KernelSources.nvshmemTMA, ["gc_bw_tma", "gc_a2a_tma"]),
            (KernelSources.nvshmemP2P, ["gc_latency", "gc_pingpong"]),
            (KernelSources.ncclLSAAlltoall, ["gc_lsa_alltoall_basic", "gc_lsa_alltoall_opt"]),
        ]
        for (p, kernels) in expected {
            for k in kernels { #expect(p.parameters(of: k) != nil, "\(p.name): \(k)") }
        }
    }

    /// `extern "C"` kernels declared in plain text (not through a macro such as fill_check's GC_INT).
    static func kernels(_ text: String) -> [String] {
        let re = try! NSRegularExpression(pattern: #"__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s+)?(gc_\w+)\s*\("#)
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: 1)) }
    }

    /// `name` occurs in `text` as a whole identifier.
    static func uses(_ text: String, _ name: String) -> Bool {
        var rest = text[...]
        while let r = rest.firstRange(of: name) {
            let before = r.lowerBound > text.startIndex ? text[text.index(before: r.lowerBound)] : " "
            let after = r.upperBound < text.endIndex ? text[r.upperBound] : " "
            func ident(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
            if !ident(before) && !ident(after) { return true }
            rest = text[r.upperBound...]
        }
        return false
    }
}
