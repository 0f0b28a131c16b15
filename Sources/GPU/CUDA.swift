internal import CGPU
import Foundation

/// A failed CUDA driver call, in the driver's own words: `cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory`.
public struct CUDAError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var code: Int32
    public var name: String
    public var text: String
    public var description: String { "\(call) failed: \(name) (\(code)): \(text)" }
}

/// The CUDA driver API, resolved once through `cuGetProcAddress_v2` with an explicit ABI version
/// (plain dlsym of base names returns legacy entry points such as the 32-bit `cuMemAlloc`).
public final class CUDA: @unchecked Sendable {
    public let library: DynamicLibrary
    /// Driver version as `cuDriverGetVersion` reports it (13000 = 13.0).
    public let driverVersion: Int32

    let getErrorName: PFN_cuGetErrorName
    let getErrorString: PFN_cuGetErrorString
    let deviceGetCount: PFN_cuDeviceGetCount
    let deviceGet: PFN_cuDeviceGet
    let deviceGetName: PFN_cuDeviceGetName
    let deviceGetAttribute: PFN_cuDeviceGetAttribute
    let deviceTotalMem: PFN_cuDeviceTotalMem
    let deviceGetPCIBusId: PFN_cuDeviceGetPCIBusId
    let deviceCanAccessPeer: PFN_cuDeviceCanAccessPeer
    let primaryCtxRetain: PFN_cuDevicePrimaryCtxRetain
    let ctxSetCurrent: PFN_cuCtxSetCurrent
    let ctxSynchronize: PFN_cuCtxSynchronize
    let ctxEnablePeerAccess: PFN_cuCtxEnablePeerAccess
    let memAlloc: PFN_cuMemAlloc
    let memFree: PFN_cuMemFree
    let memGetInfo: PFN_cuMemGetInfo
    let memcpyHtoD: PFN_cuMemcpyHtoD
    let memcpyDtoH: PFN_cuMemcpyDtoH
    let memcpyDtoDAsync: PFN_cuMemcpyDtoDAsync
    let memcpyPeerAsync: PFN_cuMemcpyPeerAsync
    let memcpyDtoHAsync: PFN_cuMemcpyDtoHAsync
    let memHostAlloc: PFN_cuMemHostAlloc
    let memFreeHost: PFN_cuMemFreeHost
    let memHostGetDevicePointer: PFN_cuMemHostGetDevicePointer
    let memsetD8Async: PFN_cuMemsetD8Async
    let ipcGetMemHandle: PFN_cuIpcGetMemHandle
    let ipcOpenMemHandle: PFN_cuIpcOpenMemHandle
    let ipcCloseMemHandle: PFN_cuIpcCloseMemHandle
    let streamCreate: PFN_cuStreamCreate
    let streamDestroy: PFN_cuStreamDestroy
    let streamSynchronize: PFN_cuStreamSynchronize
    let streamWaitEvent: PFN_cuStreamWaitEvent
    let streamBeginCapture: PFN_cuStreamBeginCapture
    let streamEndCapture: PFN_cuStreamEndCapture
    let eventCreate: PFN_cuEventCreate
    let eventDestroy: PFN_cuEventDestroy
    let eventRecord: PFN_cuEventRecord
    let eventSynchronize: PFN_cuEventSynchronize
    let eventElapsedTime: PFN_cuEventElapsedTime
    let graphInstantiate: PFN_cuGraphInstantiateWithFlags
    let graphLaunch: PFN_cuGraphLaunch
    let graphExecDestroy: PFN_cuGraphExecDestroy
    let graphDestroy: PFN_cuGraphDestroy
    let moduleLoadData: PFN_cuModuleLoadData
    let moduleUnload: PFN_cuModuleUnload
    let moduleGetFunction: PFN_cuModuleGetFunction
    let launchKernel: PFN_cuLaunchKernel
    let launchCooperativeKernel: PFN_cuLaunchCooperativeKernel
    let occupancyMaxActiveBlocks: PFN_cuOccupancyMaxActiveBlocksPerMultiprocessor
    let funcSetAttribute: PFN_cuFuncSetAttribute

    /// Loads libcuda and initialises the driver.
    public init(search: LibrarySearch = LibrarySearch()) throws {
        let lib = try search.load(.cuda)
        library = lib
        let getProc: PFN_cuGetProcAddress_v2 = try lib.function("cuGetProcAddress_v2")
        let getVersion: PFN_cuDriverGetVersion = try lib.function("cuDriverGetVersion")
        var v: Int32 = 0
        _ = getVersion(&v)
        driverVersion = v

        func sym<T>(_ name: String, _ abi: Int32 = 12000) throws -> T {
            var p: UnsafeMutableRawPointer?
            var status: Int32 = 0
            let r = name.withCString { getProc($0, &p, abi, 0, &status) }
            guard r == 0, let p else { throw MissingSymbol(library: lib.path, symbol: "\(name) (ABI \(abi))") }
            return unsafeBitCast(p, to: T.self)
        }
        let initFn: PFN_cuInit = try sym("cuInit")
        getErrorName = try sym("cuGetErrorName")
        getErrorString = try sym("cuGetErrorString")
        deviceGetCount = try sym("cuDeviceGetCount")
        deviceGet = try sym("cuDeviceGet")
        deviceGetName = try sym("cuDeviceGetName")
        deviceGetAttribute = try sym("cuDeviceGetAttribute")
        deviceTotalMem = try sym("cuDeviceTotalMem")
        deviceGetPCIBusId = try sym("cuDeviceGetPCIBusId")
        deviceCanAccessPeer = try sym("cuDeviceCanAccessPeer")
        primaryCtxRetain = try sym("cuDevicePrimaryCtxRetain")
        ctxSetCurrent = try sym("cuCtxSetCurrent")
        ctxSynchronize = try sym("cuCtxSynchronize")
        ctxEnablePeerAccess = try sym("cuCtxEnablePeerAccess")
        memAlloc = try sym("cuMemAlloc")
        memFree = try sym("cuMemFree")
        memGetInfo = try sym("cuMemGetInfo")
        memcpyHtoD = try sym("cuMemcpyHtoD")
        memcpyDtoH = try sym("cuMemcpyDtoH")
        memcpyDtoDAsync = try sym("cuMemcpyDtoDAsync")
        memcpyPeerAsync = try sym("cuMemcpyPeerAsync")
        memcpyDtoHAsync = try sym("cuMemcpyDtoHAsync")
        memHostAlloc = try sym("cuMemHostAlloc")
        memFreeHost = try sym("cuMemFreeHost")
        memHostGetDevicePointer = try sym("cuMemHostGetDevicePointer")
        memsetD8Async = try sym("cuMemsetD8Async")
        ipcGetMemHandle = try sym("cuIpcGetMemHandle")
        ipcOpenMemHandle = try sym("cuIpcOpenMemHandle")
        ipcCloseMemHandle = try sym("cuIpcCloseMemHandle")
        streamCreate = try sym("cuStreamCreate")
        streamDestroy = try sym("cuStreamDestroy")
        streamSynchronize = try sym("cuStreamSynchronize")
        streamWaitEvent = try sym("cuStreamWaitEvent")
        streamBeginCapture = try sym("cuStreamBeginCapture")
        streamEndCapture = try sym("cuStreamEndCapture")
        eventCreate = try sym("cuEventCreate")
        eventDestroy = try sym("cuEventDestroy")
        eventRecord = try sym("cuEventRecord")
        eventSynchronize = try sym("cuEventSynchronize")
        eventElapsedTime = try sym("cuEventElapsedTime")
        graphInstantiate = try sym("cuGraphInstantiateWithFlags")
        graphLaunch = try sym("cuGraphLaunch")
        graphExecDestroy = try sym("cuGraphExecDestroy")
        graphDestroy = try sym("cuGraphDestroy")
        moduleLoadData = try sym("cuModuleLoadData")
        moduleUnload = try sym("cuModuleUnload")
        moduleGetFunction = try sym("cuModuleGetFunction")
        launchKernel = try sym("cuLaunchKernel")
        launchCooperativeKernel = try sym("cuLaunchCooperativeKernel")
        occupancyMaxActiveBlocks = try sym("cuOccupancyMaxActiveBlocksPerMultiprocessor")
        funcSetAttribute = try sym("cuFuncSetAttribute")
        try check(initFn(0), "cuInit")
    }

    /// The one choke point that turns a CUresult into a Swift error naming the call.
    func check(_ r: CUresult, _ call: @autoclosure () -> String) throws {
        guard r != 0 else { return }
        var n: UnsafePointer<CChar>?
        var s: UnsafePointer<CChar>?
        _ = getErrorName(r, &n)
        _ = getErrorString(r, &s)
        throw CUDAError(call: call(), code: r, name: n.map { String(cString: $0) } ?? "CUDA_ERROR_\(r)",
                        text: s.map { String(cString: $0) } ?? "unknown")
    }

    /// Number of visible CUDA devices.
    public func deviceCount() throws -> Int {
        var n: Int32 = 0
        try check(deviceGetCount(&n), "cuDeviceGetCount")
        return Int(n)
    }

    /// The PCI bus id of visible device `ordinal` as CUDA prints it (`cuDeviceGet` + `cuDeviceGetPCIBusId`),
    /// without retaining its context: for matching devices across processes.
    public func pciBusId(ordinal: Int) throws -> String {
        var d: CUdevice = 0
        try check(deviceGet(&d, Int32(ordinal)), "cuDeviceGet(\(ordinal))")
        var buf = [CChar](repeating: 0, count: 64)
        try check(deviceGetPCIBusId(&buf, 64, d), "cuDeviceGetPCIBusId(\(ordinal))")
        return stringFromCBuffer(buf)
    }

    /// Driver version as text, e.g. `13.0`.
    public var driverVersionString: String { "\(driverVersion / 1000).\((driverVersion % 1000) / 10)" }
}
