internal import CGPU
import Foundation

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
    let ncclGroupStart: PFN_ncclGroupStart
    let ncclGroupEnd: PFN_ncclGroupEnd
    let ncclAllReduce: PFN_ncclAllReduce
    let ncclReduce: PFN_ncclReduce
    let ncclBroadcast: PFN_ncclBroadcast
    let ncclAllGather: PFN_ncclAllGather
    let ncclReduceScatter: PFN_ncclReduceScatter
    let ncclSend: PFN_ncclSend
    let ncclRecv: PFN_ncclRecv
    /// Present from NCCL 2.28.3 (`hasAlltoAll`, `hasGather`, `hasScatter`).
    let ncclAlltoAll: PFN_ncclAlltoAll?
    let ncclGather: PFN_ncclGather?
    let ncclScatter: PFN_ncclScatter?
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
        ncclGroupStart = try lib.function("ncclGroupStart")
        ncclGroupEnd = try lib.function("ncclGroupEnd")
        ncclAllReduce = try lib.function("ncclAllReduce")
        ncclReduce = try lib.function("ncclReduce")
        ncclBroadcast = try lib.function("ncclBroadcast")
        ncclAllGather = try lib.function("ncclAllGather")
        ncclReduceScatter = try lib.function("ncclReduceScatter")
        ncclSend = try lib.function("ncclSend")
        ncclRecv = try lib.function("ncclRecv")
        ncclAlltoAll = lib.optionalFunction("ncclAlltoAll")
        ncclGather = lib.optionalFunction("ncclGather")
        ncclScatter = lib.optionalFunction("ncclScatter")
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
    func check(_ r: ncclResult_t, _ call: @autoclosure () -> String, comm: ncclComm_t? = nil) throws {
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
        _ = ncclGroupStart()
        for (c, w) in items where w != nil && !c.failed { try? c.device.makeCurrent(); _ = f(c.raw, w) }
        _ = ncclGroupEnd()
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
        try check(ncclGroupStart(), "ncclGroupStart")
        for i in 0..<count {
            let r = try call(i, slots + i)
            if r != 0 { _ = ncclGroupEnd(); try check(r, failed(i)) }
        }
        try check(ncclGroupEnd(), ended())
        return (0..<count).map { slots[$0] }
    }

    /// Memory from `ncclMemAlloc` (needed for symmetric windows), freed with `ncclMemFree`.
    public func allocate(bytes: Int, on device: Device) throws -> DeviceBuffer {
        guard let memAlloc, let memFree else { throw MissingSymbol(library: library.path, symbol: "ncclMemAlloc") }
        try device.makeCurrent()
        var p: UnsafeMutableRawPointer?
        try check(memAlloc(&p, max(bytes, 1)), "ncclMemAlloc(\(bytes) bytes on device \(device.ordinal))")
        let free = memFree
        return DeviceBuffer(device: device, adopting: DeviceAddress(p), bytes: bytes) { addr in
            _ = free(addr.pointer)
        }
    }

    /// Whether this NCCL has `ncclAlltoAll`, `ncclGather`, `ncclScatter` (2.28.3+); without them
    /// `Communicator.alltoAll`/`gather`/`scatter` throw `MissingSymbol` and callers use grouped send/recv.
    public var hasAlltoAll: Bool { ncclAlltoAll != nil }
    public var hasGather: Bool { ncclGather != nil }
    public var hasScatter: Bool { ncclScatter != nil }

    /// `ncclGroupStart`: NCCL calls until `groupEnd` are issued together.
    public func groupStart() throws {
        try check(ncclGroupStart(), "ncclGroupStart")
    }

    /// `ncclGroupEnd`; `call` names it in an error (e.g. what the group held).
    public func groupEnd(_ call: @autoclosure () -> String = "ncclGroupEnd") throws {
        try check(ncclGroupEnd(), call())
    }
}
