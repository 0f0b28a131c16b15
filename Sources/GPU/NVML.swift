import CGPU
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

    /// Reads field values in one call (`nvmlDeviceGetFieldValues`).
    public func fieldValues(_ requests: [(field: UInt32, scope: UInt32)]) throws -> [NVMLFieldValue] {
        var vals = requests.map { r -> nvmlFieldValue_t in
            var v = nvmlFieldValue_t()
            v.fieldId = r.field
            v.scopeId = r.scope
            return v
        }
        try nvml.check(nvml.getFieldValues(handle, Int32(vals.count), &vals), "nvmlDeviceGetFieldValues")
        return vals.map { v in
            NVMLFieldValue(field: v.fieldId, scope: v.scopeId, timestampUs: v.timestamp,
                           value: v.nvmlReturn == 0 ? v.value : nil, error: v.nvmlReturn)
        }
    }
}

/// `00000000:06:00.0` (NVML) and `0000:06:00.0` (CUDA) both become `0000:06:00.0`.
public func normalizePCIBusId(_ s: String) -> String {
    let parts = s.lowercased().split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 3 else { return s.lowercased() }
    let domain = String(parts[0].suffix(4))
    return "\(String(repeating: "0", count: max(0, 4 - domain.count)))\(domain):\(parts[1]):\(parts[2])"
}
