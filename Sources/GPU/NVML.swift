internal import CGPU
import Foundation

/// A failed NVML call, in NVML's words.
public struct NVMLError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var code: Int32
    public var text: String
    public var description: String { "\(call) failed: \(text) (\(code))" }
}

/// NVML field ids gpucomm reads (nvml.h `NVML_FI_DEV_*`).
public enum NVMLField {
    /// Active NVLink link count.
    public static let nvlinkLinkCount: UInt32 = 91
    /// NVLink data (payload) transmitted / received, cumulative KiB.
    public static let nvlinkThroughputDataTX: UInt32 = 138
    public static let nvlinkThroughputDataRX: UInt32 = 139
    /// NVLink raw (with protocol overhead) transmitted / received, cumulative KiB.
    public static let nvlinkThroughputRawTX: UInt32 = 140
    public static let nvlinkThroughputRawRX: UInt32 = 141
    /// `scopeId` that asks for the sum over all links.
    public static let allLinks: UInt32 = UInt32.max
}

/// One field value read from NVML; `value` is nil when NVML returned an error for it.
public struct NVMLFieldValue: Sendable, Equatable {
    public var field: UInt32
    public var scope: UInt32
    /// Microseconds since the epoch when NVML took the value.
    public var timestampUs: Int64
    public var value: UInt64?
    public var error: Int32
}

/// The NVIDIA Management Library, loaded at run time.
public final class NVML: @unchecked Sendable {
    public let library: DynamicLibrary
    let errorString: PFN_nvmlErrorString
    let shutdown: PFN_nvmlShutdown
    let driverVersionFn: PFN_nvmlSystemGetDriverVersion
    let getCount: PFN_nvmlDeviceGetCount_v2
    let getHandle: PFN_nvmlDeviceGetHandleByIndex_v2
    let getName: PFN_nvmlDeviceGetName
    let getPci: PFN_nvmlDeviceGetPciInfo_v3
    let getUUID: PFN_nvmlDeviceGetUUID
    let getLinkState: PFN_nvmlDeviceGetNvLinkState
    let getRemotePci: PFN_nvmlDeviceGetNvLinkRemotePciInfo_v2
    let getFieldValues: PFN_nvmlDeviceGetFieldValues
    /// GPM (Hopper and later); nil where the library predates it.
    let gpm: GPMFunctions?

    struct GPMFunctions {
        let query: PFN_nvmlGpmQueryDeviceSupport
        let alloc: PFN_nvmlGpmSampleAlloc
        let free: PFN_nvmlGpmSampleFree
        let get: PFN_nvmlGpmSampleGet
        let metrics: PFN_nvmlGpmMetricsGet
    }

    /// Loads libnvidia-ml and calls `nvmlInit_v2`.
    public init(search: LibrarySearch = LibrarySearch()) throws {
        let lib = try search.load(.nvml)
        library = lib
        errorString = try lib.function("nvmlErrorString")
        shutdown = try lib.function("nvmlShutdown")
        driverVersionFn = try lib.function("nvmlSystemGetDriverVersion")
        getCount = try lib.function("nvmlDeviceGetCount_v2")
        getHandle = try lib.function("nvmlDeviceGetHandleByIndex_v2")
        getName = try lib.function("nvmlDeviceGetName")
        getPci = try lib.function("nvmlDeviceGetPciInfo_v3")
        getUUID = try lib.function("nvmlDeviceGetUUID")
        getLinkState = try lib.function("nvmlDeviceGetNvLinkState")
        getRemotePci = try lib.function("nvmlDeviceGetNvLinkRemotePciInfo_v2")
        getFieldValues = try lib.function("nvmlDeviceGetFieldValues")
        if let q: PFN_nvmlGpmQueryDeviceSupport = lib.optionalFunction("nvmlGpmQueryDeviceSupport"),
           let a: PFN_nvmlGpmSampleAlloc = lib.optionalFunction("nvmlGpmSampleAlloc"),
           let f: PFN_nvmlGpmSampleFree = lib.optionalFunction("nvmlGpmSampleFree"),
           let g: PFN_nvmlGpmSampleGet = lib.optionalFunction("nvmlGpmSampleGet"),
           let m: PFN_nvmlGpmMetricsGet = lib.optionalFunction("nvmlGpmMetricsGet") {
            gpm = GPMFunctions(query: q, alloc: a, free: f, get: g, metrics: m)
        } else {
            gpm = nil
        }
        let initFn: PFN_nvmlInit_v2 = try lib.function("nvmlInit_v2")
        try check(initFn(), "nvmlInit_v2")
    }

    deinit { _ = shutdown() }

    func check(_ r: nvmlReturn_t, _ call: @autoclosure () -> String) throws {
        guard r != 0 else { return }
        throw NVMLError(call: call(), code: r, text: errorString(r).map { String(cString: $0) } ?? "unknown")
    }

    public func driverVersion() throws -> String {
        var b = [CChar](repeating: 0, count: 96)
        try check(driverVersionFn(&b, 96), "nvmlSystemGetDriverVersion")
        return stringFromCBuffer(b)
    }

    public func deviceCount() throws -> Int {
        var n: UInt32 = 0
        try check(getCount(&n), "nvmlDeviceGetCount_v2")
        return Int(n)
    }

    public func device(index: Int) throws -> NVMLDevice {
        var h: nvmlDevice_t?
        try check(getHandle(UInt32(index), &h), "nvmlDeviceGetHandleByIndex_v2(\(index))")
        return NVMLDevice(nvml: self, index: index, handle: h!)
    }

    /// All devices, in NVML order (which differs from CUDA order: match by `pciBusId`).
    public func devices() throws -> [NVMLDevice] {
        try (0..<deviceCount()).map { try device(index: $0) }
    }
}

/// Maximum NVLink links per GPU that NVML reports (NVML_NVLINK_MAX_LINKS).
public let nvmlMaxLinks = 18

/// One GPU as NVML sees it.
public struct NVMLDevice: @unchecked Sendable {
    public let nvml: NVML
    /// NVML index (not the CUDA ordinal).
    public let index: Int
    let handle: nvmlDevice_t

    public func name() throws -> String {
        var b = [CChar](repeating: 0, count: 96)
        try nvml.check(nvml.getName(handle, &b, 96), "nvmlDeviceGetName")
        return stringFromCBuffer(b)
    }

    public func uuid() throws -> String {
        var b = [CChar](repeating: 0, count: 96)
        try nvml.check(nvml.getUUID(handle, &b, 96), "nvmlDeviceGetUUID")
        return stringFromCBuffer(b)
    }

    /// PCI bus id, normalised to CUDA's form (`0000:00:06.0`, lower-case hex, 4-digit domain).
    public func pciBusId() throws -> String {
        var info = nvmlPciInfo_t()
        try nvml.check(nvml.getPci(handle, &info), "nvmlDeviceGetPciInfo_v3")
        return withUnsafeBytes(of: info.busId) { normalizePCIBusId(String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)) }
    }

    /// Whether NVLink `link` is active; nil when the link does not exist or NVLink is unsupported.
    public func nvlinkActive(_ link: Int) -> Bool? {
        var a: Int32 = 0
        guard nvml.getLinkState(handle, UInt32(link), &a) == 0 else { return nil }
        return a != 0
    }

    /// PCI bus id of the device at the other end of `link` (an NVSwitch or a peer GPU).
    public func nvlinkRemotePCIBusId(_ link: Int) -> String? {
        var info = nvmlPciInfo_t()
        guard nvml.getRemotePci(handle, UInt32(link), &info) == 0 else { return nil }
        return withUnsafeBytes(of: info.busId) { normalizePCIBusId(String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)) }
    }

    /// Whether NVML GPM metrics can be read on this device (`nvmlGpmQueryDeviceSupport`); false where the library lacks GPM.
    public func gpmSupported() -> Bool {
        guard let gpm = nvml.gpm else { return false }
        var support = nvmlGpmSupport_t(version: 1, isSupportedDevice: 0)
        return gpm.query(handle, &support) == 0 && support.isSupportedDevice != 0
    }
}

/// A fixed list of field requests for one device, read again and again with no allocation
/// (`nvmlDeviceGetFieldValues` on a buffer owned here). One thread at a time.
public final class NVMLFieldBatch: @unchecked Sendable {
    public let device: NVMLDevice
    public let requests: [(field: UInt32, scope: UInt32)]
    private let buffer: UnsafeMutablePointer<nvmlFieldValue_t>

    public init(device: NVMLDevice, requests: [(field: UInt32, scope: UInt32)]) {
        self.device = device
        self.requests = requests
        buffer = .allocate(capacity: max(1, requests.count))
        buffer.initialize(repeating: nvmlFieldValue_t(), count: max(1, requests.count))
    }

    deinit {
        buffer.deinitialize(count: max(1, requests.count))
        buffer.deallocate()
    }

    /// Reads every requested value in one call into `out` (replaced; its capacity is kept).
    public func read(into out: inout [NVMLFieldValue]) throws {
        out.removeAll(keepingCapacity: true)
        guard !requests.isEmpty else { return }
        for (i, r) in requests.enumerated() {
            buffer[i] = nvmlFieldValue_t()
            buffer[i].fieldId = r.field
            buffer[i].scopeId = r.scope
        }
        let nvml = device.nvml
        try nvml.check(nvml.getFieldValues(device.handle, Int32(requests.count), buffer), "nvmlDeviceGetFieldValues")
        for i in requests.indices {
            let v = buffer[i]
            out.append(NVMLFieldValue(field: v.fieldId, scope: v.scopeId, timestampUs: v.timestamp,
                                      value: v.nvmlReturn == 0 ? v.value : nil, error: v.nvmlReturn))
        }
    }
}

/// NVML GPM metric ids (nvml.h `nvmlGpmMetricId_t`): NVLink rates in MiB/s.
public enum NVMLGPMMetric {
    /// `NVML_GPM_METRIC_NVLINK_TOTAL_RX_PER_SEC` ("read bandwidth for all links", MiB/s).
    public static let nvlinkTotalRX: UInt32 = 60
    /// `NVML_GPM_METRIC_NVLINK_TOTAL_TX_PER_SEC` ("write bandwidth for all links", MiB/s).
    public static let nvlinkTotalTX: UInt32 = 61
    /// `NVML_GPM_METRIC_NVLINK_L<link>_RX_PER_SEC` (links 0–17).
    public static func nvlinkRX(link: Int) -> UInt32 { 62 + 2 * UInt32(link) }
    /// `NVML_GPM_METRIC_NVLINK_L<link>_TX_PER_SEC` (links 0–17).
    public static func nvlinkTX(link: Int) -> UInt32 { 63 + 2 * UInt32(link) }
    /// Metric slots in our `nvmlGpmMetricsGet_t` (CGPU.h).
    public static let capacity = 512
}

/// GPM sampling of one device: two sample buffers and one metrics request, allocated once.
/// `next()` takes a sample (`nvmlGpmSampleGet`) and returns the metrics between it and the
/// previous one (`nvmlGpmMetricsGet`); the first call returns nil. One thread at a time.
public final class NVMLGPMReader: @unchecked Sendable {
    public let device: NVMLDevice
    public let metricIds: [UInt32]
    private let fns: NVML.GPMFunctions
    private var previous: nvmlGpmSample_t
    private var current: nvmlGpmSample_t
    private var havePrevious = false
    private let request: UnsafeMutablePointer<nvmlGpmMetricsGet_t>

    /// Throws when GPM is missing or unsupported on the device, or a sample cannot be allocated.
    public init(device: NVMLDevice, metricIds: [UInt32]) throws {
        precondition(metricIds.count <= NVMLGPMMetric.capacity, "more GPM metrics than the request holds")
        guard let fns = device.nvml.gpm else {
            throw NVMLError(call: "nvmlGpmSampleAlloc", code: 13, text: "this libnvidia-ml has no GPM functions")
        }
        guard device.gpmSupported() else {
            throw NVMLError(call: "nvmlGpmQueryDeviceSupport", code: 3, text: "GPM is not supported on this device")
        }
        self.device = device
        self.metricIds = metricIds
        self.fns = fns
        var a = nvmlGpmSample_t(handle: nil), b = nvmlGpmSample_t(handle: nil)
        try device.nvml.check(fns.alloc(&a), "nvmlGpmSampleAlloc")
        let second = fns.alloc(&b)
        if second != 0 { _ = fns.free(a) }
        try device.nvml.check(second, "nvmlGpmSampleAlloc")
        previous = a
        current = b
        request = .allocate(capacity: 1)
        request.initialize(to: nvmlGpmMetricsGet_t())
    }

    deinit {
        _ = fns.free(previous)
        _ = fns.free(current)
        request.deinitialize(count: 1)
        request.deallocate()
    }

    /// Takes a sample; returns (metric id, value or nil on a per-metric error) since the previous sample.
    public func next() throws -> [(metric: UInt32, value: Double?)]? {
        let nvml = device.nvml
        try nvml.check(fns.get(device.handle, current), "nvmlGpmSampleGet")
        defer { swap(&previous, &current); havePrevious = true }
        guard havePrevious else { return nil }
        request.pointee.version = 1 // NVML_GPM_METRICS_GET_VERSION
        request.pointee.numMetrics = UInt32(metricIds.count)
        request.pointee.sample1 = previous
        request.pointee.sample2 = current
        // The metrics array is a homogeneous C array (a Swift tuple): its memory is bound to nvmlGpmMetric_t.
        let m = (UnsafeMutableRawPointer(request) + MemoryLayout<nvmlGpmMetricsGet_t>.offset(of: \.metrics)!)
            .assumingMemoryBound(to: nvmlGpmMetric_t.self)
        for (i, id) in metricIds.enumerated() { m[i] = nvmlGpmMetric_t(); m[i].metricId = id }
        try nvml.check(fns.metrics(request), "nvmlGpmMetricsGet")
        return metricIds.indices.map { i in (m[i].metricId, m[i].nvmlReturn == 0 ? m[i].value : nil) }
    }
}

/// `00000000:06:00.0` (NVML) and `0000:06:00.0` (CUDA) both become `0000:06:00.0`.
public func normalizePCIBusId(_ s: String) -> String {
    let parts = s.lowercased().split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 3 else { return s.lowercased() }
    let domain = String(parts[0].suffix(4))
    return "\(String(repeating: "0", count: max(0, 4 - domain.count)))\(domain):\(parts[1]):\(parts[2])"
}
