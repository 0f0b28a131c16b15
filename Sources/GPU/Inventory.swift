import Foundation

/// What a machine has: libraries found (or why not), GPUs, NVLink topology. Used by `gpucomm env`
/// and recorded as the provenance of every run.
public struct Inventory: Sendable {
    public struct Library: Sendable {
        public var kind: LibraryKind
        public var path: String?
        public var version: String?
        public var problem: String?
    }

    public struct GPU: Sendable {
        public var ordinal: Int
        public var name: String
        public var pciBusId: String
        public var computeCapability: String
        public var memoryBytes: Int64
        public var multiprocessors: Int
        /// Active NVLink links (NVML), nil when NVML could not tell.
        public var nvlinks: Int?
        public var uuid: String?
    }

    public var libraries: [Library] = []
    public var gpus: [GPU] = []
    public var driverVersion: String?
    /// CUDA version the driver supports, e.g. `13.0`.
    public var cudaDriverAPI: String?
    /// `nvidia-smi topo -m`-style labels between CUDA devices (`X`, `NV18`, `SYS`).
    public var linkMatrix: [[String]]?
    public var problems: [String] = []

    public func library(_ k: LibraryKind) -> Library? { libraries.first { $0.kind == k } }

    /// Published unidirectional NVLink data rate per link (GB/s) for a compute capability: NVLink3
    /// (sm_80) 25, NVLink4 (sm_90) 25, NVLink5 (sm_100) 50 (NVIDIA datasheets: 600/900/1800 GB/s
    /// bidirectional over 12/18/18 links).
    public static func nvlinkGBpsPerLink(computeCapability cc: String) -> Double? {
        switch cc.split(separator: ".").first.flatMap({ Int($0) }) {
        case 8: return 25
        case 9: return 25
        case 10: return 50
        default: return nil
        }
    }
}

extension Inventory {
    /// Looks at everything; never throws: each failure becomes a `problem` naming how to fix it.
    public static func gather(search: LibrarySearch = LibrarySearch()) -> Inventory {
        var inv = Inventory()
        var cuda: CUDA?
        do {
            let c = try CUDA(search: search)
            cuda = c
            inv.cudaDriverAPI = c.driverVersionString
            inv.libraries.append(Library(kind: .cuda, path: c.library.resolvedPath(probe: "cuGetProcAddress_v2"), version: c.driverVersionString))
        } catch {
            inv.libraries.append(Library(kind: .cuda, problem: "\(error)"))
        }
        if let cuda {
            do {
                inv.gpus = try (0..<cuda.deviceCount()).map { i in
                    let d = try Device(cuda: cuda, ordinal: i)
                    return GPU(ordinal: i, name: d.name, pciBusId: normalizePCIBusId(d.pciBusId),
                               computeCapability: "\(d.computeCapability.major).\(d.computeCapability.minor)",
                               memoryBytes: d.totalMemory, multiprocessors: d.multiprocessors)
                }
            } catch {
                inv.problems.append("CUDA devices: \(error)")
            }
        }
        do {
            let r = try RuntimeCompiler(search: search)
            inv.libraries.append(Library(kind: .nvrtc, path: r.nvrtcLib.resolvedPath(probe: "nvrtcVersion"), version: r.version))
        } catch {
            inv.libraries.append(Library(kind: .nvrtc, problem: "\(error)"))
        }
        do {
            let l = try search.load(.nvjitlink)
            inv.libraries.append(Library(kind: .nvjitlink, path: l.resolvedPath(probe: "nvJitLinkVersion"), version: nil))
        } catch {
            inv.libraries.append(Library(kind: .nvjitlink, problem: "\(error)"))
        }
        do {
            let n = try NCCL(search: search)
            inv.libraries.append(Library(kind: .nccl, path: n.library.resolvedPath(probe: "ncclGetVersion"), version: n.version))
        } catch {
            inv.libraries.append(Library(kind: .nccl, problem: "\(error)"))
        }
        do {
            let l = try search.load(.nvshmem)
            inv.libraries.append(Library(kind: .nvshmem, path: l.resolvedPath(probe: "nvshmem_my_pe"), version: nvshmemVersion(l)))
        } catch {
            inv.libraries.append(Library(kind: .nvshmem, problem: "\(error)"))
        }
        do {
            let nvml = try NVML(search: search)
            inv.libraries.append(Library(kind: .nvml, path: nvml.library.resolvedPath(probe: "nvmlInit_v2"), version: nil))
            inv.driverVersion = try? nvml.driverVersion()
            inv.addTopology(nvml)
        } catch {
            inv.libraries.append(Library(kind: .nvml, problem: "\(error)"))
        }
        return inv
    }

    static func nvshmemVersion(_ l: DynamicLibrary) -> String? {
        typealias F = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Void
        guard let f: F = l.optionalFunction("nvshmemx_vendor_get_version_info") else { return nil }
        var a: Int32 = 0, b: Int32 = 0, c: Int32 = 0
        f(&a, &b, &c)
        return "\(a).\(b).\(c)"
    }

    /// NVLink counts and the pairwise link matrix, matching NVML devices to CUDA ordinals by PCI bus id.
    mutating func addTopology(_ nvml: NVML) {
        guard let devs = try? nvml.devices() else { return }
        var byBus: [String: NVMLDevice] = [:]
        for d in devs { if let b = try? d.pciBusId() { byBus[b] = d } }
        let gpuBuses = Set(gpus.map(\.pciBusId))
        var direct: [[Int]] = Array(repeating: Array(repeating: 0, count: gpus.count), count: gpus.count)
        var switched = [Int](repeating: 0, count: gpus.count)
        for (i, g) in gpus.enumerated() {
            guard let d = byBus[g.pciBusId] else { continue }
            gpus[i].uuid = try? d.uuid()
            var active = 0
            for link in 0..<nvmlMaxLinks where d.nvlinkActive(link) == true {
                active += 1
                if let remote = d.nvlinkRemotePCIBusId(link), gpuBuses.contains(remote),
                   let j = gpus.firstIndex(where: { $0.pciBusId == remote }) {
                    direct[i][j] += 1
                } else {
                    switched[i] += 1
                }
            }
            gpus[i].nvlinks = active
        }
        linkMatrix = gpus.indices.map { i in
            gpus.indices.map { j in
                if i == j { return "X" }
                if direct[i][j] > 0 { return "NV\(direct[i][j])" }
                if switched[i] > 0 && switched[j] > 0 { return "NV\(min(switched[i], switched[j]))" }
                return "SYS"
            }
        }
    }
}
