internal import CGPU
import Foundation

/// One CUDA device with its primary context retained (NCCL and NVSHMEM run their own CUDA runtime,
/// which works in the primary context; never `cuCtxCreate`).
public final class Device: @unchecked Sendable {
    public let cuda: CUDA
    public let ordinal: Int
    let handle: CUdevice
    let context: CUcontext
    public let name: String
    /// PCI bus id as CUDA prints it, e.g. `0000:00:06.0`.
    public let pciBusId: String
    public let computeCapability: (major: Int, minor: Int)
    public let multiprocessors: Int
    /// L2 cache size in bytes (`CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE` = 38; about 50 MB on H100).
    public let l2CacheBytes: Int
    public let totalMemory: Int64

    public init(cuda: CUDA, ordinal: Int) throws {
        self.cuda = cuda
        self.ordinal = ordinal
        var d: CUdevice = 0
        try cuda.check(cuda.deviceGet(&d, Int32(ordinal)), "cuDeviceGet(\(ordinal))")
        handle = d
        var ctx: CUcontext?
        try cuda.check(cuda.primaryCtxRetain(&ctx, d), "cuDevicePrimaryCtxRetain(\(ordinal))")
        context = ctx!
        var buf = [CChar](repeating: 0, count: 256)
        try cuda.check(cuda.deviceGetName(&buf, 256, d), "cuDeviceGetName")
        name = stringFromCBuffer(buf)
        pciBusId = try cuda.pciBusId(ordinal: ordinal)
        func attr(_ a: Int32) throws -> Int {
            var v: Int32 = 0
            try cuda.check(cuda.deviceGetAttribute(&v, a, d), "cuDeviceGetAttribute(\(a))")
            return Int(v)
        }
        // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75, _MINOR = 76, MULTIPROCESSOR_COUNT = 16
        computeCapability = (try attr(75), try attr(76))
        multiprocessors = try attr(16)
        l2CacheBytes = try attr(38)
        var mem = 0
        try cuda.check(cuda.deviceTotalMem(&mem, d), "cuDeviceTotalMem")
        totalMemory = Int64(mem)
    }

    /// Makes this device's primary context current on the calling thread.
    public func makeCurrent() throws {
        try cuda.check(cuda.ctxSetCurrent(context), "cuCtxSetCurrent(device \(ordinal))")
    }

    /// Architecture name for the compiler, e.g. `sm_90`.
    public var arch: String { "sm_\(computeCapability.major)\(computeCapability.minor)" }

    public func canAccessPeer(_ other: Device) throws -> Bool {
        var v: Int32 = 0
        try cuda.check(cuda.deviceCanAccessPeer(&v, handle, other.handle), "cuDeviceCanAccessPeer")
        return v != 0
    }

    /// Enables direct access from this device's context to `other`'s memory (idempotent).
    public func enablePeerAccess(to other: Device) throws {
        try makeCurrent()
        let r = cuda.ctxEnablePeerAccess(other.context, 0)
        if r == 704 { return } // CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED
        try cuda.check(r, "cuCtxEnablePeerAccess(\(ordinal) -> \(other.ordinal))")
    }

    public func synchronize() throws {
        try makeCurrent()
        try cuda.check(cuda.ctxSynchronize(), "cuCtxSynchronize(device \(ordinal))")
    }

    /// Free and total device memory in bytes.
    public func memoryInfo() throws -> (free: Int64, total: Int64) {
        try makeCurrent()
        var f = 0, t = 0
        try cuda.check(cuda.memGetInfo(&f, &t), "cuMemGetInfo")
        return (Int64(f), Int64(t))
    }

    /// The most dynamic shared memory one block may ask for once its kernel opts in
    /// (`CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN` = 97; 227 KiB on H100/H200).
    public func maxSharedBytesPerBlockOptIn() throws -> Int {
        var v: Int32 = 0
        try cuda.check(cuda.deviceGetAttribute(&v, 97, handle), "cuDeviceGetAttribute(MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)")
        return Int(v)
    }

    /// bf16 needs sm_80, fp8 needs sm_89 in NCCL.
    public var supportsBF16: Bool { computeCapability.major >= 8 }
    public var supportsFP8: Bool { computeCapability.major * 10 + computeCapability.minor >= 89 }
}

/// A CUDA stream (`CUstream` is a `cudaStream_t`: the GPU module passes `raw` to NCCL and NVSHMEM as is).
public final class Stream: @unchecked Sendable {
    public let device: Device
    let raw: CUstream

    public init(device: Device) throws {
        self.device = device
        try device.makeCurrent()
        var s: CUstream?
        try device.cuda.check(device.cuda.streamCreate(&s, 1 /* CU_STREAM_NON_BLOCKING */), "cuStreamCreate")
        raw = s!
    }

    public func synchronize() throws {
        try device.cuda.check(device.cuda.streamSynchronize(raw), "cuStreamSynchronize(device \(device.ordinal))")
    }

    /// Device-to-device copy enqueued on this stream (`cuMemcpyDtoDAsync`).
    public func copy(from src: DeviceAddress, to dst: DeviceAddress, bytes: Int) throws {
        try device.cuda.check(device.cuda.memcpyDtoDAsync(dst.bits, src.bits, bytes, raw), "cuMemcpyDtoDAsync(\(bytes) bytes)")
    }

    /// `copy(from:to:bytes:)` between device pointers as NCCL and NVSHMEM hand them out.
    public func copy(from src: UnsafeRawPointer, to dst: UnsafeMutableRawPointer, bytes: Int) throws {
        try copy(from: DeviceAddress(src), to: DeviceAddress(dst), bytes: bytes)
    }

    public func wait(for event: Event) throws {
        try device.cuda.check(device.cuda.streamWaitEvent(raw, event.raw, 0), "cuStreamWaitEvent")
    }


    deinit { _ = device.cuda.streamDestroy(raw) }
}

/// A CUDA event for device-side timing.
public final class Event: @unchecked Sendable {
    public let device: Device
    let raw: CUevent

    /// `timing: false` makes a lighter event for ordering streams only (`CU_EVENT_DISABLE_TIMING`).
    public init(device: Device, timing: Bool = true) throws {
        self.device = device
        try device.makeCurrent()
        var e: CUevent?
        try device.cuda.check(device.cuda.eventCreate(&e, timing ? 0 : 2 /* CU_EVENT_DISABLE_TIMING */), "cuEventCreate")
        raw = e!
    }

    public func record(on stream: Stream) throws {
        try device.cuda.check(device.cuda.eventRecord(raw, stream.raw), "cuEventRecord")
    }

    public func synchronize() throws {
        try device.cuda.check(device.cuda.eventSynchronize(raw), "cuEventSynchronize")
    }

    /// Milliseconds from `start` to this event (both recorded and complete).
    public func milliseconds(since start: Event) throws -> Double {
        var ms: Float = 0
        try device.cuda.check(device.cuda.eventElapsedTime(&ms, start.raw, raw), "cuEventElapsedTime")
        return Double(ms)
    }

    deinit { _ = device.cuda.eventDestroy(raw) }
}

/// Device memory from `cuMemAlloc`, freed when the owner goes.
public final class DeviceBuffer: @unchecked Sendable {
    public let device: Device
    public let address: DeviceAddress
    public let bytes: Int
    private let release: @Sendable (DeviceAddress) -> Void

    public init(device: Device, bytes: Int) throws {
        self.device = device
        self.bytes = bytes
        try device.makeCurrent()
        var p: CUdeviceptr = 0
        try device.cuda.check(device.cuda.memAlloc(&p, max(bytes, 1)), "cuMemAlloc(\(bytes) bytes on device \(device.ordinal))")
        address = DeviceAddress(bits: p)
        let cuda = device.cuda
        release = { _ = cuda.memFree($0.bits) }
    }

    /// Takes ownership of memory allocated elsewhere (ncclMemAlloc, nvshmem_malloc); `release` frees it.
    public init(device: Device, adopting address: DeviceAddress, bytes: Int, release: @escaping @Sendable (DeviceAddress) -> Void) {
        self.device = device
        self.address = address
        self.bytes = bytes
        self.release = release
    }

    /// The address as a pointer for NCCL/NVSHMEM calls, offset by `offset` bytes.
    public func pointer(offset: Int = 0) -> UnsafeMutableRawPointer {
        (address + offset).pointer!
    }

    public func fill(byte: UInt8, on stream: Stream) throws {
        try device.cuda.check(device.cuda.memsetD8Async(address.bits, byte, bytes, stream.raw), "cuMemsetD8Async")
    }

    public func copyToHost(count: Int, offset: Int = 0) throws -> [UInt8] {
        try device.makeCurrent()
        var out = [UInt8](repeating: 0, count: count)
        try out.withUnsafeMutableBytes { p in
            try device.cuda.check(device.cuda.memcpyDtoH(p.baseAddress!, (address + offset).bits, count), "cuMemcpyDtoH")
        }
        return out
    }

    public func copyFromHost(_ data: [UInt8], offset: Int = 0) throws {
        try device.makeCurrent()
        try data.withUnsafeBytes { p in
            try device.cuda.check(device.cuda.memcpyHtoD((address + offset).bits, p.baseAddress!, data.count), "cuMemcpyHtoD")
        }
    }

    deinit { release(address) }
}

/// A loaded module (cubin) and its kernels.
public final class Module: @unchecked Sendable {
    public let device: Device
    let raw: CUmodule

    public init(device: Device, image: [UInt8]) throws {
        self.device = device
        try device.makeCurrent()
        var m: CUmodule?
        try image.withUnsafeBytes { p in
            try device.cuda.check(device.cuda.moduleLoadData(&m, p.baseAddress!), "cuModuleLoadData")
        }
        raw = m!
    }

    public func function(_ name: String) throws -> Kernel {
        var f: CUfunction?
        try device.cuda.check(device.cuda.moduleGetFunction(&f, raw, name), "cuModuleGetFunction(\(name))")
        return Kernel(module: self, name: name, raw: f!)
    }

    deinit { _ = device.cuda.moduleUnload(raw) }
}

/// One kernel of a module. Arguments are passed as an array of pointers to each argument's value.
public struct Kernel: @unchecked Sendable {
    public let module: Module
    public let name: String
    let raw: CUfunction

    /// Launches with `args`, each a value the kernel takes by value (pointers as UInt64).
    public func launch(grid: Int, block: Int, sharedBytes: Int = 0, stream: Stream, args: [any KernelArgument]) throws {
        try launch(grid: grid, block: block, sharedBytes: sharedBytes, stream: stream, arguments: KernelArguments(args))
    }

    /// Launches with arguments marshalled beforehand (keeps the copying out of a timed region).
    public func launch(grid: Int, block: Int, sharedBytes: Int = 0, stream: Stream, arguments: KernelArguments) throws {
        let cuda = module.device.cuda
        try cuda.check(cuda.launchKernel(raw, UInt32(grid), 1, 1, UInt32(block), 1, 1, UInt32(sharedBytes),
                                         stream.raw, arguments.params, nil), "cuLaunchKernel(\(name), grid \(grid), block \(block))")
    }

    /// Cooperative launch (grid-wide sync allowed); the grid must fit on the device at once.
    public func launchCooperative(grid: Int, block: Int, sharedBytes: Int = 0, stream: Stream, args: [any KernelArgument]) throws {
        try launchCooperative(grid: grid, block: block, sharedBytes: sharedBytes, stream: stream, arguments: KernelArguments(args))
    }

    /// Cooperative launch with arguments marshalled beforehand.
    public func launchCooperative(grid: Int, block: Int, sharedBytes: Int = 0, stream: Stream, arguments: KernelArguments) throws {
        let cuda = module.device.cuda
        try cuda.check(cuda.launchCooperativeKernel(raw, UInt32(grid), 1, 1, UInt32(block), 1, 1, UInt32(sharedBytes),
                                                    stream.raw, arguments.params), "cuLaunchCooperativeKernel(\(name))")
    }

    /// Lets launches of this kernel ask for up to `bytes` of dynamic shared memory
    /// (`cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)`); needed above 48 KiB,
    /// and before `maxActiveBlocksPerSM(block:sharedBytes:)` is asked about such a size.
    public func allowDynamicSharedBytes(_ bytes: Int) throws {
        let cuda = module.device.cuda
        try cuda.check(cuda.funcSetAttribute(raw, 8 /* CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES */, Int32(bytes)),
                       "cuFuncSetAttribute(\(name), MAX_DYNAMIC_SHARED_SIZE_BYTES, \(bytes))")
    }

    /// Blocks of `block` threads (and `sharedBytes` of dynamic shared memory each) that fit on one multiprocessor at once.
    public func maxActiveBlocksPerSM(block: Int, sharedBytes: Int = 0) throws -> Int {
        var n: Int32 = 0
        try module.device.cuda.check(module.device.cuda.occupancyMaxActiveBlocks(&n, raw, Int32(block), sharedBytes),
                                     "cuOccupancyMaxActiveBlocksPerMultiprocessor(\(name))")
        return Int(n)
    }
}

/// Kernel arguments copied into the array of pointers `cuLaunchKernel` takes, once; reusable
/// for any number of launches (the driver copies the values at each launch).
public final class KernelArguments: @unchecked Sendable {
    private let buffers: [UnsafeMutableRawPointer]
    private let sizes: [Int]
    let params: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    public init(_ args: [any KernelArgument]) {
        let bytes = args.map { $0.bytes }
        sizes = bytes.map(\.count)
        buffers = bytes.map { b in
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(b.count, 8), alignment: 8)
            b.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: b.count) }
            return p
        }
        params = .allocate(capacity: max(buffers.count, 1))
        for (i, b) in buffers.enumerated() { params[i] = b }
    }

    /// Replaces argument `index` with `value` (the same size as the one it replaces): patching the
    /// few arguments that change between launches instead of marshalling them all again. Safe
    /// between launches, which copy the values.
    public func set(_ index: Int, _ value: some KernelArgument) {
        let b = value.bytes
        precondition(sizes.indices.contains(index), "no kernel argument \(index) of \(sizes.count)")
        precondition(b.count == sizes[index], "kernel argument \(index): \(b.count) bytes for one of \(sizes[index])")
        b.withUnsafeBytes { buffers[index].copyMemory(from: $0.baseAddress!, byteCount: b.count) }
    }

    deinit {
        buffers.forEach { $0.deallocate() }
        params.deallocate()
    }
}

/// A value passed to a kernel by value.
public protocol KernelArgument { var bytes: [UInt8] { get } }
extension KernelArgument {
    public var bytes: [UInt8] { withUnsafeBytes(of: self) { Array($0) } }
}
extension Int32: KernelArgument {}
extension UInt32: KernelArgument {}
extension Int64: KernelArgument {}
extension UInt64: KernelArgument {}
extension Double: KernelArgument {}
extension Float: KernelArgument {}

/// An instantiated CUDA graph, replayed with `launch`.
public final class GraphExec: @unchecked Sendable {
    let cuda: CUDA
    let graph: CUgraph
    let exec: CUgraphExec

    init(cuda: CUDA, graph: CUgraph) throws {
        self.cuda = cuda
        self.graph = graph
        var e: CUgraphExec?
        do {
            try cuda.check(cuda.graphInstantiate(&e, graph, 0), "cuGraphInstantiateWithFlags")
        } catch {
            _ = cuda.graphDestroy(graph)
            throw error
        }
        exec = e!
    }

    /// Captures everything `body` enqueues on `streams` (thread-local capture mode, one graph per
    /// stream, as nccl-tests does for several GPUs in one thread).
    public static func capture(streams: [Stream], _ body: () throws -> Void) throws -> [GraphExec] {
        guard let cuda = streams.first?.device.cuda else { return [] }
        var begun: [Stream] = []
        var bodyError: Error?
        for s in streams {
            try s.device.makeCurrent()
            do {
                try cuda.check(cuda.streamBeginCapture(s.raw, 1 /* CU_STREAM_CAPTURE_MODE_THREAD_LOCAL */), "cuStreamBeginCapture")
                begun.append(s)
            } catch { bodyError = error; break }
        }
        if bodyError == nil { do { try body() } catch { bodyError = error } }
        var graphs: [CUgraph] = []
        var endError: Error?
        for s in begun {
            var g: CUgraph?
            let r = cuda.streamEndCapture(s.raw, &g)
            if r != 0 { if endError == nil { endError = CUDAError.from(cuda, r, "cuStreamEndCapture") } } else if let g { graphs.append(g) }
        }
        if let e = bodyError ?? endError {
            graphs.forEach { _ = cuda.graphDestroy($0) }
            throw e
        }
        return try graphs.map { try GraphExec(cuda: cuda, graph: $0) }
    }

    public func launch(on stream: Stream) throws {
        try cuda.check(cuda.graphLaunch(exec, stream.raw), "cuGraphLaunch")
    }

    deinit {
        _ = cuda.graphExecDestroy(exec)
        _ = cuda.graphDestroy(graph)
    }
}

extension CUDAError {
    static func from(_ cuda: CUDA, _ r: CUresult, _ call: String) -> Error {
        do { try cuda.check(r, call) } catch { return error }
        return CUDAError(call: call, code: r, name: "", text: "")
    }
}
