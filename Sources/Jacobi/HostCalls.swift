import CGPU
import GPU

/// The few entry points beyond the GPU module's tables that Jacobi needs, resolved once:
/// page-locked (and device-mapped) host memory and asynchronous device-to-host copies (CUDA
/// driver), and NVSHMEM's on-stream float sum reduction.
final class HostCalls: @unchecked Sendable {
    typealias HostAlloc = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int, UInt32) -> Int32
    typealias FreeHost = @convention(c) (UnsafeMutableRawPointer?) -> Int32
    typealias CopyDtoHAsync = @convention(c) (UnsafeMutableRawPointer?, UInt64, Int, CUstream?) -> Int32
    typealias HostGetDevicePointer = @convention(c) (UnsafeMutablePointer<UInt64>?, UnsafeMutableRawPointer?, UInt32) -> Int32

    let cuda: CUDA
    let hostAlloc: HostAlloc
    let freeHost: FreeHost
    let copyDtoHAsync: CopyDtoHAsync
    let hostGetDevicePointer: HostGetDevicePointer

    init(cuda: CUDA) throws {
        self.cuda = cuda
        // Through cuGetProcAddress with an explicit ABI version, as the GPU module does (plain dlsym
        // of base names can return legacy entry points).
        let getProc: PFN_cuGetProcAddress_v2 = try cuda.library.function("cuGetProcAddress_v2")
        func sym<T>(_ name: String) throws -> T {
            var p: UnsafeMutableRawPointer?
            var status: Int32 = 0
            let r = name.withCString { getProc($0, &p, 12000, 0, &status) }
            guard r == 0, let p else { throw JacobiRunError("\(name) (ABI 12000) not found in \(cuda.library.path)") }
            return unsafeBitCast(p, to: T.self)
        }
        hostAlloc = try sym("cuMemHostAlloc")
        freeHost = try sym("cuMemFreeHost")
        copyDtoHAsync = try sym("cuMemcpyDtoHAsync")
        hostGetDevicePointer = try sym("cuMemHostGetDevicePointer")
    }
}

/// Page-locked host memory (`cuMemHostAlloc`), freed with `cuMemFreeHost`; zeroed.
final class PinnedBuffer: @unchecked Sendable {
    let calls: HostCalls
    let pointer: UnsafeMutableRawPointer
    /// With `mapped`, the address kernels store to (`cuMemHostGetDevicePointer`), else 0.
    let deviceAddress: UInt64

    /// `mapped`: CU_MEMHOSTALLOC_DEVICEMAP, so kernels can write it directly (every context
    /// supports mapped pinned memory since CUDA 3.2, cuda.h on CU_CTX_MAP_HOST).
    init(_ calls: HostCalls, device: Device, bytes: Int, mapped: Bool = false) throws {
        self.calls = calls
        try device.makeCurrent()
        var p: UnsafeMutableRawPointer?
        try calls.cuda.check(calls.hostAlloc(&p, bytes, mapped ? 0x02 : 0), "cuMemHostAlloc(\(bytes)\(mapped ? ", DEVICEMAP" : ""))")
        pointer = p!
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        var d: UInt64 = 0
        if mapped {
            do { try calls.cuda.check(calls.hostGetDevicePointer(&d, pointer, 0), "cuMemHostGetDevicePointer") } catch {
                _ = calls.freeHost(pointer)
                throw error
            }
        }
        deviceAddress = d
    }

    /// Enqueues a copy of `bytes` from device address `src` into this buffer on `stream` (`cuMemcpyDtoHAsync`).
    func copy(from src: UInt64, bytes: Int, on stream: Stream) throws {
        try calls.cuda.check(calls.copyDtoHAsync(pointer, src, bytes, stream.raw), "cuMemcpyDtoHAsync(\(bytes))")
    }

    deinit { _ = calls.freeHost(pointer) }
}

/// NVSHMEM's `nvshmemx_float_sum_reduce_on_stream(team, dest, source, nreduce, stream)` over
/// NVSHMEM_TEAM_WORLD (0); dest and source symmetric.
struct NVSHMEMFloatSum {
    typealias Fn = @convention(c) (Int32, UnsafeMutableRawPointer?, UnsafeRawPointer?, Int, CUstream?) -> Int32
    let fn: Fn

    init(_ nv: NVSHMEM) throws {
        guard let f: Fn = nv.library.optionalFunction("nvshmemx_float_sum_reduce_on_stream") else {
            throw JacobiRunError("nvshmemx_float_sum_reduce_on_stream not found in \(nv.library.path) (NVSHMEM too old?)")
        }
        fn = f
    }

    func callAsFunction(dest: DeviceBuffer, source: DeviceBuffer, on stream: Stream) throws {
        let r = fn(0, dest.pointer(), source.pointer(), 1, stream.raw)
        guard r == 0 else { throw JacobiRunError("nvshmemx_float_sum_reduce_on_stream failed: NVSHMEM status \(r)") }
    }
}

/// A failure while running a variant, in one line (library calls outside the GPU module's tables).
public struct JacobiRunError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}
