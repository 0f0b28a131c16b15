internal import CGPU
import Foundation

/// The CUDA driver calls host↔device copies need beyond `CUDA`'s table (`cuMemcpyHtoDAsync`,
/// `cuMemHostRegister`, `cuMemHostUnregister`), resolved once through `cuGetProcAddress_v2` with
/// the same ABI version (12000) as the rest. Used by `gpucomm copy` (docs/copy.md).
public final class HostCopyCalls: @unchecked Sendable {
    public let cuda: CUDA
    let htoDAsync: PFN_cuMemcpyHtoDAsync
    let hostRegister: PFN_cuMemHostRegister
    let hostUnregister: PFN_cuMemHostUnregister

    public init(cuda: CUDA) throws {
        self.cuda = cuda
        let lib = cuda.library
        let getProc: PFN_cuGetProcAddress_v2 = try lib.function("cuGetProcAddress_v2")
        func sym<T>(_ name: String) throws -> T {
            var p: UnsafeMutableRawPointer?
            var status: Int32 = 0
            let r = name.withCString { getProc($0, &p, 12000, 0, &status) }
            guard r == 0, let p else { throw MissingSymbol(library: lib.path, symbol: "\(name) (ABI 12000)") }
            return unsafeBitCast(p, to: T.self)
        }
        htoDAsync = try sym("cuMemcpyHtoDAsync")
        hostRegister = try sym("cuMemHostRegister")
        hostUnregister = try sym("cuMemHostUnregister")
    }

    /// Enqueues a copy of `bytes` from host memory `src` to device address `dst` (`cuMemcpyHtoDAsync`).
    /// From pageable memory the driver stages through its own pinned buffers.
    public func copy(fromHost src: UnsafeRawPointer, to dst: DeviceAddress, bytes: Int, on stream: Stream) throws {
        try cuda.check(htoDAsync(dst.bits, src, bytes, stream.raw), "cuMemcpyHtoDAsync(\(bytes) bytes to device \(stream.device.ordinal))")
    }

    /// Enqueues setting `bytes` bytes at `address` (device memory, or host memory mapped for the device) to `byte` (`cuMemsetD8Async`).
    public func set(_ address: DeviceAddress, byte: UInt8, bytes: Int, on stream: Stream) throws {
        try cuda.check(cuda.memsetD8Async(address.bits, byte, bytes, stream.raw), "cuMemsetD8Async(\(bytes) bytes)")
    }

    /// Enqueues a copy of `bytes` from device address `src` to host memory `dst` (`cuMemcpyDtoHAsync`).
    public func copy(from src: DeviceAddress, toHost dst: UnsafeMutableRawPointer, bytes: Int, on stream: Stream) throws {
        try cuda.check(cuda.memcpyDtoHAsync(dst, src.bits, bytes, stream.raw), "cuMemcpyDtoHAsync(\(bytes) bytes from device \(stream.device.ordinal))")
    }
}

/// Host memory for copies: page-locked by CUDA, ordinary pageable pages, or pages bound to one
/// NUMA node and then page-locked (`cuMemHostRegister`). Freed when the owner goes.
public final class HostBuffer: @unchecked Sendable {
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        /// `cuMemHostAlloc(PORTABLE | DEVICEMAP)`: every context can copy it and kernels can address it.
        case pinned
        /// `mmap` pages the copy engines reach only through the driver's staging buffers; kernels cannot address them.
        case pageable
        /// `mmap` + `mbind(MPOL_BIND, node)`, touched, then `cuMemHostRegister(PORTABLE | DEVICEMAP)`.
        case numaNode(Int)

        public var description: String {
            switch self {
            case .pinned: return "pinned"
            case .pageable: return "pageable"
            case let .numaNode(n): return "pinned on NUMA node \(n)"
            }
        }
    }

    let calls: HostCopyCalls
    public let kind: Kind
    public let pointer: UnsafeMutableRawPointer
    public let bytes: Int
    /// The address kernels use for this memory (`cuMemHostGetDevicePointer`); nil for pageable memory.
    public let deviceAddress: DeviceAddress?
    private let mapped: Int

    /// Allocates `bytes` (at least one page) of `kind`; `device`'s context is made current for the CUDA calls.
    public init(calls: HostCopyCalls, device: Device, bytes: Int, kind: Kind) throws {
        self.calls = calls
        self.kind = kind
        self.bytes = bytes
        let cuda = calls.cuda
        try device.makeCurrent()
        let size = max(bytes, 4096)
        switch kind {
        case .pinned:
            var p: UnsafeMutableRawPointer?
            try cuda.check(cuda.memHostAlloc(&p, size, 0x01 | 0x02), "cuMemHostAlloc(\(size) bytes, PORTABLE | DEVICEMAP)")
            pointer = p!
            mapped = 0
        case .pageable, .numaNode:
            guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
                throw CUDAError(call: "mmap(\(size) bytes)", code: errno, name: "errno \(errno)", text: String(cString: strerror(errno)))
            }
            pointer = p
            mapped = size
            if case let .numaNode(node) = kind {
                let r = cgpu_bind_to_numa_node(p, UInt(size), Int32(node))
                if r != 0 {
                    munmap(p, size)
                    throw CUDAError(call: "mbind(\(size) bytes, node \(node))", code: Int32(-r), name: "errno \(-r)", text: String(cString: strerror(Int32(-r))))
                }
            }
        }
        if kind != .pinned {
            pointer.initializeMemory(as: UInt8.self, repeating: 0, count: size)  // touch every page (first touch places it)
        }
        if case .numaNode = kind {
            do { try cuda.check(calls.hostRegister(pointer, size, 0x01 | 0x02), "cuMemHostRegister(\(size) bytes, PORTABLE | DEVICEMAP)") } catch {
                munmap(pointer, size)
                throw error
            }
        }
        if kind == .pageable {
            deviceAddress = nil
        } else {
            var d: UInt64 = 0
            do { try cuda.check(cuda.memHostGetDevicePointer(&d, pointer, 0), "cuMemHostGetDevicePointer") } catch {
                HostBuffer.release(calls: calls, kind: kind, pointer: pointer, mapped: mapped)
                throw error
            }
            deviceAddress = DeviceAddress(bits: d)
        }
    }

    static func release(calls: HostCopyCalls, kind: Kind, pointer: UnsafeMutableRawPointer, mapped: Int) {
        switch kind {
        case .pinned: _ = calls.cuda.memFreeHost(pointer)
        case .pageable: munmap(pointer, mapped)
        case .numaNode:
            _ = calls.hostUnregister(pointer)
            munmap(pointer, mapped)
        }
    }

    deinit { HostBuffer.release(calls: calls, kind: kind, pointer: pointer, mapped: mapped) }
}
