internal import CGPU
import Foundation

/// A kernel source that failed to compile or link: names the kernel and carries the compiler's log.
public struct CompileError: Error, CustomStringConvertible, Sendable {
    public var kernel: String
    public var stage: String
    public var code: Int32
    public var status: String
    public var log: String
    public var options: [String]
    public var description: String {
        "\(stage) of \(kernel) failed: \(status) (\(code)); options: \(options.joined(separator: " "))\n\(log)"
    }
    /// The log's first line that names an error, else the status: the one-line reason to print.
    public var firstError: Substring { log.split(separator: "\n").first { $0.contains("error") } ?? Substring(status) }
}

/// What to compile: one CUDA C++ source and how.
public struct CompileRequest: Sendable {
    public var name: String
    public var source: String
    public var arch: String
    public var options: [String]
    /// Include folders (`-I`), e.g. NVSHMEM's or NCCL's headers.
    public var includeDirs: [String]
    /// Relocatable LTO-IR to be linked by nvJitLink with these static libraries (`.a`): NVSHMEM device code.
    public var linkLibraries: [String]
    /// Versions of libraries whose headers or device code the result depends on (part of the cache key).
    public var dependencyVersions: [String]
    /// Headers given to NVRTC from memory (`#include "name"` finds them before any include folder);
    /// every name and text is part of the cache key. The kernels' own headers (`KernelProgram.headers`:
    /// `gc_common.cuh`, the generated `gc_constants.cuh`, …) and the stand-ins NCCL's device headers
    /// need (see NCCLDevice.swift).
    public var headers: [InMemoryHeader] = []

    public init(name: String, source: String, arch: String, options: [String] = [], includeDirs: [String] = [],
                linkLibraries: [String] = [], dependencyVersions: [String] = [], headers: [InMemoryHeader] = []) {
        self.name = name; self.source = source; self.arch = arch; self.options = options
        self.includeDirs = includeDirs; self.linkLibraries = linkLibraries; self.dependencyVersions = dependencyVersions
        self.headers = headers
    }

    /// This request with `headers` (name, text) added as in-memory headers: how a kernel program of
    /// the Kernels module, which cannot see `InMemoryHeader`, hands over its `KernelProgram.headers`.
    public func with(headers more: [(name: String, source: String)]) -> CompileRequest {
        var r = self
        r.headers += more.map { InMemoryHeader($0) }
        return r
    }

    /// The options NVRTC gets.
    public var nvrtcOptions: [String] {
        var o = ["-arch=\(arch)", "-std=c++17"] + options + includeDirs.map { "-I\($0)" }
        if !linkLibraries.isEmpty { o += ["-rdc=true", "-dlto"] }
        return o
    }
}

/// A header NVRTC takes from memory instead of a file (`nvrtcCreateProgram`'s headers/includeNames).
public struct InMemoryHeader: Sendable, Equatable {
    public var name: String
    public var source: String
    public init(name: String, source: String) { self.name = name; self.source = source }
    /// From a name and text of a module that cannot see this type (`KernelProgram.headers`).
    public init(_ h: (name: String, source: String)) { self.init(name: h.name, source: h.source) }
}

/// NVRTC and (optionally) nvJitLink, with an on-disk cache of cubins keyed by source, in-memory
/// headers, options, architecture and library versions.
public final class RuntimeCompiler: @unchecked Sendable {
    let nvrtcLib: DynamicLibrary
    let create: PFN_nvrtcCreateProgram
    let destroy: PFN_nvrtcDestroyProgram
    let compile: PFN_nvrtcCompileProgram
    let errorString: PFN_nvrtcGetErrorString
    let getCubinSize: PFN_nvrtcGetSize
    let getCubin: PFN_nvrtcGetData
    let getLTOIRSize: PFN_nvrtcGetSize
    let getLTOIR: PFN_nvrtcGetData
    let getLogSize: PFN_nvrtcGetSize
    let getLog: PFN_nvrtcGetData
    let getPTXSize: PFN_nvrtcGetSize
    let getPTX: PFN_nvrtcGetData
    let search: LibrarySearch
    /// NVRTC version, e.g. `13.0`.
    public let version: String
    /// Folder of cached cubins (GPUCOMM_CACHE_DIR, else $XDG_CACHE_HOME/gpucomm/kernels, else ~/.cache/gpucomm/kernels).
    public let cacheDir: String?

    public init(search: LibrarySearch = LibrarySearch()) throws {
        self.search = search
        // NVRTC loads libnvrtc-builtins from its own folder; open it first by absolute path so it is found.
        let lib = try search.load(.nvrtc)
        let real = lib.resolvedPath(probe: "nvrtcVersion")
        let dir = (real as NSString).deletingLastPathComponent
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) {
            for e in entries.sorted() where e.hasPrefix("libnvrtc-builtins.so") {
                _ = try? DynamicLibrary(path: "\(dir)/\(e)", global: true)
            }
        }
        nvrtcLib = lib
        create = try lib.function("nvrtcCreateProgram")
        destroy = try lib.function("nvrtcDestroyProgram")
        compile = try lib.function("nvrtcCompileProgram")
        errorString = try lib.function("nvrtcGetErrorString")
        getCubinSize = try lib.function("nvrtcGetCUBINSize")
        getCubin = try lib.function("nvrtcGetCUBIN")
        getLTOIRSize = try lib.function("nvrtcGetLTOIRSize")
        getLTOIR = try lib.function("nvrtcGetLTOIR")
        getLogSize = try lib.function("nvrtcGetProgramLogSize")
        getLog = try lib.function("nvrtcGetProgramLog")
        getPTXSize = try lib.function("nvrtcGetPTXSize")
        getPTX = try lib.function("nvrtcGetPTX")
        let ver: PFN_nvrtcVersion = try lib.function("nvrtcVersion")
        var major: Int32 = 0, minor: Int32 = 0
        _ = ver(&major, &minor)
        version = "\(major).\(minor)"
        let env = search.environment
        if let d = env["GPUCOMM_CACHE_DIR"] { cacheDir = d.isEmpty ? nil : d }
        else if let x = env["XDG_CACHE_HOME"], !x.isEmpty { cacheDir = "\(x)/gpucomm/kernels" }
        else if let h = env["HOME"], !h.isEmpty { cacheDir = "\(h)/.cache/gpucomm/kernels" }
        else { cacheDir = nil }
    }

    /// CUDA's `include/` beside the NVRTC that was loaded (CUDA toolkit or pip `nvidia/cu13`), else CUDA_HOME.
    public var cudaIncludeDir: String? {
        let real = nvrtcLib.resolvedPath(probe: "nvrtcVersion")
        var candidates = [((real as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent + "/include"]
        if let h = search.environment["CUDA_HOME"] { candidates.append("\(h)/include") }
        candidates.append("/usr/local/cuda/include")
        return candidates.first { FileManager.default.fileExists(atPath: "\($0)/cuda_runtime.h") || FileManager.default.fileExists(atPath: "\($0)/cuda.h") }
    }

    /// The include folders for device code that includes CUDA's headers: `cudaIncludeDir` and its
    /// `cccl/` where there is one (CUDA 13 keeps libcu++ there); nil without CUDA's headers.
    public var cudaIncludeDirs: [String]? {
        guard let cuda = cudaIncludeDir else { return nil }
        return FileManager.default.fileExists(atPath: "\(cuda)/cccl") ? [cuda, "\(cuda)/cccl"] : [cuda]
    }

    /// Compiles (or takes from the cache) and returns a cubin.
    public func cubin(for r: CompileRequest) throws -> [UInt8] {
        let key = cacheKey(r)
        let path = cacheDir.map { "\($0)/\(r.name)-\(key).cubin" }
        if let path, let data = FileManager.default.contents(atPath: path), !data.isEmpty { return [UInt8](data) }
        let image: [UInt8]
        if r.linkLibraries.isEmpty {
            image = try runNVRTC(r, output: .cubin)
        } else {
            let ltoir = try runNVRTC(r, output: .ltoir)
            image = try link(r, ltoir: ltoir)
        }
        if let path, let dir = cacheDir {
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let tmp = "\(path).tmp\(getpid())"
            if FileManager.default.createFile(atPath: tmp, contents: Data(image)) { _ = rename(tmp, path) }
        }
        return image
    }

    /// FNV-1a over everything that changes the result: the source, every in-memory header's name and
    /// text, the architecture, NVRTC's version and options, the libraries linked and their versions.
    func cacheKey(_ r: CompileRequest) -> String { RuntimeCompiler.cacheKey(r, nvrtcVersion: version) }

    static func cacheKey(_ r: CompileRequest, nvrtcVersion version: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var parts = [r.source, r.arch, version] + r.nvrtcOptions + r.linkLibraries + r.dependencyVersions
        for h in r.headers { parts += [h.name, h.source] }
        for p in parts {
            for b in p.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h = (h ^ 0xff) &* 0x100_0000_01b3
        }
        return String(h, radix: 16)
    }

    enum Output { case cubin, ltoir, ptx }

    /// Compiles to PTX text (not cached): used to read constants such as `sizeof` of a header's
    /// struct out of `.global` initialisers, which needs no GPU.
    public func ptx(for r: CompileRequest) throws -> String {
        let bytes = try runNVRTC(r, output: .ptx)
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    func runNVRTC(_ r: CompileRequest, output: Output) throws -> [UInt8] {
        var prog: nvrtcProgram?
        let opts = r.nvrtcOptions
        let hsrc = r.headers.map { strdup($0.source) }, hname = r.headers.map { strdup($0.name) }
        defer { (hsrc + hname).forEach { free($0) } }
        let created = hsrc.map { UnsafePointer($0) }.withUnsafeBufferPointer { s in
            hname.map { UnsafePointer($0) }.withUnsafeBufferPointer { n in
                create(&prog, r.source, "\(r.name).cu", Int32(r.headers.count), r.headers.isEmpty ? nil : s.baseAddress,
                       r.headers.isEmpty ? nil : n.baseAddress)
            }
        }
        try checkNVRTC(created, r, "nvrtcCreateProgram", opts)
        defer { _ = destroy(&prog) }
        let cargs = opts.map { strdup($0) }
        defer { cargs.forEach { free($0) } }
        let res = cargs.map { UnsafePointer($0) }.withUnsafeBufferPointer { compile(prog, Int32(opts.count), $0.baseAddress) }
        if res != 0 {
            var n = 0
            _ = getLogSize(prog, &n)
            var log = [CChar](repeating: 0, count: max(n, 1))
            _ = getLog(prog, &log)
            throw CompileError(kernel: r.name, stage: "NVRTC compile", code: res, status: (errorString(res).map { String(cString: $0) } ?? "NVRTC_ERROR_\(res)"),
                               log: stringFromCBuffer(log), options: opts)
        }
        var size = 0
        let (sizeFn, dataFn, what) = output == .cubin ? (getCubinSize, getCubin, "CUBIN")
            : output == .ltoir ? (getLTOIRSize, getLTOIR, "LTOIR") : (getPTXSize, getPTX, "PTX")
        try checkNVRTC(sizeFn(prog, &size), r, "nvrtcGet\(what)Size", opts)
        var out = [CChar](repeating: 0, count: size)
        try checkNVRTC(dataFn(prog, &out), r, "nvrtcGet\(what)", opts)
        return out.map { UInt8(bitPattern: $0) }
    }

    func checkNVRTC(_ res: nvrtcResult, _ r: CompileRequest, _ call: String, _ opts: [String]) throws {
        guard res != 0 else { return }
        throw CompileError(kernel: r.name, stage: call, code: res, status: (errorString(res).map { String(cString: $0) } ?? "NVRTC_ERROR_\(res)"), log: "", options: opts)
    }

    /// nvJitLink: LTO-IR + static device libraries → cubin. Its functions carry a version suffix
    /// (`__nvJitLinkCreate_13_0`) behind static-inline wrappers; both names are exported.
    func link(_ r: CompileRequest, ltoir: [UInt8]) throws -> [UInt8] {
        let lib = try search.load(.nvjitlink)
        func fn<T>(_ base: String) throws -> T {
            if let f: T = lib.optionalFunction(base) { return f }
            for v in ["13_0", "13_1", "13_2", "12_9", "12_8", "12_6", "12_4", "12_0"] {
                if let f: T = lib.optionalFunction("__\(base)_\(v)") { return f }
            }
            throw MissingSymbol(library: lib.path, symbol: base)
        }
        let create: PFN_nvJitLinkCreate = try fn("nvJitLinkCreate")
        let destroy: PFN_nvJitLinkDestroy = try fn("nvJitLinkDestroy")
        let addData: PFN_nvJitLinkAddData = try fn("nvJitLinkAddData")
        let addFile: PFN_nvJitLinkAddFile = try fn("nvJitLinkAddFile")
        let complete: PFN_nvJitLinkComplete = try fn("nvJitLinkComplete")
        let cubinSize: PFN_nvJitLinkGetLinkedCubinSize = try fn("nvJitLinkGetLinkedCubinSize")
        let cubin: PFN_nvJitLinkGetLinkedCubin = try fn("nvJitLinkGetLinkedCubin")
        let logSize: PFN_nvJitLinkGetErrorLogSize = try fn("nvJitLinkGetErrorLogSize")
        let logFn: PFN_nvJitLinkGetErrorLog = try fn("nvJitLinkGetErrorLog")
        let opts = ["-arch=\(r.arch)", "-lto"]
        var h: nvJitLinkHandle?
        let cargs = opts.map { UnsafePointer(strdup($0)) }
        defer { cargs.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        var cptrs: [UnsafePointer<CChar>?] = cargs
        var res = create(&h, UInt32(opts.count), &cptrs)
        func fail(_ stage: String) -> CompileError {
            var n = 0
            var log = ""
            if let h, logSize(h, &n) == 0, n > 0 {
                var b = [CChar](repeating: 0, count: n)
                _ = logFn(h, &b)
                log = stringFromCBuffer(b)
            }
            return CompileError(kernel: r.name, stage: "nvJitLink \(stage)", code: res, status: "NVJITLINK_ERROR_\(res)",
                                log: log, options: opts + r.linkLibraries)
        }
        guard res == 0 else { throw fail("create") }
        defer { _ = destroy(&h) }
        res = ltoir.withUnsafeBytes { addData(h, 3 /* NVJITLINK_INPUT_LTOIR (NONE 0, CUBIN 1, PTX 2) */, $0.baseAddress, ltoir.count, r.name) }
        guard res == 0 else { throw fail("add LTO-IR") }
        for l in r.linkLibraries {
            res = addFile(h, 6 /* NVJITLINK_INPUT_LIBRARY (FATBIN 4, OBJECT 5) */, l)
            guard res == 0 else { throw fail("add \(l)") }
        }
        res = complete(h)
        guard res == 0 else { throw fail("complete") }
        var size = 0
        res = cubinSize(h, &size)
        guard res == 0 else { throw fail("cubin size") }
        var out = [UInt8](repeating: 0, count: size)
        res = cubin(h, &out)
        guard res == 0 else { throw fail("cubin") }
        return out
    }
}
