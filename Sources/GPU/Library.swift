internal import CGPU
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A library that could not be found or loaded: lists where gpucomm looked and how to point at it.
public struct LibraryNotFound: Error, CustomStringConvertible, Sendable {
    public var library: String
    /// Paths and sonames handed to dlopen.
    public var searched: [String]
    public var hint: String
    public var lastError: String?
    /// Folders that were looked in and did not hold the library.
    public var folders: [String] = []

    public init(library: String, searched: [String], hint: String, lastError: String?, folders: [String] = []) {
        self.library = library; self.searched = searched; self.hint = hint; self.lastError = lastError; self.folders = folders
    }

    public var description: String {
        var s = "\(library) not found (looked in: \(searched.isEmpty ? "nothing" : searched.joined(separator: ", "))"
        let others = folders.filter { f in !searched.contains { $0.hasPrefix(f + "/") } }
        if !others.isEmpty { s += "; not in: \(others.joined(separator: ", "))" }
        s += ")"
        if let lastError { s += "; last dlopen error: \(lastError)" }
        return s + ". \(hint)"
    }
}

/// A missing symbol in a loaded library: usually a library older than gpucomm needs.
public struct MissingSymbol: Error, CustomStringConvertible, Sendable {
    public var library: String
    public var symbol: String
    public var description: String { "\(symbol) not found in \(library) (library too old?)" }
}

/// One `dlopen`ed shared library. Kept open for the life of the process (unloading CUDA,
/// NCCL or NVSHMEM while their threads run is unsafe).
public final class DynamicLibrary: @unchecked Sendable {
    public let path: String
    private let handle: UnsafeMutableRawPointer

    /// Opens `path` (an absolute path or a soname for the loader's own search).
    public init(path: String, global: Bool = false) throws {
        guard let h = dlopen(path, RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL)) else {
            let err = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw LibraryNotFound(library: path, searched: [path], hint: "", lastError: err)
        }
        self.path = path
        handle = h
    }

    /// The address of `name`, or nil.
    public func address(_ name: String) -> UnsafeMutableRawPointer? { dlsym(handle, name) }

    /// `name` as a C function pointer of type `T`.
    public func function<T>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let p = dlsym(handle, name) else { throw MissingSymbol(library: path, symbol: name) }
        return unsafeBitCast(p, to: T.self)
    }

    /// `name` as a C function pointer, or nil where the symbol is optional.
    public func optionalFunction<T>(_ name: String, as type: T.Type = T.self) -> T? {
        dlsym(handle, name).map { unsafeBitCast($0, to: T.self) }
    }

    /// The file the loader actually opened for a symbol of this library (resolves sonames).
    public func resolvedPath(probe symbol: String) -> String {
        guard let p = dlsym(handle, symbol) else { return path }
        guard let f = cgpu_path_of_symbol(p) else { return path }
        return String(cString: f)
    }
}

/// The libraries gpucomm loads at run time.
public enum LibraryKind: String, CaseIterable, Sendable {
    case cuda, nvrtc, nvjitlink, nccl, nvml, nvshmem

    /// File names to try, newest ABI first.
    var fileNames: [String] {
        switch self {
        case .cuda: return ["libcuda.so.1", "libcuda.so"]
        case .nvrtc: return ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"]
        case .nvjitlink: return ["libnvJitLink.so.13", "libnvJitLink.so.12", "libnvJitLink.so"]
        case .nccl: return ["libnccl.so.2", "libnccl.so"]
        case .nvml: return ["libnvidia-ml.so.1", "libnvidia-ml.so"]
        case .nvshmem: return ["libnvshmem_host.so.3", "libnvshmem_host.so"]
        }
    }

    /// Environment variable that names the library file (or its folder) explicitly.
    public var overrideVariable: String { "GPUCOMM_\(rawValue.uppercased())_LIB" }

    /// Sub-folders of a Python environment's `nvidia/` package folder that may hold it.
    var pythonSubdirs: [String] {
        switch self {
        case .cuda, .nvml: return []
        case .nvrtc: return ["cu13/lib", "cuda_nvrtc/lib", "cu12/lib"]
        case .nvjitlink: return ["cu13/lib", "nvjitlink/lib", "cu12/lib"]
        case .nccl: return ["nccl/lib"]
        case .nvshmem: return ["nvshmem/lib"]
        }
    }

    var hint: String {
        switch self {
        case .cuda, .nvml: return "Install the NVIDIA driver, or set \(overrideVariable) to the library's path."
        case .nvrtc, .nvjitlink:
            return "Install the CUDA toolkit (set CUDA_HOME) or `pip install nvidia-cuda-nvrtc nvidia-nvjitlink`, or set \(overrideVariable)."
        case .nccl: return "Install NCCL (`pip install nvidia-nccl-cu13` or a system package), or set \(overrideVariable)."
        case .nvshmem: return "Install NVSHMEM (`pip install nvidia-nvshmem-cu13`), or set \(overrideVariable) or NVSHMEM_HOME."
        }
    }
}

/// Where to look for run-time libraries: overrides, CUDA_HOME, system folders, Python environments.
public struct LibrarySearch: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// Candidate paths for `kind`, in the order they are tried. A bare soname at the end asks the
    /// system loader (ld.so.cache, LD_LIBRARY_PATH).
    public func candidates(for kind: LibraryKind) -> [String] {
        var out: [String] = []
        if let o = environment[kind.overrideVariable], !o.isEmpty {
            if isDirectory(o) { out += kind.fileNames.map { "\(o)/\($0)" } } else { out.append(o) }
            return out
        }
        var dirs: [String] = []
        switch kind {
        case .cuda, .nvml:
            dirs += ["/usr/local/nvidia/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/wsl/lib"]
        case .nvrtc, .nvjitlink:
            for v in ["CUDA_HOME", "CUDA_PATH"] { if let h = environment[v], !h.isEmpty { dirs += ["\(h)/lib64", "\(h)/lib"] } }
            dirs += ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib"]
        case .nccl:
            for v in ["NCCL_HOME", "NCCL_ROOT"] { if let h = environment[v], !h.isEmpty { dirs += ["\(h)/lib"] } }
            dirs += ["/opt/nccl/lib", "/usr/local/nccl/lib"]
        case .nvshmem:
            for v in ["NVSHMEM_HOME", "NVSHMEM_PREFIX"] { if let h = environment[v], !h.isEmpty { dirs += ["\(h)/lib"] } }
            dirs += ["/opt/nvshmem/lib", "/usr/local/nvshmem/lib"]
        }
        for site in pythonNvidiaDirs() { dirs += kind.pythonSubdirs.map { "\(site)/\($0)" } }
        for d in dirs { out += kind.fileNames.map { "\(d)/\($0)" } }
        out += kind.fileNames
        return out
    }

    /// `nvidia/` package folders of Python environments: VIRTUAL_ENV, CONDA_PREFIX, every
    /// `python3` on PATH (its `lib/python3.*/site-packages`), and GPUCOMM_PYTHON_SITE.
    public func pythonNvidiaDirs() -> [String] {
        var prefixes: [String] = []
        if let s = environment["GPUCOMM_PYTHON_SITE"], !s.isEmpty { return dedupe(["\(s)/nvidia"]).filter(isDirectory) }
        for v in ["VIRTUAL_ENV", "CONDA_PREFIX"] { if let p = environment[v], !p.isEmpty { prefixes.append(p) } }
        for dir in (environment["PATH"] ?? "").split(separator: ":") {
            let py = "\(dir)/python3"
            if FileManager.default.isExecutableFile(atPath: py) {
                prefixes.append((String(dir) as NSString).deletingLastPathComponent)
                if let real = try? FileManager.default.destinationOfSymbolicLink(atPath: py), real.hasPrefix("/") {
                    prefixes.append(((real as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent)
                }
            }
        }
        prefixes += ["/usr", "/usr/local", "/opt/conda"]
        var sites: [String] = []
        for p in dedupe(prefixes) {
            for lib in ["lib", "lib64"] {
                let base = "\(p)/\(lib)"
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
                for e in entries.sorted().reversed() where e.hasPrefix("python3") {
                    sites += ["\(base)/\(e)/site-packages/nvidia", "\(base)/\(e)/dist-packages/nvidia"]
                }
            }
        }
        return dedupe(sites).filter(isDirectory)
    }

    /// Loads the first candidate that opens.
    public func load(_ kind: LibraryKind, global: Bool = false) throws -> DynamicLibrary {
        var tried: [String] = []
        var folders: [String] = []
        var lastError: String?
        for c in candidates(for: kind) {
            if c.hasPrefix("/") && !FileManager.default.fileExists(atPath: c) {
                let folder = (c as NSString).deletingLastPathComponent
                if !folders.contains(folder) { folders.append(folder) }
                if environment[kind.overrideVariable] != nil { tried.append("\(c) (\(kind.overrideVariable); no such file)") }
                continue
            }
            tried.append(c)
            do { return try DynamicLibrary(path: c, global: global) } catch let e as LibraryNotFound {
                if c.hasPrefix("/") { lastError = e.lastError }
            }
        }
        throw LibraryNotFound(library: kind.fileNames[0], searched: tried, hint: kind.hint, lastError: lastError, folders: folders)
    }

    private func isDirectory(_ p: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: p, isDirectory: &d) && d.boolValue
    }
}

func dedupe(_ xs: [String]) -> [String] {
    var seen = Set<String>()
    return xs.filter { seen.insert($0).inserted }
}

/// A NUL-terminated C character buffer as a Swift string.
func stringFromCBuffer(_ b: [CChar]) -> String {
    String(decoding: b.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Makes stdout line-buffered, so output piped to a file survives a killed process row by row.
public func lineBufferStandardOutput() { cgpu_line_buffer_stdout() }
