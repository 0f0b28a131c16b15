internal import CGPU

/// One NCCL communicator bound to one device; destroyed (or aborted after an error) when released.
public final class Communicator: @unchecked Sendable {
    public let nccl: NCCL
    let raw: ncclComm_t
    public let device: Device
    public let rank: Int
    public let size: Int
    /// Set after a failed call so release aborts instead of destroying (which could hang).
    public var failed = false

    init(nccl: NCCL, raw: ncclComm_t, device: Device, rank: Int, size: Int) {
        self.nccl = nccl; self.raw = raw; self.device = device; self.rank = rank; self.size = size
    }

    /// `NCCL.check` for a call on this communicator: a failure marks it failed and adds its `ncclGetLastError`.
    func check(_ r: ncclResult_t, _ call: @autoclosure () -> String) throws {
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
    public func preMulSum(scalar: Double, type: NCCLDataType) throws -> NCCLReduction {
        guard let create = nccl.redOpCreatePreMulSum else {
            throw MissingSymbol(library: nccl.library.path, symbol: "ncclRedOpCreatePreMulSum")
        }
        var bytes = ScalarBytes.encode(scalar, as: type)
        var op: Int32 = 0
        try bytes.withUnsafeMutableBytes { p in
            try check(create(&op, p.baseAddress!, type.rawValue, 1 /* ncclScalarHostImmediate (ncclScalarDevice is 0) */, raw), "ncclRedOpCreatePreMulSum")
        }
        return NCCLReduction(rawValue: op)
    }

    /// `ncclRedOpDestroy` of an op `preMulSum` created.
    public func destroyOp(_ op: NCCLReduction) {
        _ = nccl.redOpDestroy?(op.rawValue, raw)
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

// NCCL's collective and point-to-point calls on one communicator, enqueued on `stream`. Buffers
// are device pointers (`DeviceBuffer.pointer`); counts are elements of `type`. An error names the
// call as `ncclAllReduce(count 4)`, or `ncclAllReduce(<label>)` where the caller gives a label.
extension Communicator {
    /// `ncclAllReduce`.
    public func allReduce(_ send: UnsafeRawPointer, _ recv: UnsafeMutableRawPointer, count: Int, type: NCCLDataType,
                          op: NCCLReduction, stream: Stream, label: String? = nil) throws {
        try check(nccl.ncclAllReduce(send, recv, count, type.rawValue, op.rawValue, raw, stream.raw),
                  "ncclAllReduce(\(label ?? "count \(count)"))")
    }

    /// `ncclReduce` to `root`.
    public func reduce(_ send: UnsafeRawPointer, _ recv: UnsafeMutableRawPointer, count: Int, type: NCCLDataType,
                       op: NCCLReduction, root: Int, stream: Stream, label: String? = nil) throws {
        try check(nccl.ncclReduce(send, recv, count, type.rawValue, op.rawValue, Int32(root), raw, stream.raw),
                  "ncclReduce(\(label ?? "count \(count), root \(root)"))")
    }

    /// `ncclBroadcast` from `root`.
    public func broadcast(_ send: UnsafeRawPointer, _ recv: UnsafeMutableRawPointer, count: Int, type: NCCLDataType,
                          root: Int, stream: Stream, label: String? = nil) throws {
        try check(nccl.ncclBroadcast(send, recv, count, type.rawValue, Int32(root), raw, stream.raw),
                  "ncclBroadcast(\(label ?? "count \(count), root \(root)"))")
    }

    /// `ncclAllGather` of `count` elements per rank.
    public func allGather(_ send: UnsafeRawPointer, _ recv: UnsafeMutableRawPointer, count: Int, type: NCCLDataType,
                          stream: Stream, label: String? = nil) throws {
        try check(nccl.ncclAllGather(send, recv, count, type.rawValue, raw, stream.raw), "ncclAllGather(\(label ?? "count \(count)"))")
    }

    /// `ncclReduceScatter` of `count` elements per rank.
    public func reduceScatter(_ send: UnsafeRawPointer, _ recv: UnsafeMutableRawPointer, count: Int, type: NCCLDataType,
                              op: NCCLReduction, stream: Stream, label: String? = nil) throws {
        try check(nccl.ncclReduceScatter(send, recv, count, type.rawValue, op.rawValue, raw, stream.raw),
                  "ncclReduceScatter(\(label ?? "count \(count)"))")
    }

    /// `ncclAlltoAll` of `count` elements per peer (NCCL 2.28.3+, `NCCL.hasAlltoAll`).
    public func alltoAll(_ send: UnsafeRawPointer, _ recv: UnsafeMutableRawPointer, count: Int, type: NCCLDataType,
                         stream: Stream, label: String? = nil) throws {
        guard let f = nccl.ncclAlltoAll else { throw MissingSymbol(library: nccl.library.path, symbol: "ncclAlltoAll") }
        try check(f(send, recv, count, type.rawValue, raw, stream.raw), "ncclAlltoAll(\(label ?? "count \(count)"))")
    }

    /// `ncclGather` to `root` of `count` elements per rank (NCCL 2.28.3+, `NCCL.hasGather`).
    public func gather(_ send: UnsafeRawPointer, _ recv: UnsafeMutableRawPointer, count: Int, type: NCCLDataType,
                       root: Int, stream: Stream, label: String? = nil) throws {
        guard let f = nccl.ncclGather else { throw MissingSymbol(library: nccl.library.path, symbol: "ncclGather") }
        try check(f(send, recv, count, type.rawValue, Int32(root), raw, stream.raw), "ncclGather(\(label ?? "count \(count), root \(root)"))")
    }

    /// `ncclScatter` from `root` of `count` elements per rank (NCCL 2.28.3+, `NCCL.hasScatter`).
    public func scatter(_ send: UnsafeRawPointer, _ recv: UnsafeMutableRawPointer, count: Int, type: NCCLDataType,
                        root: Int, stream: Stream, label: String? = nil) throws {
        guard let f = nccl.ncclScatter else { throw MissingSymbol(library: nccl.library.path, symbol: "ncclScatter") }
        try check(f(send, recv, count, type.rawValue, Int32(root), raw, stream.raw), "ncclScatter(\(label ?? "count \(count), root \(root)"))")
    }

    /// `ncclSend` of `count` elements to `peer`.
    public func send(_ send: UnsafeRawPointer, count: Int, type: NCCLDataType, peer: Int, stream: Stream, label: String? = nil) throws {
        try check(nccl.ncclSend(send, count, type.rawValue, Int32(peer), raw, stream.raw), "ncclSend(\(label ?? "count \(count), peer \(peer)"))")
    }

    /// `ncclRecv` of `count` elements from `peer`.
    public func recv(_ recv: UnsafeMutableRawPointer, count: Int, type: NCCLDataType, peer: Int, stream: Stream, label: String? = nil) throws {
        try check(nccl.ncclRecv(recv, count, type.rawValue, Int32(peer), raw, stream.raw), "ncclRecv(\(label ?? "count \(count), peer \(peer)"))")
    }

    /// `ncclGroupStart`, a failure counted against this communicator (`NCCL.groupStart` for none).
    public func groupStart() throws {
        try check(nccl.ncclGroupStart(), "ncclGroupStart")
    }

    /// `ncclGroupEnd`, a failure counted against this communicator; `call` names it in an error.
    public func groupEnd(_ call: @autoclosure () -> String = "ncclGroupEnd") throws {
        try check(nccl.ncclGroupEnd(), call())
    }
}
