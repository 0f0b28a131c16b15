internal import CGPU

extension DeviceBuffer {
    /// This `cuMemAlloc` buffer's CUDA IPC handle (64 bytes): another process on this host maps
    /// it with `IPCMapping`. Not for memory from ncclMemAlloc or nvshmem_malloc.
    public func ipcHandle() throws -> [UInt8] {
        try device.makeCurrent()
        var h = CUipcMemHandle()
        try device.cuda.check(device.cuda.ipcGetMemHandle(&h, address.bits), "cuIpcGetMemHandle")
        return withUnsafeBytes(of: &h) { Array($0) }
    }
}

/// Another process's device buffer mapped into this context through its CUDA IPC handle
/// (`cuIpcOpenMemHandle`, peer access enabled lazily); unmapped when released.
public final class IPCMapping: @unchecked Sendable {
    public let device: Device
    public let address: DeviceAddress

    public init(device: Device, handle: [UInt8]) throws {
        precondition(handle.count == MemoryLayout<CUipcMemHandle>.size)
        self.device = device
        try device.makeCurrent()
        var h = CUipcMemHandle()
        withUnsafeMutableBytes(of: &h) { $0.copyBytes(from: handle) }
        var p: CUdeviceptr = 0
        try device.cuda.check(device.cuda.ipcOpenMemHandle(&p, h, 1 /* CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS */), "cuIpcOpenMemHandle")
        address = DeviceAddress(bits: p)
    }

    deinit {
        try? device.makeCurrent()
        _ = device.cuda.ipcCloseMemHandle(address.bits)
    }
}
