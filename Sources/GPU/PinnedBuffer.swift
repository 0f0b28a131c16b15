internal import CGPU

/// Page-locked host memory (`cuMemHostAlloc`), freed with `cuMemFreeHost`; zeroed.
public final class PinnedBuffer: @unchecked Sendable {
    let cuda: CUDA
    public let pointer: UnsafeMutableRawPointer
    /// With `mapped`, the address kernels store to (`cuMemHostGetDevicePointer`), else 0.
    public let deviceAddress: UInt64

    /// `mapped`: CU_MEMHOSTALLOC_DEVICEMAP, so kernels can write it directly (every context
    /// supports mapped pinned memory since CUDA 3.2, cuda.h on CU_CTX_MAP_HOST).
    public init(device: Device, bytes: Int, mapped: Bool = false) throws {
        cuda = device.cuda
        try device.makeCurrent()
        var p: UnsafeMutableRawPointer?
        try cuda.check(cuda.memHostAlloc(&p, bytes, mapped ? 0x02 : 0), "cuMemHostAlloc(\(bytes)\(mapped ? ", DEVICEMAP" : ""))")
        pointer = p!
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        var d: UInt64 = 0
        if mapped {
            do { try cuda.check(cuda.memHostGetDevicePointer(&d, pointer, 0), "cuMemHostGetDevicePointer") } catch {
                _ = cuda.memFreeHost(pointer)
                throw error
            }
        }
        deviceAddress = d
    }

    /// Enqueues a copy of `bytes` from device address `src` into this buffer on `stream` (`cuMemcpyDtoHAsync`).
    public func copy(from src: DeviceAddress, bytes: Int, on stream: Stream) throws {
        try cuda.check(cuda.memcpyDtoHAsync(pointer, src.bits, bytes, stream.raw), "cuMemcpyDtoHAsync(\(bytes))")
    }

    deinit { _ = cuda.memFreeHost(pointer) }
}
