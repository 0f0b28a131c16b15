internal import CGPU
import Foundation

// NCCL's device API (2.28+, experimental, no ABI stability): kernels compiled at run time against
// the headers of the NCCL that was loaded, a device communicator (`ncclDevComm`) whose layout is
// read from those headers, and symmetric windows that kernels reach by load/store (LSA).

/// `ncclDevCommCreate(comm, const ncclDevCommRequirements*, ncclDevComm*)` (nccl_device/core.h).
typealias PFN_ncclDevCommCreate = @convention(c) (ncclComm_t?, UnsafeRawPointer?, UnsafeMutableRawPointer?) -> ncclResult_t
/// `ncclDevCommDestroy(comm, const ncclDevComm*)`.
typealias PFN_ncclDevCommDestroy = @convention(c) (ncclComm_t?, UnsafeRawPointer?) -> ncclResult_t

/// Why the device API cannot be used here, in one line (print it and go on without it).
public struct NCCLDeviceUnavailable: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var description: String { reason }
    public init(reason: String) { self.reason = reason }
}

/// The NCCL device API of one loaded NCCL: its headers, the struct layouts read from them, and
/// `ncclDevCommCreate/Destroy`.
public final class NCCLDevice: @unchecked Sendable {
    public let nccl: NCCL
    public let compiler: RuntimeCompiler
    public let arch: String
    public let layout: NCCLDeviceLayout
    let create: PFN_ncclDevCommCreate
    let destroy: PFN_ncclDevCommDestroy

    /// Finds the headers, compiles the layout probe and resolves the host entry points; throws
    /// `NCCLDeviceUnavailable` with a one-line reason when any of it is missing.
    public init(nccl: NCCL, compiler: RuntimeCompiler, arch: String) throws {
        self.nccl = nccl; self.compiler = compiler; self.arch = arch
        guard let c: PFN_ncclDevCommCreate = nccl.library.optionalFunction("ncclDevCommCreate"),
              let d: PFN_ncclDevCommDestroy = nccl.library.optionalFunction("ncclDevCommDestroy") else {
            throw NCCLDeviceUnavailable(reason: "NCCL \(nccl.version) exports no ncclDevCommCreate/ncclDevCommDestroy (the device API needs NCCL 2.28 or newer)")
        }
        create = c; destroy = d
        let request = try compiler.ncclDeviceRequest(name: "nccl_device_layout", source: NCCLDeviceLayout.probeSource, arch: arch, nccl: nccl)
        do {
            layout = try NCCLDeviceLayout(ptx: compiler.ptx(for: request))
        } catch let e as CompileError {
            throw NCCLDeviceUnavailable(reason: "NCCL \(nccl.version) device headers do not compile with NVRTC \(compiler.version): \(e.firstError)")
        }
    }

    /// Compiles (or takes from the cache) a kernel source that includes `gc_nccl_device.h`, plus
    /// `headers` of the caller's own, and loads it on `device`.
    public func module(name: String, source: String, headers: [InMemoryHeader] = [], device: Device) throws -> Module {
        var r = try compiler.ncclDeviceRequest(name: name, source: source, arch: arch, nccl: nccl)
        r.headers += headers
        let image: [UInt8]
        do { image = try compiler.cubin(for: r) } catch let e as CompileError {
            throw NCCLDeviceUnavailable(reason: "\(name) does not compile against NCCL \(nccl.version)'s device headers: \(e.firstError)")
        }
        return try Module(device: device, image: image)
    }
}

/// Sizes and offsets of NCCL's device structs, read from the installed headers: a probe is
/// compiled to PTX and its `.global` initialisers hold `sizeof`, `offsetof` and the bytes of
/// `NCCL_DEV_COMM_REQUIREMENTS_INITIALIZER` (2.29+; zero in 2.28, which has no initializer).
public struct NCCLDeviceLayout: Sendable, Equatable {
    public var devCommSize: Int
    public var requirementsSize: Int
    public var lsaBarrierCountOffset: Int
    public var rankOffset: Int
    public var nRanksOffset: Int
    public var lsaRankOffset: Int
    public var lsaSizeOffset: Int
    /// `ncclDevCommRequirements` as its initializer sets it (size/magic/version fields in 2.29+).
    public var requirementsInitializer: [UInt8]

    static let probeSource = """
    #include "gc_nccl_device.h"
    #include <cuda/std/cstddef>
    #define GC_U64(name, value) extern "C" __device__ unsigned long long gc_layout_##name = (value);
    GC_U64(devcomm_size, sizeof(ncclDevComm))
    GC_U64(requirements_size, sizeof(ncclDevCommRequirements))
    GC_U64(lsa_barrier_count, offsetof(ncclDevCommRequirements, lsaBarrierCount))
    GC_U64(rank, offsetof(ncclDevComm, rank))
    GC_U64(n_ranks, offsetof(ncclDevComm, nRanks))
    GC_U64(lsa_rank, offsetof(ncclDevComm, lsaRank))
    GC_U64(lsa_size, offsetof(ncclDevComm, lsaSize))
    #ifdef NCCL_DEV_COMM_REQUIREMENTS_INITIALIZER
    extern "C" __device__ ncclDevCommRequirements gc_layout_requirements_init = NCCL_DEV_COMM_REQUIREMENTS_INITIALIZER;
    #else
    extern "C" __device__ ncclDevCommRequirements gc_layout_requirements_init = {};
    #endif
    """

    public init(devCommSize: Int, requirementsSize: Int, lsaBarrierCountOffset: Int, rankOffset: Int, nRanksOffset: Int,
                lsaRankOffset: Int, lsaSizeOffset: Int, requirementsInitializer: [UInt8]) {
        self.devCommSize = devCommSize; self.requirementsSize = requirementsSize; self.lsaBarrierCountOffset = lsaBarrierCountOffset
        self.rankOffset = rankOffset; self.nRanksOffset = nRanksOffset; self.lsaRankOffset = lsaRankOffset
        self.lsaSizeOffset = lsaSizeOffset; self.requirementsInitializer = requirementsInitializer
    }

    /// Reads the probe's constants out of its PTX.
    public init(ptx: String) throws {
        let g = PTXGlobals.parse(ptx)
        func value(_ name: String) throws -> Int {
            guard let b = g["gc_layout_\(name)"], b.count == 8 else {
                throw NCCLDeviceUnavailable(reason: "could not read gc_layout_\(name) from the NCCL device layout probe's PTX")
            }
            return Int(b.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
        devCommSize = try value("devcomm_size")
        requirementsSize = try value("requirements_size")
        lsaBarrierCountOffset = try value("lsa_barrier_count")
        rankOffset = try value("rank"); nRanksOffset = try value("n_ranks")
        lsaRankOffset = try value("lsa_rank"); lsaSizeOffset = try value("lsa_size")
        guard let req = g["gc_layout_requirements_init"], req.count == requirementsSize,
              lsaBarrierCountOffset + 4 <= requirementsSize, max(rankOffset, nRanksOffset, lsaRankOffset, lsaSizeOffset) + 4 <= devCommSize else {
            throw NCCLDeviceUnavailable(reason: "the NCCL device layout probe's PTX has an unexpected requirements initializer or offsets")
        }
        requirementsInitializer = req
    }

    /// The requirements NCCL gets: the initializer with `lsaBarrierCount` set.
    public func requirements(lsaBarriers: Int) -> [UInt8] {
        var r = requirementsInitializer
        withUnsafeBytes(of: Int32(lsaBarriers).littleEndian) { for (i, b) in $0.enumerated() { r[lsaBarrierCountOffset + i] = b } }
        return r
    }

    /// An `int` field of a filled `ncclDevComm`.
    public func int32(_ devComm: [UInt8], at offset: Int) -> Int {
        Int(Int32(bitPattern: devComm[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
    }
}

/// Initialised `.global` variables of a PTX module: `.u64 name = 5;` and `.b8 name[N] = {…};`
/// (PTX leaves out trailing zero bytes and the whole list of zero-initialised arrays).
public enum PTXGlobals {
    public static func parse(_ ptx: String) -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for raw in ptx.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix(".global") || line.hasPrefix(".visible .global") else { continue }
            let decl = line.components(separatedBy: "=")[0].trimmingCharacters(in: .whitespaces)
            let initText = line.contains("=") ? line.components(separatedBy: "=")[1] : ""
            let words = decl.split(separator: " ")
            guard let last = words.last else { continue }
            if decl.contains(".b8"), let open = last.firstIndex(of: "["), let close = last.firstIndex(of: "]"),
               let n = Int(last[last.index(after: open)..<close]) {
                let name = String(last[..<open])
                let nums = initText.trimmingCharacters(in: CharacterSet(charactersIn: " {};")).split(separator: ",")
                    .compactMap { UInt8($0.trimmingCharacters(in: .whitespaces)) }
                var bytes = [UInt8](repeating: 0, count: n)
                for (i, v) in nums.prefix(n).enumerated() { bytes[i] = v }
                out[name] = bytes
            } else if decl.contains(".u64") {
                let v = UInt64(initText.trimmingCharacters(in: CharacterSet(charactersIn: " ;"))) ?? 0
                out[last.trimmingCharacters(in: CharacterSet(charactersIn: ";"))] = withUnsafeBytes(of: v.littleEndian) { Array($0) }
            }
        }
        return out
    }
}

/// A value passed to a kernel as raw bytes (a C struct such as `ncclDevComm`).
public struct KernelBytes: KernelArgument, Sendable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
}

/// A symmetric window over `ncclMemAlloc` memory plus the `ncclDevComm` kernels use to reach it:
/// what a kernel needs to load/store into peers' copies and to run LSA barriers.
///
/// Creation and release are collective (every rank of `comm`, same size and barrier count).
/// Release order: the device is synchronised (kernels done), the devcomm destroyed, the window
/// deregistered, then the memory freed. After a failed NCCL call the collective steps are skipped.
public final class NCCLDeviceWindow: @unchecked Sendable {
    public let api: NCCLDevice
    public let comm: Communicator
    /// The local copy of the window (rounded up to 4096 bytes).
    public let buffer: DeviceBuffer
    /// `ncclWindow_t`: pass it to kernels as a 64-bit value.
    public let window: UInt64
    /// The `ncclDevComm` NCCL filled in; pass it to kernels by value (`devCommArgument`).
    public let devComm: [UInt8]
    public let lsaBarriers: Int

    /// Allocates `bytes` with `ncclMemAlloc`, registers it as a symmetric window and creates a
    /// devcomm with `lsaBarriers` LSA barriers (one per block of the kernels that will sync).
    public init(api: NCCLDevice, comm: Communicator, bytes: Int, lsaBarriers: Int) throws {
        self.api = api; self.comm = comm; self.lsaBarriers = lsaBarriers
        let aligned = (max(bytes, 1) + 4095) / 4096 * 4096
        let buf = try comm.nccl.allocate(bytes: aligned, on: comm.device)
        try comm.device.makeCurrent()
        let win = try comm.registerWindow(buf)
        var dc = [UInt8](repeating: 0, count: api.layout.devCommSize)
        let req = api.layout.requirements(lsaBarriers: lsaBarriers)
        do {
            let r = req.withUnsafeBytes { q in dc.withUnsafeMutableBytes { d in api.create(comm.raw, q.baseAddress, d.baseAddress) } }
            try comm.check(r, "ncclDevCommCreate(lsaBarrierCount \(lsaBarriers))")
        } catch {
            if !comm.failed { comm.deregisterWindow(win) }
            throw error
        }
        buffer = buf
        window = UInt64(UInt(bitPattern: win))
        devComm = dc
    }

    public var rank: Int { api.layout.int32(devComm, at: api.layout.rankOffset) }
    public var ranks: Int { api.layout.int32(devComm, at: api.layout.nRanksOffset) }
    /// This rank in its load/store-accessible team, and the team's size.
    public var lsaRank: Int { api.layout.int32(devComm, at: api.layout.lsaRankOffset) }
    public var lsaSize: Int { api.layout.int32(devComm, at: api.layout.lsaSizeOffset) }
    public var devCommArgument: KernelBytes { KernelBytes(devComm) }

    /// A view of `bytes` of the window at `offset`; it keeps the window alive (a buffer may be
    /// used, e.g. checked, after the last use of whatever created it).
    public func view(offset: Int, bytes: Int) -> DeviceBuffer {
        precondition(offset >= 0 && offset + bytes <= buffer.bytes)
        return DeviceBuffer(device: buffer.device, adopting: buffer.address + offset, bytes: bytes) { _ in withExtendedLifetime(self) {} }
    }

    deinit {
        guard !comm.failed else { return }
        try? comm.device.synchronize()
        _ = devComm.withUnsafeBytes { api.destroy(comm.raw, $0.baseAddress) }
        comm.deregisterWindow(UnsafeMutableRawPointer(bitPattern: UInt(window)))
        // `buffer` (ncclMemFree) is released after this body.
    }
}

extension RuntimeCompiler {
    /// A request for NCCL device-API code: the loaded NCCL's headers (beside its library), CUDA's
    /// include and include/cccl, the in-memory stand-ins of `NCCLDeviceHeaders`, and NCCL's
    /// version in the cache key. Throws `NCCLDeviceUnavailable` when NCCL is older than 2.28 or
    /// its headers are not found.
    public func ncclDeviceRequest(name: String, source: String, arch: String, nccl: NCCL) throws -> CompileRequest {
        guard nccl.versionCode >= 22800 else {
            throw NCCLDeviceUnavailable(reason: "NCCL \(nccl.version) has no device API (it needs NCCL 2.28 or newer)")
        }
        let libPath = nccl.library.resolvedPath(probe: "ncclGetVersion")
        let include = try NCCLDeviceHeaders.includeDir(libraryPath: libPath, versionCode: Int(nccl.versionCode), environment: search.environment)
        guard let cuda = cudaIncludeDirs else {
            throw NCCLDeviceUnavailable(reason: "NCCL device code needs CUDA's headers (cuda_runtime.h) beside NVRTC or in $CUDA_HOME/include")
        }
        var r = CompileRequest(name: name, source: source, arch: arch, options: ["-default-device"], includeDirs: [include] + cuda,
                               dependencyVersions: ["nccl \(nccl.version)"])
        r.headers = NCCLDeviceHeaders.standIns
        return r
    }
}
