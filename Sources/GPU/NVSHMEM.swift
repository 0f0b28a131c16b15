internal import CGPU
import Foundation

/// A failed NVSHMEM call. NVSHMEM has no call that turns a status into words: its own log has them.
public struct NVSHMEMError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var code: Int32
    public var description: String { "\(call) failed: NVSHMEM status \(code) (set NVSHMEM_DEBUG=INFO for NVSHMEM's own log)" }
}

/// The NVSHMEM host library, loaded at run time, and where its headers and device library are.
///
/// Initialised through the unique-id bootstrap (rank 0's `nvshmemx_get_uniqueid`, shared by the
/// caller, then `nvshmemx_set_attr_uniqueid_args` + `nvshmemx_hostlib_init_attr`): the header-only
/// `nvshmem_init` is not exported by `libnvshmem_host.so` (shared/notes/gpu-runtime.md).
public final class NVSHMEM: @unchecked Sendable {
    public let library: DynamicLibrary
    /// The install's root (holds `include/` and `lib/libnvshmem_device.a`).
    public let home: String
    public let version: String
    let getUniqueId: PFN_nvshmemx_get_uniqueid
    let setUniqueIdArgs: PFN_nvshmemx_set_attr_uniqueid_args
    let hostlibInit: PFN_nvshmemx_hostlib_init_attr
    let hostlibFinalize: PFN_nvshmemx_hostlib_finalize
    let mallocFn: PFN_nvshmem_malloc
    let freeFn: PFN_nvshmem_free
    let ptrFn: PFN_nvshmem_ptr
    let myPE: PFN_nvshmem_my_pe
    let nPEs: PFN_nvshmem_n_pes
    let barrierAll: PFN_nvshmem_barrier_all
    let barrierAllOnStream: PFN_nvshmemx_barrier_all_on_stream
    let alltoallmemOnStream: PFN_nvshmemx_alltoallmem_on_stream
    let cumoduleInit: PFN_nvshmemx_cumodule_init
    let cumoduleFinalize: PFN_nvshmemx_cumodule_finalize
    /// Optional: required only by the callers that use it (`hasFloatSumReduce`).
    let floatSumReduceOnStream: PFN_nvshmemx_float_sum_reduce_on_stream?

    public init(search: LibrarySearch = LibrarySearch()) throws {
        // Global: NVSHMEM's bootstrap and transport plugins resolve symbols of the host library.
        let lib = try search.load(.nvshmem, global: true)
        library = lib
        let real = lib.resolvedPath(probe: "nvshmem_my_pe")
        home = ((real as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        version = Inventory.nvshmemVersion(lib) ?? "unknown"
        getUniqueId = try lib.function("nvshmemx_get_uniqueid")
        setUniqueIdArgs = try lib.function("nvshmemx_set_attr_uniqueid_args")
        hostlibInit = try lib.function("nvshmemx_hostlib_init_attr")
        hostlibFinalize = try lib.function("nvshmemx_hostlib_finalize")
        mallocFn = try lib.function("nvshmem_malloc")
        freeFn = try lib.function("nvshmem_free")
        ptrFn = try lib.function("nvshmem_ptr")
        myPE = try lib.function("nvshmem_my_pe")
        nPEs = try lib.function("nvshmem_n_pes")
        barrierAll = try lib.function("nvshmem_barrier_all")
        barrierAllOnStream = try lib.function("nvshmemx_barrier_all_on_stream")
        alltoallmemOnStream = try lib.function("nvshmemx_alltoallmem_on_stream")
        cumoduleInit = try lib.function("nvshmemx_cumodule_init")
        cumoduleFinalize = try lib.function("nvshmemx_cumodule_finalize")
        floatSumReduceOnStream = lib.optionalFunction("nvshmemx_float_sum_reduce_on_stream")
    }

    /// The choke point: a non-zero NVSHMEM status becomes an `NVSHMEMError` naming the call.
    static func check(_ r: Int32, _ call: @autoclosure () -> String) throws {
        guard r == 0 else { throw NVSHMEMError(call: call(), code: r) }
    }

    /// `include/` of this install.
    public var includeDir: String { "\(home)/include" }
    /// The static device library NVSHMEM kernels link (`libnvshmem_device.a`; the `.bc` is for LLVM front ends).
    public var deviceLibrary: String { "\(home)/lib/libnvshmem_device.a" }

    /// Whether the library has `nvshmemx_float_sum_reduce_on_stream` (`NVSHMEMSession.floatSumReduce`).
    public var hasFloatSumReduce: Bool { floatSumReduceOnStream != nil }

    /// Rank 0's 128-byte unique id, to be shared with every PE.
    public func uniqueId() throws -> [UInt8] {
        var id = nvshmemx_uniqueid_t()
        try NVSHMEM.check(getUniqueId(&id), "nvshmemx_get_uniqueid")
        return withUnsafeBytes(of: &id) { Array($0) }
    }

    /// Joins the job as PE `rank` of `pes` on `device` (whose primary context becomes current).
    public func start(rank: Int, pes: Int, uniqueId: [UInt8], device: Device) throws -> NVSHMEMSession {
        precondition(uniqueId.count == 128)
        try device.makeCurrent()
        let uid = UnsafeMutablePointer<nvshmemx_uniqueid_t>.allocate(capacity: 1)  // NVSHMEM keeps the pointer
        withUnsafeMutableBytes(of: &uid.pointee) { $0.copyBytes(from: uniqueId) }
        let attr = UnsafeMutablePointer<nvshmemx_init_attr_t>.allocate(capacity: 1)
        attr.initialize(to: nvshmemx_init_attr_t())
        UnsafeMutableRawPointer(attr).withMemoryRebound(to: Int32.self, capacity: 36) { p in
            p[0] = (1 << 16) + 144   // attr.version
            p[4] = (1 << 16) + 128   // attr.args.version (offset 16)
            p[6] = (1 << 16) + 24    // attr.args.uid_args.version (offset 24)
            p[10] = -1               // myrank (offset 40)
            p[11] = -1               // nranks (offset 44)
        }
        try NVSHMEM.check(setUniqueIdArgs(Int32(rank), Int32(pes), uid, attr), "nvshmemx_set_attr_uniqueid_args(\(rank), \(pes))")
        try NVSHMEM.check(hostlibInit(8 /* NVSHMEMX_INIT_WITH_UNIQUEID */, attr), "nvshmemx_hostlib_init_attr (PE \(rank) of \(pes))")
        return NVSHMEMSession(lib: self, device: device, pe: Int(myPE()), pes: Int(nPEs()), keep: (uid, attr))
    }
}

/// An initialised NVSHMEM job on one GPU; finalised when released.
public final class NVSHMEMSession: @unchecked Sendable {
    public let lib: NVSHMEM
    public let device: Device
    public let pe: Int
    public let pes: Int
    let keep: (UnsafeMutablePointer<nvshmemx_uniqueid_t>, UnsafeMutablePointer<nvshmemx_init_attr_t>)
    var modules: [Module] = []

    init(lib: NVSHMEM, device: Device, pe: Int, pes: Int, keep: (UnsafeMutablePointer<nvshmemx_uniqueid_t>, UnsafeMutablePointer<nvshmemx_init_attr_t>)) {
        self.lib = lib; self.device = device; self.pe = pe; self.pes = pes; self.keep = keep
    }

    /// Symmetric memory (`nvshmem_malloc`, collective: every PE must ask for the same size).
    public func allocate(bytes: Int) throws -> DeviceBuffer {
        // NULL is nvshmem_malloc's only failure report: status -1 here.
        guard let p = lib.mallocFn(max(bytes, 1)) else {
            throw NVSHMEMError(call: "nvshmem_malloc(\(bytes)) (symmetric heap too small? set NVSHMEM_SYMMETRIC_SIZE)", code: -1)
        }
        let free = lib.freeFn
        return DeviceBuffer(device: device, adopting: DeviceAddress(p), bytes: bytes) { a in free(a.pointer) }
    }

    /// The address of `buffer` (symmetric) on PE `pe` as this GPU can load and store it, or nil
    /// when there is no load/store path (no NVLink/P2P mapping): `nvshmem_ptr` on the host.
    public func peerAddress(of buffer: DeviceBuffer, pe: Int) -> UnsafeMutableRawPointer? {
        lib.ptrFn(UnsafeRawPointer(buffer.pointer()), Int32(pe))
    }

    /// Loads a module linked against the NVSHMEM device library and initialises NVSHMEM's device state in it.
    public func load(image: [UInt8]) throws -> Module {
        let m = try Module(device: device, image: image)
        try NVSHMEM.check(lib.cumoduleInit(m.raw), "nvshmemx_cumodule_init")
        modules.append(m)
        return m
    }

    /// `nvshmem_barrier_all` on the host: every PE's earlier work and puts are complete.
    public func barrier() { lib.barrierAll() }

    /// `nvshmemx_barrier_all_on_stream`: the barrier enqueued on `stream`.
    public func barrier(on stream: Stream) { lib.barrierAllOnStream(stream.raw) }

    /// `nvshmemx_alltoallmem_on_stream` over NVSHMEM_TEAM_WORLD: `bytesPerPE` from `source`'s block
    /// j to PE j's `dest` at this PE's block (both symmetric), enqueued on `stream`.
    public func alltoall(dest: UnsafeMutableRawPointer, source: UnsafeRawPointer, bytesPerPE: Int, on stream: Stream) throws {
        try NVSHMEM.check(lib.alltoallmemOnStream(0 /* NVSHMEM_TEAM_WORLD */, dest, source, bytesPerPE, stream.raw),
                          "nvshmemx_alltoallmem_on_stream(\(bytesPerPE) bytes per PE)")
    }

    /// `nvshmemx_float_sum_reduce_on_stream` over NVSHMEM_TEAM_WORLD: `count` floats of `source`
    /// summed over every PE into `dest` (both symmetric), on `stream`. Needs `NVSHMEM.hasFloatSumReduce`.
    public func floatSumReduce(dest: DeviceBuffer, source: DeviceBuffer, count: Int, on stream: Stream) throws {
        guard let f = lib.floatSumReduceOnStream else {
            throw MissingSymbol(library: lib.library.path, symbol: "nvshmemx_float_sum_reduce_on_stream")
        }
        try NVSHMEM.check(f(0 /* NVSHMEM_TEAM_WORLD */, dest.pointer().assumingMemoryBound(to: Float.self),
                            UnsafePointer(source.pointer().assumingMemoryBound(to: Float.self)), count, stream.raw),
                          "nvshmemx_float_sum_reduce_on_stream")
    }

    deinit {
        for m in modules { _ = lib.cumoduleFinalize(m.raw) }
        modules.removeAll()
        lib.hostlibFinalize()
        keep.0.deallocate()
        keep.1.deallocate()
    }
}

extension RuntimeCompiler {
    /// A request for NVSHMEM device code: relocatable LTO-IR linked with `libnvshmem_device.a`.
    public func nvshmemRequest(name: String, source: String, arch: String, nvshmem: NVSHMEM) throws -> CompileRequest {
        guard let cuda = cudaIncludeDirs else {
            throw CompileError(kernel: name, stage: "finding CUDA headers", code: -1, status: "cuda_runtime.h not found",
                               log: "NVSHMEM device code needs CUDA's headers: set CUDA_HOME", options: [])
        }
        let includes = [nvshmem.includeDir] + cuda
        return CompileRequest(name: name, source: source, arch: arch, options: ["-default-device"], includeDirs: includes,
                              linkLibraries: [nvshmem.deviceLibrary], dependencyVersions: ["nvshmem \(nvshmem.version)"])
    }
}
