import CGPU
import Foundation

/// A failed NCCL call: NCCL's result name and text plus `ncclGetLastError`.
public struct NCCLError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var code: Int32
    public var text: String
    public var lastError: String
    public var description: String {
        let name = NCCLError.names[Int(code)] ?? "ncclResult \(code)"
        return "\(call) failed: \(name) (\(code)): \(text)\(lastError.isEmpty ? "" : " — \(lastError)")"
    }

    static let names: [Int: String] = [1: "ncclUnhandledCudaError", 2: "ncclSystemError", 3: "ncclInternalError",
                                       4: "ncclInvalidArgument", 5: "ncclInvalidUsage", 6: "ncclRemoteError",
                                       7: "ncclInProgress"]
}

/// NCCL data types (nccl.h `ncclDataType_t`) with nccl-tests' names.
public enum NCCLDataType: Int32, CaseIterable, Sendable {
    case int8 = 0, uint8 = 1, int32 = 2, uint32 = 3, int64 = 4, uint64 = 5
    case float16 = 6, float32 = 7, float64 = 8, bfloat16 = 9, float8e4m3 = 10, float8e5m2 = 11

    /// nccl-tests' spelling (`float`, `half`, `bfloat16`, `f8e4m3`, ...).
    public var name: String {
        switch self {
        case .int8: return "int8"
        case .uint8: return "uint8"
        case .int32: return "int32"
        case .uint32: return "uint32"
        case .int64: return "int64"
        case .uint64: return "uint64"
        case .float16: return "half"
        case .float32: return "float"
        case .float64: return "double"
        case .bfloat16: return "bfloat16"
        case .float8e4m3: return "f8e4m3"
        case .float8e5m2: return "f8e5m2"
        }
    }

    public var size: Int {
        switch self {
        case .int8, .uint8, .float8e4m3, .float8e5m2: return 1
        case .float16, .bfloat16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    public var isFloat: Bool { [.float16, .float32, .float64, .bfloat16, .float8e4m3, .float8e5m2].contains(self) }
    public var isSigned: Bool { ![.uint8, .uint32, .uint64].contains(self) }

    /// Accepts nccl-tests' names and common aliases (`fp32`, `f32`, `bf16`, `fp16`, `fp8`...).
    public init?(name: String) {
        let aliases: [String: NCCLDataType] = [
            "int8": .int8, "char": .int8, "uint8": .uint8, "int32": .int32, "int": .int32, "uint32": .uint32,
            "int64": .int64, "uint64": .uint64, "half": .float16, "float16": .float16, "fp16": .float16, "f16": .float16,
            "float": .float32, "float32": .float32, "fp32": .float32, "f32": .float32, "double": .float64,
            "float64": .float64, "fp64": .float64, "f64": .float64, "bfloat16": .bfloat16, "bf16": .bfloat16,
            "f8e4m3": .float8e4m3, "fp8_e4m3": .float8e4m3, "e4m3": .float8e4m3, "f8e5m2": .float8e5m2,
            "fp8_e5m2": .float8e5m2, "e5m2": .float8e5m2,
        ]
        guard let t = aliases[name.lowercased()] else { return nil }
        self = t
    }
}

/// NCCL reduction ops; `premulsum` is created per communicator (`ncclRedOpCreatePreMulSum`).
public enum NCCLReduceOp: String, CaseIterable, Sendable {
    case sum, prod, max, min, avg, premulsum

    /// The built-in op value (nccl.h `ncclRedOp_t`), nil for premulsum.
    public var builtin: Int32? {
        switch self {
        case .sum: return 0
        case .prod: return 1
        case .max: return 2
        case .min: return 3
        case .avg: return 4
        case .premulsum: return nil
        }
    }

    /// nccl-tests prints premulsum as `mulsum`.
    public var tableName: String { self == .premulsum ? "mulsum" : rawValue }

    public init?(name: String) {
        if name.lowercased() == "mulsum" { self = .premulsum; return }
        self.init(rawValue: name.lowercased())
    }
}

/// The NCCL library, loaded at run time, with every entry point gpucomm uses resolved once.
public final class NCCL: @unchecked Sendable {
    public let library: DynamicLibrary
    /// `ncclGetVersion`, e.g. 22809 for 2.28.9.
    public let versionCode: Int32
    let getErrorString: PFN_ncclGetErrorString
    let getLastError: PFN_ncclGetLastError
    let getUniqueId: PFN_ncclGetUniqueId
    let commInitRank: PFN_ncclCommInitRank
    let commInitAll: PFN_ncclCommInitAll
    let commSplit: PFN_ncclCommSplit?
    let commDestroy: PFN_ncclCommDestroy
    let commAbort: PFN_ncclCommAbort
    let commGetAsyncError: PFN_ncclCommGetAsyncError
    public let groupStart: PFN_ncclGroupStart
    public let groupEnd: PFN_ncclGroupEnd
    public let allReduce: PFN_ncclAllReduce
    public let reduce: PFN_ncclReduce
    public let broadcast: PFN_ncclBroadcast
    public let allGather: PFN_ncclAllGather
    public let reduceScatter: PFN_ncclReduceScatter
    public let send: PFN_ncclSend
    public let recv: PFN_ncclRecv
    /// Present from NCCL 2.28.3; older libraries get grouped send/recv instead.
    public let alltoAll: PFN_ncclAlltoAll?
    public let gather: PFN_ncclGather?
    public let scatter: PFN_ncclScatter?
    let redOpCreatePreMulSum: PFN_ncclRedOpCreatePreMulSum?
    let redOpDestroy: PFN_ncclRedOpDestroy?
    let memAlloc: PFN_ncclMemAlloc?
    let memFree: PFN_ncclMemFree?
    let commRegister: PFN_ncclCommRegister?
    let commDeregister: PFN_ncclCommDeregister?
    let commWindowRegister: PFN_ncclCommWindowRegister?
    let commWindowDeregister: PFN_ncclCommWindowDeregister?

    public init(search: LibrarySearch = LibrarySearch()) throws {
        let lib = try search.load(.nccl)
        library = lib
        let ver: PFN_ncclGetVersion = try lib.function("ncclGetVersion")
        var v: Int32 = 0
        _ = ver(&v)
        versionCode = v
        getErrorString = try lib.function("ncclGetErrorString")
        getLastError = try lib.function("ncclGetLastError")
        getUniqueId = try lib.function("ncclGetUniqueId")
        commInitRank = try lib.function("ncclCommInitRank")
        commInitAll = try lib.function("ncclCommInitAll")
        commSplit = lib.optionalFunction("ncclCommSplit")
        commDestroy = try lib.function("ncclCommDestroy")
        commAbort = try lib.function("ncclCommAbort")
        commGetAsyncError = try lib.function("ncclCommGetAsyncError")
        groupStart = try lib.function("ncclGroupStart")
        groupEnd = try lib.function("ncclGroupEnd")
        allReduce = try lib.function("ncclAllReduce")
        reduce = try lib.function("ncclReduce")
        broadcast = try lib.function("ncclBroadcast")
        allGather = try lib.function("ncclAllGather")
        reduceScatter = try lib.function("ncclReduceScatter")
        send = try lib.function("ncclSend")
        recv = try lib.function("ncclRecv")
        alltoAll = lib.optionalFunction("ncclAlltoAll")
        gather = lib.optionalFunction("ncclGather")
        scatter = lib.optionalFunction("ncclScatter")
        redOpCreatePreMulSum = lib.optionalFunction("ncclRedOpCreatePreMulSum")
        redOpDestroy = lib.optionalFunction("ncclRedOpDestroy")
        memAlloc = lib.optionalFunction("ncclMemAlloc")
        memFree = lib.optionalFunction("ncclMemFree")
        commRegister = lib.optionalFunction("ncclCommRegister")
        commDeregister = lib.optionalFunction("ncclCommDeregister")
        commWindowRegister = lib.optionalFunction("ncclCommWindowRegister")
        commWindowDeregister = lib.optionalFunction("ncclCommWindowDeregister")
    }

    /// `2.28.9`.
    public var version: String {
        let c = Int(versionCode)
        return c >= 10000 ? "\(c / 10000).\((c % 10000) / 100).\(c % 100)" : "\(c / 1000).\((c % 1000) / 100).\(c % 100)"
    }

    /// The choke point: a non-zero ncclResult_t becomes an NCCLError naming the call.
    public func check(_ r: ncclResult_t, _ call: @autoclosure () -> String, comm: ncclComm_t? = nil) throws {
        guard r != 0 else { return }
        throw NCCLError(call: call(), code: r, text: getErrorString(r).map { String(cString: $0) } ?? "",
                        lastError: getLastError(comm).map { String(cString: $0) } ?? "")
    }

    /// A fresh 128-byte unique id (rank 0 of a multi-process job).
    public func uniqueId() throws -> [UInt8] {
        var id = ncclUniqueId()
        try check(getUniqueId(&id), "ncclGetUniqueId")
        return withUnsafeBytes(of: &id) { Array($0) }
    }

    /// One communicator per device in one process (`ncclCommInitAll`).
    public func communicators(devices: [Device]) throws -> [Communicator] {
        var comms = [ncclComm_t?](repeating: nil, count: devices.count)
        let list = devices.map { Int32($0.ordinal) }
        try devices[0].makeCurrent()
        try check(commInitAll(&comms, Int32(devices.count), list), "ncclCommInitAll(\(devices.count) GPUs)")
        return devices.indices.map { Communicator(nccl: self, raw: comms[$0]!, device: devices[$0], rank: $0, size: devices.count) }
    }

    /// Joins a job-wide communicator for each local device: `ranks[i]` is device i's global rank.
    public func communicators(devices: [Device], ranks: [Int], worldSize: Int, uniqueId: [UInt8]) throws -> [Communicator] {
        precondition(uniqueId.count == 128 && ranks.count == devices.count)
        var id = ncclUniqueId()
        withUnsafeMutableBytes(of: &id) { p in p.copyBytes(from: uniqueId) }
        let comms: [ncclComm_t?] = try grouped(devices.count, ended: "ncclGroupEnd (ncclCommInitRank of \(worldSize) ranks)",
                                               failed: { "ncclCommInitRank(rank \(ranks[$0]) of \(worldSize))" }) { i, slot in
            try devices[i].makeCurrent()
            return commInitRank(slot, Int32(worldSize), id, Int32(ranks[i]))
        }
        return try devices.indices.map { i in
            guard let c = comms[i] else { throw NCCLError(call: "ncclCommInitRank(rank \(ranks[i]))", code: 1, text: "no communicator after ncclGroupEnd", lastError: "") }
            return Communicator(nccl: self, raw: c, device: devices[i], rank: ranks[i], size: worldSize)
        }
    }

    /// Registers each buffer as a symmetric window of its communicator, all inside one NCCL group
    /// (window registration is collective: a thread driving several GPUs must group them). NCCL 2.28
    /// queues the registration and writes each window handle when the group ends.
    public func registerWindows(_ items: [(Communicator, DeviceBuffer)]) throws -> [UnsafeMutableRawPointer?] {
        guard let f = commWindowRegister else {
            throw MissingSymbol(library: library.path, symbol: "ncclCommWindowRegister (NCCL >= 2.27)")
        }
        return try grouped(items.count, ended: "ncclGroupEnd (ncclCommWindowRegister)",
                           failed: { "ncclCommWindowRegister(\(items[$0].1.bytes) bytes, rank \(items[$0].0.rank))" }) { i, slot in
            let (c, b) = items[i]
            try c.device.makeCurrent()
            let r = f(c.raw, b.pointer(), b.bytes, slot, 1 /* NCCL_WIN_COLL_SYMMETRIC */)
            if r != 0 { c.failed = true }
            return r
        }
    }

    /// Deregisters windows inside one NCCL group; the memory must stay allocated until this returns.
    public func deregisterWindows(_ items: [(Communicator, UnsafeMutableRawPointer?)]) {
        guard let f = commWindowDeregister else { return }
        _ = groupStart()
        for (c, w) in items where w != nil && !c.failed { try? c.device.makeCurrent(); _ = f(c.raw, w) }
        _ = groupEnd()
    }

    /// Splits every communicator by color/key (`ncclCommSplit`) inside one NCCL group, as a thread
    /// driving several GPUs must. NCCL writes each child when the group ends. Nil for color -1
    /// (NCCL_SPLIT_NOCOLOR).
    public func split(_ comms: [Communicator], color: (Communicator) -> Int, key: (Communicator) -> Int) throws -> [Communicator?] {
        guard let f = commSplit else { throw MissingSymbol(library: library.path, symbol: "ncclCommSplit") }
        let slots: [ncclComm_t?] = try grouped(comms.count, ended: "ncclGroupEnd (ncclCommSplit)",
                                               failed: { "ncclCommSplit(color \(color(comms[$0])), rank \(comms[$0].rank))" }) { i, slot in
            let c = comms[i]
            try c.device.makeCurrent()
            let r = f(c.raw, Int32(color(c)), Int32(key(c)), slot, nil)
            if r != 0 { c.failed = true }
            return r
        }
        return try comms.indices.map { i in
            guard let raw = slots[i] else { return nil }
            let (rank, size) = try rankAndSize(raw)
            return Communicator(nccl: self, raw: raw, device: comms[i].device, rank: rank, size: size)
        }
    }

    /// A split child's rank and size as NCCL has them (`ncclCommUserRank`, `ncclCommCount`; 0 where
    /// the library lacks one). A child that fails them is aborted, as a failed `Communicator` would be.
    private func rankAndSize(_ raw: ncclComm_t) throws -> (rank: Int, size: Int) {
        typealias F = @convention(c) (ncclComm_t?, UnsafeMutablePointer<Int32>?) -> Int32
        var n: Int32 = 0, r: Int32 = 0
        do {
            if let count: F = library.optionalFunction("ncclCommCount") { try check(count(raw, &n), "ncclCommCount", comm: raw) }
            if let user: F = library.optionalFunction("ncclCommUserRank") { try check(user(raw, &r), "ncclCommUserRank", comm: raw) }
        } catch {
            _ = commAbort(raw)
            throw error
        }
        return (Int(r), Int(n))
    }

    /// One NCCL group of `count` calls, call i writing its result through `slot`. Inside a group
    /// NCCL may write the results only when the group ends, so the slots are one heap allocation
    /// that outlives the calls. `call` makes its device current and calls NCCL; on the first
    /// non-zero result the group is ended and that call, named by `failed(i)`, throws.
    private func grouped<T>(_ count: Int, ended: @autoclosure () -> String, failed: (Int) -> String,
                            _ call: (_ i: Int, _ slot: UnsafeMutablePointer<T?>) throws -> ncclResult_t) throws -> [T?] {
        let slots = UnsafeMutablePointer<T?>.allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
        defer { slots.deallocate() }
        try check(groupStart(), "ncclGroupStart")
        for i in 0..<count {
            let r = try call(i, slots + i)
            if r != 0 { _ = groupEnd(); try check(r, failed(i)) }
        }
        try check(groupEnd(), ended())
        return (0..<count).map { slots[$0] }
    }

    /// Memory from `ncclMemAlloc` (needed for symmetric windows), freed with `ncclMemFree`.
    public func allocate(bytes: Int, on device: Device) throws -> DeviceBuffer {
        guard let memAlloc, let memFree else { throw MissingSymbol(library: library.path, symbol: "ncclMemAlloc") }
        try device.makeCurrent()
        var p: UnsafeMutableRawPointer?
        try check(memAlloc(&p, max(bytes, 1)), "ncclMemAlloc(\(bytes) bytes on device \(device.ordinal))")
        let free = memFree
        return DeviceBuffer(device: device, adopting: UInt64(UInt(bitPattern: p)), bytes: bytes) { addr in
            _ = free(UnsafeMutableRawPointer(bitPattern: UInt(addr)))
        }
    }
}

/// One NCCL communicator bound to one device; destroyed (or aborted after an error) when released.
public final class Communicator: @unchecked Sendable {
    public let nccl: NCCL
    public let raw: ncclComm_t
    public let device: Device
    public let rank: Int
    public let size: Int
    /// Set after a failed call so release aborts instead of destroying (which could hang).
    public var failed = false

    init(nccl: NCCL, raw: ncclComm_t, device: Device, rank: Int, size: Int) {
        self.nccl = nccl; self.raw = raw; self.device = device; self.rank = rank; self.size = size
    }

    public func check(_ r: ncclResult_t, _ call: @autoclosure () -> String) throws {
        if r != 0 { failed = true }
        try nccl.check(r, call(), comm: raw)
    }

    /// The asynchronous error state (e.g. a peer failed); throws if one is set.
    public func checkAsync() throws {
        var e: ncclResult_t = 0
        try check(nccl.commGetAsyncError(raw, &e), "ncclCommGetAsyncError")
        try check(e, "NCCL asynchronous error (rank \(rank))")
    }

    /// A premulsum op with `scalar` (host-immediate) for this communicator, of `type`.
    public func preMulSum(scalar: Double, type: NCCLDataType) throws -> Int32 {
        guard let create = nccl.redOpCreatePreMulSum else {
            throw MissingSymbol(library: nccl.library.path, symbol: "ncclRedOpCreatePreMulSum")
        }
        var bytes = ScalarBytes.encode(scalar, as: type)
        var op: Int32 = 0
        try bytes.withUnsafeMutableBytes { p in
            try check(create(&op, p.baseAddress!, type.rawValue, 1 /* ncclScalarHostImmediate (ncclScalarDevice is 0) */, raw), "ncclRedOpCreatePreMulSum")
        }
        return op
    }

    public func destroyOp(_ op: Int32) {
        _ = nccl.redOpDestroy?(op, raw)
    }

    /// `ncclCommRegister`; returns the handle to pass to `deregister`.
    public func register(_ buffer: DeviceBuffer) throws -> UnsafeMutableRawPointer? {
        guard let f = nccl.commRegister else { throw MissingSymbol(library: nccl.library.path, symbol: "ncclCommRegister") }
        var h: UnsafeMutableRawPointer?
        try check(f(raw, buffer.pointer(), buffer.bytes, &h), "ncclCommRegister(\(buffer.bytes) bytes)")
        return h
    }

    public func deregister(_ handle: UnsafeMutableRawPointer?) {
        _ = nccl.commDeregister?(raw, handle)
    }

    /// `ncclCommWindowRegister` with the symmetric flag (collective; buffer from `NCCL.allocate`),
    /// outside any NCCL group. Several communicators of one thread: `NCCL.registerWindows`.
    public func registerWindow(_ buffer: DeviceBuffer) throws -> UnsafeMutableRawPointer? {
        try nccl.registerWindows([(self, buffer)])[0]
    }

    public func deregisterWindow(_ window: UnsafeMutableRawPointer?) {
        _ = nccl.commWindowDeregister?(raw, window)
    }

    /// Ends the communicator without waiting for peers (after an error, or when a peer died).
    public func abort() {
        failed = true
        _ = nccl.commAbort(raw)
    }

    deinit {
        if failed { _ = nccl.commAbort(raw) } else { _ = nccl.commDestroy(raw) }
    }
}

/// A host scalar encoded in an NCCL data type (for premulsum).
enum ScalarBytes {
    static func encode(_ v: Double, as type: NCCLDataType) -> [UInt8] {
        func raw<T>(_ x: T) -> [UInt8] { withUnsafeBytes(of: x) { Array($0) } }
        switch type {
        case .int8: return raw(Int8(v))
        case .uint8: return raw(UInt8(v))
        case .int32: return raw(Int32(v))
        case .uint32: return raw(UInt32(v))
        case .int64: return raw(Int64(v))
        case .uint64: return raw(UInt64(v))
        case .float32: return raw(Float(v))
        case .float64: return raw(v)
        case .float16: return raw(Float16Bits.half(Float(v)))
        case .bfloat16: return raw(UInt16(truncatingIfNeeded: Float(v).bitPattern >> 16))
        case .float8e4m3: return [Float16Bits.fp8(Float(v), exponentBits: 4, mantissaBits: 3, bias: 7)]
        case .float8e5m2: return [Float16Bits.fp8(Float(v), exponentBits: 5, mantissaBits: 2, bias: 15)]
        }
    }
}

/// Bit-level encodings of small exactly-representable values (no rounding needed for them).
enum Float16Bits {
    static func half(_ f: Float) -> UInt16 {
        if f == 0 { return 0 }
        let b = f.bitPattern
        let sign = UInt16((b >> 16) & 0x8000)
        let exp = Int((b >> 23) & 0xff) - 127 + 15
        let mant = UInt16((b >> 13) & 0x3ff)
        return sign | UInt16(exp << 10) | mant
    }

    static func fp8(_ f: Float, exponentBits: Int, mantissaBits: Int, bias: Int) -> UInt8 {
        if f == 0 { return 0 }
        let b = f.bitPattern
        let sign = UInt8((b >> 31) << 7)
        let exp = Int((b >> 23) & 0xff) - 127 + bias
        let mant = UInt8((b >> UInt32(23 - mantissaBits)) & UInt32((1 << mantissaBits) - 1))
        return sign | UInt8(exp << mantissaBits) | mant
    }
}
