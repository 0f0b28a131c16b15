import GPU

/// NVSHMEM's host-initiated on-stream puts and gets (`NVSHMEMHostRMA`, resolved once from the
/// loaded host library).
///
/// `nvshmemx_{put,get}mem[_nbi]_on_stream(dest, source, bytes, pe, stream)` enqueue the transfer on
/// `stream` (on NVLink a copy-engine copy); `nvshmemx_quiet_on_stream` completes the `_nbi` ones.
struct HostRMA {
    typealias OnStream = (UnsafeMutableRawPointer, UnsafeRawPointer, Int, Int32, Stream) -> Void

    let rma: NVSHMEMHostRMA

    init(_ nv: NVSHMEM) throws {
        rma = try nv.hostRMA()
    }

    /// The call for an operation and completion mode.
    func call(_ op: P2POp, blocking: Bool) -> OnStream {
        let rma = rma
        switch op {
        case .put: return { rma.put(to: $0, from: $1, bytes: $2, pe: Int($3), on: $4, nonBlocking: !blocking) }
        case .get: return { rma.get(to: $0, from: $1, bytes: $2, pe: Int($3), on: $4, nonBlocking: !blocking) }
        }
    }

    /// `nvshmemx_quiet_on_stream`.
    func quiet(_ stream: Stream) { rma.quiet(on: stream) }
}
